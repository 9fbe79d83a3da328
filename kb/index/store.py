"""The metadata store: documents, chunks and corpus files in one SQLite database per build."""

from __future__ import annotations

import json
import sqlite3
from itertools import chain
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Iterable, Sequence
from urllib.parse import quote

from kb.index.integrity import chunk_checksum, document_checksum
from kb.models import Chunk, DocumentMeta

SCHEMA = """
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    date TEXT,
    jurisdiction TEXT,
    regulator TEXT,
    doc_type TEXT,
    inferred TEXT NOT NULL,  -- JSON list of inferred fields
    extra TEXT NOT NULL,     -- JSON object
    kind TEXT NOT NULL,      -- format the text was read from
    checksum TEXT            -- kb.index.integrity.document_checksum; NULL in builds from before it
);
CREATE INDEX documents_source ON documents(source);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,  -- the row of the chunk in the dense and lexical indexes
    document INTEGER NOT NULL REFERENCES documents(id),
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    section TEXT NOT NULL,   -- JSON list: heading path
    char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL,
    page_start INTEGER,
    page_end INTEGER,
    embed_key TEXT NOT NULL, -- hash of the exact text given to the embedder
    checksum TEXT            -- kb.index.integrity.chunk_checksum; NULL in builds from before it
);
CREATE INDEX chunks_document ON chunks(document);
CREATE TABLE files (
    path TEXT PRIMARY KEY,   -- relative to the corpus folder
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL,    -- a FileStatus value
    reason TEXT,
    warnings TEXT NOT NULL,  -- JSON list
    documents INTEGER NOT NULL,
    chunks INTEGER NOT NULL
);
"""


class FileStatus(StrEnum):
    """What became of a corpus file. Stored in the files table: the values are part of the index format."""

    INDEXED = "indexed"  # read; its documents and chunks are in the build
    SKIPPED = "skipped"  # read, but it could not be indexed (the reason says why)
    STALE = "stale"  # fails to read now; its chunks from an earlier build are kept
    IGNORED = "ignored"  # not read: refused by the scan (unsupported type, broken link...); hidden files are not recorded

    @property
    def was_read(self) -> bool:
        """Counted by change detection: a file ignored last time is new to the index when it can be read."""
        return self is not FileStatus.IGNORED

    @property
    def in_index(self) -> bool:
        """Its chunks are in the build (for a stale file, the last good ones)."""
        return self in (FileStatus.INDEXED, FileStatus.STALE)


@dataclass(frozen=True, slots=True)
class FileRecord:
    path: str
    size: int
    mtime_ns: int
    sha256: str
    status: FileStatus
    reason: str | None = None
    warnings: tuple[str, ...] = ()
    documents: int = 0
    chunks: int = 0


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        # A URI, so the path is quoted: "#", "?" and "%" in a folder name would otherwise end the path
        # (and a read would create an empty database where the cut-off path points).
        uri = "file:" + quote(str(Path(path).absolute()), safe="/") + "?mode=ro"
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    else:
        connection = sqlite3.connect(path, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    return connection


def create(path: Path) -> sqlite3.Connection:
    connection = connect(path)
    connection.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
    return connection


def write_store(path: Path, metas: Sequence[DocumentMeta], rows: Sequence[tuple[int, Chunk, str]],
                files: Iterable[FileRecord]) -> None:
    """A new store for a build. rows: (document row, chunk, embed key); a chunk's id is its position."""
    connection = create(path)
    insert_documents(connection, metas)
    insert_chunks(connection, ((cid, document, chunk, key) for cid, (document, chunk, key) in enumerate(rows)),
                  [meta.doc_id for meta in metas])
    insert_files(connection, files)
    connection.commit()
    connection.close()


def insert_documents(connection: sqlite3.Connection, metas: Sequence[DocumentMeta]) -> None:
    _insert(connection, "documents", (
        (row, m.doc_id, m.source, m.title, m.date, m.jurisdiction, m.regulator, m.doc_type,
         json.dumps(list(m.inferred)), json.dumps(dict(m.extra), ensure_ascii=False), m.kind, document_checksum(m))
        for row, m in enumerate(metas)))


def insert_chunks(connection: sqlite3.Connection, rows: Iterable[tuple[int, int, Chunk, str]],
                  doc_ids: Sequence[str]) -> None:
    """rows: (chunk id, document row, chunk, embed key); doc_ids: the documents' ids by row."""
    # The checksum names the document the row is stored under, as the reader checks it, not the one the
    # chunk object carries: a chunk handed in with another document's metadata (scripts/bench.py copies
    # chunks into renamed documents) would otherwise make a build that its own reader refuses.
    _insert(connection, "chunks", (
        (cid, doc_row, c.ordinal, c.text, json.dumps(list(c.section), ensure_ascii=False), c.char_start,
         c.char_end, c.line_start, c.line_end, c.page_start, c.page_end, key, chunk_checksum(c, doc_ids[doc_row], key))
        for cid, doc_row, c, key in rows))


def insert_files(connection: sqlite3.Connection, files: Iterable[FileRecord]) -> None:
    _insert(connection, "files", (
        (f.path, f.size, f.mtime_ns, f.sha256, f.status, f.reason, json.dumps(list(f.warnings)), f.documents, f.chunks)
        for f in files))


def _insert(connection: sqlite3.Connection, table: str, rows: Iterable[tuple]) -> None:
    """Every row into `table`, whose columns the rows give in schema order."""
    rows = iter(rows)
    first = next(rows, None)
    if first is not None:
        connection.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(first))})", chain([first], rows))


# Columns read as they are stored; the JSON ones are decoded by name below.
_DOCUMENT_COLUMNS = ("doc_id", "source", "title", "date", "jurisdiction", "regulator", "doc_type", "kind")
_CHUNK_COLUMNS = ("text", "char_start", "char_end", "line_start", "line_end", "page_start", "page_end", "ordinal")


def has_checksums(connection: sqlite3.Connection) -> bool:
    """Whether the store's rows carry checksums (builds written before them do not)."""
    return any(row[1] == "checksum" for row in connection.execute("PRAGMA table_info(chunks)"))


def meta_from_row(row: sqlite3.Row) -> DocumentMeta:
    return DocumentMeta(**{name: row[name] for name in _DOCUMENT_COLUMNS},
                        inferred=tuple(json.loads(row["inferred"])), extra=json.loads(row["extra"]))


def chunk_from_row(row: sqlite3.Row, meta: DocumentMeta, stale: str | None = None) -> Chunk:
    return Chunk(meta=meta, section=tuple(json.loads(row["section"])), stale=stale,
                 **{name: row[name] for name in _CHUNK_COLUMNS})


def read_files(connection: sqlite3.Connection) -> dict[str, FileRecord]:
    return {
        row["path"]: FileRecord(
            row["path"], row["size"], row["mtime_ns"], row["sha256"], FileStatus(row["status"]), row["reason"],
            tuple(json.loads(row["warnings"])), row["documents"], row["chunks"],
        )
        for row in connection.execute("SELECT * FROM files ORDER BY path")
    }
