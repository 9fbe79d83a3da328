#!/usr/bin/env python
"""Index the regqa development set and measure kb's answers on it: each half, per type, and an ablation.

    .venv/bin/python scripts/eval_answers.py               # the README tables (both halves, per type)
    .venv/bin/python scripts/eval_answers.py --ablation    # also each part of the answerer switched off
    .venv/bin/python scripts/eval_answers.py --json        # one JSON object

Reads ../shared/data/regqa/ (present only in the development workspace; the script says so and stops
when it is absent). The set is split by question id: odd ids are the half kb's answer rules were
tuned on, even ids the half kept for checking. The index goes to indexes/regqa/ and is re-used while
the corpus and kb's settings are unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, replace
from pathlib import Path

from _obliqa import REGQA as DATA, REPO, not_found  # noqa: E402

DEFAULT_INDEX = REPO / "indexes" / "regqa"

# Each part of the answerer switched off in turn (kb.answer.AnswerSettings).
ABLATION = [
    ("kb (all parts)", {}),
    ("without question types", {"question_types": False}),
    ("without typed spans", {"typed_spans": False}),
    ("without list items, lead-ins and lists", {"units": False}),
    ("without focus terms", {"focus": False}),
    ("without meaning (cosine)", {"cosine": False}),
    ("without date events", {"events": False}),
    ("without the jurisdiction check", {"jurisdiction": False}),
    ("reading 3 passages, not 10", {"passages": 3}),
]
COLUMNS = ("accuracy", "file_accuracy", "hit_at_1", "hit_at_3", "declined", "wrongly_declined")
HEADERS = ("answer accuracy", "cites a relevant file", "hit@1", "hit@3", "unanswerables declined",
           "answerables wrongly declined")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--ablation", action="store_true", help="also switch each part of the answerer off")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (DATA / "questions.jsonl").is_file():
        print(not_found("regqa", DATA, "this evaluation"), file=sys.stderr)
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(REPO))
    from kb.answer import AnswerSettings
    from kb.build import build_index
    from kb.config import load_settings
    from kb.evaluate import evaluate_answers, load_questions
    from kb.session import open_session

    settings = replace(load_settings({"index": args.index}), corpus=DATA / "corpus")
    build = build_index(settings)
    session = open_session(settings)
    questions = load_questions(DATA / "questions.jsonl")
    halves = {"odd (tuned on)": [q for q in questions if int(q.id.lstrip("d")) % 2],
              "even (held out)": [q for q in questions if not int(q.id.lstrip("d")) % 2]}
    variants = ABLATION if args.ablation else ABLATION[:1]
    results = {}
    for label, switches in variants:
        answer_settings = AnswerSettings(**switches)
        results[label] = {half: evaluate_answers(session.searcher, group, settings.top_k, settings=answer_settings)
                          for half, group in halves.items()}
    if args.json:
        print(json.dumps({label: {half: asdict(report) for half, report in by_half.items()}
                          for label, by_half in results.items()}, indent=2))
        return 0
    print(f"regqa: {len(questions)} questions ({sum(not q.unanswerable for q in questions)} answerable), "
          f"{build.documents} documents, {build.chunks} chunks; top-k {settings.top_k}; {os.cpu_count()} cores\n")
    full = results[variants[0][0]]
    print("| half | " + " | ".join(HEADERS) + " | p50 ms |")
    print("|---" * (len(HEADERS) + 2) + "|")
    for half, report in full.items():
        print(f"| {half} | " + " | ".join(_share(getattr(report.overall, c)) for c in COLUMNS)
              + f" | {report.latency_p50_ms:.0f} |")
    print("\nBy question type (odd / even):\n")
    print("| type | questions | answer accuracy | unanswerables declined |")
    print("|---|---|---|---|")
    odd, even = full.values()
    for kind in sorted(set(odd.by_type) | set(even.by_type)):
        a, b = odd.by_type.get(kind), even.by_type.get(kind)
        count = sum(s.answerable + s.unanswerable for s in (a, b) if s)
        print(f"| {kind} | {count} | {_pair(a, b, 'accuracy')} | {_pair(a, b, 'declined')} |")
    if args.ablation:
        print("\nAblation (odd / even):\n")
        print("| answerer | answer accuracy | unanswerables declined | answerables wrongly declined |")
        print("|---|---|---|---|")
        for label, by_half in results.items():
            a, b = (report.overall for report in by_half.values())
            print(f"| {label} | {_pair(a, b, 'accuracy')} | {_pair(a, b, 'declined')} | "
                  f"{_pair(a, b, 'wrongly_declined')} |")
    return 0


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _pair(a, b, field: str) -> str:
    return " / ".join(_share(getattr(s, field)) if s else "–" for s in (a, b))


if __name__ == "__main__":
    raise SystemExit(main())
