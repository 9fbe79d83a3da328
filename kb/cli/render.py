"""Turning results into terminal output (rich) and JSON."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from kb.answer import answer_lines
from kb.models import Answer, Chunk, Hit
from kb.text import collapse_whitespace, strip_controls

NO_ANSWER = "No passage in the corpus answers this."
# Formats whose text is extracted, so line numbers of the source file would mean nothing.
DERIVED_TEXT = {"html", "docx"}


def display_path(corpus: Path, source: str) -> str:
    """The source file as a path the user can open: relative to the working directory when inside it."""
    path = corpus / source
    try:
        shown = os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        shown = str(path)
    return strip_controls(shown)


def location(chunk: Chunk, lines: tuple[int, int] | None = None) -> str:
    """":36-37", " p. 12", ":5" for a .jsonl record; nothing for HTML/DOCX (cited by section)."""
    if chunk.meta.kind in DERIVED_TEXT:
        return ""
    if chunk.page_start is not None:
        pages = chunk.page_start if chunk.page_start == chunk.page_end else f"{chunk.page_start}-{chunk.page_end}"
        return f" p. {pages}"
    start, end = lines or (chunk.line_start, chunk.line_end)
    return f":{start}" if start == end else f":{start}-{end}"


def citation_details(chunk: Chunk) -> str:
    details = []
    if chunk.meta.doc_id != chunk.meta.source:
        details.append(f"id {strip_controls(chunk.meta.doc_id)}")
    if chunk.section:
        details.append(f"§ {strip_controls(chunk.section[-1])}")
    details.append(chunk.meta.date or "undated")
    if chunk.stale:
        details.append(f"STALE: {chunk.stale}")
    return ", ".join(details)


def citation(hit: Hit, corpus: Path) -> Text:
    chunk = hit.chunk
    line = Text(f"[{hit.rank}] ", style="bold cyan")
    line.append(strip_controls(chunk.meta.title), style="bold")
    line.append(" — ")
    line.append(display_path(corpus, chunk.meta.source) + location(chunk), style="green")
    line.append(f" ({citation_details(chunk)})", style="red" if chunk.stale else "dim")
    for copy in hit.also_in:
        line.append("\n    also in: ", style="dim")
        line.append(strip_controls(copy.meta.title), style="bold")
        line.append(" — ")
        line.append(display_path(corpus, copy.meta.source) + location(copy), style="green")
        line.append(f" ({citation_details(copy)})", style="red" if copy.stale else "dim")
    return line


def passage_text(hit: Hit, highlight: tuple[int, int] | None = None) -> Text:
    """The passage with white space collapsed and the answer sentence highlighted."""
    text = hit.chunk.text
    if highlight is None:
        return Text(collapse_whitespace(text))
    start, end = highlight
    rendered = Text(collapse_whitespace(text[:start]))
    if rendered:
        rendered.append(" ")
    rendered.append(collapse_whitespace(text[start:end]), style="bold black on yellow")
    after = collapse_whitespace(text[end:])
    if after:
        rendered.append(" " + after)
    return rendered


def render_answer(answer: Answer, corpus: Path) -> Group:
    parts: list[Any] = []
    if answer.answerable and answer.text:
        cited = answer.passages[answer.citation - 1]
        lines = answer_lines(answer)
        head = Text("Answer ", style="bold")
        head.append(f"[{answer.citation}] ", style="bold cyan")
        head.append(display_path(corpus, cited.chunk.meta.source) + location(cited.chunk, lines), style="green")
        meta = cited.chunk.meta
        head.append(f" · as of {meta.date}" if meta.date else " · undated source", style="dim")
        parts.append(head)
        parts.append(Padding(Text(answer.text, style="bold"), (0, 0, 1 if not answer.dates else 0, 2), expand=False))
        if answer.dates:
            parts.append(Padding(Text("Date: " + ", ".join(answer.dates), style="cyan"), (0, 0, 1, 2), expand=False))
        if answer.date_statements:
            parts.append(Padding(Text("Sources differ on the date (newest publication first):", style="bold yellow"),
                                 (0, 0, 0, 2), expand=False))
            for statement in answer.date_statements:
                line = Text(f"[{statement.citation}] ", style="bold cyan")
                line.append(", ".join(statement.dates), style="cyan")
                line.append(f" — published {statement.published or 'undated'}: ", style="dim")
                line.append(statement.text)
                parts.append(Padding(line, (0, 0, 0, 4), expand=False))
            parts.append(Text(""))
        for note in answer.notes:
            parts.append(Padding(Text(note, style="yellow"), (0, 0, 1, 2), expand=False))
    else:
        parts.append(Text(NO_ANSWER, style="bold yellow"))
        if answer.passages:
            parts.append(Padding(Text("The closest passages, which do not answer it:", style="dim"), (0, 0, 1, 0), expand=False))
    for hit in answer.passages:
        highlight = answer.highlight if answer.answerable and hit.rank == answer.citation else None
        parts.append(citation(hit, corpus))
        parts.append(Padding(passage_text(hit, highlight), (0, 0, 1, 4), expand=False))
    return Group(*parts)


def hit_to_json(hit: Hit) -> dict[str, Any]:
    chunk = hit.chunk
    record = {
        "rank": hit.rank,
        "doc_id": chunk.meta.doc_id,
        "source": chunk.meta.source,
        "title": chunk.meta.title,
        "section": " › ".join(chunk.section) or None,
        "lines": [chunk.line_start, chunk.line_end],
        "lines_of": "extracted text" if chunk.meta.kind in DERIVED_TEXT else "source file",
        "score": round(hit.score, 6),
        "text": chunk.text,
        "date": chunk.meta.date,
        "jurisdiction": chunk.meta.jurisdiction,
        "regulator": chunk.meta.regulator,
        "type": chunk.meta.doc_type,
        "dense_score": None if hit.dense_score is None else round(hit.dense_score, 6),
        "lexical_score": None if hit.lexical_score is None else round(hit.lexical_score, 6),
        "stale": chunk.stale,
    }
    if chunk.page_start is not None:
        record["pages"] = [chunk.page_start, chunk.page_end]
    if hit.also_in:
        record["also_in"] = [{"doc_id": c.meta.doc_id, "source": c.meta.source, "title": c.meta.title,
                              "lines": [c.line_start, c.line_end]} for c in hit.also_in]
    return record


def answer_to_json(answer: Answer) -> dict[str, Any]:
    lines = answer_lines(answer)
    return {
        "question": answer.question,
        "answer": answer.text,
        "answerable": answer.answerable,
        "citation": answer.citation,
        "answer_lines": list(lines) if lines else None,
        "confidence": answer.confidence,
        "dates": list(answer.dates),
        "notes": list(answer.notes),
        "date_statements": [{"citation": s.citation, "text": s.text, "dates": list(s.dates),
                             "published": s.published} for s in answer.date_statements],
        "passages": [hit_to_json(hit) for hit in answer.passages],
    }
