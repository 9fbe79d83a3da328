"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates, fused, boosted by their neighbours.

    score = DENSE_WEIGHT · cosine + LEXICAL_WEIGHT · BM25 / best BM25 of the question
            + COVERAGE_WEIGHT · share of the question's words (idf-weighted) the passage contains
    then each passage gains NEIGHBOUR_WEIGHT/d of the amount by which a passage d places away in
    the same file (d ≤ NEIGHBOUR_SPAN) outscores it: rules cluster, so the passage next to a
    strong hit is often relevant too;
    and a passage shorter than FULL_LENGTH characters loses LENGTH_WEIGHT · ln((1 + FULL_LENGTH) /
    (1 + its length)): a bare heading or list label matches a question's words without answering it.

The weights were chosen on ObliQA dev as a whole (README, "Retrieval quality", has the ablation);
no question-specific tuning. Candidates are the union of both rankers' top `depth`, and their
neighbours, each scored exactly on both signals.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Callable, Sequence

import numpy as np

from kb.embed import Embedder, load_embedder
from kb.errors import BadQuestion
from kb.index import IndexReader
from kb.index.lexical import content_terms
from kb.models import Chunk, Hit
from kb.text import CONTROL_CHARACTERS, normalise_for_dedup

MAX_QUESTION_CHARS = 4000
DENSE_WEIGHT = 0.6
LEXICAL_WEIGHT = 0.4
COVERAGE_WEIGHT = 0.3
NEIGHBOUR_WEIGHT = 0.4
NEIGHBOUR_SPAN = 2
LENGTH_WEIGHT = 0.05
FULL_LENGTH = 300  # characters, about 50 words
DEPTH = 100
MODES = ("hybrid", "dense", "lexical")
RRF_K = 60
_NUMBERS = re.compile(r"\d+")


def clean_question(question: str) -> str:
    """The question as searched: control characters removed, white space collapsed; or BadQuestion."""
    # A space, not nothing: "licence\x07fees" is two words.
    question = unicodedata.normalize("NFC", CONTROL_CHARACTERS.sub(" ", question or ""))
    question = " ".join(question.split())
    if not any(char.isalnum() for char in question):
        raise BadQuestion("The question is empty.")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadQuestion(
            f"The question is too long ({len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}).",
            "Ask about one thing at a time, in a sentence or two.",
        )
    return question


@dataclass(frozen=True, slots=True)
class Candidate:
    chunk_id: int
    score: float
    dense_score: float | None
    lexical_score: float | None


@dataclass(frozen=True, slots=True)
class Fusion:
    """The knobs of hybrid ranking; the defaults are the ones measured in the README."""

    dense_weight: float = DENSE_WEIGHT
    lexical_weight: float = LEXICAL_WEIGHT
    coverage_weight: float = COVERAGE_WEIGHT
    neighbour_weight: float = NEIGHBOUR_WEIGHT
    neighbour_span: int = NEIGHBOUR_SPAN
    length_weight: float = LENGTH_WEIGHT
    method: str = "linear"  # or "rrf": reciprocal rank fusion, the baseline of the README's ablation


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Σ 1/(k + rank) over rankings; ties broken by the best single rank, then by id.

    Kept as the reference point of the README's fusion ablation.
    """
    scores: dict[int, float] = {}
    best_rank: dict[int, int] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
            best_rank[item] = min(best_rank.get(item, rank), rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], best_rank[pair[0]], pair[0]))


def neighbour_boost(ids: np.ndarray, scores: np.ndarray, groups: np.ndarray, weight: float, span: int,
                    score_of: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Scores of `ids` raised by better-scoring neighbours (ids ± d in the same group)."""
    boosted = scores.copy()
    if weight <= 0:
        return boosted
    count = len(groups)
    for distance in range(1, span + 1):
        best = np.full(len(ids), -np.inf)
        for neighbour in (ids - distance, ids + distance):
            inside = (neighbour >= 0) & (neighbour < count)
            same = np.zeros(len(ids), dtype=bool)
            same[inside] = groups[neighbour[inside]] == groups[ids[inside]]
            if same.any():
                values = np.full(len(ids), -np.inf)
                values[same] = score_of(neighbour[same])
                best = np.maximum(best, values)
        gain = np.where(np.isfinite(best), np.maximum(best - scores, 0.0), 0.0)
        boosted += weight / distance * gain
    return boosted


