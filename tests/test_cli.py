import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from kb.cli import app

from conftest import REPO

runner = CliRunner()


def run(args, env):
    return runner.invoke(app, args, env=env)


def test_index_then_ask_through_the_cli(cli_env):
    result = run(["index"], cli_env)
    assert result.exit_code == 0, result.output
    assert "3 new, 0 updated, 0 unchanged, 0 removed, 0 skipped" in result.output
    assert "Documents" in result.output and "Chunks" in result.output

    result = run(["ask", "What is the application fee for small firms?"], cli_env)
    assert result.exit_code == 0, result.output
    assert "500 credits" in result.output
    assert "[1] Fixture: Widget Authority licensing notice —" in result.output
    assert "alpha.md:" in result.output and "§ Fees, 2031-03-04" in result.output


def test_ask_json_has_the_documented_shape(cli_env):
    run(["index"], cli_env)
    result = run(["ask", "Who must keep records for seven years?", "--json", "--top-k", "2"], cli_env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"question", "answer", "answerable", "passages"} <= set(data)
    assert isinstance(data["answerable"], bool)
    assert len(data["passages"]) == 2
    first = data["passages"][0]
    assert set(first) >= {"rank", "doc_id", "source", "title", "section", "lines", "score", "text"}
    assert first["rank"] == 1 and first["doc_id"] == "R-1" and first["source"] == "records.jsonl"
    assert first["lines"] == [1, 1]


def test_second_index_run_reports_nothing_to_do(cli_env):
    run(["index"], cli_env)
    result = run(["index", "--json"], cli_env)
    data = json.loads(result.output)
    assert data["written"] is False and data["summary"].startswith("0 new, 0 updated, 3 unchanged")


def test_status_reports_changes_since_the_build(cli_env, fixture_corpus):
    run(["index"], cli_env)
    result = run(["status"], cli_env)
    assert result.exit_code == 0 and "The corpus is unchanged since the build." in result.output
    (fixture_corpus / "beta.txt").unlink()
    (fixture_corpus / "new.md").write_text("# New\n\nNew fixture text.\n")
    data = json.loads(run(["status", "--json"], cli_env).output)
    assert (data["added"], data["removed"], data["up_to_date"]) == (["new.md"], ["beta.txt"], False)
    assert data["update_command"] == "kb index"  # the index kb uses anyway


def test_status_and_doctor_name_the_index_to_update_when_it_is_not_the_usual_one(cli_env, fixture_corpus, tmp_path):
    other = tmp_path / "other index"
    assert run(["index", "-i", str(other)], cli_env).exit_code == 0
    (fixture_corpus / "new.md").write_text("# New\n\nNew fixture text.\n")
    wanted = f"kb index -i '{other}'"
    assert f"Run `{wanted}` to bring the index up to date." in run(["status", "-i", str(other)], cli_env).output
    assert f"{wanted} (only the changes are re-indexed)" in " ".join(run(["doctor", "-i", str(other)], cli_env).output.split())


@pytest.mark.parametrize(
    "args, setup, message",
    [
        (["index", "/nonexistent/corpus"], None, "Corpus folder not found"),
        (["ask", "anything"], None, "No index at"),
        (["ask", "   "], "index", "The question is empty."),
        (["ask", "anything", "--model", "all-MiniLM-L6-v2"], "index", "was built with the model 'hash:64'"),
        (["index", "EMPTY"], None, "No supported files"),
        (["status"], None, "No index at"),
    ],
)
def test_user_errors_are_one_clear_line_without_traceback(cli_env, tmp_path, args, setup, message):
    if setup == "index":
        run(["index"], cli_env)
    if "EMPTY" in args:
        (tmp_path / "empty").mkdir()
        args = [str(tmp_path / "empty") if a == "EMPTY" else a for a in args]
    result = run(args, cli_env)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert message in result.output
    assert "Hint:" in result.output


def test_every_command_has_help_text_and_an_example():
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        assert command.help and len(command.help) > 20, name
        assert "Example: kb " + name in command.help, name
        result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0 and "Example" in result.output


