"""`kb eval`: retrieval quality over documents, and answer quality, with the same code as `kb ask`.

Retrieval metrics follow the usual IR definitions over a ranked list of distinct doc_ids:
Recall@k = |relevant ∩ top k| / |relevant|; AP@k = Σ_{i≤k, d_i relevant} P@i / min(|relevant|, k);
nDCG@k with binary gains and log2 discounts; MRR@k = 1 / rank of the first relevant (0 if none in k);
Hit@k = 1 if any relevant is in the top k. Each is averaged over questions.

Questions with gold answers (`answer_contains`, or `unanswerable: true`) are also asked as `kb ask`
asks them: accuracy = every `answer_contains` string is in the answer (case-insensitive); file
accuracy = the answer cites a relevant file; declined = an unanswerable question gets "not in the
corpus"; wrongly declined = an answerable one does.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from kb.answer import AnswerSettings, answer_question
from kb.config import Settings
from kb.errors import EvalError
from kb.filters import Filters
from kb.models import Answer
from kb.progress import NoProgress, Progress
from kb.results import AnswerReport, AnswerScores, EvalReport
from kb.search import Searcher
from kb.session import open_session


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    relevant: tuple[str, ...]  # doc_ids: "relevant", or "relevant_files" (paths in the corpus)
    answer_contains: tuple[str, ...] = ()  # strings a correct answer holds
    type: str | None = None  # the question's type, for the per-type table
    unanswerable: bool = False  # the corpus does not hold the answer

    @property
    def judges_answers(self) -> bool:
        return bool(self.answer_contains) or self.unanswerable


@dataclass(frozen=True, slots=True)
class QuestionFile:
    """The questions of a file, and the lines that held none (each with why)."""

    questions: list[Question]
    skipped: tuple[str, ...] = ()  # "line 3 (blank)"


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    return read_questions(path, limit).questions


def read_questions(path: Path, limit: int | None = None) -> QuestionFile:
    """Every record of a JSON-lines file as a Question; EvalError naming the line and the field for a
    record that is not one. Blank lines are skipped and listed.

    "relevant" (or "relevant_files") lists the documents a question should find; a question with gold
    answers ("answer_contains", or "unanswerable": true) may leave it out and is then scored on its
    answer only. A lone string stands for a list of one, in both fields.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EvalError(f"Questions file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"Cannot read {path}: {exc}") from None
    questions: list[Question] = []
    skipped: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            skipped.append(f"line {number} (blank)")
            continue
        questions.append(_question(line, f"{path}, line {number}"))
        if limit and len(questions) >= limit:
            break
    if not questions:
        raise EvalError(f"No questions in {path}" + (f" (only {len(skipped)} blank line(s))." if skipped else "."))
    return QuestionFile(questions, tuple(skipped))


def _question(line: str, where: str) -> Question:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise EvalError(f"{where}: not valid JSON ({getattr(exc, 'msg', type(exc).__name__)}).") from None
    if not isinstance(record, dict):
        raise EvalError(f"{where}: not a JSON object.")

    problems: list[str] = []

    def strings(name: str) -> tuple[str, ...]:
        value = record.get(name)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(item, (str, int)) and not isinstance(item, bool) for item in value):
            return tuple(str(item) for item in value)
        problems.append(f'"{name}" must be a list of strings, not {json.dumps(value)[:60]}')
        return ()

    if record.get("id") is None or str(record["id"]).strip() == "":
        problems.append('no "id"')
    text = record.get("question")
    if not isinstance(text, str) or not text.strip():
        problems.append('no "question"' if text is None or isinstance(text, str) else '"question" must be a string')
    relevant = strings("relevant" if "relevant" in record else "relevant_files")
    answers = strings("answer_contains")
    unanswerable = bool(record.get("unanswerable", False))
    if not relevant and not answers and not unanswerable and "relevant" not in " ".join(problems):
        problems.append('no "relevant" documents, and no "answer_contains" or "unanswerable": nothing to score '
                        'the question by')
    if problems:
        raise EvalError(f"{where}: " + "; ".join(problems) + ".")
    return Question(str(record["id"]), text, relevant, answers, str(record["type"]) if record.get("type") else None,
                    unanswerable)


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
    """`kb eval`: the questions of a file (checked before the index is opened) through the search of `kb ask`,
    and through its answers when they carry gold answers."""
    read = read_questions(path, limit)
    session = open_session(settings, filters)
    report = evaluate(session.searcher, read.questions, k, mode=mode, mask=session.mask, progress=progress,
                      answer_k=settings.top_k)
    return replace(report, skipped=read.skipped)