def shortness(chars: np.ndarray) -> np.ndarray:
    """ln((1 + FULL_LENGTH) / (1 + length)): 0 for a passage of FULL_LENGTH characters or more."""
    return np.log1p(FULL_LENGTH) - np.log1p(np.minimum(chars, FULL_LENGTH))


class Searcher:
    """Searches one index. Keeps the model and index loaded, so later questions answer fast."""

    def __init__(self, index: IndexReader, embedder: Embedder | None = None,
                 embedder_factory: Callable[[str], Embedder] = load_embedder, fusion: Fusion = Fusion()) -> None:
        self.index = index
        self.fusion = fusion
        self._embedder = embedder
        self._embedder_factory = embedder_factory
        self._query_vectors: dict[str, np.ndarray] = {}  # the answerer re-uses the search's vector

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory(self.index.model)
        return self._embedder

    def embed_query(self, question: str) -> np.ndarray:
        vector = self._query_vectors.get(question)
        if vector is None:
            if len(self._query_vectors) > 64:
                self._query_vectors.clear()
            vector = self._query_vectors[question] = self.embedder.embed([question])[0]
        return vector

    @cached_property
    def _groups(self) -> np.ndarray:
        """Source file number of every chunk: neighbours must come from the same file."""
        sources: dict[str, int] = {}
        per_document = np.array([sources.setdefault(d.source, len(sources)) for d in self.index.documents] or [0])
        return per_document[self.index.chunk_documents]

    def candidates(self, question: str, *, k: int, mode: str = "hybrid", mask: np.ndarray | None = None,
                   depth: int = DEPTH, query_vector: np.ndarray | None = None) -> list[Candidate]:
        """The best `k` chunks for a cleaned question, with their scores, best first."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        depth = max(depth, k)
        if mode == "lexical":
            ids, scores = self.index.lexical.top(question, k, mask)
            return [Candidate(int(i), float(s), None, float(s)) for i, s in zip(ids, scores)]
        vector = self.embed_query(question) if query_vector is None else query_vector
        dense_ids, dense_scores = self.index.dense.search(vector, depth if mode == "hybrid" else k, mask)
        if mode == "dense":
            return [Candidate(int(i), float(s), float(s), None) for i, s in zip(dense_ids, dense_scores)]
        return self._hybrid(question, vector, dense_ids, k, mask, depth)

    def _hybrid(self, question: str, vector: np.ndarray, dense_ids: np.ndarray, k: int,
                mask: np.ndarray | None, depth: int) -> list[Candidate]:
        fusion = self.fusion
        lexical_all = self.index.lexical.scores(question, mask)
        lexical_ids, _ = _top(lexical_all, depth)
        if fusion.method == "rrf":
            fused_ranking = reciprocal_rank_fusion([dense_ids.tolist(), lexical_ids.tolist()])[:k]
            return [Candidate(int(i), s, None, float(lexical_all[i]) or None) for i, s in fused_ranking]
        best_lexical = float(lexical_all.max()) if lexical_all.size else 0.0
        scale = 1.0 / best_lexical if best_lexical > 0 else 0.0
        groups = self._groups
        terms = content_terms(question) if fusion.coverage_weight else set()
        ids = np.union1d(dense_ids, lexical_ids).astype(np.int64)
        span = fusion.neighbour_span if fusion.neighbour_weight > 0 else 0
        if span and len(ids):
            ids = _within(ids, span, len(groups), mask)
        if not len(ids):
            return []
        # Score the candidates and every neighbour the boost may consult in one pass: one matrix
        # product and one coverage lookup instead of one per neighbour distance.
        pool = _within(ids, span, len(groups), None) if span else ids
        pool_dense = self.index.dense.vectors_of(pool) @ vector
        pool_fused = fusion.dense_weight * pool_dense + fusion.lexical_weight * scale * lexical_all[pool]
        if terms:
            pool_fused += fusion.coverage_weight * self.index.lexical.coverage(terms, pool)
        if mask is not None:
            pool_fused = np.where(mask[pool], pool_fused, -np.inf)
        at = np.searchsorted(pool, ids)
        dense, fused = pool_dense[at], pool_fused[at]

        def masked_fused_of(neighbours: np.ndarray) -> np.ndarray:
            return pool_fused[np.searchsorted(pool, neighbours)]

        final = neighbour_boost(ids, fused, groups, fusion.neighbour_weight, fusion.neighbour_span, masked_fused_of)
        if fusion.length_weight:
            # After the boost, so a strong heading still lifts the passages under it.
            final -= fusion.length_weight * shortness(self.index.chunk_chars[ids])
        order = np.lexsort((ids, -final))[:k]
        return [Candidate(int(ids[i]), float(final[i]), float(dense[i]),
                          float(lexical_all[ids[i]]) if lexical_all[ids[i]] > 0 else None) for i in order]

    def search(self, question: str, k: int = 5, *, mode: str = "hybrid", mask: np.ndarray | None = None) -> list[Hit]:
        """The best `k` passages for a question, no two with the same or overlapping text."""
        question = clean_question(question)
        candidates = self.candidates(question, k=k * 4, mode=mode, mask=mask)
        chunks = self.index.chunks([c.chunk_id for c in candidates])
        kept: list[tuple[Candidate, Chunk, str, list[Chunk]]] = []
        for candidate, chunk in zip(candidates, chunks):
            normal = normalise_for_dedup(chunk.text)
            if len(kept) < k:
                same = next((entry for entry in kept
                             if _overlaps(normal, entry[2], chunk.meta.doc_id == entry[1].meta.doc_id)), None)
            else:  # past the last hit only exact copies are looked for: the fuzzy test costs 2 ms here
                same = next((entry for entry in kept if normal == entry[2]), None)
            if same is not None:
                # A document repeats its own text only in overlapping chunks; another document's
                # copy is another citation of the same words, so name it with the hit.
                if chunk.meta.doc_id != same[1].meta.doc_id and all(c.meta.doc_id != chunk.meta.doc_id for c in same[3]):
                    same[3].append(chunk)
            elif len(kept) < k:
                kept.append((candidate, chunk, normal, []))
        return [Hit(chunk, rank, c.score, c.dense_score, c.lexical_score, c.chunk_id, tuple(copies))
                for rank, (c, chunk, _, copies) in enumerate(kept, start=1)]

    def search_documents(self, question: str, k: int = 10, *, mode: str = "hybrid",
                         mask: np.ndarray | None = None, query_vector: np.ndarray | None = None) -> list[str]:
        """The doc_ids of the best `k` documents (each document once, at its best chunk's rank)."""
        question = clean_question(question)
        documents = self.index.documents
        owner = self.index.chunk_documents
        depth = k * 5
        while True:
            candidates = self.candidates(question, k=depth, mode=mode, mask=mask, depth=max(DEPTH, depth),
                                         query_vector=query_vector)
            seen: dict[str, None] = {}
            for candidate in candidates:
                seen.setdefault(documents[owner[candidate.chunk_id]].doc_id, None)
                if len(seen) == k:
                    return list(seen)
            if len(candidates) < depth or depth >= self.index.chunk_count:
                return list(seen)
            depth *= 4


def _within(ids: np.ndarray, span: int, count: int, mask: np.ndarray | None) -> np.ndarray:
    """`ids` and every id up to `span` away, inside 0..count-1 and `mask`, sorted and unique."""
    around = np.unique(np.concatenate([ids + d for d in range(-span, span + 1)]))
    around = around[(around >= 0) & (around < count)]
    return around if mask is None else around[mask[around]]


def _top(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from kb.index.lexical import top_k

    return top_k(scores, k)


def _overlaps(a: str, b: str, same_document: bool = True) -> bool:
    """The same passage again: one contains the other, or nearly all word 4-grams are shared; and
    the numbers are the same (rules that differ only in a number or date are different rules). In
    one document, a passage inside another is the chunker's overlap, whatever its numbers."""
    if a in b or b in a:
        return same_document or _NUMBERS.findall(a) == _NUMBERS.findall(b)
    shingles_a, shingles_b = _shingles(a), _shingles(b)
    if not shingles_a or not shingles_b:
        return False
    similar = len(shingles_a & shingles_b) / len(shingles_a | shingles_b) >= 0.9
    return similar and _NUMBERS.findall(a) == _NUMBERS.findall(b)


@lru_cache(maxsize=256)  # a search compares each candidate with every kept hit: build each set once
def _shingles(text: str, n: int = 4) -> frozenset[tuple[str, ...]]:
    words = text.split()
    return frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
