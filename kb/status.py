"""`kb status`: what an index holds, and how the corpus changed since it was built."""

from __future__ import annotations

from pathlib import Path

from kb.changes import plan_changes
from kb.index import IndexReader
from kb.index.store import FileStatus
from kb.ingest import scan_corpus
from kb.models import FileNote
from kb.results import IndexStatus


def index_status(index: Path) -> IndexStatus:
    reader = IndexReader.open(index)
    files = reader.files()
    corpus = reader.corpus
    added = changed = removed = ()
    missing = not corpus.is_dir()
    if not missing:
        plan = plan_changes(scan_corpus(corpus, exclude=Path(index)), files)
        added, changed, removed = tuple(plan.added), tuple(plan.changed), tuple(plan.removed)
    reader.close()
    return IndexStatus(
        index=Path(index),
        build=reader.build.name,
        manifest=reader.manifest,
        corpus=corpus,
        corpus_missing=missing,
        added=added,
        changed=changed,
        removed=removed,
        skipped=tuple(FileNote(r.path, r.reason or "") for r in files.values() if not r.status.in_index),
        stale=tuple(FileNote(r.path, r.reason or "") for r in files.values() if r.status is FileStatus.STALE),
    )
