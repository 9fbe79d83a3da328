"""Documents → Chunks: structure first (headings, paragraphs), then sentences, then token windows.

Every chunk is a verbatim slice of its document, fits the model's token limit as measured by the
model's own tokenizer, stays inside one section (and one page), and knows its heading path and
exact line range. When a paragraph has to be split, the next chunk repeats its last sentences
(up to `overlap_tokens`) so no sentence loses its context.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.models import Chunk, Document
from kb.text import LineIndex, collapse_whitespace, normalise_for_dedup, split_sentences, trim_span

if TYPE_CHECKING:  # a protocol: chunking must not load the embedding code
    from kb.embed import Tokenizer

# A paragraph of at least this many words that repeats an earlier one in the same document is not
# chunked again: scraped pages often hold their body twice, and a passage must be returned once.
REPEAT_MIN_WORDS = 8


@dataclass(frozen=True, slots=True)
class ChunkerSettings:
    max_tokens: int = 200
    overlap_tokens: int = 32


@dataclass(frozen=True, slots=True)
class _Block:
    start: int
    end: int
    heading_level: int = 0  # 0 for a paragraph
    heading: str = ""
    boundary_before: bool = False  # a page starts here: chunks must not cross it


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    tokens: int
    paragraph: int  # index of the paragraph it came from


_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_EMPHASIS = re.compile(r"[*_`]+")


def _looks_like_plain_heading(line: str) -> bool:
    """A short title-like line standing alone in plain text ("The Regulatory Landscape")."""
    stripped = line.strip()
    words = stripped.split()
    return (
        0 < len(words) <= 12
        and len(stripped) <= 90
        and stripped[-1] not in ".,;:!?\"'”’)"
        and (stripped[0].isupper() or stripped[0].isdigit())
        and not stripped.replace(".", "").isdigit()
    )


def parse_blocks(document: Document) -> list[_Block]:
    """Headings and paragraphs of a document, as spans of its text."""
    text = document.text
    markdown = document.meta.kind in {"markdown", "html", "docx"}
    plain = document.meta.kind in {"text", "pdf"}
    page_starts = set(document.page_starts[1:])
    blocks: list[_Block] = []
    paragraph_start = paragraph_end = -1
    paragraph_lines = 0
    in_fence = False
    boundary = False

    def close_paragraph() -> None:
        nonlocal paragraph_start, paragraph_lines, boundary
        if paragraph_start < 0:
            return
        start, end = trim_span(text, paragraph_start, paragraph_end)
        if start < end:
            blocks.append(_Block(start, end, boundary_before=boundary))
            boundary = False
        paragraph_start = -1
        paragraph_lines = 0

    offset = 0
    for line in text.splitlines(keepends=True):
        line_start, offset = offset, offset + len(line)
        if line_start in page_starts:
            close_paragraph()
            boundary = True
        content = line.rstrip("\r\n")
        if markdown and _FENCE.match(content):
            in_fence = not in_fence
        if not content.strip():
            if not in_fence:
                close_paragraph()
            continue
        if markdown and not in_fence:
            atx = _ATX.match(content)
            if atx:
                close_paragraph()
                heading = collapse_whitespace(_EMPHASIS.sub("", atx.group(2)))
                if heading:
                    blocks.append(_Block(line_start, offset, len(atx.group(1)), heading, boundary))
                    boundary = False
                continue
            setext = _SETEXT.match(content)
            if setext and paragraph_lines == 1 and (setext.group(1)[0] == "=" or len(setext.group(1)) >= 2):
                heading = collapse_whitespace(_EMPHASIS.sub("", text[paragraph_start:line_start]))
                start = paragraph_start
                paragraph_start = -1
                paragraph_lines = 0
                blocks.append(_Block(start, offset, 1 if setext.group(1)[0] == "=" else 2, heading, boundary))
                boundary = False
                continue
        if paragraph_start < 0:
            paragraph_start = line_start
        paragraph_end = offset
        paragraph_lines += 1
    close_paragraph()

    if plain:
        blocks = [_promote_plain_heading(text, blocks, i) for i in range(len(blocks))]
    return blocks


def _promote_plain_heading(text: str, blocks: list[_Block], i: int) -> _Block:
    block = blocks[i]
    line = text[block.start:block.end]
    followed_by_paragraph = i + 1 < len(blocks) and blocks[i + 1].heading_level == 0
    if "\n" not in line and followed_by_paragraph and i > 0 and _looks_like_plain_heading(line):
        return _Block(block.start, block.end, 2, collapse_whitespace(line), block.boundary_before)
    return block


def _drop_repeated_paragraphs(text: str, blocks: list[_Block]) -> list[_Block]:
    """Leave out repeated paragraphs; the next block starts a new chunk, since chunks are contiguous."""
    seen: set[str] = set()
    kept = []
    dropped = False
    for block in blocks:
        if not block.heading_level:
            normal = normalise_for_dedup(text[block.start:block.end])
            if normal in seen and normal.count(" ") + 1 >= REPEAT_MIN_WORDS:
                dropped = True
                continue
            seen.add(normal)
        if dropped:
            block = _Block(block.start, block.end, block.heading_level, block.heading, boundary_before=True)
            dropped = False
        kept.append(block)
    return kept


def chunk_document(document: Document, tokenizer: Tokenizer, settings: ChunkerSettings = ChunkerSettings()) -> list[Chunk]:
    max_tokens = min(settings.max_tokens, tokenizer.max_tokens)
    overlap = min(settings.overlap_tokens, max_tokens // 2)
    text = document.text
    blocks = _drop_repeated_paragraphs(text, parse_blocks(document))

    # Sections: runs of paragraphs under one heading path and on one page.
    sections: list[tuple[tuple[str, ...], list[_Block]]] = []
    path: list[tuple[int, str]] = []
    for block in blocks:
        if block.heading_level:
            while path and path[-1][0] >= block.heading_level:
                path.pop()
            path.append((block.heading_level, block.heading))
            sections.append((tuple(h for _, h in path), []))
        else:
            if not sections or block.boundary_before:
                sections.append((tuple(h for _, h in path), []))
            sections[-1][1].append(block)

    paragraphs = [block for _, section_blocks in sections for block in section_blocks]
    counts = dict(zip(paragraphs, tokenizer.count([text[b.start:b.end] for b in paragraphs])))
    line_index = LineIndex(text, document.first_line)
    chunks: list[Chunk] = []
    paragraph_number = 0
    for section, section_blocks in sections:
        units: list[_Unit] = []
        for block in section_blocks:
            units.extend(_units_of(text, block, counts[block], paragraph_number, max_tokens, tokenizer))
            paragraph_number += 1
        for start, end in _pack(units, max_tokens, overlap):
            for piece_start, piece_end in _enforce_limit(text, start, end, max_tokens, tokenizer):
                chunks.append(_make_chunk(document, section, piece_start, piece_end, len(chunks), line_index))
    return chunks


def _units_of(text: str, block: _Block, tokens: int, paragraph: int, max_tokens: int, tokenizer: Tokenizer) -> list[_Unit]:
    if tokens <= max_tokens:
        return [_Unit(block.start, block.end, tokens, paragraph)]
    sentences = split_sentences(text, block.start, block.end)
    units = []
    for (start, end), count in zip(sentences, tokenizer.count([text[s:e] for s, e in sentences])):
        if count <= max_tokens:
            units.append(_Unit(start, end, count, paragraph))
        else:
            for piece_start, piece_end, piece_tokens in _token_windows(text, start, end, max_tokens, tokenizer):
                units.append(_Unit(piece_start, piece_end, piece_tokens, paragraph))
    return units


def _token_windows(text: str, start: int, end: int, max_tokens: int, tokenizer: Tokenizer) -> list[tuple[int, int, int]]:
    """Split an over-long sentence into windows of at most `max_tokens`, cutting at spaces when possible."""
    spans = [(start + s, start + e) for s, e in tokenizer.spans(text[start:end])]
    windows = []
    first = 0
    while first < len(spans):
        last = min(first + max_tokens, len(spans)) - 1
        if last < len(spans) - 1:
            # Prefer to end where white space follows, so words are not cut in half.
            for candidate in range(last, first + max_tokens // 2, -1):
                if spans[candidate][1] < spans[candidate + 1][0]:
                    last = candidate
                    break
        window_start = spans[first][0]
        window_end = spans[last][1] if last + 1 >= len(spans) else spans[last + 1][0]
        window_start, window_end = trim_span(text, window_start, window_end)
        windows.append((window_start, window_end, last - first + 1))
        first = last + 1
    return windows


def _pack(units: list[_Unit], max_tokens: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy packing of units into spans of at most `max_tokens` tokens.

    Short paragraphs are merged, but a chunk that already has a third of the budget ends at the
    next paragraph: paragraph-sized passages embed more precisely and cite more exactly.
    """
    paragraph_break = max_tokens // 3
    spans = []
    current: list[_Unit] = []
    total = 0
    for unit in units:
        new_paragraph = bool(current) and unit.paragraph != current[-1].paragraph
        if current and (total + unit.tokens > max_tokens or (new_paragraph and total >= paragraph_break)):
            spans.append((current[0].start, current[-1].end))
            carried: list[_Unit] = []
            if unit.paragraph == current[-1].paragraph:  # the paragraph goes on: repeat its tail
                for previous in reversed(current):
                    if previous.paragraph != unit.paragraph or sum(u.tokens for u in carried) + previous.tokens > overlap:
                        break
                    carried.insert(0, previous)
            if sum(u.tokens for u in carried) + unit.tokens > max_tokens:
                carried = []
            current, total = carried, sum(u.tokens for u in carried)
        current.append(unit)
        total += unit.tokens
    if current:
        spans.append((current[0].start, current[-1].end))
    return spans


def _enforce_limit(text: str, start: int, end: int, max_tokens: int, tokenizer: Tokenizer) -> list[tuple[int, int]]:
    """Measure the packed chunk itself; token counts of parts need not add up exactly."""
    if tokenizer.count([text[start:end]])[0] <= max_tokens:
        return [(start, end)]
    return [(s, e) for s, e, _ in _token_windows(text, start, end, max_tokens, tokenizer)]


def _make_chunk(document: Document, section: tuple[str, ...], start: int, end: int, ordinal: int, lines: LineIndex) -> Chunk:
    if document.record_line is not None:
        line_start = line_end = document.record_line
    else:
        line_start, line_end = lines.line_of(start), lines.line_of(end - 1)
    page_start = page_end = None
    if document.page_starts:
        page_start = bisect.bisect_right(document.page_starts, start)
        page_end = bisect.bisect_right(document.page_starts, end - 1)
    return Chunk(
        meta=document.meta,
        text=document.text[start:end],
        section=section,
        char_start=start,
        char_end=end,
        line_start=line_start,
        line_end=line_end,
        page_start=page_start,
        page_end=page_end,
        ordinal=ordinal,
    )
