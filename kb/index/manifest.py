"""manifest.json: what a build holds and how it was made, read and written here only.

A reader checks the format version and the model before it touches any other part, so an index
from another kb or another model is refused with a hint, never with a shape error deep in FAISS.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from kb.errors import IndexCorrupt, IndexFormatMismatch
from kb.index.layout import BuildParts
from kb.paths import path_key, path_name

FORMAT_VERSION = 2
# How chunks become the index (see kb.build). A build with another value re-reads every file;
# its vectors are still re-used. "per-document": a document never holds the same text twice.
# "metadata": the version of kb.metadata's inference; a new one re-reads every file, so inferred dates
# and types follow the new rules without --rebuild (2: a date alone on a line near the top before a
# file's own date; parliamentary debates. 3: a date field that says "unknown" or is not a date is no
# date, one in words is read as a date). "extraction": the version of kb.formats' text extraction, which
# re-reads every file the same way (2: DOCX headings also by a style id the file does not define, and
# by outline level).
ASSEMBLY = {"repeats": "per-document", "metadata": 3, "extraction": 2}
# What the embedder is given besides a chunk's text (kb.build.embed_text). Bump the version
# when that changes, so old vectors are not re-used by mistake.
EMBED_CONTEXT = "nearest heading"
EMBED_CONTEXT_VERSION = 2


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    dimension: int  # of every vector in the dense part


@dataclass(frozen=True, slots=True)
class ChunkerInfo:
    """How chunks and their embedder input were made; a change means every file is chunked again."""

    max_tokens: int | None = None
    overlap_tokens: int | None = None
    embed_context: str | None = None
    embed_context_version: int | None = None

    @classmethod
    def current(cls, max_tokens: int, overlap_tokens: int) -> "ChunkerInfo":
        return cls(max_tokens, overlap_tokens, EMBED_CONTEXT, EMBED_CONTEXT_VERSION)


@dataclass(frozen=True, slots=True)
class DenseInfo:
    kind: str  # see kb.index.dense.KINDS
    metric: str
    normalized: bool
    nprobe: int | None = None  # IVF kinds: tuned at build time
    recall_at_10: float | None = None  # approximate kinds: measured against exact search


@dataclass(frozen=True, slots=True)
class LexicalInfo:
    method: str
    k1: float
    b: float
    tokenizer: str


@dataclass(frozen=True, slots=True)
class Counts:
    files: int  # read and indexed (stale ones included)
    documents: int
    chunks: int
    skipped: int  # could not be indexed, or refused by the scan


@dataclass(frozen=True, slots=True)
class Integrity:
    """Hashes of the parts that are not rows of the store (see kb.index.integrity)."""

    block_rows: int
    vectors: tuple[str, ...]  # blake2b of each block of `block_rows` exact float32 vectors
    lexical: Mapping[str, str]  # SHA-256 of each file of the BM25 folder, by name

    @classmethod
    def from_json(cls, data: Any) -> "Integrity | None":
        if data is None:
            return None
        if not isinstance(data, Mapping):
            raise ValueError('"integrity" must be an object')
        rows, vectors, lexical = data.get("block_rows"), data.get("vectors"), data.get("lexical")
        if not isinstance(rows, int) or rows < 1 or not isinstance(vectors, list) or not isinstance(lexical, Mapping) \
                or not all(isinstance(v, str) for v in [*vectors, *lexical.values()]):
            raise ValueError('"integrity" must hold block_rows, vectors and lexical hashes')
        return cls(rows, tuple(vectors), dict(lexical))


@dataclass(frozen=True, slots=True)
class Manifest:
    format_version: int
    kb_version: str
    model: ModelInfo
    chunker: ChunkerInfo
    assembly: Mapping[str, Any] | None  # None: assembled before per-document repeats (re-read once)
    dense: DenseInfo
    lexical: LexicalInfo
    counts: Counts
    corpus: Path
    built_at: str
    build_seconds: float
    integrity: Integrity | None = None  # None: written before integrity hashes (the next build adds them)
    follow_symlinks: bool = False  # symlinks out of the corpus were followed (kb index --follow-symlinks)

    def to_json(self) -> dict[str, Any]:
        """The manifest as manifest.json holds it (and `kb status --json` shows it)."""
        data = dataclasses.asdict(self)
        data["corpus"] = path_key(str(self.corpus))  # a folder name that is not UTF-8 is stored losslessly
        if self.integrity is not None:
            data["integrity"] = {"block_rows": self.integrity.block_rows, "vectors": list(self.integrity.vectors),
                                 "lexical": dict(self.integrity.lexical)}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Manifest":
        """Raises ValueError, saying what is wrong, for a manifest that lacks what a build must say.

        Keys this kb does not know are ignored; so are missing optional ones, which builds of the
        same format written before them lack (assembly, nprobe, recall_at_10).
        """
        return cls(
            format_version=int(data["format_version"]),
            kb_version=str(_required(data, "kb_version")),
            model=_part(ModelInfo, _required(data, "model"), "model"),
            chunker=_part(ChunkerInfo, data.get("chunker") or {}, "chunker"),
            assembly=data.get("assembly"),
            dense=_part(DenseInfo, _required(data, "dense"), "dense"),
            lexical=_part(LexicalInfo, _required(data, "lexical"), "lexical"),
            counts=_part(Counts, _required(data, "counts"), "counts"),
            corpus=Path(path_name(_required(data, "corpus", str))),
            built_at=str(data.get("built_at", "?")),
            build_seconds=float(data.get("build_seconds", 0.0)),
            integrity=Integrity.from_json(data.get("integrity")),
            follow_symlinks=data.get("follow_symlinks") is True,
        )


_TYPES = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "None": (type(None),)}


def _required(data: Mapping[str, Any], key: str, kind: type | None = None) -> Any:
    if key not in data:
        raise ValueError(f'it lacks "{key}"')
    if kind is not None and not isinstance(data[key], kind):
        raise ValueError(f'"{key}" must be a {kind.__name__}, not {json.dumps(data[key])}')
    return data[key]


def _part(kind: type, data: Mapping[str, Any], section: str) -> Any:
    """One section of the manifest as its dataclass: known keys only, every required one present and
    of its declared type (a hand-edited manifest must fail here, not as a format error in a message)."""
    if not isinstance(data, Mapping):
        raise ValueError(f'"{section}" must be an object, not {json.dumps(data)}')
    values = {}
    for field in dataclasses.fields(kind):
        if field.name not in data:
            if field.default is dataclasses.MISSING:
                raise ValueError(f'"{section}" lacks "{field.name}"')
            continue
        value = data[field.name]
        allowed = tuple(t for name in str(field.type).split("|") for t in _TYPES.get(name.strip(), (object,)))
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise ValueError(f'"{section}.{field.name}" must be {str(field.type).replace(" | ", " or ")}, '
                             f"not {json.dumps(value)}")
        values[field.name] = value
    return kind(**values)


def read_manifest(build: Path) -> Manifest:
    """The manifest of a build folder. Raises IndexCorrupt, or IndexFormatMismatch for another format."""
    path = BuildParts(build).manifest
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"The index build {build} has no {path.name}.") from None
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"Cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise IndexCorrupt(f"{path} is not a JSON object.")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        root = build.parent.parent  # INDEX/builds/NAME
        raise IndexFormatMismatch(
            f"The index at {root} has format version {version}; this kb reads version {FORMAT_VERSION}.",
            f"Rebuild it: kb index --rebuild --index {root}",
            version=version,
        )
    try:
        manifest = Manifest.from_json(data)
    except (TypeError, ValueError) as exc:
        raise IndexCorrupt(f"{path} is malformed: {exc}.", _repair(build)) from None
    if manifest.counts.chunks < 0 or manifest.counts.documents < 0 or manifest.model.dimension < 1:
        raise IndexCorrupt(f"{path} is malformed: impossible counts or dimension.", _repair(build))
    return manifest


def _repair(build: Path) -> str:
    return f"Repair it: kb index --rebuild --index {build.parent.parent}"


def write_manifest(build: BuildParts, manifest: Manifest) -> None:
    build.manifest.write_text(json.dumps(manifest.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")
