"""The on-disk index: layout, manifest, and reading a built index.

    INDEX/KB-INDEX           says "this folder is a kb index": kb writes and deletes only in such a folder
    INDEX/CURRENT            name of the live build (replaced atomically when a build finishes)
    INDEX/builds/NAME/       manifest.json, meta.sqlite, dense.faiss, lexical/ (and vectors.npy
                             for lossy dense kinds)
    INDEX/builds/.tmp-NAME/  a build in progress; never read, removed by the next build
    INDEX/.lock              held by `kb index` while it builds

Readers resolve CURRENT once and read only that complete build, so a `kb ask` during a rebuild,
or after a crashed one, always sees the last complete index.

kb deletes only what its own naming identifies (build folders named by `new_build_name`), and only
in a folder that is a kb index: a folder that holds anything else is refused, never cleaned.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from kb.errors import IndexCorrupt, IndexFolderInUse, IndexMismatch, IndexMissing
from kb.models import Chunk, DocumentMeta
from kb.index.store import FileRecord, FileStatus, chunk_from_row, connect, meta_from_row, read_files

if TYPE_CHECKING:  # numpy is imported where it is used: `kb status` must not pay for it
    import numpy as np

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
MARKER = "KB-INDEX"
MARKER_TEXT = "This folder is a kb index. kb writes and removes only its own builds here (see builds/).\n"
TEMPORARY_PREFIX = ".tmp-"
# 20251130T061500-1234-a1b2c3: build time, process id, random suffix.
BUILD_NAME = re.compile(r"\d{8}T\d{6}-\d+-[0-9a-f]{6}")


def new_build_name() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class IndexLayout:
    root: Path

    @property
    def current_file(self) -> Path:
        return self.root / CURRENT

    @property
    def builds(self) -> Path:
        return self.root / "builds"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    def is_kb_index(self) -> bool:
        """Marked as a kb index, or an index from before the marker (CURRENT naming a build)."""
        if self.marker.is_file():
            return True
        try:
            name = self.current_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return False
        return bool(BUILD_NAME.fullmatch(name)) and (self.builds / name / MANIFEST).is_file()

    def claim(self, corpus: Path) -> None:
        """Make `root` a kb index folder, or refuse: a folder holding other files is not kb's to write in.

        Creates the folder when it does not exist. Raises IndexFolderInUse when it holds anything
        kb did not make, or when it is, or contains, the corpus folder.
        """
        root = self.root.resolve()
        corpus = corpus.resolve()
        apart = "Keep the index apart from the documents, e.g. --index indexes/default."
        if corpus == root:
            raise IndexFolderInUse(f"The index folder {self.root} is the corpus folder.", apart)
        if self.root.exists() and not self.root.is_dir():
            raise IndexFolderInUse(f"The index path {self.root} is a file, not a folder.")
        if self.root.is_dir() and not self.is_kb_index():
            # A lock file alone is a first build starting: another `kb index` holds it.
            entries = sorted(entry.name for entry in self.root.iterdir() if entry.name != self.lock_file.name)
            if entries:
                shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
                raise IndexFolderInUse(f"The index folder {self.root} is not empty and is not a kb index "
                                       f"(it holds {shown}); kb will not write there.")
        if corpus.is_relative_to(root):
            raise IndexFolderInUse(f"The index folder {self.root} contains the corpus folder {corpus}.", apart)
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.marker.is_file():
            self.marker.write_text(MARKER_TEXT, encoding="utf-8")

    def own_builds(self) -> list[Path]:
        """Build folders kb made here, complete or temporary: the only entries it may remove."""
        if not self.builds.is_dir():
            return []
        found = []
        for entry in self.builds.iterdir():
            name = entry.name.removeprefix(TEMPORARY_PREFIX)
            if BUILD_NAME.fullmatch(name) and entry.is_dir() and not entry.is_symlink():
                found.append(entry)
        return sorted(found)

    def temporary_builds(self) -> list[Path]:
        """Builds left by an interrupted `kb index`."""
        return [path for path in self.own_builds() if path.name.startswith(TEMPORARY_PREFIX)]

    def current_build(self) -> Path | None:
        try:
            name = self.current_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexCorrupt(f"Cannot read {self.current_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise IndexCorrupt(f"{self.current_file} does not name a build (it is not text).") from None
        if not BUILD_NAME.fullmatch(name):
            raise IndexCorrupt(f"{self.current_file} does not name a build: {name!r}")
        return self.builds / name


def read_manifest(build: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"The index build {build} has no {MANIFEST}.") from None
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"Cannot read {build / MANIFEST}: {exc}") from None
    if not isinstance(manifest, dict):
        raise IndexCorrupt(f"{build / MANIFEST} is not a JSON object.")
    return manifest


def check_compatible(manifest: dict[str, Any], root: Path, model: str | None) -> None:
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexMismatch(
            f"The index at {root} has format version {version}; this kb reads version {FORMAT_VERSION}.",
            f"Rebuild it: kb index --rebuild --index {root}",
        )
    built_with = manifest.get("model", {}).get("name")
    if model is not None and built_with != model:
        raise IndexMismatch(
            f"The index at {root} was built with the model {built_with!r}, but kb is set to use {model!r}.",
            f"Rebuild it for {model!r}: kb index --rebuild --index {root}  (or set KB_MODEL={built_with})",
        )


class IndexReader:
    """A complete, read-only build. Parts load on first use, so `kb status` stays cheap."""

    def __init__(self, root: Path, build: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.build = build
        self.manifest = manifest

    @classmethod
    def open(cls, root: Path, model: str | None = None) -> "IndexReader":
        root = Path(root)
        layout = IndexLayout(root)
        build = layout.current_build()
        if build is None:
            raise IndexMissing(f"No index at {root}.")
        if not build.is_dir():
            raise IndexCorrupt(f"{layout.current_file} points to a missing build {build.name}.")
        manifest = read_manifest(build)
        check_compatible(manifest, root, model)
        return cls(root, build, manifest)

    # -- manifest shortcuts ---------------------------------------------------------------------

    @property
    def model(self) -> str:
        return self.manifest["model"]["name"]

    @property
    def dimension(self) -> int:
        return int(self.manifest["model"]["dimension"])

    @property
    def chunk_count(self) -> int:
        return int(self.manifest["counts"]["chunks"])

    @property
    def corpus(self) -> Path:
        return Path(self.manifest["corpus"])

    # -- parts ----------------------------------------------------------------------------------

    @cached_property
    def db(self) -> sqlite3.Connection:
        path = self.build / "meta.sqlite"
        if not path.is_file():
            raise IndexCorrupt(f"The index build {self.build} has no meta.sqlite.")
        return connect(path, readonly=True)

    @cached_property
    def dense(self):
        from kb.index.dense import DenseIndex, Tuning

        path = self.build / "dense.faiss"
        if not path.is_file():
            raise IndexCorrupt(f"The index build {self.build} has no dense.faiss.")
        settings = self.manifest["dense"]
        tuning = Tuning(settings.get("nprobe"), settings.get("recall_at_10"))
        try:
            index = DenseIndex.load(path, settings["kind"], tuning)
        except RuntimeError as exc:  # FAISS reports a truncated or foreign file this way
            raise IndexCorrupt(f"Cannot read {path}: {str(exc).splitlines()[0]}") from None
        if index.size != self.chunk_count or index.dimension != self.dimension:
            raise IndexCorrupt(
                f"dense.faiss holds {index.size} vectors of {index.dimension} dimensions; the manifest says "
                f"{self.chunk_count} of {self.dimension}."
            )
        return index

    @cached_property
    def lexical(self):
        from kb.index.lexical import LexicalIndex

        try:
            index = LexicalIndex.load(self.build / "lexical")
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"Cannot load the lexical index of {self.build}: {exc}") from None
        if index.size != self.chunk_count:
            raise IndexCorrupt(f"The lexical index holds {index.size} chunks; the manifest says {self.chunk_count}.")
        return index

    @cached_property
    def documents(self) -> list[DocumentMeta]:
        """Every document, indexed by its row number."""
        return [meta_from_row(row) for row in self.db.execute("SELECT * FROM documents ORDER BY id")]

    @property
    def chunk_documents(self) -> np.ndarray:
        """Document row of every chunk, for filters and per-document grouping."""
        return self._chunk_columns[0]

    @property
    def chunk_chars(self) -> np.ndarray:
        """Length of every chunk's text in characters, for the length prior of hybrid search."""
        return self._chunk_columns[1]

    @cached_property
    def _chunk_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """(document row, length) of every chunk, in one pass over the chunks table.

        Lengths come from the offsets, not length(text), which would read every chunk's text.
        """
        import numpy as np

        rows = self.db.execute("SELECT document, char_end - char_start FROM chunks ORDER BY id").fetchall()
        table = np.array(rows, dtype=np.int32).reshape(len(rows), 2)
        return table[:, 0].copy(), table[:, 1].copy()

    def files(self) -> dict[str, FileRecord]:
        return read_files(self.db)

    def chunks(self, ids: Sequence[int]) -> list[Chunk]:
        """Chunks by id, in the order asked."""
        if not len(ids):
            return []
        wanted = [int(i) for i in ids]
        placeholders = ",".join("?" * len(wanted))
        rows = {row["id"]: row for row in self.db.execute(f"SELECT * FROM chunks WHERE id IN ({placeholders})", wanted)}
        documents = self.documents
        missing = [i for i in wanted if i not in rows]
        if missing:
            raise IndexCorrupt(f"Chunks {missing[:5]} are in the search index but not in meta.sqlite.")
        metas = [documents[rows[i]["document"]] for i in wanted]
        return [chunk_from_row(rows[i], meta, self.source_problem(meta.source)) for i, meta in zip(wanted, metas)]

    def embed_texts(self) -> dict[str, int]:
        """Embed key → chunk id, for re-using vectors in an incremental build."""
        return {row[0]: row[1] for row in self.db.execute("SELECT embed_key, id FROM chunks")}

    def vectors(self) -> np.ndarray:
        import numpy as np

        cache = self.build / "vectors.npy"
        if cache.is_file():
            return np.load(cache, mmap_mode="r")
        return self.dense.vectors()

    @cached_property
    def _file_records(self) -> dict[str, FileRecord]:
        return self.files()

    def source_problem(self, source: str) -> str | None:
        """Why a source file no longer matches what was indexed, or None when it still does.

        Checked when a passage is cited (size and mtime first, the content hash only if they
        differ), so nobody quotes a text that has changed or is gone.
        """
        if source not in self._source_problems:
            self._source_problems[source] = self._check_source(source)
        return self._source_problems[source]

    @cached_property
    def _source_problems(self) -> dict[str, str | None]:
        return {}

    def _check_source(self, source: str) -> str | None:
        record = self._file_records.get(source)
        if record is None:
            return None
        if record.status is FileStatus.STALE:
            return f"kept from an earlier build; the file now fails to read ({record.reason})"
        path = self.corpus / source
        try:
            info = path.stat()
        except OSError:
            return "the source file has been removed since indexing"
        if info.st_size == record.size and info.st_mtime_ns == record.mtime_ns:
            return None
        from kb.changes import file_sha256

        try:
            same = file_sha256(path) == record.sha256
        except OSError:
            return "the source file cannot be read any more"
        return None if same else "the source file has changed since indexing"

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()


def fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
