"""What each command returns: plain, immutable results, rendered as text or JSON by kb/cli/render.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from kb.filters import Filters
from kb.models import Chunk, DocumentMeta


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


@dataclass(frozen=True, slots=True)
class Event:
    """A sentence that says something happens at a date."""

    first: dt.date
    last: dt.date
    precision: str
    label: str  # "2026", "2026-02-12", "2025-09 (approx.)"
    relative: bool  # resolved against the publication date
    status: str  # "past", "upcoming" or "current" (the period includes the as-of date)
    text: str  # the event, in the words of the source (shortened around the date when long)
    chunk: Chunk
    lines: tuple[int, int]  # of the sentence in its source


@dataclass(frozen=True, slots=True)
class Timeline:
    """`kb timeline`: dated events, oldest first, told apart as past or upcoming as of a date."""

    as_of: dt.date
    corpus: Path  # where the cited sources are
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""  # how to repair it, or a note when it is harmless


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """`kb doctor`: the checks run on an index, in order."""

    index: Path
    checks: tuple[Check, ...]

    @property
    def healthy(self) -> bool:
        return all(check.ok for check in self.checks)
