"""Reading a complete build: its manifest, SQLite store, dense and lexical parts, each loaded on first use."""

from __future__ import annotations

import sqlite3
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, TypeVar

from kb.errors import IndexCorrupt, IndexMismatch, IndexMissing, IndexReplaced, KBError
from kb.index.layout import BuildParts, IndexLayout
from kb.index.manifest import Manifest, read_manifest
from kb.index.integrity import chunk_checksum, document_checksum
from kb.index.store import FileRecord, FileStatus, chunk_from_row, connect, has_checksums, meta_from_row, read_files
from kb.models import Chunk, DocumentMeta
from kb.paths import corpus_file

if TYPE_CHECKING:  # numpy is imported where it is used: `kb status` must not pay for it
    import numpy as np

T = TypeVar("T")


def read_current(root: Path, use: Callable[["IndexReader"], T], model: str | None = None) -> T:
    """`use(reader)` on the live build, closed afterwards; once more on the new live build when a
    `kb index` removed the one being read meanwhile (it keeps the last two: that takes two rebuilds)."""
    for attempt in range(2):
        reader = IndexReader.open(root, model)
        try:
            return use(reader)
        except IndexReplaced:
            if attempt:
                raise
        finally:
            reader.close()
    raise AssertionError("unreachable")


def build_hint(root: Path) -> str:
    """The command that builds the index at `root`, ready to copy: `kb index` for the index kb uses
    without options, else `kb index -i ROOT`; with the corpus argument to fill in when kb would find
    no corpus folder by itself."""
    usual = _usual_settings()
    words = ["kb", "index"]
    if usual is None or not usual.corpus.is_dir():
        words.append("PATH/TO/CORPUS")
    return "Build it first: " + " ".join(words + _index_option(root, usual))


def update_command(root: Path) -> str:
    """The command that brings the existing index at `root` up to date (it knows its corpus):
    `kb index`, or `kb index -i ROOT` when plain `kb index` would update another index."""
    return " ".join(["kb", "index", *_index_option(root, _usual_settings())])


def _usual_settings():
    from kb.config import load_settings

    try:
        return load_settings()
    except KBError:  # a broken kb.toml is reported by the command that reads it
        return None


def _index_option(root: Path, usual) -> list[str]:
    import shlex

    return [] if usual is not None and Path(root).absolute() == usual.index.absolute() else ["-i", shlex.quote(str(root))]


def check_model(manifest: Manifest, root: Path, model: str | None) -> None:
    """Refuse an index built with another model than the one kb is set to use."""
    built_with = manifest.model.name
    if model is not None and built_with != model:
        raise IndexMismatch(
            f"The index at {root} was built with the model {built_with!r}, but kb is set to use {model!r}.",
            f"Rebuild it for {model!r}: kb index --rebuild --index {root}  (or set KB_MODEL={built_with})",
        )


