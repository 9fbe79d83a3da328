import codecs
import os
from pathlib import Path

import pytest

from kb.errors import BadDocument, CorpusError
from kb.ingest import decode_text, read_file, scan_corpus, split_front_matter

from conftest import write


def read_one(path: Path):
    scan = scan_corpus(path.parent)
    (file,) = [f for f in scan.files if f.path == path]
    return read_file(file)


def test_front_matter_becomes_metadata_and_lines_are_counted(tmp_path):
    path = write(tmp_path / "doc.md", """
        ---
        title: "A title"
        date: 2031-03-04
        jurisdiction: Examplia
        regulator: Widget Authority
        type: guidance
        licence: CC0
        ---
        Body line.
        """)
    (document,) = read_one(path).documents
    assert document.meta.title == "A title"
    assert document.meta.date == "2031-03-04"
    assert (document.meta.jurisdiction, document.meta.regulator, document.meta.doc_type) == ("Examplia", "Widget Authority", "guidance")
    assert document.meta.extra["licence"] == "CC0"
    assert document.first_line == 9
    assert path.read_text().splitlines()[document.first_line - 1] == "Body line."


def test_broken_front_matter_keeps_the_body_with_a_warning(tmp_path):
    path = write(tmp_path / "doc.md", "---\ntitle: [unclosed\n---\n# Heading\n\nText stays.\n")
    result = read_one(path)
    assert "not valid YAML" in result.warnings[0]
    assert "Text stays." in result.documents[0].text
    assert result.documents[0].meta.title == "Heading"


def test_front_matter_must_open_the_file():
    meta, body, lines, warning = split_front_matter("Intro\n---\ntitle: x\n---\n")
    assert meta == {} and lines == 0 and warning is None and body.startswith("Intro")


def test_jsonl_records_keep_ids_and_line_numbers_and_report_bad_lines(tmp_path):
    path = write(tmp_path / "r.jsonl", """
        {"id": "A:1", "title": "Book", "text": "First record.", "jurisdiction": "X"}
        {not json}
        {"id": "A:2", "text": "Second record."}
        {"id": "A:1", "text": "Duplicate id."}
        {"id": "A:3"}
        """)
    result = read_one(path)
    assert [(d.meta.doc_id, d.record_line) for d in result.documents] == [("A:1", 1), ("A:2", 3)]
    assert result.documents[0].meta.jurisdiction == "X"
    assert result.documents[1].meta.title == "A:2"
    assert any(w.startswith("line 2: invalid JSON") for w in result.warnings)
    assert any(w.startswith("line 4: duplicate id") for w in result.warnings)
    assert any(w.startswith("line 5: no \"text\"") for w in result.warnings)


@pytest.mark.parametrize(
    "raw",
    [
        "Grüße aus Köln".encode("utf-8"),
        codecs.BOM_UTF8 + "Grüße aus Köln".encode("utf-8"),
        "Grüße aus Köln".encode("utf-16"),  # with BOM
        "Grüße aus Köln".encode("utf-16-le"),  # without BOM
        "Grüße aus Köln".encode("utf-16-be"),
    ],
)
def test_decodes_utf8_and_utf16_variants(raw):
    text, warning = decode_text(raw)
    assert text == "Grüße aus Köln" and warning is None


def test_non_utf8_text_is_decoded_with_a_warning():
    text, warning = decode_text("Café société: règles générales de la réglementation".encode("cp1252"))
    assert "réglementation" in text
    assert warning and "guessed" in warning


def test_binary_content_is_refused():
    with pytest.raises(BadDocument, match="binary"):
        decode_text(bytes(range(256)) * 10)


def test_scan_skips_hidden_and_unsupported_files_with_reasons(tmp_path):
    write(tmp_path / "a.md", "text")
    write(tmp_path / ".hidden.md", "text")
    write(tmp_path / ".git" / "config.md", "text")
    write(tmp_path / "notes.rtf", "text")
    write(tmp_path / "sub" / "b.txt", "text")
    scan = scan_corpus(tmp_path)
    assert [f.rel for f in scan.files] == ["a.md", "sub/b.txt"]
    reasons = {s.path: s.message for s in scan.skipped}
    assert reasons[".hidden.md"] == "hidden" and reasons[".git"] == "hidden"
    assert reasons["notes.rtf"].startswith("unsupported file type .rtf")


def test_scan_survives_a_symlink_loop(tmp_path):
    write(tmp_path / "a.md", "text")
    os.symlink(tmp_path, tmp_path / "loop")
    scan = scan_corpus(tmp_path)
    assert [f.rel for f in scan.files] == ["a.md"]
    assert any("loop" in s.message for s in scan.skipped)


def test_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        scan_corpus(tmp_path / "nope")
