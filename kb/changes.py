"""What changed in a corpus since an index was built: cheap enough for `kb status` (no numpy, no model).

A file is unchanged when its size and modification time match the index's record; when only the
time differs, its SHA-256 decides (a touched file is not re-read). A file of another size has
changed, and is not hashed here: a 4 GB file over `max_file_mb` costs a stat, not a read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from kb.index.store import FileRecord, FileStatus
from kb.ingest import CorpusFile, CorpusScan


@dataclass(frozen=True, slots=True)
class ChangePlan:
    """How the corpus differs from the files an index was built from."""

    unchanged: dict[str, FileRecord]
    to_read: list[tuple[CorpusFile, str | None]]  # (file, sha256 when it was computed, else None)
    added: list[str]
    changed: list[str]
    removed: list[str]
    # Stale files (unreadable at the last build, their earlier chunks kept) that hold again exactly
    # what those chunks were made from: restored, so no longer stale.
    recovered: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.to_read and not self.removed and not self.recovered


def plan_changes(scan: CorpusScan, old_files: dict[str, FileRecord], max_bytes: int | None = None) -> ChangePlan:
    """How `scan` differs from `old_files`. Files over `max_bytes` are never hashed (they are not read either)."""
    unchanged: dict[str, FileRecord] = {}
    to_read, added, changed, recovered = [], [], [], []
    for file in scan.files:
        old = old_files.get(file.rel)
        if old is not None and not old.status.was_read:
            old = None
        if old and old.status is FileStatus.STALE:
            # A stale record keeps the size, time and hash of the last good file: a file that matches them
            # again has been restored, and its kept chunks are current.
            restored = replace(old, status=FileStatus.INDEXED, reason=None)
            if old.size == file.size and (old.mtime_ns == file.mtime_ns or _safe_sha(file) == old.sha256):
                unchanged[file.rel] = replace(restored, mtime_ns=file.mtime_ns)
                recovered.append(file.rel)
                continue
        if old and old.size == file.size and old.mtime_ns == file.mtime_ns:
            unchanged[file.rel] = old
            continue
        hashable = old and old.size == file.size and (max_bytes is None or file.size <= max_bytes)
        sha = _safe_sha(file) if hashable else None
        if old and sha is not None and sha == old.sha256:
            unchanged[file.rel] = replace(old, mtime_ns=file.mtime_ns)  # touched, not changed
            continue
        to_read.append((file, sha))
        (changed if old else added).append(file.rel)
    scanned = {file.rel for file in scan.files}
    removed = sorted(p for p, r in old_files.items() if r.status.was_read and p not in scanned)
    return ChangePlan(unchanged, to_read, added, changed, removed, recovered)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe_sha(file: CorpusFile) -> str | None:
    try:
        return file_sha256(file.path)
    except OSError:
        return None
