"""Hostile input, crashes and concurrency: the rest of the corpus is indexed, nothing is lost."""

import builtins
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kb.build import build_index
from kb.cli import app
from kb.doctor import diagnose
from kb.testing import HashEmbedder
from kb.errors import StrictModeError
from kb.index import IndexLayout, IndexReader
from kb.search import Searcher
from kb.status import index_status

from conftest import FAKE_MODEL, write

runner = CliRunner()


def reasons(report):
    return {s.path: s.message for s in (*report.skipped, *report.stale)}


def indexed_sources(settings):
    return {d.source for d in IndexReader.open(settings.index).documents}


@pytest.fixture
def hostile(fixture_corpus, fake_settings):
    """The fixture corpus plus one hostile file, given by the test; returns the build report."""

    def add(name, content):
        path = fixture_corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
        return build_index(fake_settings), path

    return add


def assert_rest_indexed(settings):
    assert {"alpha.md", "beta.txt", "records.jsonl"} <= indexed_sources(settings)


def test_binary_file_named_txt_is_skipped(hostile, fake_settings):
    report, _ = hostile("image.txt", bytes(range(256)) * 64)
    assert "binary" in reasons(report)["image.txt"]
    assert_rest_indexed(fake_settings)


def test_empty_file_is_skipped(hostile, fake_settings):
    report, _ = hostile("empty.md", "")
    assert reasons(report)["empty.md"] == "empty file (no text)"
    assert_rest_indexed(fake_settings)


