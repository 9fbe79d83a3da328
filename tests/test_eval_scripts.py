"""The benchmark and evaluation scripts (scripts/*.py), run as a user runs them: in a new process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import FAKE_MODEL, REPO


def run_script(name: str, args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("KB_")}
    environment.update(KB_MODEL=FAKE_MODEL, HF_HUB_OFFLINE="1", TMPDIR=str(tmp_path), **env)
    environment.setdefault("KB_CACHE_DIR", os.environ.get("KB_CACHE_DIR", str(REPO / ".kb-test-cache")))
    return subprocess.run([sys.executable, str(REPO / "scripts" / name), *args], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=300)


def test_bench_query_part_reads_its_replicated_index_and_a_failed_part_keeps_the_others(tmp_path):
    # --files 0 --passages 0: the throughput part has an empty corpus to index, and fails.
    result = run_script("bench.py", ["--parts", "throughput,query", "--files", "0", "--passages", "0",
                                     "--sizes", "1500", "--json"], tmp_path)
    assert result.returncode == 1, result.stderr
    out = json.loads(result.stdout)
    assert out["query"][0]["chunks"] == 1500 and out["query"][0]["p50_ms"] > 0
    assert out["throughput"]["failed"].startswith("EmptyCorpus")
    assert "IndexCorrupt" not in result.stderr and "the throughput part failed" in result.stderr


def test_the_scripts_find_the_shared_data_where_kb_shared_points(tmp_path):
    shared = tmp_path / "elsewhere"
    (shared / "data" / "obliqa").mkdir(parents=True)
    with open(shared / "data" / "obliqa" / "passages.jsonl", "w", encoding="utf-8") as out:
        for n in range(300):
            out.write(json.dumps({"id": str(n), "text": f"Rule {n}: a sprocket firm must keep records."}) + "\n")
    result = run_script("bench.py", ["--parts", "batch", "--json"], tmp_path, KB_SHARED=str(shared))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["obliqa"] and out["batch"][0]["sample"] == "random ObliQA passages"


def test_without_the_shared_data_the_evaluations_say_how_to_point_to_it(tmp_path):
    missing = tmp_path / "nowhere"
    for script, what in (("eval_answers.py", "regqa"), ("eval_obliqa.py", "ObliQA data"),
                         ("calibrate_answerable.py", "ObliQA data")):
        result = run_script(script, [], tmp_path, KB_SHARED=str(missing))
        assert result.returncode == 0 and f"{what} not found at {missing}/data/" in result.stderr
        assert "set KB_SHARED" in result.stderr
