"""The FAISS side: unit vectors, inner product (= cosine), exact or approximate by corpus size.

Exact search ("flat") reads every vector for every question: about 5 ms at 20k chunks on 2 cores,
21 ms at 100k, against 0.5 ms for a tuned IVF index at 100k. So up to FLAT_LIMIT chunks kb searches
exactly, and beyond it builds an inverted-file
index ("ivf": quicker to build than HNSW, 10 s against 18 s at 100k) and tunes its `nprobe` at build
time until recall@10 against exact search is at least MIN_RECALL on sample queries; the measured
recall is recorded in the manifest. "-fp16" kinds halve the memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

FLAT_LIMIT = 20_000
KINDS = ("auto", "flat", "flat-fp16", "ivf", "ivf-fp16", "hnsw")
MIN_RECALL = 0.98
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
_NPROBES = (8, 16, 32, 64, 128, 256, 512, 1024)


def choose_kind(count: int, requested: str = "auto") -> str:
    if requested != "auto":
        return requested
    return "flat" if count <= FLAT_LIMIT else "ivf"


@dataclass(frozen=True, slots=True)
class Tuning:
    """How an approximate index searches, and the recall@10 it measured against exact search."""

    nprobe: int | None = None
    recall_at_10: float | None = None


class DenseIndex:
    # What to do about damaged vectors; the reader sets it to the command that rebuilds its index.
    repair_hint = "Check the index with `kb doctor`; rebuild it with `kb index --rebuild`."

    def __init__(self, index, kind: str, tuning: Tuning = Tuning(), keep_alive=None) -> None:
        self._index = index
        self._keep_alive = keep_alive  # a coarse quantizer that FAISS borrows, not owns
        self.kind = kind
        self.tuning = tuning
        self.size = int(index.ntotal)
        self.dimension = int(index.d)

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "auto") -> "DenseIndex":
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        count, dimension = vectors.shape
        kind = choose_kind(count, kind)
        metric = faiss.METRIC_INNER_PRODUCT
        quantizer = None  # IVF kinds only
        if kind == "flat":
            index = faiss.IndexFlatIP(dimension)
        elif kind == "flat-fp16":
            index = faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_fp16, metric)
        elif kind in ("ivf", "ivf-fp16"):
            lists = max(1, min(int(4 * math.sqrt(count)), count // 39 or 1))
            quantizer = faiss.IndexFlatIP(dimension)
            index = (faiss.IndexIVFFlat(quantizer, dimension, lists, metric) if kind == "ivf" else
                     faiss.IndexIVFScalarQuantizer(quantizer, dimension, lists, faiss.ScalarQuantizer.QT_fp16, metric))
            sample = vectors[np.random.default_rng(0).permutation(count)[: min(count, 64 * lists)]]
            index.train(sample)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dimension, HNSW_M, metric)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        else:
            raise ValueError(f"unknown dense index kind {kind!r}; choose one of {', '.join(KINDS)}")
        if count:
            index.add(vectors)
        dense = cls(index, kind, keep_alive=quantizer)
        if kind.startswith("ivf"):
            index.make_direct_map()  # lets incremental builds and fusion read vectors back by id
            if count:
                dense = cls(index, kind, dense._tune(vectors), keep_alive=quantizer)
        elif kind == "hnsw" and count:
            dense = cls(index, kind, Tuning(recall_at_10=dense.measure_recall(vectors)))
        return dense

    def _tune(self, vectors: np.ndarray) -> Tuning:
        """The smallest nprobe whose recall@10 against exact search reaches MIN_RECALL."""
        queries, exact = _recall_probe(vectors)
        recall = 0.0
        for nprobe in _NPROBES:
            self.tuning = Tuning(nprobe=nprobe)
            recall = _recall(self, queries, exact)
            if recall >= MIN_RECALL or nprobe >= self._index.nlist:
                return Tuning(nprobe=nprobe, recall_at_10=round(recall, 4))
        return Tuning(nprobe=_NPROBES[-1], recall_at_10=round(recall, 4))

    def measure_recall(self, vectors: np.ndarray) -> float:
        queries, exact = _recall_probe(vectors)
        return round(_recall(self, queries, exact), 4)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str, tuning: Tuning = Tuning()) -> "DenseIndex":
        import faiss

        flags = faiss.IO_FLAG_MMAP if kind == "flat" else 0
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError:
            index = faiss.read_index(str(path))
        return cls(index, kind, tuning)

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, cosine scores) of the `k` nearest chunks, best first, only among `mask`."""
        import faiss

        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if self.kind == "flat":
            return self._flat_search(query[0], k, mask)
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW()
            params.efSearch = max(HNSW_EF_SEARCH, 2 * k)
        elif self.kind.startswith("ivf"):
            params = faiss.SearchParametersIVF()
            params.nprobe = self.tuning.nprobe or 32
        else:
            params = faiss.SearchParameters()
        bits = None
        if mask is not None:
            bits = np.packbits(mask.astype(np.uint8), bitorder="little")
            params.sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        scores, ids = self._index.search(query, k, params=params)
        keep = ids[0] >= 0
        self._check_scores(scores[0][keep], query[0])
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def _check_scores(self, scores: np.ndarray, query: np.ndarray) -> None:
        """Cosines of unit vectors lie in [-1, 1]: anything else is a damaged vector (a NaN, a flipped
        exponent bit), refused rather than ranked first or carried into the next build."""
        if not len(scores):
            return
        limit = 1.01 * float(np.linalg.norm(query)) + 1e-6
        if not np.isfinite(scores).all() or float(np.abs(scores).max()) > limit:
            from kb.errors import IndexCorrupt

            raise IndexCorrupt("The dense index holds damaged vectors (not finite, or not of unit length).",
                               self.repair_hint)

    def _flat_search(self, query: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Exact search as one matrix-vector product over FAISS's own (memory-mapped) vectors.

        For a single question this is several times faster than IndexFlat.search (0.75 against
        3.2 ms at 14k chunks on 2 cores), whose thread start-up dominates at this size.
        """
        scores = self._flat_vectors @ query
        self._check_scores(scores, query)  # every vector takes part: a cheap check of all of them
        if mask is not None:
            scores[~mask] = -np.inf
        k = min(k, len(scores) if mask is None else int(mask.sum()))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]  # best first, ties by id: the same order every time
        return top.astype(np.int64), scores[top]

    @cached_property
    def _flat_vectors(self) -> np.ndarray:
        import faiss

        return faiss.rev_swig_ptr(self._index.get_xb(), self.size * self.dimension).reshape(self.size, self.dimension)

    def vectors_of(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors of some chunks (exact for flat, IVF-flat and HNSW; fp16 kinds are rounded)."""
        if not len(ids):
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64))
        with np.errstate(over="ignore", invalid="ignore"):
            self._check_scores(np.linalg.norm(vectors, axis=1), np.ones(1, dtype=np.float32))
        return vectors

    def vectors(self) -> np.ndarray:
        """All stored vectors, for re-use by an incremental build (unchecked: the builder drops damaged ones)."""
        if not self.size:
            return np.zeros((0, self.dimension), np.float32)
        return self._index.reconstruct_batch(np.arange(self.size, dtype=np.int64))


def _recall_probe(vectors: np.ndarray, count: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Sample queries near the corpus and their exact top 10.

    Stored vectors moved by noise of norm about 1 (cosine ≈ 0.7 to where they started): as far
    from their best passage as real questions are, so the tuned recall holds for them.
    """
    import faiss

    rng = np.random.default_rng(1)
    picked = vectors[rng.choice(len(vectors), size=min(count, len(vectors)), replace=False)]
    noise = rng.normal(scale=1.0 / math.sqrt(vectors.shape[1]), size=picked.shape)
    queries = (picked + noise).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, min(10, len(vectors)))
    return queries, truth


def _recall(index: DenseIndex, queries: np.ndarray, truth: np.ndarray) -> float:
    found = sum(len(set(index.search(q, truth.shape[1])[0].tolist()) & set(t.tolist())) for q, t in zip(queries, truth))
    return found / truth.size
