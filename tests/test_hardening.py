"""What a corpus, a path or a crash must never do: delete a user's files, mislead a reader, hang kb."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kb.build import build_index
from kb.cli import app
from kb.config import Settings
from kb.index import IndexLayout, IndexReader

from conftest import FAKE_MODEL, write

runner = CliRunner()


def one_doc_corpus(folder: Path) -> Path:
    write(folder / "note.md", "# Widget note\n\nThe Widget Authority opens its gateway in 2032.\n")
    return folder


# --- kb deletes only what it made ------------------------------------------------------------------


def test_index_refuses_a_folder_that_holds_other_files_and_deletes_nothing(tmp_path, cli_env, monkeypatch):
    project = tmp_path / "proj"
    one_doc_corpus(project / "corpus")
    keep = write(project / "builds" / "rel" / "app.bin", "release artefact")
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["index", "corpus", "--index", "."], env=cli_env)
    assert result.exit_code == 1
    assert "not a kb index" in result.output and "builds" in result.output
    assert "Traceback" not in result.output
    assert keep.read_text() == "release artefact"
    assert not (project / "CURRENT").exists() and not (project / "KB-INDEX").exists()


def test_index_refuses_the_corpus_folder_itself(tmp_path, cli_env):
    corpus = one_doc_corpus(tmp_path / "c2")
    keep = write(corpus / "builds" / "2024" / "gateway.md", "# Gateway\n\nApplications open in 2031.\n")
    result = runner.invoke(app, ["index", str(corpus), "--index", str(corpus)], env=cli_env)
    assert result.exit_code == 1 and "is the corpus folder" in result.output
    assert keep.is_file() and sorted(p.name for p in corpus.iterdir()) == ["builds", "note.md"]


def test_clean_up_removes_only_builds_that_kb_named(tmp_path):
    corpus = one_doc_corpus(tmp_path / "corpus")
    settings = Settings(corpus=corpus, index=tmp_path / "index", model=FAKE_MODEL)
    build_index(settings)
    layout = IndexLayout(settings.index)
    stranger = write(layout.builds / "notes" / "mine.txt", "not kb's")
    lookalike = write(layout.builds / ".tmp-keep-me" / "x", "not kb's either")
    for n in range(3):  # each build removes kb's older builds
        (corpus / "note.md").write_text(f"# Widget note\n\nRevision {n} of the gateway notice.\n")
        build_index(settings)
    assert stranger.is_file() and lookalike.is_file()
    assert len([p for p in layout.own_builds() if not p.name.startswith(".")]) == 2  # live and previous


def test_an_index_from_before_the_marker_is_still_recognised(tmp_path):
    corpus = one_doc_corpus(tmp_path / "corpus")
    settings = Settings(corpus=corpus, index=tmp_path / "index", model=FAKE_MODEL)
    build_index(settings)
    layout = IndexLayout(settings.index)
    layout.marker.unlink()
    assert layout.is_kb_index()
    (corpus / "other.md").write_text("# Other\n\nGadget rules.\n")
    report = build_index(settings)
    assert report.added == ("other.md",) and layout.marker.is_file()


def test_an_index_folder_inside_the_corpus_is_not_read_as_documents(tmp_path, cli_env):
    corpus = one_doc_corpus(tmp_path / "docs")
    settings = Settings(corpus=corpus, index=corpus / "_index", model=FAKE_MODEL)
    build_index(settings, strict=True)
    report = build_index(settings, strict=True)  # its own files would be "unsupported" and fail --strict
    assert not report.written and not report.skipped
    assert {d.source for d in IndexReader.open(settings.index).documents} == {"note.md"}
    status = runner.invoke(app, ["status", "--index", str(settings.index)], env=cli_env)
    assert status.exit_code == 0 and "unchanged since the build" in status.output


@pytest.mark.parametrize("corpus", ["missing", "empty", "a file"])
def test_a_failed_first_build_leaves_no_stub_index_behind(tmp_path, cli_env, corpus):
    path = tmp_path / "source"
    if corpus == "empty":
        path.mkdir()
    elif corpus == "a file":
        path = write(tmp_path / "note.md", "# A note\n\nText.\n")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = runner.invoke(app, ["index", str(path), "--index", str(tmp_path / "new" / "index")], env=cli_env)
    assert result.exit_code == 1 and result.output.startswith("Error: "), result.output
    assert not (tmp_path / "new").exists()  # the index folder and the folder kb made for it are gone again
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_failed_first_build_takes_away_only_what_it_made(tmp_path, cli_env, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    given = tmp_path / "given"  # an empty folder the user made for the index: it stays, empty
    given.mkdir()
    assert runner.invoke(app, ["index", str(empty), "--index", str(given)], env=cli_env).exit_code == 1
    assert given.is_dir() and not any(given.iterdir())

    import kb.build

    def scan_and_meanwhile(corpus, **options):  # another program writes into the new folder during the build
        write(tmp_path / "new" / "theirs.txt", "not kb's")
        return scan(corpus, **options)

    scan = kb.build.scan_corpus
    monkeypatch.setattr(kb.build, "scan_corpus", scan_and_meanwhile)
    assert runner.invoke(app, ["index", str(empty), "--index", str(tmp_path / "new")], env=cli_env).exit_code == 1
    assert (tmp_path / "new" / "theirs.txt").read_text() == "not kb's"  # their file, and so the folder, stay
    monkeypatch.undo()

    one_doc_corpus(tmp_path / "docs")
    index = tmp_path / "live"
    assert runner.invoke(app, ["index", str(tmp_path / "docs"), "--index", str(index)], env=cli_env).exit_code == 0
    assert runner.invoke(app, ["index", str(empty), "--index", str(index)], env=cli_env).exit_code == 1
    assert IndexReader.open(index).chunk_count == 1  # a failed build never touches a published index


# --- odd index paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["idx#1", "idx?mode=rwc", "idx%20x", "my index", "a b#c?d%e"])
def test_index_paths_with_uri_characters_and_spaces_work(tmp_path, cli_env, name):
    corpus = one_doc_corpus(tmp_path / "docs")
    index = tmp_path / "x" / name
    env = {**cli_env, "KB_CORPUS": str(corpus), "KB_INDEX": str(index)}
    assert runner.invoke(app, ["index"], env=env).exit_code == 0
    ask = runner.invoke(app, ["ask", "When does the Widget Authority open its gateway?"], env=env)
    assert ask.exit_code == 0 and "note.md" in ask.output, ask.output
    sources = runner.invoke(app, ["sources", "--json"], env=env)
    assert sources.exit_code == 0 and json.loads(sources.output)["total"] == 1
    again = runner.invoke(app, ["index"], env=env)
    assert again.exit_code == 0 and "up to date" in again.output, again.output  # not a full build every time
    assert sorted(p.name for p in index.parent.iterdir()) == [name]  # nothing created beside the index


# --- faults: one red line, never a traceback ---------------------------------------------------------


def _damage(index: Path, how: str) -> None:
    layout = IndexLayout(index)
    build = layout.current_build()
    manifest = build / "manifest.json"
    if how == "emptied meta.sqlite":
        (build / "meta.sqlite").write_bytes(b"")
    elif how == "manifest key renamed":
        manifest.write_text(manifest.read_text().replace('"model"', '"modle"'))
    elif how in ("model null", "model name null", "counts not numbers"):
        data = json.loads(manifest.read_text())
        if how == "model null":
            data["model"] = None
        elif how == "model name null":
            data["model"]["name"] = None
        else:
            data["counts"]["chunks"] = "many"
        manifest.write_text(json.dumps(data))
    elif how == "CURRENT not UTF-8":
        layout.current_file.write_bytes(b"\xff\xfe\x00\x81")
    elif how == "CURRENT a folder":
        layout.current_file.unlink()
        layout.current_file.mkdir()


@pytest.mark.parametrize("how", ["emptied meta.sqlite", "manifest key renamed", "model null", "model name null",
                                 "counts not numbers", "CURRENT not UTF-8", "CURRENT a folder"])
def test_a_damaged_index_gives_one_red_line_in_every_command(fake_settings, cli_env, how):
    build_index(fake_settings)
    _damage(fake_settings.index, how)
    for args in (["ask", "sprocket records"], ["sources"], ["status"], ["timeline"], ["doctor"], ["doctor", "--json"]):
        result = runner.invoke(app, args, env=cli_env)
        assert result.exit_code == 1, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        if args[0] != "doctor":
            assert result.output.startswith("Error: ") and "Hint: " in result.output, (args, result.output)
    result = runner.invoke(app, ["index"], env=cli_env)  # kb index repairs it, or says how in one line
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if how == "CURRENT a folder":
        assert result.exit_code == 1 and "is not a file" in result.output
    else:
        assert result.exit_code == 0 and runner.invoke(app, ["doctor"], env=cli_env).exit_code == 0


def test_wait_nan_is_a_clear_error(fake_settings, cli_env):
    result = runner.invoke(app, ["index", "--wait", "nan"], env=cli_env)
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert "--wait" in result.output and "Traceback" not in result.output


def test_a_read_only_index_folder_is_one_red_line(fake_settings, cli_env, monkeypatch):
    import errno

    import filelock

    build_index(fake_settings)

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(fake_settings.index / ".lock"))

    monkeypatch.setattr(filelock.FileLock, "acquire", read_only)
    result = runner.invoke(app, ["index"], env=cli_env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Read-only file system" in result.output and "Traceback" not in result.output
    assert runner.invoke(app, ["ask", "sprocket records"], env=cli_env).exit_code == 0  # reading still works


def test_a_full_disk_as_faiss_reports_it_is_one_red_line(fake_settings, cli_env, monkeypatch):
    from kb.index.dense import DenseIndex

    build_index(fake_settings)
    (fake_settings.corpus / "new.md").write_text("# New\n\nA new widget rule.\n")

    def full(self, path):  # what faiss.write_index raises (found by scripts/adversarial.py on a 3 MB tmpfs)
        raise RuntimeError("Error in void faiss::write_index(const Index*, IOWriter*, int) at index_write.cpp:499: "
                           f"Error: 'ret == (size * 4)' failed: write error in {path}: 372691 != 1463552 "
                           "(No space left on device)")

    monkeypatch.setattr(DenseIndex, "save", full)
    result = runner.invoke(app, ["index"], env=cli_env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "the disk is full" in result.output and not IndexLayout(fake_settings.index).temporary_builds()


def test_a_full_disk_leaves_the_old_build_live_and_no_temporary_build(fake_settings, cli_env, monkeypatch):
    import errno

    from kb.index.lexical import LexicalIndex

    build_index(fake_settings)
    layout = IndexLayout(fake_settings.index)
    live = layout.current_build()
    stale = layout.builds / ".tmp-20200101T000000-1-abcdef"  # left by a killed run
    stale.mkdir()
    (fake_settings.corpus / "new.md").write_text("# New\n\nA new widget rule.\n")

    def full(self, folder):
        (folder / "part").parent.mkdir(parents=True, exist_ok=True)
        (folder / "part").write_bytes(b"x" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(LexicalIndex, "save", full)
    for _ in range(2):  # a retry meets the same clear error, not a disk filled by the first attempt
        result = runner.invoke(app, ["index"], env=cli_env)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
        assert result.output.startswith("Error: Cannot write a new build") and "the disk is full" in result.output
        assert "still the live one" in result.output
        assert layout.current_build() == live and not layout.temporary_builds()
    monkeypatch.undo()
    assert runner.invoke(app, ["ask", "sprocket records"], env=cli_env).exit_code == 0
    assert build_index(fake_settings).added == ("new.md",)


# --- resource exhaustion -------------------------------------------------------------------------------


def test_a_huge_file_is_never_hashed_by_status_or_index(fake_settings, cli_env, monkeypatch):
    import kb.changes

    build_index(fake_settings)
    huge = fake_settings.corpus / "dump.txt"
    with open(huge, "wb") as handle:  # sparse: 4 GB on paper, nothing on disk
        handle.truncate(4 << 30)
    hashed = []
    original = kb.changes.file_sha256
    monkeypatch.setattr(kb.changes, "file_sha256", lambda path: hashed.append(Path(path).name) or original(path))
    monkeypatch.setattr("kb.build.file_sha256", kb.changes.file_sha256)
    status = runner.invoke(app, ["status"], env=cli_env)
    assert status.exit_code == 0 and "dump.txt" in status.output
    report = build_index(fake_settings)
    assert "too large (4096.0 MB" in {s.path: s.message for s in report.skipped}["dump.txt"]
    os.utime(huge, ns=(huge.stat().st_atime_ns, huge.stat().st_mtime_ns + 10**9))  # touched, same size
    assert runner.invoke(app, ["status"], env=cli_env).exit_code == 0
    build_index(fake_settings)
    assert "dump.txt" not in hashed


# --- concurrency ----------------------------------------------------------------------------------------


def test_ask_in_a_loop_during_rebuilds_always_reads_a_complete_build(fake_settings):
    import threading

    from kb.session import open_session

    for n in range(60):
        write(fake_settings.corpus / "bulk" / f"part{n:02}.md", f"# Part {n}\n\n" + f"Sprocket rule {n} text. " * 30)
    build_index(fake_settings)
    done = threading.Event()
    failures: list[BaseException] = []

    def rebuild() -> None:
        try:
            for _ in range(6):
                build_index(fake_settings, rebuild=True)
        finally:
            done.set()

    builder = threading.Thread(target=rebuild)
    builder.start()
    asked = 0
    while not done.is_set() or asked < 20:
        try:  # what one `kb ask` does: open the live build, then read every part of it
            answer = open_session(fake_settings).ask("Which sprocket rule applies?", 3)
            assert answer.passages
        except Exception as exc:  # noqa: BLE001 - every failure counts
            failures.append(exc)
        asked += 1
    builder.join()
    assert not failures, f"{len(failures)} of {asked} asks failed: {failures[:3]}"


def test_an_open_session_survives_two_rebuilds(fake_settings):
    from kb.session import open_session

    build_index(fake_settings)
    used = open_session(fake_settings)  # an interactive `kb ask` that has answered (every part loaded)
    assert used.ask("How long must a sprocket firm keep records?", 3).passages
    idle = open_session(fake_settings)  # one opened just before the rebuilds (parts not loaded yet)
    first = IndexLayout(fake_settings.index).current_build()
    for n in range(2):
        build_index(fake_settings, rebuild=True)
        assert first.is_dir() == (n == 0)  # the previous build stays until the next one replaces it
    assert used.ask("Who must a sprocket firm appoint?", 3).passages
    answer = idle.ask("Who must a sprocket firm appoint?", 3)
    assert answer.passages and idle.searcher.index.build == IndexLayout(fake_settings.index).current_build()


# --- a damaged index is refused, not quoted -------------------------------------------------------------


def _sql(settings, statement: str) -> None:
    import sqlite3

    connection = sqlite3.connect(IndexLayout(settings.index).current_build() / "meta.sqlite")
    connection.execute(statement)
    connection.commit()
    connection.close()


OPENING = "When do widget licence applications open?"


def test_a_damaged_chunk_text_is_refused_not_quoted_and_the_next_build_reads_the_file_again(fake_settings, cli_env):
    build_index(fake_settings)
    assert "2032" in runner.invoke(app, ["ask", OPENING], env=cli_env).output
    _sql(fake_settings, "UPDATE chunks SET text = replace(text, 'open in 2032', 'open in 2039')")
    result = runner.invoke(app, ["ask", OPENING], env=cli_env)
    assert result.exit_code == 1 and "2039" not in result.output, result.output
    assert result.output.startswith("Error: The indexed text of alpha.md is damaged")
    assert "kb index --rebuild" in result.output
    doctor = runner.invoke(app, ["doctor", "--json"], env=cli_env)
    checks = {c["name"]: c for c in json.loads(doctor.output)["checks"]}
    assert doctor.exit_code == 1 and not checks["checksums"]["ok"] and "alpha.md" in checks["checksums"]["detail"]
    (fake_settings.corpus / "beta.txt").write_text("Gadget oversight report\n\nGadgets need a permit.\n")
    report = build_index(fake_settings)  # incremental: alpha.md is unchanged on disk, its index text is not
    assert any("read again" in note and "alpha.md" in note for note in report.notes), report.notes
    assert runner.invoke(app, ["doctor"], env=cli_env).exit_code == 0
    answer = runner.invoke(app, ["ask", OPENING], env=cli_env)
    assert answer.exit_code == 0 and "2032" in answer.output and "2039" not in answer.output


def test_damaged_document_metadata_is_refused(fake_settings, cli_env):
    build_index(fake_settings)
    _sql(fake_settings, "UPDATE documents SET date = '2099-01-01' WHERE source = 'alpha.md'")
    result = runner.invoke(app, ["ask", OPENING], env=cli_env)
    assert result.exit_code == 1 and "metadata of alpha.md is damaged" in result.output


def test_a_build_from_before_the_checksums_is_read_and_upgraded_without_embedding(fake_settings, cli_env):
    build_index(fake_settings)
    for table in ("chunks", "documents"):
        _sql(fake_settings, f"ALTER TABLE {table} DROP COLUMN checksum")
    manifest = IndexLayout(fake_settings.index).current_build() / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["integrity"]
    manifest.write_text(json.dumps(data))
    assert runner.invoke(app, ["ask", OPENING], env=cli_env).exit_code == 0
    doctor = runner.invoke(app, ["doctor"], env=cli_env)
    assert doctor.exit_code == 0 and "predates integrity checksums" in doctor.output
    report = build_index(fake_settings)
    assert report.written and report.embedded == 0 and report.reused == report.chunks
    assert any("checksums added" in note for note in report.notes)
    doctor = runner.invoke(app, ["doctor"], env=cli_env)
    assert doctor.exit_code == 0 and "matches its checksum" in doctor.output
    assert not build_index(fake_settings).written  # and then nothing more to do


def test_a_flipped_bit_in_the_bm25_matrix_is_refused_and_repaired_without_embedding(fake_settings, cli_env):
    import numpy as np

    build_index(fake_settings)
    indices = np.load(IndexLayout(fake_settings.index).current_build() / "lexical" / "indices.csc.index.npy",
                      mmap_mode="r+")
    indices[0] ^= 1 << 20  # one flipped bit: a chunk id far past the end
    indices.flush()
    del indices
    result = runner.invoke(app, ["ask", "sprocket records"], env=cli_env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "outside" in result.output and "kb index --rebuild" in result.output
    doctor = runner.invoke(app, ["doctor", "--json"], env=cli_env)
    failed = {c["name"] for c in json.loads(doctor.output)["checks"] if not c["ok"]}
    assert doctor.exit_code == 1 and {"lexical index", "lexical checksums"} <= failed
    report = build_index(fake_settings)
    assert report.written and report.embedded == 0 and any("BM25" in note for note in report.notes)
    assert runner.invoke(app, ["ask", "sprocket records"], env=cli_env).exit_code == 0


@pytest.mark.parametrize("damage", ["nan", "huge"])
def test_a_damaged_vector_is_refused_and_not_carried_into_the_next_build(fake_settings, cli_env, damage):
    import faiss
    import numpy as np

    build_index(fake_settings)
    path = IndexLayout(fake_settings.index).current_build() / "dense.faiss"
    index = faiss.read_index(str(path))
    vectors = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)
    if damage == "nan":
        vectors[1, 3] = np.nan
    else:
        vectors[1] *= 2.0 ** 64  # a flipped exponent bit: finite, but ranked first for every question
    faiss.write_index(index, str(path))
    result = runner.invoke(app, ["ask", "sprocket records"], env=cli_env)
    assert result.exit_code == 1 and "damaged vectors" in result.output and "kb index --rebuild" in result.output
    doctor = runner.invoke(app, ["doctor", "--json"], env=cli_env)
    failed = {c["name"]: c["detail"] for c in json.loads(doctor.output)["checks"] if not c["ok"]}
    assert doctor.exit_code == 1 and "first at chunk 1" in failed["vectors"]
    (fake_settings.corpus / "new.md").write_text("# New\n\nA new widget rule.\n")
    report = build_index(fake_settings)
    assert any("vectors of the previous build damaged" in note for note in report.notes), report.notes
    reader = IndexReader.open(fake_settings.index)
    assert np.isfinite(reader.vectors()).all() and np.allclose(np.linalg.norm(reader.vectors(), axis=1), 1, atol=1e-4)
    assert runner.invoke(app, ["doctor"], env=cli_env).exit_code == 0


# --- .jsonl ids never take another file's place ----------------------------------------------------------


def test_a_jsonl_record_with_another_files_path_as_id_is_skipped_and_strict_fails(tmp_path, cli_env):
    corpus = one_doc_corpus(tmp_path / "docs")
    write(corpus / "a-records.jsonl",  # sorts before note.md: it used to take the id first
          '{"id": "note.md", "title": "Impostor", "text": "The Widget Authority opens its gateway in 2099."}\n'
          '{"id": "R-1", "text": "Sprocket records are kept for seven years."}\n')
    write(corpus / "b-records.jsonl", '{"id": "R-1", "text": "A second record that claims R-1."}\n')
    env = {**cli_env, "KB_CORPUS": str(corpus), "KB_INDEX": str(tmp_path / "idx")}
    result = runner.invoke(app, ["index", "--strict", "--json"], env=env)
    assert result.exit_code == 1
    result = runner.invoke(app, ["index", "--json"], env={**env, "KB_INDEX": str(tmp_path / "idx2")})
    data = json.loads(result.output)
    assert [(c["path"], "note.md" in c["reason"] or "R-1" in c["reason"]) for c in data["conflicts"]] == [
        ("a-records.jsonl", True), ("b-records.jsonl", True)]
    assert "2 records skipped (id taken)" in data["summary"]
    sources = {d["doc_id"]: d for d in json.loads(runner.invoke(app, ["sources", "--json"], env=env).output)["documents"]}
    assert sources["note.md"]["title"] == "Widget note" and sources["note.md"]["source"] == "note.md"
    answer = json.loads(runner.invoke(app, ["ask", "When does the Widget Authority open its gateway?", "--json"],
                                      env=env).output)
    assert "2099" not in json.dumps(answer) and answer["passages"][0]["source"] == "note.md"
    again = runner.invoke(app, ["index", "--strict"], env=env)  # nothing changed: still reported, still non-zero
    assert again.exit_code == 1 and "id conflict" in again.output


# --- terminal injection --------------------------------------------------------------------------------

ESC = "\x1b"
TITLE = f"{ESC}]0;pwned{ESC}\\Gizmo rules"  # sets the window title
CLEAR = f"{ESC}[2J"  # clears the screen
LINK = f"{ESC}]8;;https://evil.example{ESC}\\Gizmo Board{ESC}]8;;{ESC}\\"  # OSC 8 link
CLIPBOARD = f"{ESC}]52;c;cHduZWQ=\x07"  # OSC 52: writes the clipboard
CSI = "\x9b31m"  # the one-byte C1 form of ESC [
BIDI = "\u202egnirts"  # right-to-left override


def _hostile_corpus(folder: Path) -> Path:
    write(folder / f"gizmo{ESC}[31m{CSI}.md",
          f'---\ntitle: "Gizmo\\e]0;pwned\\e\\\\ rules{CSI}"\njurisdiction: "UK{CLEAR}"\n'
          f'regulator: "{LINK}"\ntype: "guidance{CLIPBOARD}"\nnote: "{BIDI}"\n---\n\n'
          f"# Gizmo {ESC}[2J fees{CSI}\n\nThe gizmo gateway opens in 2032 for gizmo dealers.\n")
    (folder / "records.jsonl").write_text(json.dumps({
        "id": f"G-{ESC}[2J1", "title": TITLE, "jurisdiction": CLEAR, "regulator": CLIPBOARD + "FCA", "type": CSI,
        "text": "Gizmo records are kept for seven years, effective 2031."}) + "\n", encoding="utf-8")
    return folder


def _unsafe(text: str) -> list[str]:
    from kb.text import TERMINAL_UNSAFE

    return sorted(set(TERMINAL_UNSAFE.findall(text)))


def test_no_control_or_escape_character_reaches_the_terminal_in_any_command(tmp_path, cli_env):
    corpus = _hostile_corpus(tmp_path / "docs")
    env = {**cli_env, "KB_CORPUS": str(corpus), "KB_INDEX": str(tmp_path / "idx"), "COLUMNS": "300"}
    commands = [["index"], ["ask", "When does the gizmo gateway open?"], ["ask", "gizmo records years"],
                ["sources"], ["timeline", "--as-of", "2030"], ["status"], ["doctor"], ["index"],
                ["sources", "-j", TITLE], ["ask", "gizmo", "-r", CLIPBOARD], ["timeline", "--topic", CLEAR],
                ["ask", f"gizmo {LINK}"], ["index", "--strict"]]
    (corpus / f"broken{ESC}]0;x{ESC}\\.pdf").write_bytes(b"%PDF-1.4 broken " + ESC.encode())
    for args in commands:
        result = runner.invoke(app, args, env=env)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        assert not _unsafe(result.output), (args, _unsafe(result.output), result.output)
    listed = runner.invoke(app, ["sources"], env=env).output
    assert "Gizmo rules" in listed and "pwned" not in listed and "evil.example" not in listed


def test_json_output_keeps_the_exact_values_and_escapes_them(tmp_path, cli_env):
    corpus = _hostile_corpus(tmp_path / "docs")
    env = {**cli_env, "KB_CORPUS": str(corpus), "KB_INDEX": str(tmp_path / "idx")}
    runner.invoke(app, ["index"], env=env)
    for args in (["sources", "--json"], ["ask", "gizmo records years", "--json"], ["status", "--json"],
                 ["timeline", "--json", "--as-of", "2030"], ["index", "--json"]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0 and not _unsafe(result.output), (args, _unsafe(result.output))
        json.loads(result.output)
    documents = json.loads(runner.invoke(app, ["sources", "--json"], env=env).output)["documents"]
    assert {d["doc_id"] for d in documents} == {f"G-{ESC}[2J1", f"gizmo{ESC}[31m{CSI}.md"}  # ids and paths exact


def test_metadata_and_headings_are_cleaned_where_they_enter_kb(tmp_path):
    corpus = _hostile_corpus(tmp_path / "docs")
    settings = Settings(corpus=corpus, index=tmp_path / "idx", model=FAKE_MODEL)
    build_index(settings)
    reader = IndexReader.open(settings.index)
    for meta in reader.documents:
        shown = [meta.title, meta.date, meta.jurisdiction, meta.regulator, meta.doc_type, json.dumps(meta.extra,
                 ensure_ascii=False)]
        assert not _unsafe(" ".join(v or "" for v in shown)), meta
    sections = [part for chunk in reader.chunks(range(reader.chunk_count)) for part in chunk.section]
    assert sections and not _unsafe(" ".join(sections))
    assert {d.regulator for d in reader.documents} >= {"FCA"}  # "\e]52;…FCA" is the FCA once cleaned


def test_yaml_aliases_are_refused_and_the_file_is_indexed_without_its_metadata(tmp_path):
    import time

    corpus = tmp_path / "docs"
    laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    laughs += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    write(corpus / "laughs.md", "---\ntitle: Laughs\n" + "\n".join(laughs) + "\n---\n\n# Laughs\n\nGizmo text.\n")
    write(corpus / "big.md", "---\ntitle: Big\nnotes: " + "x" * 5000 + "\n---\n\nGizmo big text.\n")
    write(corpus / "huge.md", "---\n" + "".join(f"k{i}: {'y' * 60}\n" for i in range(1200)) + "---\n\nGizmo huge.\n")
    write(corpus / "deep.md", "---\nt: " + "[" * 5000 + "]" * 5000 + "\n---\n\nGizmo deep.\n")
    write(corpus / "records.jsonl", json.dumps({"id": "J", "text": "Gizmo record.", "blob": "z" * 9000}) + "\n")
    settings = Settings(corpus=corpus, index=tmp_path / "idx", model=FAKE_MODEL)
    started = time.perf_counter()
    report = build_index(settings)
    assert time.perf_counter() - started < 10
    warnings = {w.path: w.message for w in report.warnings}
    assert "YAML aliases" in warnings["laughs.md"] and "over 4,000 characters" in warnings["big.md"]
    assert "over 64 KB" in warnings["huge.md"] and "deep.md" in warnings
    assert "indexed without it" in warnings["records.jsonl"]
    documents = {d.source: d for d in IndexReader.open(settings.index).documents}
    assert set(documents) == {"laughs.md", "big.md", "huge.md", "deep.md", "records.jsonl"}  # every file indexed
    assert documents["laughs.md"].title == "Laughs" and documents["laughs.md"].extra == {}  # H1, not front matter
    assert (IndexLayout(settings.index).current_build() / "meta.sqlite").stat().st_size < 1_000_000


# The peak memory of a child process in MB, from inside it: VmHWM starts afresh at exec (ru_maxrss may
# carry the forking parent's peak).
PEAK_MB = "[int(line.split()[1]) // 1024 for line in open('/proc/self/status') if line.startswith('VmHWM')][0]"


def _zip_docx(document_xml: str) -> bytes:
    import io
    import zipfile

    relations = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                 'officeDocument" Target="word/document.xml"/></Relationships>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("_rels/.rels", relations)
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats'
                         f'.org/wordprocessingml/2006/main"><w:body>{document_xml}</w:body></w:document>')
    return buffer.getvalue()


@pytest.mark.parametrize("shape, megabytes, expected", [
    ("paragraphs", 102, "102 MB of XML; the limit is 32 MB"),  # the 298 KB file of the issue
    ("one paragraph", 30, "over 200,000 runs"),
    ("one table", 30, "over 200,000 runs"),
])
def test_docx_bombs_are_refused_quickly_and_within_memory(tmp_path, shape, megabytes, expected):
    import subprocess
    import sys

    unit = {"paragraphs": "<w:p><w:r><w:t>lol lol lol</w:t></w:r></w:p>", "one paragraph": "<w:r><w:t>lol </w:t></w:r>",
            "one table": "<w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc></w:tr>"}[shape]
    body = unit * (megabytes * 1024 * 1024 // len(unit))
    body = {"one paragraph": f"<w:p>{body}</w:p>", "one table": f"<w:tbl>{body}</w:tbl>"}.get(shape, body)
    path = tmp_path / "bomb.docx"
    path.write_bytes(_zip_docx(body))
    del body
    script = ("import sys, time\nfrom kb.formats import extract_docx\nstarted = time.perf_counter()\n"
              "try:\n    extract_docx(open(sys.argv[1], 'rb').read()); print('read')\n"
              "except Exception as exc:\n    print(exc)\n"
              f"print(time.perf_counter() - started, {PEAK_MB})\n")
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    message, figures = result.stdout.strip().splitlines()
    seconds, peak_mb = map(float, figures.split())
    assert expected in message and seconds < 5 and peak_mb < 400, result.stdout


def test_a_docx_at_the_size_limit_is_read_within_a_memory_bound(tmp_path):
    import subprocess
    import sys

    unit = "<w:p><w:r><w:t>Widget dealers must register. </w:t></w:r></w:p>"
    (tmp_path / "long.docx").write_bytes(_zip_docx(unit * (31 * 1024 * 1024 // len(unit))))
    script = ("import sys\nfrom kb.formats import extract_docx\n"
              "text = extract_docx(open(sys.argv[1], 'rb').read()).text\n"
              f"print(len(text), {PEAK_MB})\n")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "long.docx")], capture_output=True,
                            text=True, check=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    characters, peak_mb = map(int, result.stdout.split())
    assert characters > 15_000_000 and peak_mb < 400  # streamed: the 31 MB of XML is never one tree


def test_a_docx_date_is_the_texts_then_a_plausible_file_date_and_never_python_docx_s_template(tmp_path):
    import datetime as dt

    from conftest import make_docx

    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "template.docx").write_bytes(make_docx([("Normal", "Widget dealers must register.")]))
    docx_module = pytest.importorskip("docx")
    import io

    def with_created(created, text):
        document = docx_module.Document()
        document.add_paragraph(text)
        document.core_properties.created = created
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()

    (corpus / "dated.docx").write_bytes(with_created(dt.datetime(2024, 5, 6), "Gadget rules apply."))
    (corpus / "future.docx").write_bytes(with_created(dt.datetime(2999, 1, 1), "Sprocket rules apply."))
    (corpus / "published.docx").write_bytes(with_created(dt.datetime(2024, 5, 6),
                                                         "Published 29 April 2025. Gizmo rules apply."))
    settings = Settings(corpus=corpus, index=tmp_path / "idx", model=FAKE_MODEL)
    build_index(settings)
    dates = {d.source: (d.date, "date" in d.inferred) for d in IndexReader.open(settings.index).documents}
    assert dates["template.docx"] == (None, False)  # python-docx writes 2013-12-23 into every new file
    assert dates["future.docx"] == (None, False)
    assert dates["dated.docx"] == ("2024-05-06", True)
    assert dates["published.docx"] == ("2025-04-29", True)  # the text's date wins


# --- smaller things a careful user hit -------------------------------------------------------------------


def test_indexing_another_corpus_into_a_copied_index_counts_the_dropped_documents(tmp_path, fake_settings):
    import shutil

    build_index(fake_settings)
    copy = tmp_path / "copy"
    shutil.copytree(fake_settings.index, copy)
    other = one_doc_corpus(tmp_path / "other")
    report = build_index(Settings(corpus=other, index=copy, model=FAKE_MODEL))
    assert report.full_reason == "corpus folder changed"
    assert report.removed == ("alpha.md", "beta.txt", "records.jsonl") and report.added == ("note.md",)
    assert "3 removed" in report.summary_line()


def test_timeline_finds_took_effect_issued_and_rescinds(tmp_path, cli_env):
    corpus = tmp_path / "docs"
    write(corpus / "events.md", "# Widget history\n\nThe widget rule took effect on 3 March 2031.\n\n"
                                "The Widget Authority issued its sprocket guidance on 4 April 2031.\n\n"
                                "The new notice rescinds the gadget order on 5 May 2031.\n")
    env = {**cli_env, "KB_CORPUS": str(corpus), "KB_INDEX": str(tmp_path / "idx")}
    runner.invoke(app, ["index"], env=env)
    events = json.loads(runner.invoke(app, ["timeline", "--json", "--as-of", "2030"], env=env).output)["events"]
    assert [e["date"] for e in events] == ["2031-03-03", "2031-04-04", "2031-05-05"]


def test_a_bad_as_of_date_suggests_the_command_that_has_the_option(cli_env):
    runner.invoke(app, ["index"], env=cli_env)
    result = runner.invoke(app, ["timeline", "--as-of", "tomorrow"], env=cli_env)
    assert result.exit_code == 1 and "kb ask" not in result.output and "kb timeline --as-of 2025-01" in result.output
    since = runner.invoke(app, ["sources", "--since", "last year"], env=cli_env)
    assert since.exit_code == 1 and "kb sources --since 2025-01" in since.output


def test_pdf_passages_say_their_lines_are_of_the_extracted_text(fixture_corpus, cli_env):
    from conftest import make_pdf

    (fixture_corpus / "rules.pdf").write_bytes(make_pdf(["Part 1: Sprocket audits happen every ninety days."]))
    runner.invoke(app, ["index"], env=cli_env)
    data = json.loads(runner.invoke(app, ["ask", "How often do sprocket audits happen?", "--json"], env=cli_env).output)
    pdf = [p for p in data["passages"] if p["source"] == "rules.pdf"][0]
    assert pdf["lines_of"] == "extracted text" and pdf["pages"] == [1, 1]


def test_a_heading_that_starts_with_a_section_sign_is_not_given_another(tmp_path, cli_env):
    corpus = tmp_path / "docs"
    write(corpus / "code.md", "# Widget Code\n\n## § 5903. Requirements for issuing widgets\n\n"
                              "A widget issuer must hold reserves of one to one.\n")
    env = {**cli_env, "KB_CORPUS": str(corpus), "KB_INDEX": str(tmp_path / "idx"), "COLUMNS": "200"}
    runner.invoke(app, ["index"], env=env)
    output = runner.invoke(app, ["ask", "What reserves must a widget issuer hold?"], env=env).output
    assert "(§ 5903. Requirements for issuing widgets" in output and "§ §" not in output


@pytest.mark.parametrize("command", ["sources", "timeline", "ask"])
def test_a_filter_that_matches_nothing_exits_non_zero_in_every_command(cli_env, command):
    runner.invoke(app, ["index"], env=cli_env)
    args = [command, "-j", "Narnia"] + (["sprocket records"] if command == "ask" else [])
    result = runner.invoke(app, args, env=cli_env)
    assert result.exit_code == 1 and "No document matches the filters (jurisdiction NARNIA)" in result.output


def test_when_every_file_is_skipped_the_reasons_are_in_the_message(tmp_path, cli_env):
    corpus = tmp_path / "docs"
    write(corpus / "empty.md", "")
    (corpus / "image.txt").write_bytes(bytes(range(256)) * 8)
    (corpus / "notes.xyz").write_text("unsupported")
    env = {**cli_env, "KB_CORPUS": str(corpus), "KB_INDEX": str(tmp_path / "idx")}
    output = " ".join(runner.invoke(app, ["index"], env=env).output.split())
    assert "empty.md: empty file (no text)" in output and "image.txt: binary content" in output
    assert "notes.xyz: unsupported file type .xyz" in output and "are listed" not in output
    (corpus / "empty.md").unlink()
    (corpus / "image.txt").unlink()
    output = " ".join(runner.invoke(app, ["index"], env=env).output.split())
    assert "No supported files" in output and "notes.xyz: unsupported file type .xyz" in output


def test_legal_citations_do_not_end_a_sentence():
    from kb.text import split_sentences

    text = ("Enacted by Public Law 119-27, approved July 18, 2025, 139 Stat. 419. See Pub. L. 119-27 and "
            "90 Fed. Reg. 1234 for the rules. The Act applies from 2027.")
    sentences = [text[a:b] for a, b in split_sentences(text)]
    assert sentences == ["Enacted by Public Law 119-27, approved July 18, 2025, 139 Stat. 419.",
                         "See Pub. L. 119-27 and 90 Fed. Reg. 1234 for the rules.", "The Act applies from 2027."]


def test_a_pdf_heading_is_not_glued_to_the_next_sentence(fixture_corpus, cli_env):
    from conftest import make_pdf
    from kb.text import split_sentences

    text = "Part 2 Licensing\nFirms must apply for a gizmo licence by 2032.\nThe gizmo fee is due yearly."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Part 2 Licensing", "Firms must apply for a gizmo licence by 2032.", "The gizmo fee is due yearly."]
    wrapped = "The gizmo regime, which the Widget Authority runs\nfor Examplia, opens in 2032."
    assert len(split_sentences(wrapped)) == 1  # prose wrapped over lines stays one sentence
    (fixture_corpus / "gizmo.pdf").write_bytes(make_pdf([text]))
    runner.invoke(app, ["index"], env=cli_env)
    events = json.loads(runner.invoke(app, ["timeline", "--json", "--as-of", "2030"], env=cli_env).output)["events"]
    gizmo = [e["event"] for e in events if e["source"] == "gizmo.pdf"]
    assert gizmo == ["Firms must apply for a gizmo licence by 2032."]


def test_a_txt_title_is_its_first_line_when_it_reads_as_one(fake_settings):
    write(fake_settings.corpus / "prose.txt", "Gadgets must be registered before they are sold.\n\nMore text.\n")
    build_index(fake_settings)
    titles = {d.source: d.title for d in IndexReader.open(fake_settings.index).documents}
    assert titles["beta.txt"] == "Gadget oversight report" and titles["prose.txt"] == "prose"


def test_a_symlink_that_leaves_the_corpus_is_skipped_unless_asked_for(tmp_path, cli_env):
    corpus = one_doc_corpus(tmp_path / "docs")
    secret = write(tmp_path / "outside" / "passwd.txt", "root:x:0:0:root:/root:/bin/bash\n")
    os.symlink(secret, corpus / "passwd.txt")
    os.symlink(tmp_path / "outside", corpus / "elsewhere")
    os.symlink(corpus / "note.md", corpus / "again.md")  # inside the corpus, to an indexed file: not twice
    env = {**cli_env, "KB_CORPUS": str(corpus), "KB_INDEX": str(tmp_path / "idx")}
    result = runner.invoke(app, ["index", "--json"], env=env)
    skipped = {s["path"]: s["reason"] for s in json.loads(result.output)["skipped"]}
    assert "outside the corpus folder; not followed" in skipped["passwd.txt"] and "elsewhere" in skipped
    sources = {d["source"] for d in json.loads(runner.invoke(app, ["sources", "--json"], env=env).output)["documents"]}
    assert sources == {"note.md"}
    assert "root:x" not in runner.invoke(app, ["ask", "root bash"], env=env).output
    assert runner.invoke(app, ["index", "--strict"], env=env).exit_code == 1
    assert "unchanged since the build" in runner.invoke(app, ["status"], env=env).output
    followed = runner.invoke(app, ["index", "--follow-symlinks", "--json"], env=env)
    assert {"passwd.txt", "elsewhere/passwd.txt"} <= set(json.loads(followed.output)["added"])
    # The index remembers: later runs, status and doctor follow them too, without the flag.
    assert "up to date" in runner.invoke(app, ["index"], env=env).output
    assert "unchanged since the build" in runner.invoke(app, ["status"], env=env).output
    assert "unchanged since the build" in runner.invoke(app, ["doctor"], env=env).output


def test_a_symlink_to_an_indexed_file_is_not_a_second_document_and_the_real_file_is_cited(tmp_path, cli_env):
    corpus = tmp_path / "docs"
    write(corpus / "ünï code file.md", "# Sprockets\n\nSprocket dealers renew their licence every fourth spring.\n")
    write(corpus / "sub" / "more.md", "# Gizmos\n\nGizmo makers file returns monthly.\n")
    os.symlink("ünï code file.md", corpus / "link.md")  # sorts before its target
    os.symlink("sub", corpus / "alias")  # a folder, under another name
    env = {**cli_env, "KB_CORPUS": str(corpus), "KB_INDEX": str(tmp_path / "idx")}
    result = runner.invoke(app, ["index", "--strict", "--json"], env=env)
    assert result.exit_code == 0, result.output  # like a hidden file: nothing wrong with the corpus
    report = json.loads(result.output)
    assert report["added"] == ["sub/more.md", "ünï code file.md"] and report["skipped"] == []
    assert {link["path"]: link["reason"] for link in report["links"]} == {
        "alias": "a link to the folder sub, which is indexed",
        "link.md": "a link to ünï code file.md, which is indexed"}
    data = json.loads(runner.invoke(app, ["ask", "How often do sprocket dealers renew their licence?", "--json"],
                                    env=env).output)
    assert data["passages"][0]["source"] == "ünï code file.md" and "also_in" not in data["passages"][0]
    assert {p["source"] for p in data["passages"]} <= {"ünï code file.md", "sub/more.md"}
    output = runner.invoke(app, ["index", "--rebuild"], env={**env, "COLUMNS": "200"}).output
    assert "link.md: a link to ünï code file.md, which is indexed" in output and "2 links" in output
    assert "unchanged since the build" in runner.invoke(app, ["status"], env=env).output


# --- jurisdiction names: one table for documents and filters -------------------------------------------


def test_jurisdiction_names_and_codes_meet_on_both_sides(tmp_path, cli_env):
    corpus = tmp_path / "docs"
    for name, jurisdiction, regulator in (("sg.md", "SG", "Monetary Authority of Singapore"), ("jp.md", "Japan", "Financial Services Agency"),
                                          ("ae.md", "AE", None), ("gb.md", "Great Britain", None), ("fr.md", "France", None)):
        write(corpus / name, f"---\ntitle: Gizmo rules {name}\njurisdiction: {jurisdiction}\n"
                             + (f"regulator: {regulator}\n" if regulator else "") + "---\n\nGizmo dealers must register.\n")
    env = {**cli_env, "KB_CORPUS": str(corpus), "KB_INDEX": str(tmp_path / "idx")}
    runner.invoke(app, ["index"], env=env)
    listed = {d["source"]: d for d in json.loads(runner.invoke(app, ["sources", "--json"], env=env).output)["documents"]}
    assert {s: d["jurisdiction"] for s, d in listed.items()} == {"sg.md": "SG", "jp.md": "JP", "ae.md": "UAE",
                                                                 "gb.md": "UK", "fr.md": "FR"}
    assert listed["jp.md"]["regulator"] == "FSA" and listed["sg.md"]["regulator"] == "MAS"
    for value, expected in (("Singapore", "sg.md"), ("SGP", "sg.md"), ("JP", "jp.md"), ("japan", "jp.md"),
                            ("United Arab Emirates", "ae.md"), ("UAE", "ae.md"), ("GB", "gb.md"), ("FRA", "fr.md")):
        result = runner.invoke(app, ["sources", "-j", value, "--json"], env=env)
        assert result.exit_code == 0, (value, result.output)
        assert [d["source"] for d in json.loads(result.output)["documents"]] == [expected], value


def test_a_filter_finds_an_older_index_s_unnormalised_jurisdiction():
    from kb.filters import Filters
    from kb.models import DocumentMeta

    meta = DocumentMeta("a.md", "a.md", "A", jurisdiction="Japan")  # as indexes before the table kept it
    assert Filters.from_options(jurisdictions=["JP"]).matches(meta)
    assert not Filters.from_options(jurisdictions=["SG"]).matches(meta)


def test_codes_are_not_read_as_places_in_questions():
    from kb.places import canonical_place, named_places

    assert named_places("Can firms in Norway or Singapore apply? There is no fee in it.") == {"NO", "SG"}
    assert canonical_place("in") == "IN" and canonical_place("Narnia") == "Narnia"


def test_escape_sequences_in_extracted_text_go_whole_and_a_stray_one_takes_nothing_else():
    from kb.formats import extract_html
    from kb.text import for_terminal

    page = extract_html(b"<html><body><main><p>Opens in 2032.&#27;]52;c;cHduZWQ=&#7; Then more.</p>"
                        b"<p>A stray &#27;] here.</p><p>Last paragraph.</p></main></body></html>")
    assert page.text == "Opens in 2032. Then more.\n\nA stray\n\nLast paragraph."  # the stray one ends at its line
    assert for_terminal("a\x1b]0;unterminated title\nnext line") == "a\nnext line"


def test_a_filter_value_with_nothing_visible_is_refused(cli_env):
    runner.invoke(app, ["index"], env=cli_env)
    result = runner.invoke(app, ["sources", "-j", f"{ESC}]0;pwned{ESC}\\"], env=cli_env)
    assert result.exit_code == 1 and "--jurisdiction needs a name" in result.output


def test_a_title_that_is_not_text_is_not_shown_as_a_python_repr(tmp_path):
    corpus = tmp_path / "docs"
    write(corpus / "j.jsonl", json.dumps({"id": "x", "text": "Gizmo json", "title": {"a": [1, {"b": "c"}]}}) + "\n")
    settings = Settings(corpus=corpus, index=tmp_path / "idx", model=FAKE_MODEL)
    build_index(settings)
    assert IndexReader.open(settings.index).documents[0].title == "x"
