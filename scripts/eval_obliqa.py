#!/usr/bin/env python
"""Index the ObliQA passages and evaluate kb's retrieval on the dev questions.

    .venv/bin/python scripts/eval_obliqa.py              # hybrid search, the README table
    .venv/bin/python scripts/eval_obliqa.py --ablation   # plus dense only, lexical only, fusion variants
    .venv/bin/python scripts/eval_obliqa.py --json       # one JSON object

Reads ../shared/data/obliqa/ (present only in the development workspace; the script says so and
stops when it is absent). The index goes to indexes/obliqa/ and is re-used while the data and kb's
settings are unchanged, so only the first run embeds the 13k passages.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

from _obliqa import DATA, DEFAULT_INDEX, available, obliqa_settings

PUBLISHED = [  # ObliQA README: figures on the held-out test split, from the literature
    ("BM25 baseline (arXiv:2409.05677), test split", 0.668, 0.506),
    ("LeSeR, best RIRAG shared-task retrieval (arXiv:2412.06009), test split", 0.8201, 0.6655),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--limit", type=int, default=None, help="only the first N dev questions")
    parser.add_argument("--ablation", action="store_true", help="also run single rankers and fusion variants")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not available("this evaluation"):
        return 0
    settings = obliqa_settings(args.index)
    from kb.build import build_index
    from kb.cli.render import to_json
    from kb.evaluate import evaluate, load_questions
    from kb.index import IndexReader
    from kb.search import Fusion, Searcher

    started = time.perf_counter()
    report = build_index(settings)
    index_seconds = time.perf_counter() - started

    questions = load_questions(DATA / "dev.jsonl", args.limit)
    reader = IndexReader.open(settings.index, model=settings.model)
    runs = [("kb hybrid (all of the below)", "hybrid", Fusion())]
    if args.ablation:
        plain = Fusion(coverage_weight=0.0, neighbour_weight=0.0, length_weight=0.0)
        runs += [
            ("dense only (all-MiniLM-L6-v2, chunk vectors)", "dense", Fusion()),
            ("lexical only (kb BM25: stems, names, pairs)", "lexical", Fusion()),
            ("hybrid, reciprocal rank fusion", "hybrid", Fusion(method="rrf")),
            ("hybrid, linear fusion", "hybrid", plain),
            ("  + term coverage", "hybrid", replace(plain, coverage_weight=Fusion().coverage_weight)),
            ("  + neighbour boost", "hybrid", Fusion(length_weight=0.0)),
            ("  + length prior (= kb hybrid)", "hybrid", Fusion()),
        ]
    results = []
    embedder = None
    for name, mode, fusion in runs:
        searcher = Searcher(reader, embedder, fusion=fusion)
        started = time.perf_counter()
        result = evaluate(searcher, questions, args.k, mode=mode)
        embedder = searcher._embedder or embedder
        results.append((name, result, time.perf_counter() - started))

    if args.json:
        print(json.dumps({
            "index": {"chunks": report.chunks, "documents": report.documents, "seconds": round(index_seconds, 1),
                      "embedded": report.embedded},
            "runs": [{"name": n, **to_json(r), "seconds": round(s, 1)} for n, r, s in results],
            "published": [{"name": n, f"recall@{args.k}": r, f"map@{args.k}": m} for n, r, m in PUBLISHED],
            "cores": os.cpu_count(),
        }, indent=2))
        return 0
    k = args.k
    print(f"ObliQA dev: {len(questions):,} questions; index {report.chunks:,} chunks of {report.documents:,} passages "
          f"({index_seconds:.0f} s, {report.embedded:,} embedded now); {os.cpu_count()} cores\n")
    print(f"| system | Recall@{k} | MAP@{k} | nDCG@{k} | MRR@{k} | p50 ms | p95 ms | eval s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, result, seconds in results:
        m = result.metrics
        print(f"| {name} | {m[f'recall@{k}']:.4f} | {m[f'map@{k}']:.4f} | {m[f'ndcg@{k}']:.4f} | {m[f'mrr@{k}']:.4f} "
              f"| {result.latency_p50_ms:.1f} | {result.latency_p95_ms:.1f} | {seconds:.0f} |")
    for name, recall, map_ in PUBLISHED:
        print(f"| {name} | {recall:.4f} | {map_:.4f} | | | | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
