"""`kb eval`: retrieval quality over documents, with the same search code as `kb ask`.

Metrics follow the usual IR definitions over a ranked list of distinct doc_ids:
Recall@k = |relevant ∩ top k| / |relevant|; AP@k = Σ_{i≤k, d_i relevant} P@i / min(|relevant|, k);
nDCG@k with binary gains and log2 discounts; MRR@k = 1 / rank of the first relevant (0 if none in k);
Hit@k = 1 if any relevant is in the top k. Each is averaged over questions.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from kb.config import Settings
from kb.errors import EvalError
from kb.filters import Filters
from kb.progress import NoProgress, Progress
from kb.results import EvalReport
from kb.search import Searcher
from kb.session import open_session


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    relevant: tuple[str, ...]


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EvalError(f"Questions file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"Cannot read {path}: {exc}") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            question = Question(str(record["id"]), str(record["question"]), tuple(str(r) for r in record["relevant"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalError(f"{path}, line {number}: not a question record ({exc.__class__.__name__}: {exc}).") from None
        if not question.relevant:
            raise EvalError(f"{path}, line {number}: question {question.id!r} has no relevant documents.")
        questions.append(question)
        if limit and len(questions) >= limit:
            break
    if not questions:
        raise EvalError(f"No questions in {path}.")
    return questions


# --- metrics ---------------------------------------------------------------------------------------


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def average_precision_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    found, total = 0, 0.0
    for position, doc in enumerate(ranked[:k], start=1):
        if doc in relevant:
            found += 1
            total += found / position
    return total / min(len(relevant), k)


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(position + 1) for position, doc in enumerate(ranked[:k], start=1) if doc in relevant)
    ideal = sum(1.0 / math.log2(position + 1) for position in range(1, min(len(relevant), k) + 1))
    return dcg / ideal


def reciprocal_rank_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    for position, doc in enumerate(ranked[:k], start=1):
        if doc in relevant:
            return 1.0 / position
    return 0.0


def hit_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return 1.0 if relevant.intersection(ranked[:k]) else 0.0


METRICS: dict[str, Callable[[Sequence[str], set[str], int], float]] = {
    "recall": recall_at_k,
    "map": average_precision_at_k,
    "ndcg": ndcg_at_k,
    "mrr": reciprocal_rank_at_k,
    "hit": hit_at_k,
}


def score_run(rankings: Sequence[Sequence[str]], questions: Sequence[Question], k: int) -> dict[str, float]:
    totals = {name: 0.0 for name in METRICS}
    for ranked, question in zip(rankings, questions):
        relevant = set(question.relevant)
        for name, metric in METRICS.items():
            totals[name] += metric(ranked, relevant, k)
    return {f"{name}@{k}": round(total / len(questions), 4) for name, total in totals.items()}


def evaluate_questions(settings: Settings, path: Path, k: int = 10, *, mode: str = "hybrid",
                       limit: int | None = None, filters: Filters = Filters(),
                       progress: Progress = NoProgress()) -> EvalReport:
    """`kb eval`: the questions of a file (checked before the index is opened) through the search of `kb ask`."""
    questions = load_questions(path, limit)
    session = open_session(settings, filters)
    return evaluate(session.searcher, questions, k, mode=mode, mask=session.mask, progress=progress)


def evaluate(searcher: Searcher, questions: Sequence[Question], k: int = 10, *, mode: str = "hybrid",
             mask: np.ndarray | None = None, progress: Progress = NoProgress()) -> EvalReport:
    """Search every question (warm: the model is loaded before timing starts) and score the rankings."""
    if questions:
        searcher.search_documents(questions[0].question, k, mode=mode, mask=mask)  # warm-up, not timed
    rankings, latencies = [], []
    progress.start("Questions", len(questions))
    for question in questions:
        started = time.perf_counter()
        rankings.append(searcher.search_documents(question.question, k, mode=mode, mask=mask))
        latencies.append((time.perf_counter() - started) * 1000)
        progress.advance()
    return EvalReport(
        k=k,
        questions=len(questions),
        metrics=score_run(rankings, questions, k),
        latency_p50_ms=float(np.percentile(latencies, 50)),
        latency_p95_ms=float(np.percentile(latencies, 95)),
        mode=mode,
    )
