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

from kb.dates import document_dates
from kb.index.lexical import content_terms, tokenize
from kb.models import Answer, DatedStatement, Hit
from kb.search import Searcher, clean_question
from kb.text import collapse_whitespace, split_sentences

ANSWER_PASSAGES = 3  # sentences are taken from this many top passages
MAX_SENTENCE_CHARS = 600
# Weights of the sentence score and the no-answer thresholds: see scripts/calibrate_answerable.py.
WEIGHTS = {"cosine": 0.55, "overlap": 0.30, "cue": 0.15}
RANK_PENALTY = 0.02
DISAGREEMENT_MARGIN = 0.12  # another source's dated sentence this close to the best one is shown too
SAME_STATEMENT_COSINE = 0.7  # ... if it says the same thing (cosine between the two sentences)
# Answerable when sentence cosine + COVERAGE_WEIGHT · term coverage ≥ ANSWERABLE_AT.
COVERAGE_WEIGHT = 0.5
ANSWERABLE_AT = 0.80

_WHEN = re.compile(r"^\s*(?:when|by when|until when|how soon)\b|\b(?:what|which) (?:year|date|month|day|time)\b|"
                   r"\bdeadline\b|\bhow long\b", re.IGNORECASE)
_WHO = re.compile(r"^\s*(?:who|whom|whose)\b|\b(?:which|what) (?:regulator|authority|body|organi[sz]ation|agency|"
                  r"firms?|entity|entities|institutions?|persons?)\b", re.IGNORECASE)
_HOW_MUCH = re.compile(r"\bhow (?:much|many)\b|\b(?:what|which) (?:amount|percentage|fee|threshold|number|"
                       r"minimum|maximum|level|ratio|limit)\b", re.IGNORECASE)
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


def _cue(kind: str | None, sentence: str, dates: tuple[str, ...]) -> float:
    if kind == "when":
        return 1.0 if dates else 0.0
    if kind == "who":
        return 1.0 if _ORGANISATION.search(sentence) else 0.0
    if kind == "how much":
        return 1.0 if _NUMBER.search(sentence) else 0.0
    return 0.0


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    passage: int  # index into the hits
    start: int
    end: int
    score: float
    cosine: float
    overlap: float
    cue: float
    dates: tuple[str, ...] = ()  # for "when" questions: the sentence's dates, resolved and normalised


def sentence_dates(hit: Hit, start: int, end: int) -> tuple[str, ...]:
    meta = hit.chunk.meta
    return tuple(m.label for m in document_dates(hit.chunk.text[start:end], meta.date, meta.jurisdiction))


def score_sentences(question: str, hits: list[Hit], sentence_vectors: np.ndarray, query_vector: np.ndarray,
                    spans: list[tuple[int, int, int]]) -> list[ScoredSentence]:
    kind = question_type(question)
    terms = content_terms(question)
    cosines = sentence_vectors @ query_vector if len(spans) else np.zeros(0)
    scored = []
    for (passage, start, end), cosine in zip(spans, cosines.tolist()):
        sentence = hits[passage].chunk.text[start:end]
        overlap = len(terms & set(tokenize(sentence))) / len(terms) if terms else 0.0
        dates = sentence_dates(hits[passage], start, end) if kind == "when" else ()
        cue = _cue(kind, sentence, dates)
        score = (WEIGHTS["cosine"] * cosine + WEIGHTS["overlap"] * overlap + WEIGHTS["cue"] * cue
                 - RANK_PENALTY * passage)
        scored.append(ScoredSentence(passage, start, end, score, cosine, overlap, cue, dates))
    return scored


