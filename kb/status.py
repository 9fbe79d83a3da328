"""`kb status`: what an index holds, and how the corpus changed since it was built."""

from __future__ import annotations

from pathlib import Path

from kb.changes import plan_changes
from kb.config import Settings
from kb.errors import IndexReplaced
from kb.index import IndexReader
from kb.index.reader import update_command
from kb.index.store import FileStatus
from kb.ingest import scan_corpus
from kb.models import FileNote
from kb.results import IndexStatus


def index_status(index: Path, max_file_mb: int | None = None, follow_symlinks: bool = False) -> IndexStatus:
    """The index's build and counts, and the corpus files added, changed or removed since (no file over
    `max_file_mb` is read)."""
    reader = IndexReader.open(index)
    try:
        files = reader.files()
    except IndexReplaced:  # removed by two rebuilds since CURRENT was read: the newest is live
        reader.close()
        reader = IndexReader.open(index)
        files = reader.files()
    corpus = reader.corpus
    added = changed = removed = ()
    recovered: set[str] = set()
    missing = not corpus.is_dir()
    if not missing:
        follow = follow_symlinks or reader.manifest.follow_symlinks  # as the build did
        plan = plan_changes(scan_corpus(corpus, exclude=Path(index), follow_symlinks=follow), files,
                            (max_file_mb or Settings().max_file_mb) * 1024 * 1024)
        # A restored stale file is still marked stale in the index: the next kb index clears it.
        added, changed, removed = tuple(plan.added), tuple(plan.changed + plan.recovered), tuple(plan.removed)
        recovered = set(plan.recovered)
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
        stale=tuple(FileNote(r.path, r.reason or "") for r in files.values()
                    if r.status is FileStatus.STALE and r.path not in recovered),
        update_command=update_command(Path(index)),
    )
