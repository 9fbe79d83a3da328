"""`kb sources`: the documents of an index, with their metadata and how many chunks each has."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kb.errors import BadQuestion
from kb.filters import Filters, document_mask
from kb.index import IndexReader
from kb.index.reader import read_current
from kb.results import Source, SourceList


def list_sources(index: Path, filters: Filters = Filters(), limit: int | None = None) -> SourceList:
    """Documents that pass `filters`, newest first (undated last), then by title; at most `limit`."""
    return read_current(index, lambda reader: sources_of(reader, filters, limit))


def sources_of(reader: IndexReader, filters: Filters = Filters(), limit: int | None = None) -> SourceList:
    """The documents of an open index (a server keeps one open): see list_sources."""
    documents = reader.documents
    chunks = Counter(reader.chunk_documents.tolist())
    allowed = document_mask(documents, filters)
    chosen = [Source(meta, chunks[row]) for row, (meta, keep) in enumerate(zip(documents, allowed)) if keep]
    if not chosen and not filters.is_empty:  # as `kb ask` does: a filter that matches nothing is a mistake
        raise BadQuestion(f"No document matches the filters ({filters.describe()}).",
                          "See what the corpus holds with `kb sources` (without filters).")
    chosen.sort(key=lambda source: (source.meta.date or "", source.meta.title), reverse=True)
    return SourceList(tuple(chosen[:limit] if limit else chosen), len(chosen), filters)
