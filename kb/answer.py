"""Extractive answers: pick the sentence of the top passages that answers the question, or say none does.

Each candidate sentence is scored on three signals: meaning (cosine to the question with the same
embedder), wording (share of the question's content words it contains), and the question's type
(a "when" question wants a date, "who" an organisation, "how much" a number). Whether the corpus
answers at all is decided on the same signals, with thresholds calibrated on data (README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from kb.lexical import tokenize
from kb.models import Answer, Hit
from kb.search import Searcher, clean_question
from kb.text import collapse_whitespace, split_sentences

ANSWER_PASSAGES = 3  # sentences are taken from this many top passages
MAX_SENTENCE_CHARS = 600
# Weights of the sentence score and the no-answer thresholds: see scripts/calibrate_answerable.py.
WEIGHTS = {"cosine": 0.55, "overlap": 0.30, "cue": 0.15}
RANK_PENALTY = 0.02
MIN_SENTENCE_COSINE = 0.32
MIN_PASSAGE_COSINE = 0.30

_QUESTION_WORDS = frozenset(
    "what when where which who whom whose why how do does did is are was were can could should would "
    "shall will may might must has have had tell me please about".split()
)
_WHEN = re.compile(r"^\s*(?:when|by when|until when|how soon)\b|\b(?:what|which) (?:year|date|month|day|time)\b|"
                   r"\bdeadline\b|\bhow long\b", re.IGNORECASE)
_WHO = re.compile(r"^\s*(?:who|whom|whose)\b|\b(?:which|what) (?:regulator|authority|body|organi[sz]ation|agency|"
                  r"firms?|entity|entities|institutions?|persons?)\b", re.IGNORECASE)
_HOW_MUCH = re.compile(r"\bhow (?:much|many)\b|\b(?:what|which) (?:amount|percentage|fee|threshold|number|"
                       r"minimum|maximum|level|ratio|limit)\b", re.IGNORECASE)
MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
          "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DATE = re.compile(rf"\b(?:1[89]\d\d|20\d\d)\b|\b(?:{MONTHS})\b|\bQ[1-4]\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|"
                   r"\b(?:next|last|this) (?:week|month|year|quarter)\b|\b(?:days?|months?|years?) after\b",
                   re.IGNORECASE)
_ORGANISATION = re.compile(r"\b[A-Z]{2,}[a-z]?\b|\b(?:Authority|Commission|Treasury|Bank|Board|Council|Parliament|"
                           r"Regulator|Agency|Ministry|Department|Government|Corporation|Comptroller)\b")
_NUMBER = re.compile(r"\d|\bper ?cent\b|%|[$£€¥]|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|"
                     r"thousand|million|billion)\b", re.IGNORECASE)


def question_type(question: str) -> str | None:
    if _WHEN.search(question):
        return "when"
    if _HOW_MUCH.search(question):
        return "how much"
    if _WHO.search(question):
        return "who"
    return None


def _cue(kind: str | None, sentence: str) -> float:
    if kind == "when":
        return 1.0 if _DATE.search(sentence) else 0.0
    if kind == "who":
        return 1.0 if _ORGANISATION.search(sentence) else 0.0
    if kind == "how much":
        return 1.0 if _NUMBER.search(sentence) else 0.0
    return 0.0


def content_terms(question: str) -> set[str]:
    words = " ".join(w for w in re.findall(r"\w+", question) if w.casefold() not in _QUESTION_WORDS)
    return set(tokenize(words))


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    passage: int  # index into the hits
    start: int
    end: int
    score: float
    cosine: float
    overlap: float
    cue: float


def score_sentences(question: str, hits: list[Hit], sentence_vectors: np.ndarray, query_vector: np.ndarray,
                    spans: list[tuple[int, int, int]]) -> list[ScoredSentence]:
    kind = question_type(question)
    terms = content_terms(question)
    cosines = sentence_vectors @ query_vector if len(spans) else np.zeros(0)
    scored = []
    for (passage, start, end), cosine in zip(spans, cosines.tolist()):
        sentence = hits[passage].chunk.text[start:end]
        overlap = len(terms & set(tokenize(sentence))) / len(terms) if terms else 0.0
        cue = _cue(kind, sentence)
        score = (WEIGHTS["cosine"] * cosine + WEIGHTS["overlap"] * overlap + WEIGHTS["cue"] * cue
                 - RANK_PENALTY * passage)
        scored.append(ScoredSentence(passage, start, end, score, cosine, overlap, cue))
    return scored


def candidate_spans(hits: list[Hit]) -> list[tuple[int, int, int]]:
    spans = []
    for passage, hit in enumerate(hits[:ANSWER_PASSAGES]):
        for start, end in split_sentences(hit.chunk.text):
            if end - start > MAX_SENTENCE_CHARS or not any(c.isalpha() for c in hit.chunk.text[start:end]):
                continue
            spans.append((passage, start, end))
    return spans


def is_answerable(best: ScoredSentence, top_hit: Hit) -> bool:
    passage_cosine = top_hit.dense_score if top_hit.dense_score is not None else 0.0
    return best.cosine >= MIN_SENTENCE_COSINE and max(passage_cosine, best.cosine) >= MIN_PASSAGE_COSINE


def answer_question(searcher: Searcher, question: str, k: int = 5, *, mask: np.ndarray | None = None) -> Answer:
    question = clean_question(question)
    hits = searcher.search(question, k, mask=mask)
    if not hits:
        return Answer(question, None, False, ())
    spans = candidate_spans(hits)
    texts = [hits[p].chunk.text[s:e] for p, s, e in spans]
    vectors = searcher.embedder.embed([collapse_whitespace(t) for t in texts]) if texts else np.zeros((0, 1))
    scored = score_sentences(question, hits, vectors, searcher.embed_query(question), spans)
    if not scored:
        return Answer(question, None, False, tuple(hits))
    best = max(scored, key=lambda s: s.score)
    if not is_answerable(best, hits[best.passage]):
        return Answer(question, None, False, tuple(hits), confidence=round(best.score, 4))
    text = collapse_whitespace(hits[best.passage].chunk.text[best.start:best.end])
    return Answer(
        question=question,
        text=text,
        answerable=True,
        passages=tuple(hits),
        citation=best.passage + 1,
        highlight=(best.start, best.end),
        confidence=round(best.score, 4),
    )


def answer_lines(answer: Answer) -> tuple[int, int] | None:
    """Line range of the answer sentence itself in its source file."""
    if answer.citation is None or answer.highlight is None:
        return None
    chunk = answer.passages[answer.citation - 1].chunk
    if chunk.line_start == chunk.line_end:
        return chunk.line_start, chunk.line_end
    start, end = answer.highlight
    first = chunk.line_start + chunk.text.count("\n", 0, start)
    return first, first + chunk.text.count("\n", start, end)
