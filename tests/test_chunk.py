import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.chunk import REPEAT_MIN_WORDS, ChunkerSettings, chunk_document
from kb.embed import load_tokenizer
from kb.testing import HashTokenizer
from kb.models import Document, DocumentMeta
from kb.text import normalise_for_dedup

META = DocumentMeta(doc_id="doc.md", source="doc.md", title="Doc")


def make(text, kind="markdown", first_line=1, **extra):
    return Document(meta=replace(META, kind=kind), text=text, first_line=first_line, **extra)


def real_tokenizer():
    try:
        return load_tokenizer("all-MiniLM-L6-v2")
    except Exception as exc:  # the model package is a core dependency; this only guards odd installs
        pytest.skip(f"bundled tokenizer unavailable: {exc}")


HEADING = re.compile(r"^#{1,6} ")


def check_invariants(document, chunks, tokenizer, max_tokens, source_lines):
    for chunk in chunks:
        assert chunk.text == document.text[chunk.char_start:chunk.char_end]
        assert chunk.text.strip() == chunk.text and chunk.text
        assert tokenizer.count([chunk.text])[0] <= max_tokens
        assert chunk.line_start <= chunk.line_end
        assert chunk.text in "\n".join(source_lines[chunk.line_start - 1:chunk.line_end])
    # No text lost: every visible character outside heading lines is inside some chunk.
    covered = bytearray(len(document.text))
    for chunk in chunks:
        covered[chunk.char_start:chunk.char_end] = b"\x01" * (chunk.char_end - chunk.char_start)
    # Repeated paragraphs (of REPEAT_MIN_WORDS words or more) are deliberately indexed once.
    seen, offset = set(), 0
    for paragraph in re.split(r"(\n[ \t]*\n)", document.text):
        normal = normalise_for_dedup(paragraph)
        repeated = normal in seen and len(normal.split()) >= REPEAT_MIN_WORDS
        seen.add(normal)
        line_offset = offset
        for line in paragraph.splitlines(keepends=True):
            if not HEADING.match(line) and not repeated:
                for i, char in enumerate(line):
                    if not char.isspace():
                        assert covered[line_offset + i], f"lost {char!r} in line {line!r}"
            line_offset += len(line)
        offset += len(paragraph)


def test_headings_give_sections_and_paragraphs_give_chunks():
    text = "# Title\n\nIntro paragraph.\n\n## Fees\n\nThe fee is 500 credits.\n\n### Small firms\n\nSmall firms pay less.\n\n## Dates\n\nIt opens in 2032.\n"
    chunks = chunk_document(make(text), HashTokenizer(), ChunkerSettings(max_tokens=6, overlap_tokens=0))
    assert [(c.section, c.text) for c in chunks] == [
        (("Title",), "Intro paragraph."),
        (("Title", "Fees"), "The fee is 500 credits."),
        (("Title", "Fees", "Small firms"), "Small firms pay less."),
        (("Title", "Dates"), "It opens in 2032."),
    ]
    assert [(c.line_start, c.line_end) for c in chunks] == [(3, 3), (7, 7), (11, 11), (15, 15)]


def test_a_repeated_body_is_chunked_once():
    body = "Fixture news about widgets and sprockets today.\n\nThe Widget Authority expects applications to open in 2032.\n\n"
    chunks = chunk_document(make(body + body + "Source link\n", kind="text"), HashTokenizer(), ChunkerSettings(200, 0))
    joined = " ".join(c.text for c in chunks)
    assert joined.count("open in 2032") == 1 and "Source link" in joined


def test_plain_text_title_lines_become_headings():
    text = "Report title\n\nFirst paragraph here.\n\nThe Regulatory Landscape\n\nLicensing opens in 2032.\n"
    chunks = chunk_document(make(text, kind="text"), HashTokenizer(), ChunkerSettings(max_tokens=8, overlap_tokens=0))
    assert chunks[-1].section == ("The Regulatory Landscape",)
    assert chunks[-1].text == "Licensing opens in 2032."


