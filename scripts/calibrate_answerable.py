#!/usr/bin/env python
"""Calibrate kb's "not in the corpus" decision on data, and report its precision and recall.

    .venv/bin/python scripts/calibrate_answerable.py [--questions 300] [--json]

Labelled cases, all run through kb's own answerer:
  answerable      ObliQA dev questions against the full ObliQA index, when a gold passage is among
                  the top 3 passages (the answer is on screen);
  not answerable  the same questions with every passage of their gold documents' rulebooks filtered
                  out (the corpus no longer holds the answer), and general-knowledge questions
                  against ObliQA and against the bundled corpus;
  bundled corpus  hand-written questions whose answers are in corpus/ (answerable) and off-topic ones.
The script grid-searches the two thresholds of kb.answer (sentence cosine, term coverage) and prints precision, recall and F1
of "answerable" for the current and the best thresholds. Needs ../shared/ (ObliQA); says so if absent.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from _obliqa import DATA, DEFAULT_INDEX, REPO, available, obliqa_settings

OFF_TOPIC = [
    "What is the capital of France?", "How do I bake sourdough bread?", "Who won the football World Cup in 2018?",
    "What is the boiling point of water at sea level?", "How many moons does Jupiter have?",
    "What is the best way to learn the guitar?", "Who painted the Mona Lisa?", "How tall is Mount Everest?",
    "What is photosynthesis?", "Which planet is closest to the sun?", "How do I change a bicycle tyre?",
    "What are the rules of chess castling?", "When was the printing press invented?",
    "What is the speed of light?", "How do vaccines train the immune system?", "Who wrote Pride and Prejudice?",
    "What is the recipe for a margherita pizza?", "How long does it take to fly from London to Tokyo?",
    "What causes the northern lights?", "How many players are in a rugby union team?",
    "What is the population of Brazil?", "How do I reset my home router?", "What language is spoken in Peru?",
    "What is the largest mammal on Earth?", "How do I grow tomatoes on a balcony?",
    "Which composer wrote the Four Seasons?", "What is the melting point of gold?",
    "How do bees make honey?", "What is the plot of Hamlet?", "Who discovered penicillin?",
]
# Questions whose answers the bundled corpus holds (questions only; the answers are in corpus/).
BUNDLED_ANSWERABLE = [
    "When do FCA licences open?", "When does the CP25/42 consultation close?",
    "When did the CP25/14 consultation open?", "What does the term digital asset mean?",
    "Who must apply to the competent authority for authorisation as a crypto-asset service provider?",
    "Until when may crypto-asset service providers continue to provide services under the transitional measures?",
    "What did lobby groups urge the UK government to include in the UK-US Tech Bridge?",
    "What does the Board mean in the GENIUS Act?", "Who published the policy note on cryptoasset regulated activities?",
    "Will firms registered under the MLRs be automatically converted to FSMA authorisation?",
]


@dataclass
class Case:
    subset: str
    label: bool
    sentence_cosine: float
    coverage: float


def features(searcher, question, mask=None):
    from kb.answer import gather_evidence

    evidence = gather_evidence(searcher, question, 5, mask=mask)
    best = evidence.best
    if best is None:
        return None, evidence
    return (best.cosine, evidence.coverage), evidence


def says_answerable(case, coverage_weight, threshold):
    return case.sentence_cosine + coverage_weight * case.coverage >= threshold


def prf(cases, coverage_weight, threshold):
    tp = fp = fn = 0
    for case in cases:
        said = says_answerable(case, coverage_weight, threshold)
        tp += said and case.label
        fp += said and not case.label
        fn += (not said) and case.label
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not available("calibration"):
        return 0
    settings = obliqa_settings(args.index)
    from kb import answer
    from kb.build import build_index
    from kb.evaluate import load_questions
    from kb.index import IndexReader
    from kb.search import Searcher

    build_index(settings)
    reader = IndexReader.open(settings.index, model=settings.model)
    searcher = Searcher(reader)

    questions = load_questions(DATA / "dev.jsonl")
    rng = np.random.default_rng(0)
    sample = [questions[i] for i in sorted(rng.choice(len(questions), args.questions, replace=False))]
    book_of_doc = {d.doc_id: d.extra.get("document") for d in reader.documents}
    chunk_books = np.array([d.extra.get("document") for d in reader.documents])[reader.chunk_documents]
    cases: list[Case] = []

    def add(subset: str, answerable: bool, searcher, question: str, mask=None) -> None:
        values, _ = features(searcher, question, mask)
        if values:
            cases.append(Case(subset, answerable, *values))

    for question in sample:
        values, evidence = features(searcher, question.question)
        top_docs = {hit.chunk.meta.doc_id for hit in evidence.hits[:3]}
        if values and top_docs & set(question.relevant):
            cases.append(Case("ObliQA, gold in top 3", True, *values))
        books = {book_of_doc[doc] for doc in question.relevant}
        add("ObliQA, gold rulebooks removed", False, searcher, question.question, ~np.isin(chunk_books, list(books)))
    for question in OFF_TOPIC:
        add("off-topic vs ObliQA", False, searcher, question)

    bundled = Path(tempfile.mkdtemp(prefix="kb-bundled-"))
    bundled_settings = replace(settings, corpus=REPO / "corpus", index=bundled / "index")
    build_index(bundled_settings, embedder_factory=lambda name: searcher.embedder)
    bundled_searcher = Searcher(IndexReader.open(bundled_settings.index), searcher.embedder)
    for question in BUNDLED_ANSWERABLE:
        add("bundled corpus, answerable", True, bundled_searcher, question)
    for question in OFF_TOPIC:
        add("off-topic vs bundled corpus", False, bundled_searcher, question)
    # Regulatory questions put to the other corpus: near-domain, but the answer is not there.
    for question in sample[:100]:
        add("ObliQA questions vs bundled corpus", False, bundled_searcher, question.question)
    for question in BUNDLED_ANSWERABLE:
        add("bundled questions vs ObliQA", False, searcher, question)

    # The "gold rulebooks removed" cases are noisy negatives (other rulebooks often answer the same
    # question), so thresholds are chosen on the other subsets; every subset is still reported.
    clean = [c for c in cases if c.subset != "ObliQA, gold rulebooks removed"]
    current = (answer.COVERAGE_WEIGHT, answer.ANSWERABLE_AT)
    grid = [(round(w, 2), round(t, 2)) for w in np.arange(0.0, 1.01, 0.05) for t in np.arange(0.3, 1.3, 0.01)]
    best = max(grid, key=lambda t: (prf(clean, *t)[2], -abs(t[1] - current[1])))
    subsets = sorted({c.subset for c in cases})
    rows = []
    for name, thresholds in (("current", current), ("best F1", best)):
        precision, recall, f1 = prf(clean, *thresholds)
        all_precision, all_recall, all_f1 = prf(cases, *thresholds)
        per_subset = {}
        for subset in subsets:
            chosen = [c for c in cases if c.subset == subset]
            said = sum(says_answerable(c, *thresholds) for c in chosen)
            per_subset[subset] = {"cases": len(chosen), "said_answerable": said}
        rows.append({"thresholds": {"coverage_weight": thresholds[0], "answerable_at": thresholds[1]}, "name": name,
                     "precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
                     "with_noisy_negatives": {"precision": round(all_precision, 3), "recall": round(all_recall, 3),
                                              "f1": round(all_f1, 3)},
                     "subsets": per_subset})
    if args.json:
        print(json.dumps({"cases": len(cases), "results": rows}, indent=2))
        return 0
    print(f"{len(cases)} labelled cases ({sum(c.label for c in cases)} answerable)\n")
    dump = Path(tempfile.gettempdir()) / "kb-calibration-cases.json"
    dump.write_text(json.dumps([c.__dict__ for c in cases]))
    print("answerable when sentence cosine + w · coverage ≥ t; precision/recall of \"answerable\"")
    print("| w, t | precision | recall | F1 | with noisy negatives: P / R / F1 |")
    print("|---|---|---|---|---|")
    for row in rows:
        t, n = row["thresholds"], row["with_noisy_negatives"]
        print(f"| {row['name']}: {t['coverage_weight']:.2f}, {t['answerable_at']:.2f} | {row['precision']:.3f} "
              f"| {row['recall']:.3f} | {row['f1']:.3f} | {n['precision']:.3f} / {n['recall']:.3f} / {n['f1']:.3f} |")
    print("\nShare said answerable, per subset:")
    for row in rows:
        print(f"  {row['name']}: " + "; ".join(f"{s} {v['said_answerable']}/{v['cases']}" for s, v in row["subsets"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
