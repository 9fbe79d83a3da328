"""Records of where a fetched file came from (`.<name>.kb.json`): the scan passes over them, ingest reads them."""

from __future__ import annotations

from kb.ingest import read_file, scan_corpus
from kb.sidecar import SourceRecord, is_sidecar_name, read_sidecar, sidecar_path

from conftest import write

RECORD = SourceRecord(url="https://example.org/a", final_url="https://example.org/b", retrieved="2031-01-01T00:00:00Z",
                      content_type="text/html", sha256="0" * 64, size=10, etag='"x"')


def test_records_are_named_after_their_document_and_round_trip(tmp_path):
    page = tmp_path / "page.html"
    assert sidecar_path(page).name == ".page.html.kb.json" and is_sidecar_name(".page.html.kb.json")
    assert not is_sidecar_name(".kb.json") and not is_sidecar_name("page.kb.json")
    sidecar_path(page).write_bytes(RECORD.to_json())
    assert read_sidecar(page) == RECORD and read_sidecar(tmp_path / "other.html") is None


def test_the_scan_passes_over_records_but_still_notes_other_hidden_files(tmp_path):
    page = write(tmp_path / "page.html", "<p>Text.</p>")
    sidecar_path(page).write_bytes(RECORD.to_json())
    write(tmp_path / ".draft.md", "# Draft\n")
    scan = scan_corpus(tmp_path)
    assert [f.rel for f in scan.files] == ["page.html"]
    assert [(s.path, s.message) for s in scan.skipped] == [(".draft.md", "hidden")]


def test_a_records_url_and_date_become_the_documents_origin(tmp_path):
    page = write(tmp_path / "page.html", "<main><p>Widget rules apply.</p></main>")
    sidecar_path(page).write_bytes(RECORD.to_json())
    (file,) = scan_corpus(tmp_path).files
    extra = read_file(file).documents[0].meta.extra
    assert extra["origin"] == "https://example.org/b" and extra["retrieved"] == "2031-01-01T00:00:00Z"


def test_a_broken_record_is_a_warning_not_a_failure(tmp_path):
    page = write(tmp_path / "page.html", "<main><p>Widget rules apply.</p></main>")
    sidecar_path(page).write_text("{not json", encoding="utf-8")
    (file,) = scan_corpus(tmp_path).files
    read = read_file(file)
    assert "origin" not in read.documents[0].meta.extra
    assert any(".page.html.kb.json is not a valid kb source record" in w for w in read.warnings)


def test_a_files_own_source_field_wins_over_the_record(tmp_path):
    note = write(tmp_path / "note.md", "---\nsource: https://own.example/note\n---\n# Note\n\nText.\n")
    sidecar_path(note).write_bytes(RECORD.to_json())
    (file,) = scan_corpus(tmp_path).files
    extra = read_file(file).documents[0].meta.extra
    assert extra["origin"] == "https://own.example/note" and extra["retrieved"] == "2031-01-01T00:00:00Z"