def test_help_and_status_stay_light(cli_env):
    """`kb --help` and `kb status` must start fast: no model, no numpy/FAISS, no pydantic (typer >= 0.29), and
    none of the libraries that only kb mcp, kb add, the calendar export and the prompt need.

    Importing kb.cli imports every command module (they register themselves), so this covers them all."""
    run(["index"], cli_env)
    code = (
        "import sys\n"
        "from kb.cli import app\n"
        # What the CLI package and `kb status` rest on: every command module, the renderer, the results,
        # the index layout and manifest, and the modules that need no model or vectors.
        "import kb.cli.render, kb.results, kb.index, kb.index.manifest, kb.status, kb.doctor, kb.sources, kb.filters\n"
        # ...and the modules of kb add, the exports and the prompt, whose libraries load only when used.
        "import kb.add, kb.fetch, kb.sidecar, kb.export, kb.citations, kb.cli.prompt\n"
        "for args in (['--help'], ['status'], ['status', '--json']):\n"
        "    try:\n        app(args)\n    except SystemExit as exit:\n        assert not exit.code, exit.code\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers', 'onnxruntime', 'faiss', 'numpy', 'pydantic',\n"
        "         'mcp', 'httpx', 'icalendar', 'platformdirs')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **cli_env})
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    assert "unchanged" in result.stdout or "up to date" in result.stdout.lower(), result.stdout


def test_python_dash_m_kb_works():
    result = subprocess.run([sys.executable, "-m", "kb", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("kb ")


def test_ask_without_a_question_opens_a_prompt_that_keeps_the_index_loaded(cli_env):
    run(["index"], cli_env)
    result = runner.invoke(app, ["ask"], env=cli_env,
                           input="What is the application fee for small firms?\n\n   \nWho must keep records?\n")
    assert result.exit_code == 0, result.output
    assert "Ctrl-D" in result.output
    assert "500 credits" in result.output and "seven years" in result.output
    assert result.output.count("[1] ") >= 2


def test_ask_names_the_other_documents_that_hold_the_same_text(cli_env, tmp_path):
    corpus = tmp_path / "copies"
    corpus.mkdir()
    rule = "Sprocket firms must file an annual sprocket return with the Fixture Board within 90 days."
    (corpus / "rulebook-a.md").write_text(f"# Rulebook A\n\n{rule}\n")
    (corpus / "rulebook-b.md").write_text(f"# Rulebook B\n\nSee the fees chapter.\n\n## Returns\n\n{rule}\n")
    env = {**cli_env, "KB_CORPUS": str(corpus), "COLUMNS": "400"}  # no wrapping inside the long tmp paths
    run(["index"], env)
    result = run(["ask", "When must the annual sprocket return be filed?"], env)
    assert result.exit_code == 0, result.output
    assert result.output.count("within 90 days") == 2  # the answer, and one passage: not two
    assert "also in: Rulebook B" in result.output and "rulebook-b.md:7 (§ Returns" in result.output


def test_every_json_output_names_its_schema(cli_env, tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"id": "1", "question": "application fee", "relevant": ["alpha.md"]}) + "\n")
    outputs = {name: json.loads(run(args, cli_env).output) for name, args in [
        ("index", ["index", "--json"]), ("ask", ["ask", "application fee", "--json"]), ("status", ["status", "--json"]),
        ("sources", ["sources", "--json"]), ("timeline", ["timeline", "--json"]), ("doctor", ["doctor", "--json"]),
        ("eval", ["eval", str(questions), "--json"])]}
    assert {name: data["schema"] for name, data in outputs.items()} == {name: f"kb.{name}/1" for name in outputs}
    assert outputs["index"]["summary"].startswith("3 new") and outputs["eval"]["questions"] == 1


def kb_process(args, env, **extra):
    """`python -m kb ARGS` in a new process, its stdout a pipe (the console script points elsewhere)."""
    environment = {**os.environ, **env, "PYTHONPATH": str(REPO), **extra}
    environment.pop("NO_COLOR", None)
    if "FORCE_COLOR" not in extra:
        environment.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "kb", *args], capture_output=True, text=True, env=environment)


def test_citations_link_to_their_files_on_a_terminal_and_are_plain_text_when_piped(cli_env, fixture_corpus):
    run(["index"], cli_env)
    question = ["ask", "What is the application fee for small firms?"]
    piped = kb_process(question, cli_env)
    assert piped.returncode == 0, piped.stderr
    assert "alpha.md:" in piped.stdout and "\x1b" not in piped.stdout  # no colours, no links: clean text
    terminal = kb_process(question, cli_env, FORCE_COLOR="1")  # what a terminal that shows links gets
    link = (fixture_corpus / "alpha.md").resolve().as_uri()
    assert "\x1b]8;id=" in terminal.stdout and f";{link}\x1b\\" in terminal.stdout


