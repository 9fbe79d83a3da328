"""Test doubles: a deterministic, dependency-free tokenizer and embedder, for fast tests only.

kb picks them for a model named "hash:DIM" (the test suite sets KB_MODEL=hash:64), so tests run
the whole CLI without loading a model. Their vectors mean nothing: never index a real corpus with them.
"""

from __future__ import annotations

import hashlib
import re
from typing import Callable, Sequence

import numpy as np

_HASH_MODEL = re.compile(r"hash:(\d+)")
_HASH_TOKEN = re.compile(r"\w+|[^\w\s]")
_HASH_WORD = re.compile(r"\w+")


def hash_model_dimension(name: str) -> int | None:
    """DIM of a "hash:DIM" model name; None for every real model."""
    match = _HASH_MODEL.fullmatch(name)
    return int(match.group(1)) if match else None


class HashTokenizer:
    """Words and punctuation marks are tokens: close enough to WordPiece counts for tests."""

    def __init__(self, max_tokens: int = 254) -> None:
        self.max_tokens = max_tokens

    def count(self, texts: Sequence[str]) -> list[int]:
        return [len(_HASH_TOKEN.findall(text)) for text in texts]

    def spans(self, text: str) -> list[tuple[int, int]]:
        return [match.span() for match in _HASH_TOKEN.finditer(text)]


class HashEmbedder:
    """Bag of hashed words with signs: similar wording gives similar vectors, deterministically."""

    def __init__(self, dimension: int = 64, max_tokens: int = 254) -> None:
        self.name = f"hash:{dimension}"
        self.dimension = dimension
        self.tokenizer = HashTokenizer(max_tokens)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32,
              progress: Callable[[int], None] | None = None) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _HASH_WORD.findall(text.casefold()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dimension
                vectors[row, bucket] += 1.0 if digest[4] & 1 else -1.0
            if not vectors[row].any():
                vectors[row, 0] = 1.0
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        if progress:
            progress(len(texts))
        return vectors