def evaluate(searcher: Searcher, questions: Sequence[Question], k: int = 10, *, mode: str = "hybrid",
             mask: np.ndarray | None = None, progress: Progress = NoProgress(), answer_k: int = 5,
             answer_settings: AnswerSettings | None = None) -> EvalReport:
    """Search every question (warm: the model is loaded before timing starts) and score the rankings;
    answer those with gold answers and score the answers."""
    ranked = [q for q in questions if q.relevant]
    judged = [q for q in questions if q.judges_answers]
    if questions:
        searcher.search_documents(questions[0].question, k, mode=mode, mask=mask)  # warm-up, not timed
    rankings, latencies = [], []
    progress.start("Questions", len(ranked) + len(judged))
    for question in ranked:
        started = time.perf_counter()
        rankings.append(searcher.search_documents(question.question, k, mode=mode, mask=mask))
        latencies.append((time.perf_counter() - started) * 1000)
        progress.advance()
    answers = (evaluate_answers(searcher, judged, answer_k, mask=mask, settings=answer_settings or AnswerSettings(),
                                progress=progress) if judged else None)
    known = {document.doc_id for document in searcher.index.documents}
    return EvalReport(
        k=k,
        questions=len(ranked),
        metrics=score_run(rankings, ranked, k) if ranked else {},
        latency_p50_ms=float(np.percentile(latencies, 50)) if latencies else 0.0,
        latency_p95_ms=float(np.percentile(latencies, 95)) if latencies else 0.0,
        mode=mode,
        answers=answers,
        unknown_relevant=tuple(sorted({r for q in questions for r in q.relevant if r not in known})),
        read=len(questions),
        answers_only=tuple(q.id for q in questions if not q.relevant),
    )


# --- answers -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    question: Question
    answered: bool
    correct: bool  # answered, and every answer_contains string is in the answer
    cites_relevant: bool
    documents: tuple[str, ...]  # doc_ids of the passages shown, best first, each once


def evaluate_answers(searcher: Searcher, questions: Sequence[Question], k: int = 5, *,
                     mask: np.ndarray | None = None, settings: AnswerSettings = AnswerSettings(),
                     progress: Progress = NoProgress()) -> AnswerReport:
    """Ask each question as `kb ask` does (warm) and score the answers, overall and per question type."""
    if questions:
        answer_question(searcher, questions[0].question, k, mask=mask, settings=settings)  # warm-up, not timed
    outcomes, latencies = [], []
    for question in questions:
        started = time.perf_counter()
        answer = answer_question(searcher, question.question, k, mask=mask, settings=settings)
        latencies.append((time.perf_counter() - started) * 1000)
        outcomes.append(_outcome(question, answer))
        progress.advance()
    types = sorted({o.question.type for o in outcomes if o.question.type})
    return AnswerReport(
        overall=answer_scores(outcomes),
        by_type={kind: answer_scores([o for o in outcomes if o.question.type == kind]) for kind in types},
        latency_p50_ms=float(np.percentile(latencies, 50)) if latencies else 0.0,
        latency_p95_ms=float(np.percentile(latencies, 95)) if latencies else 0.0,
        misses=tuple(o.question.id for o in outcomes
                     if (o.answered if o.question.unanswerable else not o.correct)),
    )


def _outcome(question: Question, answer: Answer) -> AnswerOutcome:
    text = (answer.text or "").casefold()
    cited = next((hit for hit in answer.passages if hit.rank == answer.citation), None)
    documents = tuple(dict.fromkeys(hit.chunk.meta.doc_id for hit in answer.passages))
    return AnswerOutcome(
        question=question,
        answered=answer.answerable,
        correct=answer.answerable and bool(question.answer_contains)
        and all(s.casefold() in text for s in question.answer_contains),
        cites_relevant=cited is not None and cited.chunk.meta.doc_id in question.relevant,
        documents=documents,
    )


def answer_scores(outcomes: Sequence[AnswerOutcome]) -> AnswerScores:
    answerable = [o for o in outcomes if not o.question.unanswerable]
    unanswerable = [o for o in outcomes if o.question.unanswerable]

    def share(items: Sequence[AnswerOutcome], test: Callable[[AnswerOutcome], bool]) -> float | None:
        return round(sum(map(test, items)) / len(items), 4) if items else None

    return AnswerScores(
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        accuracy=share(answerable, lambda o: o.correct),
        file_accuracy=share(answerable, lambda o: o.answered and o.cites_relevant),
        hit_at_1=share(answerable, lambda o: bool(set(o.documents[:1]) & set(o.question.relevant))),
        hit_at_3=share(answerable, lambda o: bool(set(o.documents[:3]) & set(o.question.relevant))),
        declined=share(unanswerable, lambda o: not o.answered),
        wrongly_declined=share(answerable, lambda o: not o.answered),
    )