def candidate_spans(hits: list[Hit], passages: int = ANSWER_PASSAGES) -> list[tuple[int, int, int]]:
    spans = []
    for passage, hit in enumerate(hits[:passages]):
        for start, end in split_sentences(hit.chunk.text):
            if end - start > MAX_SENTENCE_CHARS or not any(c.isalpha() for c in hit.chunk.text[start:end]):
                continue
            spans.append((passage, start, end))
    return spans


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the answerer found for a question: the passages and every scored candidate sentence."""

    question: str
    hits: tuple[Hit, ...]
    sentences: tuple[ScoredSentence, ...]
    coverage: float = 0.0  # idf-weighted share of the question's content words found in the passages
    vectors: np.ndarray | None = None  # embedding of each sentence, in the order of `sentences`

    @property
    def best(self) -> ScoredSentence | None:
        return max(self.sentences, key=lambda s: s.score) if self.sentences else None


def gather_evidence(searcher: Searcher, question: str, k: int = 5, *, mask: np.ndarray | None = None) -> Evidence:
    question = clean_question(question)
    hits = searcher.search(question, k, mask=mask)
    # A "when" question reads every cited passage, so that sources giving other dates are found.
    spans = candidate_spans(hits, len(hits) if question_type(question) == "when" else ANSWER_PASSAGES)
    texts = [collapse_whitespace(hits[p].chunk.text[s:e]) for p, s, e in spans]
    coverage = term_coverage(searcher, question, hits[:ANSWER_PASSAGES])
    if not texts:
        return Evidence(question, tuple(hits), (), coverage)
    vectors = searcher.embedder.embed(texts)
    scored = score_sentences(question, hits, vectors, searcher.embed_query(question), spans)
    return Evidence(question, tuple(hits), tuple(scored), coverage, vectors)


def term_coverage(searcher: Searcher, question: str, hits: list[Hit]) -> float:
    """How much of what the question asks about (weighted by rarity) the passages mention at all.

    A question on the "FCA" put to a corpus that never names it covers little, however close
    the passages are in meaning: this is what tells "related text" from "the answer is here".
    """
    terms = content_terms(question)
    if not terms:
        return 1.0
    weights = searcher.index.lexical.idf(terms)
    present = set().union(*(tokenize(hit.chunk.meta.title + " " + " ".join(hit.chunk.section) + " " + hit.chunk.text)
                            for hit in hits)) if hits else set()
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total else 1.0


def answerability(evidence: Evidence) -> float:
    """Closeness in meaning of the best sentence, plus how much of what is asked the passages mention."""
    best = evidence.best
    return -1.0 if best is None else best.cosine + COVERAGE_WEIGHT * evidence.coverage


def is_answerable(evidence: Evidence) -> bool:
    return answerability(evidence) >= ANSWERABLE_AT


def answer_question(searcher: Searcher, question: str, k: int = 5, *, mask: np.ndarray | None = None) -> Answer:
    evidence = gather_evidence(searcher, question, k, mask=mask)
    hits, best = evidence.hits, evidence.best
    if best is None:
        return Answer(evidence.question, None, False, hits)
    confidence = round(answerability(evidence), 4)
    if not is_answerable(evidence):
        return Answer(evidence.question, None, False, hits, confidence=confidence)
    cited = hits[best.passage].chunk
    notes = (f"Warning: the source of [{best.passage + 1}] no longer matches the index ({cited.stale}); "
             "check it before quoting.",) if cited.stale else ()
    return Answer(
        question=evidence.question,
        text=collapse_whitespace(cited.text[best.start:best.end]),
        answerable=True,
        passages=hits,
        citation=best.passage + 1,
        highlight=(best.start, best.end),
        confidence=confidence,
        dates=best.dates,
        notes=notes,
        date_statements=disagreeing_dates(evidence),
    )


def disagreeing_dates(evidence: Evidence) -> tuple[DatedStatement, ...]:
    """When other documents answer the same "when" with other dates: every source's statement,
    newest publication first (the corpus speaks as of its documents' dates). Empty when they agree."""
    best = evidence.best
    if best is None or not best.dates:
        return ()
    hits = evidence.hits
    answer_document = hits[best.passage].chunk.meta.doc_id
    position = {id(s): i for i, s in enumerate(evidence.sentences)}
    best_vector = evidence.vectors[position[id(best)]]
    per_document: dict[str, ScoredSentence] = {}
    for sentence in sorted(evidence.sentences, key=lambda s: -s.score):
        document = hits[sentence.passage].chunk.meta.doc_id
        if (document == answer_document or document in per_document or not sentence.dates
                or best.score - sentence.score > DISAGREEMENT_MARGIN or sentence.overlap < best.overlap):
            continue
        # The same statement with another date, not a date of something else in the same area.
        if float(evidence.vectors[position[id(sentence)]] @ best_vector) < SAME_STATEMENT_COSINE:
            continue
        per_document[document] = sentence
    others = [s for s in per_document.values() if not set(s.dates) & set(best.dates)]
    if not others:
        return ()
    statements = [DatedStatement(s.passage + 1, collapse_whitespace(hits[s.passage].chunk.text[s.start:s.end]),
                                 s.dates, hits[s.passage].chunk.meta.date) for s in [best, *others]]
    return tuple(sorted(statements, key=lambda s: s.published or "", reverse=True))


def answer_lines(answer: Answer) -> tuple[int, int] | None:
    """Line range of the answer sentence itself in its source file."""
    if answer.citation is None or answer.highlight is None:
        return None
    return answer.passages[answer.citation - 1].chunk.line_range(*answer.highlight)