def test_long_paragraph_is_split_at_sentences_with_overlap():
    sentences = [f"Sentence number {i} talks about widgets." for i in range(30)]
    text = " ".join(sentences)
    chunks = chunk_document(make(text), HashTokenizer(), ChunkerSettings(max_tokens=40, overlap_tokens=8))
    assert len(chunks) > 3
    for previous, current in zip(chunks, chunks[1:]):
        # each chunk starts with the last sentence of the one before (overlap of one short sentence)
        assert current.char_start < previous.char_end
        assert previous.text.endswith(current.text.split(".")[0] + ".")
    assert all(c.text.endswith(".") for c in chunks)


def test_front_matter_offset_is_kept_in_line_numbers():
    text = "Alpha.\n\nBeta gamma.\n"
    (first, second) = chunk_document(make(text, first_line=7), HashTokenizer(), ChunkerSettings(max_tokens=3, overlap_tokens=0))
    assert (first.line_start, second.line_start) == (7, 9)


def test_jsonl_records_cite_their_line():
    document = make("Rule one.\n(a) first\n(b) second", kind="jsonl", first_line=5, record_line=5)
    chunks = chunk_document(document, HashTokenizer(), ChunkerSettings(max_tokens=4, overlap_tokens=0))
    assert chunks and all((c.line_start, c.line_end) == (5, 5) for c in chunks)


def test_pages_are_boundaries_and_are_cited():
    text = "Page one text.\n\nMore page one.\nPage two starts.\n"
    document = make(text, kind="pdf", page_starts=(0, text.index("Page two")))
    chunks = chunk_document(document, HashTokenizer(), ChunkerSettings(max_tokens=50, overlap_tokens=0))
    assert [(c.page_start, c.page_end) for c in chunks] == [(1, 1), (2, 2)]
    assert chunks[1].text == "Page two starts."


def test_real_tokenizer_limit_holds_for_an_enormous_word():
    tokenizer = real_tokenizer()
    # No white space for 6,000 tokens: WordPiece would read a single 8,000-letter word as one [UNK].
    text = "Intro sentence. " + "-".join(["ab"] * 3000) + " and an ending."
    chunks = chunk_document(make(text), tokenizer, ChunkerSettings(max_tokens=100, overlap_tokens=10))
    check_invariants(make(text), chunks, tokenizer, 100, text.splitlines())
    assert len(chunks) > 5


# --- properties ----------------------------------------------------------------------------------

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789éü", min_size=1, max_size=12)
PUNCT = st.sampled_from([".", ",", ";", ":", "!", "?", "", "", "", "(", ")", "'", '"'])
SENTENCE = st.lists(st.tuples(WORD, PUNCT), min_size=1, max_size=30).map(
    lambda parts: " ".join(w + p for w, p in parts) + "."
)
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=8).map(lambda s: " ".join(s))
HEADING_LINE = st.tuples(st.integers(1, 4), st.lists(WORD, min_size=1, max_size=5)).map(
    lambda t: "#" * t[0] + " " + " ".join(t[1])
)
BLOCK = st.one_of(PARAGRAPH, PARAGRAPH.map(lambda p: p.replace(" ", "\n", 3)), HEADING_LINE)
DOCUMENT = st.lists(BLOCK, min_size=1, max_size=12).map(lambda blocks: "\n\n".join(blocks) + "\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=DOCUMENT, max_tokens=st.integers(8, 120), overlap=st.integers(0, 30), first_line=st.integers(1, 40))
def test_chunker_properties_with_hash_tokenizer(text, max_tokens, overlap, first_line):
    tokenizer = HashTokenizer()
    document = make(text, first_line=first_line)
    chunks = chunk_document(document, tokenizer, ChunkerSettings(max_tokens=max_tokens, overlap_tokens=overlap))
    source_lines = [""] * (first_line - 1) + text.splitlines()
    check_invariants(document, chunks, tokenizer, max_tokens, source_lines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=DOCUMENT, max_tokens=st.integers(16, 254))
def test_chunker_properties_with_the_model_tokenizer(text, max_tokens):
    tokenizer = real_tokenizer()
    document = make(text)
    chunks = chunk_document(document, tokenizer, ChunkerSettings(max_tokens=max_tokens, overlap_tokens=16))
    check_invariants(document, chunks, tokenizer, max_tokens, text.splitlines())