def test_a_pdf_citation_links_to_its_page_and_other_files_to_the_file_alone(tmp_path):
    from kb.cli.render import file_link
    from kb.models import Chunk, DocumentMeta

    def chunk(source, kind, page=None):
        return Chunk(DocumentMeta(source, source, "T", kind=kind), "text", (), 0, 4, 3, 5, page, page)

    assert file_link(tmp_path, chunk("rules.pdf", "pdf", 12)) == (tmp_path / "rules.pdf").as_uri() + "#page=12"
    assert file_link(tmp_path, chunk("a b#c.md", "markdown")) == (tmp_path / "a b#c.md").as_uri()
    assert file_link(tmp_path, chunk("a b#c.md", "markdown")).endswith("/a%20b%23c.md")


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o default -F _kb_completion kb"),
                                           ("zsh", "#compdef kb"), ("fish", "complete --command kb")])
def test_completion_scripts_for_bash_zsh_and_fish_name_kb_however_it_is_started(shell, marker):
    # `kb --show-completion` detects the shell it runs in; with detection off, typer takes the shell's name.
    result = kb_process(["--show-completion", shell], {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout and "_KB_COMPLETE=complete_" + shell in result.stdout


def test_the_shell_completes_commands_options_and_choices():
    def complete(shell: str, line: str, cword: int | None = None) -> str:
        env = {"_KB_COMPLETE": f"complete_{shell}", "COMP_WORDS": line, "COMP_CWORD": str(cword or 0),
               "_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
        result = kb_process([], env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert complete("bash", "kb tim", 1).split() == ["timeline"] and complete("bash", "kb a", 1).split() == ["add", "ask"]
    assert complete("bash", "kb ask --to", 2).split() == ["--top-k"]
    assert '"table"\n"ics"\n"csv"\n"markdown"' in complete("zsh", "kb timeline --format ")
    assert '"text"\n"markdown"' in complete("zsh", "kb ask -f ")
    assert [line.split("\t")[0] for line in complete("fish", "kb a").splitlines()] == ["add", "ask"]


def test_errors_with_json_are_json_on_stdout_too(cli_env):
    import json as _json

    result = runner.invoke(app, ["ask", "When do widget licences open?", "--json"], env=cli_env)
    assert result.exit_code == 1
    error = _json.loads(result.stdout)
    assert error["schema"] == "kb.error/1" and error["kind"] == "IndexMissing" and "kb index" in error["hint"]


def test_an_index_named_without_a_corpus_is_updated_from_its_own_corpus(cli_env, fixture_corpus, tmp_path, monkeypatch):
    env = {k: v for k, v in cli_env.items() if k != "KB_CORPUS"}
    assert runner.invoke(app, ["index", str(fixture_corpus)], env=env).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "corpus").mkdir(parents=True)
    (elsewhere / "corpus" / "other.txt").write_text("Something else entirely.\n")
    monkeypatch.chdir(elsewhere)  # a ./corpus that is not the index's
    (fixture_corpus / "gamma.txt").write_text("Gizmo makers must register yearly.\n")
    result = runner.invoke(app, ["index", "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["removed"] == [] and report["added"] == ["gamma.txt"]  # not rebuilt from ./corpus
    note = tmp_path / "note.txt"
    note.write_text("A note to add.\n")
    assert runner.invoke(app, ["add", str(note)], env=env).exit_code == 0
    assert (fixture_corpus / "note.txt").is_file() and not (elsewhere / "corpus" / "note.txt").exists()
    # Named, the other corpus is used as asked.
    assert json.loads(runner.invoke(app, ["index", "corpus", "--json"], env=env).output)["added"] == ["other.txt"]


def test_an_index_whose_corpus_is_gone_is_not_rebuilt_from_the_default_one(cli_env, fixture_corpus, tmp_path, monkeypatch):
    env = {k: v for k, v in cli_env.items() if k != "KB_CORPUS"}
    moved = tmp_path / "moved"
    assert runner.invoke(app, ["index", str(fixture_corpus)], env=env).exit_code == 0
    fixture_corpus.rename(moved)
    work = tmp_path / "work"
    (work / "corpus").mkdir(parents=True)
    (work / "corpus" / "other.txt").write_text("Something else.\n")
    monkeypatch.chdir(work)
    result = runner.invoke(app, ["index"], env=env)
    assert result.exit_code != 0 and "not there any more" in result.output and "kb index CORPUS --index" in result.output


def test_output_into_a_pipe_is_120_columns_wide_without_padding_at_line_ends(cli_env):
    env = {k: v for k, v in cli_env.items() if k != "COLUMNS"}
    assert run(["index"], env).exit_code == 0
    output = run(["ask", "What is the application fee for small firms?"], env).output
    lines = output.splitlines()
    assert all(line == line.rstrip() for line in lines)
    # Only a line holding a file path (or URL) may run past 120 columns: it is not broken (below).
    corpus = cli_env["KB_CORPUS"]
    assert max(len(line) for line in lines) > 80 and all(len(line) <= 120 or corpus in line for line in lines)
    assert len(run(["ask", "What is the application fee for small firms?"], {**env, "COLUMNS": "60"}
                   ).output.splitlines()[2]) <= 60  # COLUMNS still decides


@pytest.mark.parametrize("question", ["🙂🙂🙂", "?!", "… — ‽"])
def test_a_question_of_symbols_alone_has_no_words_to_search_for(cli_env, question):
    run(["index"], cli_env)
    result = run(["ask", question], cli_env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "no words kb can search for" in result.output and "empty" not in result.output


@pytest.mark.parametrize("command", [["index"], ["add", "--no-index", "note.md"]])
@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_a_wait_that_is_not_a_number_of_seconds_blames_the_wait_option(cli_env, command, value):
    result = run([*command, "--wait", value], cli_env)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert "'--wait'" in result.output and f"not {value}" in result.output and "kb.toml" not in result.output


def test_doctor_names_the_bm25_files_that_are_missing(cli_env, tmp_path):
    import shutil

    from kb.index import IndexLayout

    run(["index"], cli_env)
    lexical = IndexLayout(tmp_path / "index").current_build() / "lexical"
    names = sorted(path.name for path in lexical.iterdir())
    shutil.rmtree(lexical)
    result = run(["doctor"], cli_env)
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if "lexical checksums" in line)
    assert "?" not in line and "missing: " + ", ".join(names) in " ".join(result.output.split())


def test_an_index_path_that_is_a_file_is_named_a_file_not_a_damaged_index(cli_env, fixture_corpus):
    for command in (["ask", "anything"], ["status"], ["sources"]):
        result = run([*command, "-i", str(fixture_corpus / "alpha.md")], cli_env)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert "alpha.md is a file, not an index folder" in result.output, result.output
        assert "Not a directory" not in result.output and "--rebuild" not in result.output


def test_the_hint_for_a_missing_index_builds_that_index_when_copied(cli_env, tmp_path):
    import shlex

    result = run(["ask", "anything"], cli_env)  # the index kb uses without options: plain `kb index`
    assert result.exit_code == 1 and result.output.splitlines()[-1] == "Hint: Build it first: kb index"
    other = tmp_path / "other index"
    result = run(["ask", "When do widget licences open?", "-i", str(other)], cli_env)
    assert result.exit_code == 1
    hint = result.output.splitlines()[-1]
    assert hint == f"Hint: Build it first: kb index -i '{other}'"
    words = shlex.split(hint.removeprefix("Hint: Build it first: "))
    assert words[:2] == ["kb", "index"] and run(words[1:], cli_env).exit_code == 0
    assert run(["ask", "When do widget licences open?", "-i", str(other)], cli_env).exit_code == 0
    assert not (tmp_path / "index").exists()  # the copied command built the named index, not the default one


def test_the_hint_for_a_missing_index_asks_for_the_corpus_when_kb_finds_none(cli_env, tmp_path):
    result = run(["ask", "anything"], {**cli_env, "KB_CORPUS": str(tmp_path / "no-corpus")})
    assert result.exit_code == 1 and result.output.splitlines()[-1] == "Hint: Build it first: kb index PATH/TO/CORPUS"


def test_a_named_index_keeps_its_own_corpus_in_a_project_whose_config_names_another(cli_env, fixture_corpus, tmp_path,
                                                                                    monkeypatch):
    env = {k: v for k, v in cli_env.items() if k not in ("KB_CORPUS", "KB_INDEX")}
    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "other.txt").write_text("Something else entirely.\n")
    (project / "kb.toml").write_text('corpus = "docs"\nindex = "indexes/default"\n')
    other_index = tmp_path / "other-index"
    assert runner.invoke(app, ["index", str(fixture_corpus), "-i", str(other_index)], env=env).exit_code == 0
    monkeypatch.chdir(project)
    for args, extra in ((["-i", str(other_index)], {}), ([], {"KB_INDEX": str(other_index)})):
        result = runner.invoke(app, ["index", *args, "--json"], env={**env, **extra})
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert report["corpus"] == str(fixture_corpus.resolve()) and report["added"] == [] and not report["written"]
    status = json.loads(runner.invoke(app, ["status", "-i", str(other_index), "--json"], env=env).output)
    assert status["corpus"] == str(fixture_corpus.resolve()) and status["up_to_date"]
    note = tmp_path / "note.txt"
    note.write_text("A note to add.\n")
    assert runner.invoke(app, ["add", str(note), "-i", str(other_index)], env=env).exit_code == 0
    assert (fixture_corpus / "note.txt").is_file() and not (project / "docs" / "note.txt").exists()
    # Without -i, the project's own index is built from the project's corpus, as configured.
    report = json.loads(runner.invoke(app, ["index", "--json"], env=env).output)
    assert report["corpus"] == str((project / "docs").resolve()) and report["added"] == ["other.txt"]
    assert (project / "indexes" / "default").is_dir()


def test_a_corpus_change_counts_a_document_of_the_same_name_as_removed(cli_env, fixture_corpus, tmp_path):
    env = {k: v for k, v in cli_env.items() if k != "KB_CORPUS"}
    assert runner.invoke(app, ["index", str(fixture_corpus)], env=env).exit_code == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "beta.txt").write_text("Another beta: sprocket makers register monthly.\n")
    result = runner.invoke(app, ["index", str(other)], env=env)
    assert result.exit_code == 0, result.output
    assert "1 new, 0 updated, 0 unchanged, 3 removed" in result.output and "corpus folder changed" in result.output


@pytest.fixture
def piped_env(cli_env):
    assert runner.invoke(app, ["index"], env=cli_env).exit_code == 0
    return cli_env


@pytest.mark.parametrize("args", [["sources"], ["timeline"], ["timeline", "-f", "csv"], ["status"], ["doctor"],
                                  ["ask", "When do widget licences open?", "-k", "10"],
                                  ["ask", "When do widget licences open?", "--json"], ["index", "--rebuild"],
                                  ["--help"], ["--version"]], ids=" ".join)
def test_a_reader_that_closes_the_output_early_ends_kb_quietly_with_exit_0(piped_env, args):
    # `kb sources | head -1`, with the reader gone before kb writes a line: a broken pipe for every write.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "-m", "kb", *args], stdout=write_end, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, **piped_env, "PYTHONPATH": str(REPO)}, timeout=120)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (0, "")  # no traceback, no "Exception ignored", not exit 1


def test_piped_citations_never_break_a_long_url_or_a_file_path(cli_env, tmp_path):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    url = ("https://www.fca.org.uk/publications/policy-statements/ps25-99-cryptoasset-regime-gateway-opening-"
           "and-authorisation-timetable-for-firms")
    name = "fca policy statement with spaces in a rather long file name about the gateway 2025.md"
    (corpus / name).write_text(f"---\ntitle: Fixture gateway statement\nsource: {url}\n---\n# Gateway\n\n"
                               "Widget licences open in September 2032 when the gateway opens.\n")
    env = {**cli_env, "KB_CORPUS": str(corpus)}
    assert runner.invoke(app, ["index"], env=env).exit_code == 0
    result = runner.invoke(app, ["ask", "When do widget licences open?"], env=env)  # piped: 120 columns
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.strip() == url for line in lines)  # one line, longer than 120 columns
    assert sum(name in line for line in lines) >= 2  # the answer's and the citation's path, each whole