class IndexReader:
    """A complete, read-only build. Parts load on first use, so `kb status` stays cheap."""

    def __init__(self, root: Path, build: Path, manifest: Manifest) -> None:
        self.root = root
        self.build = build
        self.parts = BuildParts(build)
        self.manifest = manifest

    @classmethod
    def open(cls, root: Path, model: str | None = None, *, _again: bool = True) -> "IndexReader":
        root = Path(root)
        layout = IndexLayout(root)
        build = layout.current_build()
        if build is None:
            raise IndexMissing(f"No index at {root}.", build_hint(root))
        if not build.is_dir():  # swapped and removed between reading CURRENT and here? Read it again.
            build = layout.current_build()
            if build is None or not build.is_dir():
                raise IndexCorrupt(f"{layout.current_file} points to a missing build {build.name if build else ''}.")
        try:
            manifest = read_manifest(build)
        except IndexCorrupt:
            if build.is_dir() or not _again:
                raise
            return cls.open(root, model, _again=False)  # removed while its manifest was being read: a newer build is live
        check_model(manifest, root, model)
        return cls(root, build, manifest)

    # -- manifest shortcuts ---------------------------------------------------------------------

    @property
    def model(self) -> str:
        return self.manifest.model.name

    @property
    def dimension(self) -> int:
        return self.manifest.model.dimension

    @property
    def chunk_count(self) -> int:
        return self.manifest.counts.chunks

    @property
    def corpus(self) -> Path:
        return self.manifest.corpus

    # -- parts ----------------------------------------------------------------------------------

    @cached_property
    def db(self) -> sqlite3.Connection:
        path = self.parts.store
        if not path.is_file():
            raise self.corrupt(f"The index build {self.build} has no {path.name}.")
        return connect(path, readonly=True)

    def corrupt(self, message: str) -> IndexCorrupt:
        """The error for a damaged build, with the command that repairs it; IndexReplaced when the build
        is not damaged but gone, removed by a `kb index` that made newer ones (read CURRENT again)."""
        if not self.build.is_dir():
            try:
                live = IndexLayout(self.root).current_build()
            except IndexCorrupt:
                live = None
            if live is not None and live != self.build and live.is_dir():
                return IndexReplaced(f"The index build {self.build.name} was replaced by {live.name} while it was read.")
        return IndexCorrupt(message, f"Repair it: kb index --rebuild --index {self.root}  "
                                     f"(kb doctor --index {self.root} says what is wrong)")

    def query(self, sql: str, parameters: Sequence = ()) -> list[sqlite3.Row]:
        """Rows from the store; a damaged or emptied store is IndexCorrupt, not an SQLite traceback."""
        try:
            return self.db.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise self.corrupt(f"{self.parts.store} cannot be read ({exc}).") from None

    @cached_property
    def dense(self):
        from kb.index.dense import DenseIndex, Tuning

        path = self.parts.dense
        if not path.is_file():
            raise self.corrupt(f"The index build {self.build} has no {path.name}.")
        dense = self.manifest.dense
        try:
            index = DenseIndex.load(path, dense.kind, Tuning(dense.nprobe, dense.recall_at_10))
        except (RuntimeError, OSError) as exc:  # FAISS reports a truncated or foreign file this way
            raise self.corrupt(f"Cannot read {path}: {str(exc).splitlines()[0]}") from None
        index.repair_hint = self.corrupt("").hint
        if index.size != self.chunk_count or index.dimension != self.dimension:
            raise self.corrupt(
                f"{path.name} holds {index.size} vectors of {index.dimension} dimensions; the manifest says "
                f"{self.chunk_count} of {self.dimension}."
            )
        return index

    @cached_property
    def lexical(self):
        from kb.index.lexical import LexicalIndex

        try:
            index = LexicalIndex.load(self.parts.lexical)
            index.check()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise self.corrupt(f"Cannot load the lexical index of {self.build}: {exc}") from None
        if index.size != self.chunk_count:
            raise self.corrupt(f"The lexical index holds {index.size} chunks; the manifest says {self.chunk_count}.")
        return index

    @cached_property
    def documents(self) -> list[DocumentMeta]:
        """Every document, indexed by its row number."""
        try:
            return [meta_from_row(row) for row in self.query("SELECT * FROM documents ORDER BY id")]
        except (KeyError, TypeError, ValueError) as exc:  # a row that does not decode (JSON columns)
            raise self.corrupt(f"{self.parts.store} holds a damaged document row ({type(exc).__name__}).") from None

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

        rows = self.query("SELECT document, char_end - char_start FROM chunks ORDER BY id")
        table = np.array(rows, dtype=np.int32).reshape(len(rows), 2)
        return table[:, 0].copy(), table[:, 1].copy()

    def files(self) -> dict[str, FileRecord]:
        try:
            return read_files(self.db)
        except sqlite3.Error as exc:
            raise self.corrupt(f"{self.parts.store} cannot be read ({exc}).") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise self.corrupt(f"{self.parts.store} holds a damaged file row ({type(exc).__name__}).") from None

    def chunks(self, ids: Sequence[int], *, verify: bool = True) -> list[Chunk]:
        """Chunks by id, in the order asked; each checked against its checksum (and its document's),
        so a damaged text is refused rather than quoted. `verify=False` leaves that to the caller."""
        if not len(ids):
            return []
        wanted = [int(i) for i in ids]
        placeholders = ",".join("?" * len(wanted))
        rows = {row["id"]: row for row in self.query(f"SELECT * FROM chunks WHERE id IN ({placeholders})", wanted)}
        documents = self.documents
        missing = [i for i in wanted if i not in rows]
        if missing:
            raise self.corrupt(f"Chunks {missing[:5]} are in the search index but not in {self.parts.store.name}.")
        try:
            metas = [documents[rows[i]["document"]] for i in wanted]
            chunks = [chunk_from_row(rows[i], meta, self.source_problem(meta.source)) for i, meta in zip(wanted, metas)]
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            raise self.corrupt(f"{self.parts.store} holds a damaged chunk row ({type(exc).__name__}).") from None
        if verify and self.has_checksums:
            for chunk_id, chunk in zip(wanted, chunks):
                row = rows[chunk_id]
                if chunk_checksum(chunk, chunk.meta.doc_id, row["embed_key"]) != row["checksum"]:
                    raise self.corrupt(f"The indexed text of {chunk.meta.source} is damaged: chunk {chunk_id} in "
                                       f"{self.parts.store.name} does not match its checksum.")
                self.check_document(row["document"])
        return chunks

    @cached_property
    def has_checksums(self) -> bool:
        """Whether rows carry checksums; builds written before them do not (kb index adds them)."""
        try:
            return has_checksums(self.db)
        except sqlite3.Error as exc:
            raise self.corrupt(f"{self.parts.store} cannot be read ({exc}).") from None

    @property
    def has_integrity(self) -> bool:
        return self.has_checksums and self.manifest.integrity is not None

    def check_document(self, row: int) -> None:
        """Refuse a document whose metadata (title, date, ...) does not match its checksum."""
        if row in self._checked_documents:
            return
        stored = self.query("SELECT checksum FROM documents WHERE id = ?", (row,))
        meta = self.documents[row]
        if not stored or document_checksum(meta) != stored[0]["checksum"]:
            raise self.corrupt(f"The indexed metadata of {meta.source} is damaged: document {row} in "
                               f"{self.parts.store.name} does not match its checksum.")
        self._checked_documents.add(row)

    @cached_property
    def _checked_documents(self) -> set[int]:
        return set()

    def embed_texts(self) -> dict[str, int]:
        """Embed key → chunk id, for re-using vectors in an incremental build."""
        return {row[0]: row[1] for row in self.query("SELECT embed_key, id FROM chunks")}

    def vectors(self) -> np.ndarray:
        import numpy as np

        if self.parts.vectors.is_file():
            try:
                return np.load(self.parts.vectors, mmap_mode="r")
            except (OSError, ValueError) as exc:
                raise self.corrupt(f"Cannot read {self.parts.vectors}: {exc}") from None
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
        path = corpus_file(self.corpus, source)
        try:
            info = path.stat()
        except OSError:
            return "the source file has been removed since indexing"
        if info.st_size == record.size and info.st_mtime_ns == record.mtime_ns:
            return None
        if info.st_size != record.size:  # changed for certain; hashing it would only cost time
            return "the source file has changed since indexing"
        from kb.changes import file_sha256

        try:
            same = file_sha256(path) == record.sha256
        except OSError:
            return "the source file cannot be read any more"
        return None if same else "the source file has changed since indexing"

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()
