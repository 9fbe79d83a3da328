"""scripts/kb: its set-up and first-run indexing, run against a stand-in venv (no pip, no model)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

SCRIPT = REPO / "scripts" / "kb"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="scripts/kb is a bash script")

# Stands in for .venv/bin/kb: logs its arguments, and writes to stdout as the real commands do
# (kb index its summary table, kb ask its JSON).
FAKE_KB = """#!/usr/bin/env bash
echo "$*" >> "$KB_FAKE_LOG"
if [ "$1" = index ]; then echo "Index      indexes/default"; echo "Documents  7"; exit "${KB_FAKE_INDEX_EXIT:-0}"; fi
echo '{"schema": "kb.ask/1", "answer": "in 2026"}'
"""
# Stands in for .venv/bin/python on a first run: `python -m pip install ...` chatters on stdout.
FAKE_PYTHON = """#!/usr/bin/env bash
echo "Collecting $*"
"""


def fake_venv(folder: Path, *, installed: bool) -> Path:
    (folder / "bin").mkdir(parents=True)
    for name, text in (("kb", FAKE_KB), ("python", FAKE_PYTHON)):
        (folder / "bin" / name).write_text(text)
        (folder / "bin" / name).chmod(0o755)
    if installed:  # the stamp scripts/_setup.sh writes after a set-up from this pyproject.toml
        digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()[:16]
        (folder / ".kb-installed").write_text(f"{digest} \n")
    return folder


def run_script(args: list[str], tmp_path: Path, *, installed: bool = True, cwd: Path = REPO, **env: str):
    venv = fake_venv(tmp_path / "venv", installed=installed)
    log = tmp_path / "calls.log"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("KB_")}
    environment.update(KB_VENV=str(venv), KB_FAKE_LOG=str(log), **env)
    result = subprocess.run(["bash", str(SCRIPT), *args], cwd=cwd, env=environment, capture_output=True, text=True,
                            timeout=60)
    calls = log.read_text().splitlines() if log.exists() else []
    return result, calls


@pytest.mark.parametrize("installed", [False, True], ids=["first run: set-up", "venv ready"])
def test_stdout_holds_only_the_commands_own_output_on_the_first_run(tmp_path, installed):
    result, calls = run_script(["ask", "When do FCA licences open?", "--json"], tmp_path, installed=installed)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"schema": "kb.ask/1", "answer": "in 2026"}  # | python -m json.tool works
    assert "Documents  7" in result.stderr  # the index summary went to stderr
    assert ("Setting up kb" in result.stderr and "Collecting" in result.stderr) == (not installed)
    assert calls == ["index --if-missing", "ask When do FCA licences open? --json"]


@pytest.mark.parametrize("args, env", [
    (["-i", "indexes/other"], {}),
    (["--index", "indexes/other"], {}),
    (["--index=indexes/other"], {}),
    (["-iindexes/other"], {}),
    (["--model", "/models/mine"], {}),
    ([], {"KB_INDEX": "indexes/other"}),
    ([], {"KB_CORPUS": "/somewhere/else"}),
])
def test_the_first_ask_does_not_build_the_default_index_when_another_one_is_named(tmp_path, args, env):
    result, calls = run_script(["ask", "When do FCA licences open?", *args], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert calls == [" ".join(["ask", "When do FCA licences open?", *args])]


def test_no_index_is_built_outside_the_repository_or_for_other_commands(tmp_path):
    result, calls = run_script(["ask", "When do FCA licences open?"], tmp_path, cwd=tmp_path)
    assert result.returncode == 0 and calls == ["ask When do FCA licences open?"]
    (tmp_path / "calls.log").unlink()
    shutil.rmtree(tmp_path / "venv")
    result, calls = run_script(["sources", "--json"], tmp_path)
    assert result.returncode == 0 and calls == ["sources --json"]


def test_a_failed_first_build_still_lets_kb_ask_report_in_its_own_format(tmp_path):
    result, calls = run_script(["ask", "When do FCA licences open?", "--json"], tmp_path, KB_FAKE_INDEX_EXIT="1")
    assert calls == ["index --if-missing", "ask When do FCA licences open? --json"]
    assert json.loads(result.stdout)["schema"] == "kb.ask/1"
