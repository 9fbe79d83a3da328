"""The `kb ask` prompt, through the CLI runner with typed input: commands, history, Ctrl-C."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kb.cli import app

runner = CliRunner()
FEE = "What is the application fee for small firms?"
RECORDS = "Who must keep records for seven years?"


@pytest.fixture
def env(cli_env):
    assert runner.invoke(app, ["index"], env=cli_env).exit_code == 0
    return cli_env


def prompt(env, *lines: str, args=()):
    return runner.invoke(app, ["ask", *args], env=env, input="".join(f"{line}\n" for line in lines))


@pytest.mark.parametrize("word", [":quit", ":q", "exit", "quit", "  Quit  "])
def test_leaving_words_leave_and_are_never_searched(env, word):
    result = prompt(env, word, FEE)
    assert result.exit_code == 0, result.output
    assert "500 credits" not in result.output and "No passage" not in result.output and "[1]" not in result.output


def test_help_k_and_json_change_what_the_next_answers_show(env):
    result = prompt(env, ":help", ":k 2", ":json", FEE, ":json", ":k", RECORDS, ":k 0", ":k many", ":zz")
    assert result.exit_code == 0, result.output
    output = result.output
    assert ":k N" in output and ":json" in output and ":quit" in output  # the help
    assert "Citing 2 passages." in output and "JSON output on." in output and "JSON output off." in output
    start = output.index("{")
    answer, end = json.JSONDecoder().raw_decode(output, start)
    assert answer["schema"] == "kb.ask/1" and "500 credits" in answer["answer"] and len(answer["passages"]) == 2
    rest = output[end:]
    assert "Citing 2 passages; :k N to change." in rest
    assert "seven years" in rest and "[2] " in rest and "[3] " not in rest  # text again, still two passages
    assert ":k takes a whole number from 1 to 50, not '0'." in rest and "not 'many'" in rest
    assert "Unknown command :zz; :help lists the commands." in rest


def test_questions_go_to_the_history_file_and_come_back_next_time(env, tmp_path, monkeypatch):
    history = tmp_path / "deep" / "history"
    env = {**env, "KB_HISTORY": str(history)}
    assert prompt(env, FEE, ":k 3", "", RECORDS).exit_code == 0
    assert history.read_text().splitlines() == [FEE, ":k 3", RECORDS]
    readline = pytest.importorskip("readline")
    readline.clear_history()
    assert prompt(env, ":q").exit_code == 0
    recalled = [readline.get_history_item(i) for i in range(1, readline.get_current_history_length() + 1)]
    assert recalled == [FEE, ":k 3", RECORDS, ":q"]


def test_the_default_history_lives_in_the_users_data_folder(env, tmp_path):
    env = {**env, "KB_HISTORY": "", "XDG_DATA_HOME": str(tmp_path / "data")}
    assert prompt(env, FEE).exit_code == 0
    assert (tmp_path / "data" / "kb" / "history").read_text() == FEE + "\n"


def test_without_a_writable_history_the_prompt_still_answers(env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = prompt({**env, "KB_HISTORY": str(blocker / "history")}, FEE)
    assert result.exit_code == 0 and "500 credits" in result.output
    assert f"No history: {blocker / 'history'} cannot be written" in result.output
    off = prompt({**env, "KB_HISTORY": "off"}, FEE)
    assert "500 credits" in off.output and "No history" not in off.output


def test_ctrl_c_cancels_the_question_or_the_line_and_the_prompt_stays(env, monkeypatch):
    from kb.session import Session

    answer = Session.ask

    def interrupted(self, question, k):
        if question == "a slow question":
            raise KeyboardInterrupt
        return answer(self, question, k)

    monkeypatch.setattr(Session, "ask", interrupted)
    result = prompt(env, "a slow question", FEE)
    assert result.exit_code == 0, result.output
    assert "Cancelled." in result.output and "500 credits" in result.output

    typed = iter([KeyboardInterrupt, FEE, EOFError])

    def fake_input(_prompt=""):
        value = next(typed)
        if isinstance(value, type) and issubclass(value, BaseException):
            raise value
        return value

    monkeypatch.setattr("builtins.input", fake_input)
    result = runner.invoke(app, ["ask"], env=env)
    assert result.exit_code == 0 and "500 credits" in result.output and "Interrupted" not in result.output


def test_ask_format_markdown_gives_the_answer_with_footnote_citations(env):
    result = runner.invoke(app, ["ask", FEE, "--format", "markdown"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"**Question:** {FEE}" and "500 credits" in lines[2] and lines[2].endswith("[^1]")
    assert any(line.startswith("[^1]: Fixture: Widget Authority licensing notice — alpha.md:") for line in lines)
    both = runner.invoke(app, ["ask", FEE, "--format", "markdown", "--json"], env=env)
    assert both.exit_code == 2 and "--json is a format of its own" in both.output
