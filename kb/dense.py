"""The FAISS side: unit vectors, inner product (= cosine), exact or HNSW by corpus size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Exact search stays under a few milliseconds up to about this many 384-d vectors on 2 cores;
# beyond it HNSW keeps queries fast (its recall is checked by scripts/bench.py).
FLAT_LIMIT = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def choose_kind(count: int, requested: str = "auto") -> str:
    if requested != "auto":
        return requested
    return "flat" if count <= FLAT_LIMIT else "hnsw"


class DenseIndex:
    def __init__(self, index, kind: str) -> None:
        self._index = index
        self.kind = kind
        self.size = int(index.ntotal)
        self.dimension = int(index.d)

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "auto") -> "DenseIndex":
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dimension = vectors.shape[1]
        kind = choose_kind(len(vectors), kind)
        if kind == "flat":
            index = faiss.IndexFlatIP(dimension)
        elif kind == "flat-fp16":
            index = faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        elif kind == "hnsw-fp16":
            index = faiss.IndexHNSWSQ(dimension, faiss.ScalarQuantizer.QT_fp16, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        else:
            raise ValueError(f"unknown dense index kind {kind!r}")
        if not index.is_trained:
            index.train(vectors)
        if len(vectors):
            index.add(vectors)
        return cls(index, kind)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str) -> "DenseIndex":
        import faiss

        flags = faiss.IO_FLAG_MMAP if kind == "flat" else 0
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError:
            index = faiss.read_index(str(path))
        return cls(index, kind)

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, cosine scores) of the `k` nearest chunks, best first, only among `mask`."""
        import faiss

        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        params = None
        if self.kind.startswith("hnsw"):
            params = faiss.SearchParametersHNSW()
            params.efSearch = max(HNSW_EF_SEARCH, 2 * k)
        if mask is not None:
            bits = np.packbits(mask.astype(np.uint8), bitorder="little")
            selector = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
            params = params or faiss.SearchParameters()
            params.sel = selector
        scores, ids = self._index.search(query, k, params=params) if params else self._index.search(query, k)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def vectors_of(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors of some chunks (exact for flat and HNSW-flat indexes)."""
        if not len(ids):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64))

    def vectors(self) -> np.ndarray:
        """All stored vectors (exact for flat indexes), for re-use by an incremental build."""
        return self._index.reconstruct_n(0, self.size) if self.size else np.zeros((0, self.dimension), np.float32)
