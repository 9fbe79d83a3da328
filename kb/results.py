"""What each command returns: plain, immutable results, rendered as text or JSON by kb/cli/render.py."""

from __future__ import annotations

from dataclasses import dataclass

from kb.filters import Filters
from kb.models import DocumentMeta


@dataclass(frozen=True, slots=True)
class Source:
    meta: DocumentMeta
    chunks: int  # chunks of the document in the index


@dataclass(frozen=True, slots=True)
class SourceList:
    """`kb sources`: the documents that pass the filters, newest first."""

    sources: tuple[Source, ...]  # at most the limit asked for
    total: int  # documents that pass the filters
    filters: Filters