def test_huge_file_is_skipped_without_being_read(hostile, fake_settings, monkeypatch):
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or original(self))
    report, _ = hostile("dump.txt", b"All work and no play. " * (50 * 1024 * 1024 // 22))
    assert "too large (50.0 MB" in reasons(report)["dump.txt"]
    assert "dump.txt" not in read and "alpha.md" in read  # hashed in blocks to spot changes, never loaded
    assert_rest_indexed(fake_settings)


def test_non_utf8_text_is_indexed_with_a_warning(hostile, fake_settings):
    report, _ = hostile("latin.txt", "Règles générales: la société doit déclarer les opérations.".encode("cp1252"))
    assert any(w.path == "latin.txt" and "guessed" in w.message for w in report.warnings)
    assert "latin.txt" in indexed_sources(fake_settings)


def test_malformed_jsonl_line_is_reported_and_other_lines_kept(hostile, fake_settings):
    report, _ = hostile("more.jsonl", '{"id": "M-1", "text": "Fine line."}\n{"id": "M-2", "text": \n'
                                      '{"id": "M-3", "text": "Also fine."}\n')
    assert any(w.path == "more.jsonl" and w.message.startswith("line 2: invalid JSON") for w in report.warnings)
    ids = {d.doc_id for d in IndexReader.open(fake_settings.index).documents}
    assert {"M-1", "M-3"} <= ids and "M-2" not in ids


def test_broken_front_matter_keeps_the_text(hostile, fake_settings):
    report, _ = hostile("broken.md", "---\ntitle: 'unclosed\ndate: [\n---\n\nThe body is still indexed.\n")
    assert any(w.path == "broken.md" and "not valid YAML" in w.message for w in report.warnings)
    assert "broken.md" in indexed_sources(fake_settings)


def test_unreadable_file_is_skipped(fixture_corpus, fake_settings, monkeypatch):
    secret = write(fixture_corpus / "secret.md", "# Secret\n\nNot for us.\n")
    if os.geteuid() == 0:  # root reads anything: simulate the permission error the OS would raise
        real_open = builtins.open

        def guarded_open(file, *args, **kwargs):
            if Path(str(file)) == secret:
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", guarded_open)
        monkeypatch.setattr(Path, "read_bytes", lambda self: guarded_open(self, "rb").read())
    else:
        secret.chmod(0)
    report = build_index(fake_settings)
    assert reasons(report)["secret.md"] == "permission denied"
    assert_rest_indexed(fake_settings)


def test_file_deleted_during_indexing_is_skipped(fixture_corpus, fake_settings):
    doomed = write(fixture_corpus / "doomed.md", "# Doomed\n\nGone soon.\n")

    class DeleteWhenReadingStarts:
        """The corpus was scanned and hashed; the file goes before it is read."""

        def start(self, stage, total):
            if stage == "Reading":
                doomed.unlink()

        def advance(self, amount=1):
            pass

    report = build_index(fake_settings, progress=DeleteWhenReadingStarts())
    assert reasons(report)["doomed.md"] == "file vanished while indexing"
    assert_rest_indexed(fake_settings)


def test_symlink_loop_is_skipped(fixture_corpus, fake_settings):
    os.symlink(fixture_corpus, fixture_corpus / "loop")
    report = build_index(fake_settings)
    assert "symlink loop" in reasons(report)["loop"]
    assert_rest_indexed(fake_settings)


def test_very_long_line_is_chunked_within_the_limit(hostile, fake_settings):
    report, _ = hostile("oneline.txt", " ".join(f"word{i}" for i in range(60_000)))
    reader = IndexReader.open(fake_settings.index)
    chunks = [c for c in reader.chunks(range(reader.chunk_count)) if c.meta.source == "oneline.txt"]
    assert len(chunks) > 100
    assert all(len(c.text.split()) <= fake_settings.chunk_tokens for c in chunks)


def test_control_characters_are_indexed_but_never_shown(hostile, fake_settings, cli_env):
    report, _ = hostile("control.txt", "Sprocket \x07licence\x1b fees are due \x01yearly.\n")
    assert "control.txt" in indexed_sources(fake_settings)
    result = runner.invoke(app, ["ask", "sprocket licence fees"], env=cli_env)
    assert result.exit_code == 0 and "\x07" not in result.output and "\x1b" not in result.output


def test_control_characters_in_titles_headings_and_file_names_never_reach_the_terminal(hostile, cli_env):
    hostile("sprocket\x1b[31m.md", '---\ntitle: "Sprocket\\e[31m rules\\a"\n---\n\n# Sprocket\x07 fees\n\n'
                                   'Sprocket licence fees are due yearly.\n')
    for args in (["ask", "sprocket licence fees"], ["sources"], ["timeline"], ["status"]):
        result = runner.invoke(app, args, env={**cli_env, "COLUMNS": "300"})
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output, args
    assert "Sprocket rules" in runner.invoke(app, ["sources"], env={**cli_env, "COLUMNS": "300"}).output  # sequence removed whole


def test_file_that_breaks_after_indexing_keeps_its_last_good_chunks_marked_stale(fixture_corpus, fake_settings):
    build_index(fake_settings)
    (fixture_corpus / "beta.txt").write_bytes(b"\x00\x01\x02" * 100)
    report = build_index(fake_settings)
    assert "binary" in reasons(report)["beta.txt"] and report.stale[0].path == "beta.txt"
    reader = IndexReader.open(fake_settings.index)
    hits = Searcher(reader, HashEmbedder(64)).search("gadget makers register with the Gadget Board", k=1)
    assert hits[0].chunk.meta.source == "beta.txt"
    assert hits[0].chunk.stale and "fails to read" in hits[0].chunk.stale


@pytest.mark.parametrize("same_time", [False, True], ids=["restored", "restored-with-its-old-time"])
def test_a_stale_file_restored_is_no_longer_stale(fixture_corpus, fake_settings, same_time):
    beta = fixture_corpus / "beta.txt"
    build_index(fake_settings)
    good, good_time = beta.read_bytes(), beta.stat().st_mtime_ns
    beta.write_bytes(b"\x00\x01\x02" * 100)
    assert build_index(fake_settings).stale
    beta.write_bytes(good)  # the user restores the file (from a backup, git, ...)
    if same_time:
        os.utime(beta, ns=(good_time, good_time))
    status = index_status(fake_settings.index)
    assert "beta.txt" in status.changed and not status.stale  # kb status says kb index has work to do
    report = build_index(fake_settings)
    assert not report.stale and "beta.txt" not in reasons(report)
    assert any("no longer stale" in note for note in report.notes)
    reader = IndexReader.open(fake_settings.index)
    hits = Searcher(reader, HashEmbedder(64)).search("gadget makers register with the Gadget Board", k=1)
    assert hits[0].chunk.meta.source == "beta.txt" and hits[0].chunk.stale is None
    assert index_status(fake_settings.index).is_current


def test_cited_passage_is_marked_when_its_source_changed_or_vanished(fixture_corpus, fake_settings, cli_env):
    build_index(fake_settings)
    alpha = fixture_corpus / "alpha.md"
    alpha.write_text(alpha.read_text().replace("500 credits", "700 credits"))
    data = json.loads(runner.invoke(app, ["ask", "application fee small firms", "--json"], env=cli_env).output)
    fee = [p for p in data["passages"] if p["source"] == "alpha.md"][0]
    assert fee["stale"] == "the source file has changed since indexing"
    alpha.unlink()
    output = " ".join(runner.invoke(app, ["ask", "application fee small firms"], env=cli_env).output.split())
    assert "STALE: the source file has been removed since indexing" in output
    assert "check it before quoting" in output


def test_touching_a_file_does_not_mark_it_stale(fixture_corpus, fake_settings):
    build_index(fake_settings)
    alpha = fixture_corpus / "alpha.md"
    os.utime(alpha, ns=(alpha.stat().st_atime_ns, alpha.stat().st_mtime_ns + 10**9))
    reader = IndexReader.open(fake_settings.index)
    assert reader.source_problem("alpha.md") is None


def test_strict_mode_exits_non_zero_but_still_indexes(fixture_corpus, fake_settings, cli_env):
    write(fixture_corpus / "empty.txt", "")
    with pytest.raises(StrictModeError):
        build_index(fake_settings, strict=True)
    assert_rest_indexed(fake_settings)
    result = runner.invoke(app, ["index", "--strict"], env=cli_env)
    assert result.exit_code != 0 and "empty.txt" in result.output


@pytest.mark.parametrize("question, expected", [
    ("", "The question is empty."),
    ("\x00\x01 \x02", "The question is empty."),
    ("regulation " * 2000, "The question is too long"),
])
def test_hostile_questions_get_a_clear_message(cli_env, question, expected):
    runner.invoke(app, ["index"], env=cli_env)
    result = runner.invoke(app, ["ask", question], env=cli_env)
    assert result.exit_code != 0 and expected in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("question", ["Wann öffnen die Lizenzen?", "许可证什么时候开放？", "sprocket\x07 records\x1b?"])
def test_unusual_questions_get_a_normal_answer(cli_env, question):
    runner.invoke(app, ["index"], env=cli_env)
    result = runner.invoke(app, ["ask", question, "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "answerable" in json.loads(result.output)


# --- crashes ------------------------------------------------------------------------------------


def test_sigkill_at_any_moment_leaves_a_usable_index(tmp_path, fixture_corpus):
    for n in range(400):
        write(fixture_corpus / "bulk" / f"part{n:03}.md", f"# Part {n}\n\n" + f"Sprocket rule {n} text. " * 40 + "\n")
    env = {**os.environ, "KB_MODEL": FAKE_MODEL, "KB_CORPUS": str(fixture_corpus), "KB_INDEX": str(tmp_path / "index")}
    command = [sys.executable, "-m", "kb", "index"]
    subprocess.run(command, env=env, check=True, capture_output=True)
    layout = IndexLayout(tmp_path / "index")
    first = layout.current_build()

    def change(tag: str) -> None:  # so the next run has work to do
        for n in range(0, 400, 7):
            (fixture_corpus / "bulk" / f"part{n:03}.md").write_text(f"# Part {n}\n\nChanged {tag} {n}.\n")

    # Kill at fractions of how long an incremental run takes on this machine, not at fixed delays.
    change("timed")
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    duration = time.perf_counter() - started
    killed = 0
    for fraction in (0.15, 0.35, 0.55, 0.75, 0.9):
        change(str(fraction))
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(fraction * duration)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
        reader = IndexReader.open(tmp_path / "index", model=FAKE_MODEL)  # always a complete build
        assert Searcher(reader, HashEmbedder(64)).search("sprocket rule", k=3)
        diagnosis = diagnose(tmp_path / "index")
        assert all(check.ok for check in diagnosis.checks) and diagnosis.healthy, diagnosis
        reader.close()
    assert killed >= 2, "the builds finished too fast to be interrupted"
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert layout.current_build() != first
    assert not [p for p in layout.builds.iterdir() if p.name.startswith(".tmp-")]


def test_reader_keeps_the_last_complete_build_while_another_is_written(fake_settings, fixture_corpus):
    build_index(fake_settings)
    layout = IndexLayout(fake_settings.index)
    live = layout.current_build()
    (layout.builds / ".tmp-in-progress").mkdir()  # what a running build looks like on disk
    (layout.builds / ".tmp-in-progress" / "manifest.json").write_text("{broken")
    reader = IndexReader.open(fake_settings.index)
    assert reader.build == live and reader.chunk_count > 0


# --- kb doctor ------------------------------------------------------------------------------------


def test_doctor_finds_damage_and_says_how_to_repair(fake_settings, cli_env):
    build_index(fake_settings)
    result = runner.invoke(app, ["doctor"], env=cli_env)
    assert result.exit_code == 0 and "The index is healthy." in result.output
    build = IndexLayout(fake_settings.index).current_build()
    (build / "dense.faiss").write_bytes(b"truncated")
    result = runner.invoke(app, ["doctor", "--json"], env=cli_env)
    assert result.exit_code == 1
    data = json.loads(result.output)
    dense = [c for c in data["checks"] if c["name"] == "dense index"][0]
    assert not data["healthy"] and not dense["ok"] and "kb index --rebuild" in dense["fix"]
    report = build_index(fake_settings)  # the next build notices and rebuilds from scratch
    assert report.written and "damaged" in report.full_reason
    assert runner.invoke(app, ["doctor"], env=cli_env).exit_code == 0


def test_doctor_without_an_index(cli_env):
    result = runner.invoke(app, ["doctor"], env=cli_env)
    assert result.exit_code == 1 and "no index at" in result.output


# --- other formats ----------------------------------------------------------------------------------


def test_corrupt_and_encrypted_pdfs_are_skipped_with_reasons(hostile, fake_settings):
    from conftest import make_pdf

    hostile("locked.pdf", make_pdf(["Secret fixture schedule."], owner_password="o", user_password="secret"))
    report, _ = hostile("broken.pdf", make_pdf(["Fixture text."])[:300])
    found = reasons(report)
    assert found["locked.pdf"] == "encrypted PDF (password required)"
    assert found["broken.pdf"].startswith("corrupt PDF")
    assert_rest_indexed(fake_settings)


def test_pdf_html_and_docx_are_indexed_and_cited(fixture_corpus, fake_settings, cli_env):
    from conftest import make_docx, make_pdf

    (fixture_corpus / "rules.pdf").write_bytes(make_pdf(
        ["Part 1: Widget dealers need a fixture licence.", "Part 2: Sprocket audits happen every ninety days."]))
    (fixture_corpus / "page.html").write_text(
        "<html><head><title>Fixture gateway page</title></head><body><nav>Home | Menu</nav><main>"
        "<h1>Fixture gateway</h1><h2>Opening</h2><p>The fixture gateway for gizmo firms opens in spring.</p>"
        "</main><footer>Cookie settings</footer></body></html>")
    (fixture_corpus / "memo.docx").write_bytes(make_docx(
        [("Title", "Fixture memo"), ("Heading 1", "Doohickey rules"), ("Normal", "Doohickey makers file monthly returns.")]))
    report = build_index(fake_settings)
    assert {"rules.pdf", "page.html", "memo.docx"} <= set(report.added)

    data = json.loads(runner.invoke(app, ["ask", "How often do sprocket audits happen?", "--json"], env=cli_env).output)
    top = data["passages"][0]
    assert (top["source"], top["pages"]) == ("rules.pdf", [2, 2])
    output = " ".join(runner.invoke(app, ["ask", "How often do sprocket audits happen?"], env=cli_env).output.split())
    assert "rules.pdf p. 2" in output

    data = json.loads(runner.invoke(app, ["ask", "When does the gizmo gateway open?", "--json"], env=cli_env).output)
    top = data["passages"][0]
    assert top["source"] == "page.html" and top["section"].endswith("Opening") and "Menu" not in top["text"]
    assert top["lines_of"] == "extracted text"
    output = " ".join(runner.invoke(app, ["ask", "When does the gizmo gateway open?"], env=cli_env).output.split())
    assert "page.html (§ Opening" in output

    data = json.loads(runner.invoke(app, ["ask", "doohickey monthly returns", "--json"], env=cli_env).output)
    assert data["passages"][0]["source"] == "memo.docx" and data["passages"][0]["section"].endswith("Doohickey rules")


def _name_not_utf8(folder: Path, raw: bytes) -> str:
    """A file name that is not UTF-8 (Latin-1 "café"), as Python sees it; skips where the file system refuses one."""
    name = os.fsdecode(raw)
    try:
        (folder / name).touch()
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system only takes UTF-8 file names")
    (folder / name).unlink()
    return name


def test_a_file_name_that_is_not_utf8_is_indexed_shown_and_found_again(fixture_corpus, tmp_path, cli_env):
    name = _name_not_utf8(fixture_corpus, b"caf\xe9 fees.md")
    (fixture_corpus / name).write_text("Sprocket caf\u00e9 licence fees are due every leap year.\n", encoding="utf-8")
    result = runner.invoke(app, ["index", "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "caf\\xe9 fees.md" in json.loads(result.output)["added"]  # readable, and the byte kept
    data = json.loads(runner.invoke(app, ["ask", "When are sprocket cafe licence fees due?", "--json"], env=cli_env).output)
    assert data["passages"][0]["source"] == "caf\\xe9 fees.md"
    for args in (["ask", "sprocket cafe licence fees"], ["sources"], ["status"], ["doctor"], ["timeline"],
                 ["sources", "--json"], ["status", "--json"], ["timeline", "-f", "csv"]):
        result = runner.invoke(app, args, env={**cli_env, "COLUMNS": "300"})
        assert result.exit_code == 0 and result.exception is None, (args, result.output)
    assert "caf\\xe9 fees.md" in runner.invoke(app, ["sources"], env={**cli_env, "COLUMNS": "300"}).output
    assert "unchanged since the build" in runner.invoke(app, ["status"], env=cli_env).output
    # The stored name leads back to the file: a change to it is seen by status and by a citation.
    with open(fixture_corpus / name, "a", encoding="utf-8") as handle:
        handle.write("Amended.\n")
    assert "changed caf\\xe9 fees.md" in " ".join(runner.invoke(app, ["status"], env=cli_env).output.split())
    output = runner.invoke(app, ["ask", "When are sprocket cafe licence fees due?"], env=cli_env).output
    assert "changed since indexing" in " ".join(output.split())


def test_kb_add_takes_a_file_whose_name_is_not_utf8(tmp_path, fixture_corpus, cli_env):
    outside = tmp_path / "incoming"
    outside.mkdir()
    name = _name_not_utf8(outside, b"r\xe8gles.md")
    (outside / name).write_text("Gizmo dealers renew their permits each spring.\n", encoding="utf-8")
    result = runner.invoke(app, ["add", str(outside / name)], env=cli_env)
    assert result.exit_code == 0 and result.exception is None, result.output
    assert "r\\xe8gles.md" in result.output and (fixture_corpus / name).is_file()
    assert "r\\xe8gles.md" in {d.source for d in IndexReader.open(cli_env["KB_INDEX"]).documents}
    added = json.loads(runner.invoke(app, ["add", str(outside / name), "--json"], env=cli_env).output)
    assert added["sources"][0]["path"].endswith("r\\xe8gles.md")


def test_a_corpus_folder_whose_name_is_not_utf8_is_indexed(tmp_path, fixture_corpus, cli_env):
    folder = tmp_path / _name_not_utf8(tmp_path, b"d\xe9p\xf4t")
    fixture_corpus.rename(folder)
    env = {**cli_env, "KB_CORPUS": str(folder)}
    assert runner.invoke(app, ["index"], env=env).exit_code == 0
    assert "unchanged since the build" in runner.invoke(app, ["status"], env=env).output
    assert runner.invoke(app, ["index"], env={**env, "KB_CORPUS": ""}).exit_code == 0  # the recorded corpus, found again
