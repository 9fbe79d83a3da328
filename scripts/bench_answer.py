#!/usr/bin/env python
"""Warm `kb ask` latency on the ObliQA index: the whole answer, and the search inside it.

    .venv/bin/python scripts/bench_answer.py                         # this checkout
    .venv/bin/python scripts/bench_answer.py --trees . /tmp/kb-old   # and another kb source tree

Each tree (a kb checkout, e.g. `git worktree add /tmp/kb-old c3ac677`) is measured in its own
process, in turns (`--rounds`), so trees share the machine's state and a difference between them is
measured in one run. Each measurement answers the same `--questions` ObliQA dev questions after one
untimed question (the model and index are loaded then). Needs the ObliQA index that
scripts/eval_obliqa.py builds (indexes/obliqa).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _obliqa import DATA, REPO  # noqa: E402

MEASURE = """
import json, sys, time, statistics
from pathlib import Path
from kb.answer import answer_question
from kb.index import IndexReader
from kb.search import Searcher
questions = [json.loads(line)["question"] for line in open(sys.argv[1])][: int(sys.argv[3])]
searcher = Searcher(IndexReader.open(Path(sys.argv[2])))
answer_question(searcher, questions[0], 5)
answers, searches = [], []
for question in questions:
    started = time.perf_counter()
    searcher.search(question, 10)
    searches.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    answer_question(searcher, question, 5)
    answers.append((time.perf_counter() - started) * 1000)
print(json.dumps({"answer_p50": statistics.median(answers), "search_p50": statistics.median(searches)}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", nargs="+", type=Path, default=[REPO])
    parser.add_argument("--index", type=Path, default=REPO / "indexes" / "obliqa")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (DATA / "dev.jsonl").is_file() or not args.index.is_dir():
        print(f"Needs {DATA / 'dev.jsonl'} and the index {args.index} (scripts/eval_obliqa.py builds it).",
              file=sys.stderr)
        return 0
    results: dict[Path, list[dict]] = {tree: [] for tree in args.trees}
    for _ in range(args.rounds):
        for tree in args.trees:
            env = {**os.environ, "PYTHONPATH": str(tree.resolve()), "HF_HUB_OFFLINE": "1"}
            output = subprocess.run([sys.executable, "-c", MEASURE, str(DATA / "dev.jsonl"), str(args.index),
                                     str(args.questions)], env=env, capture_output=True, text=True, check=True)
            results[tree].append(json.loads(output.stdout.strip().splitlines()[-1]))
    print(f"Warm kb ask on {args.index.name}: {args.questions} ObliQA dev questions, {args.rounds} rounds in turns, "
          f"{os.cpu_count()} cores\n")
    print("| tree | answer p50 ms (each round) | median | search p50 ms (median) | answer − search |")
    print("|---|---|---|---|---|")
    for tree, rounds in results.items():
        answer = statistics.median(r["answer_p50"] for r in rounds)
        search = statistics.median(r["search_p50"] for r in rounds)
        each = ", ".join(f"{r['answer_p50']:.1f}" for r in rounds)
        print(f"| {tree} | {each} | {answer:.1f} | {search:.1f} | {answer - search:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
