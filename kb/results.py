"""What each command returns: plain, immutable results, rendered as text or JSON by kb/cli/render.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kb.models import Chunk, DocumentMeta, FileNote, Hit

if TYPE_CHECKING:  # `kb --help` loads the renderer, and with it these results: keep them cheap
    from kb.errors import KBError
    from kb.filters import Filters
    from kb.index.manifest import Manifest


@dataclass(frozen=True, slots=True)
class BuildReport:
    """`kb index`: what a build read, re-used and wrote."""

    index: Path
    corpus: Path
    written: bool  # False when the corpus was unchanged and the previous build stands
    full_reason: str | None  # why nothing was re-used: "first build", "--rebuild", "model changed ..."
    documents: int
    chunks: int
    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    skipped: tuple[FileNote, ...]  # could not be indexed (unreadable, unsupported, broken)
    hidden: tuple[FileNote, ...]  # hidden files and folders, passed over without a record
    stale: tuple[FileNote, ...]  # failed to read now; their chunks from the last build are kept
    warnings: tuple[FileNote, ...]  # indexed, but with a problem worth knowing (bad .jsonl line, ...)
    duplicates: int  # chunks dropped because their document already holds the same text
    embedded: int  # chunks embedded in this run
    reused: int  # chunks whose vectors came from the previous build
    seconds: float
    notes: tuple[str, ...] = ()  # what the build repaired or added (damaged rows read again, checksums added)
    conflicts: tuple[FileNote, ...] = ()  # .jsonl records skipped: their id is another file's path or taken
    links: tuple[FileNote, ...] = ()  # symlinks to files or folders indexed under their own names, not again

    def summary_line(self) -> str:
        parts = [f"{len(self.added)} new", f"{len(self.updated)} updated", f"{self.unchanged} unchanged",
                 f"{len(self.removed)} removed", f"{len(self.skipped)} skipped"]
        if self.stale:
            parts.append(f"{len(self.stale)} stale")
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} record{'' if len(self.conflicts) == 1 else 's'} skipped (id taken)")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class AddResult:
    """What `kb add` did with one source."""

    source: str  # as given
    path: Path  # the file in the corpus folder
    status: str  # "added", "updated" or "unchanged"
    size: int  # bytes of that file
    content_type: str | None  # the server's Content-Type for a URL; guessed from the suffix for a file
    url: str | None = None  # for a fetched source, the URL it is refreshed from


@dataclass(frozen=True, slots=True)
class AddReport:
    """`kb add`: each source added (or why not), then the index update that followed."""

    corpus: Path
    results: tuple[AddResult, ...]
    failures: tuple[tuple[str, KBError], ...]  # (source as given, why it was not added)
    build: BuildReport | None = None  # None: not indexed (--no-index, nothing added, or the update failed)
    index_error: KBError | None = None  # why the index update failed; the files stay added

    @property
    def changed(self) -> bool:
        """Whether any file was written, i.e. whether the index needs updating."""
        return any(r.status != "unchanged" for r in self.results)

    @property
    def ok(self) -> bool:
        return not self.failures and self.index_error is None


@dataclass(frozen=True, slots=True)
class IndexStatus:
    """`kb status`: what an index holds, and how its corpus changed since the build."""

    index: Path
    build: str
    manifest: Manifest
    corpus: Path
    corpus_missing: bool
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    skipped: tuple[FileNote, ...]  # not indexed, or refused by the scan
    stale: tuple[FileNote, ...]  # fail to read now; their last good chunks are indexed
    update_command: str = "kb index"  # what brings this index up to date ("kb index -i ROOT" for another one)

    @property
    def is_current(self) -> bool:
        return not (self.added or self.changed or self.removed or self.corpus_missing)


@dataclass(frozen=True, slots=True)
class Source:
    """A document of the index, and how much of it there is."""

    meta: DocumentMeta
    chunks: int  # its chunks in the index


@dataclass(frozen=True, slots=True)
class SourceList:
    """`kb sources`: the documents that pass the filters, newest first."""

    sources: tuple[Source, ...]  # at most the limit asked for
    total: int  # documents that pass the filters
    filters: Filters


@dataclass(frozen=True, slots=True)
class Passages:
    """A search without an answer (the `search` tool of `kb mcp`): the best passages, best first."""

    query: str  # as searched (white space collapsed)
    filters: Filters
    hits: tuple[Hit, ...]
    corpus: Path  # where the cited sources are


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


@dataclass(frozen=True, slots=True)
class AnswerScores:
    """How the answers did on a set of questions (shares, 0..1; None where no question counts)."""

    answerable: int  # questions whose answer the corpus holds (with answer_contains)
    unanswerable: int
    accuracy: float | None  # the answer holds every answer_contains string
    file_accuracy: float | None  # the answer cites a relevant file
    hit_at_1: float | None  # a relevant file is the top passage's / among the top three passages' files
    hit_at_3: float | None
    declined: float | None  # share of unanswerable questions declined ("not in the corpus")
    wrongly_declined: float | None  # share of answerable questions declined


@dataclass(frozen=True, slots=True)
class AnswerReport:
    """`kb eval` on questions with gold answers: overall, per question type, and what went wrong."""

    overall: AnswerScores
    by_type: dict[str, AnswerScores]
    latency_p50_ms: float
    latency_p95_ms: float
    misses: tuple[str, ...]  # ids of the questions answered wrongly, declined wrongly, or answered wrongly


@dataclass(frozen=True, slots=True)
class EvalReport:
    """`kb eval`: retrieval quality over documents, warm search latency, and (with gold answers) answers."""

    k: int
    questions: int  # questions with relevant documents (the retrieval metrics' base)
    metrics: dict[str, float]  # "recall@10" → value
    latency_p50_ms: float
    latency_p95_ms: float
    mode: str
    answers: AnswerReport | None = None
    unknown_relevant: tuple[str, ...] = ()  # relevant ids the index does not hold (each counted as a miss)
    read: int = 0  # questions read from the file: those above and those scored on their answers only
    answers_only: tuple[str, ...] = ()  # ids of questions without relevant documents (not in the metrics)
    skipped: tuple[str, ...] = ()  # lines of the file that held no question, and why ("line 3 (blank)")
