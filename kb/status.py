"""`kb status`: what an index holds, and how the corpus changed since it was built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.changes import plan_changes
from kb.index import IndexReader, Manifest
from kb.ingest import scan_corpus
from kb.index.store import FileStatus


@dataclass(frozen=True, slots=True)
class IndexStatus:
    index: Path
    build: str
    manifest: Manifest
    corpus: Path
    corpus_missing: bool
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    stale: tuple[tuple[str, str], ...]

    @property
    def is_current(self) -> bool:
        return not (self.added or self.changed or self.removed or self.corpus_missing)

    def rows(self) -> list[tuple[str, str]]:
        manifest, counts = self.manifest, self.manifest.counts
        return [
            ("Index", f"{self.index} (build {self.build})"),
            ("Built", manifest.built_at),
            ("Corpus", str(self.corpus)),
            ("Model", f"{manifest.model.name} ({manifest.model.dimension} dimensions)"),
            ("Chunking", f"≤ {manifest.chunker.max_tokens} tokens, overlap {manifest.chunker.overlap_tokens}"),
            ("Dense index", manifest.dense.kind),
            ("Files", f"{counts.files:,} indexed, {counts.skipped:,} skipped"),
            ("Documents", f"{counts.documents:,}"),
            ("Chunks", f"{counts.chunks:,}"),
        ] + [("Stale", f"{path}: {reason}") for path, reason in self.stale]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": str(self.index),
            "build": self.build,
            "manifest": self.manifest.to_json(),
            "corpus": str(self.corpus),
            "corpus_missing": self.corpus_missing,
            "up_to_date": self.is_current,
            "added": list(self.added),
            "changed": list(self.changed),
            "removed": list(self.removed),
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "stale": [{"path": p, "reason": r} for p, r in self.stale],
        }


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
        skipped=tuple((r.path, r.reason or "") for r in files.values() if not r.status.in_index),
        stale=tuple((r.path, r.reason or "") for r in files.values() if r.status is FileStatus.STALE),
    )
