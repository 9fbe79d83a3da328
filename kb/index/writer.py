"""Writing a new build: every part into a temporary folder, then published as the live build.

The parts are written by their own modules (store, dense, lexical, manifest); the layout names
their files and publishes the build (flush, rename, swap CURRENT), so a crash at any moment leaves
the previous build live.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from kb import __version__
from kb.config import Settings
from kb.errors import IndexWriteError
from kb.index.layout import IndexLayout
from kb.index.integrity import BLOCK_ROWS, file_hashes, vector_block_hashes
from kb.index.manifest import (ASSEMBLY, FORMAT_VERSION, ChunkerInfo, Counts, DenseInfo, Integrity, LexicalInfo,
                               Manifest, ModelInfo, write_manifest)
from kb.index.store import FileRecord, write_store
from kb.models import Chunk, DocumentMeta
from kb.progress import NoProgress, Progress

if TYPE_CHECKING:
    import numpy as np


def write_build(layout: IndexLayout, settings: Settings, corpus: Path, metas: Sequence[DocumentMeta],
                rows: Sequence[tuple[int, Chunk, str]], vectors: np.ndarray, records: Sequence[FileRecord], *,
                dense_kind: str = "auto", started: float | None = None, progress: Progress = NoProgress()) -> Path:
    """Write a complete build and make it the live one; returns its folder.

    rows: (document row, chunk, embed key), in chunk-id order, aligned with `vectors`. Raises
    IndexWriteError when a part cannot be written; the temporary build is removed then.
    """
    started = time.perf_counter() if started is None else started
    build = None
    try:
        build = layout.start_build()
        final = _write_parts(build, layout, settings, corpus, metas, rows, vectors, records, dense_kind, started,
                             progress)
    except BaseException as exc:
        problem = _write_problem(exc, layout.root)  # before the clean-up frees the space it would show
        # This run's own temporary build goes, whatever went wrong: a full disk must not stay full.
        if build is not None:
            shutil.rmtree(build.folder, ignore_errors=True)
        if problem is not None:
            raise IndexWriteError(f"Cannot write a new build in {layout.root}: {problem}. "
                                  "The previous build is still the live one.") from exc
        raise
    return final


def _write_problem(exc: BaseException, root: Path) -> str | None:
    """What went wrong when a build could not be written, in a few words; None for anything that is not
    a failed write (a bug keeps its traceback). FAISS reports a failed write as a RuntimeError."""
    message = str(exc)
    full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or "No space left" in message \
        or "database or disk is full" in message
    if isinstance(exc, RuntimeError) and not (full or "write error" in message or _disk_full(root)):
        return None
    if not isinstance(exc, (OSError, sqlite3.OperationalError, RuntimeError)):
        return None
    if full or _disk_full(root):
        return "the disk is full"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if exc.filename is None else f"{exc.strerror.lower()} ({Path(exc.filename).name})"
    return message.strip().splitlines()[-1] if message.strip() else type(exc).__name__


def _disk_full(root: Path) -> bool:
    try:
        return shutil.disk_usage(root).free < 1 << 20
    except OSError:
        return False


def _write_parts(build, layout: IndexLayout, settings: Settings, corpus: Path, metas, rows, vectors, records,
                 dense_kind: str, started: float, progress: Progress) -> Path:
    import numpy as np

    from kb.index.dense import DenseIndex, choose_kind
    from kb.index.lexical import K1, B, LexicalIndex, lexical_text

    progress.start("Writing", 4)
    write_store(build.store, metas, rows, records)
    progress.advance()
    kind = choose_kind(len(rows), dense_kind)
    dense = DenseIndex.build(vectors, kind)
    dense.save(build.dense)
    if kind.endswith("fp16"):
        np.save(build.vectors, vectors)  # a lossy index cannot give the exact vectors back
    progress.advance()
    LexicalIndex.build([lexical_text(chunk) for _, chunk, _ in rows]).save(build.lexical)
    integrity = Integrity(BLOCK_ROWS, vector_block_hashes(vectors), file_hashes(build.lexical))
    progress.advance()
    write_manifest(build, Manifest(
        format_version=FORMAT_VERSION,
        kb_version=__version__,
        model=ModelInfo(settings.model, int(vectors.shape[1])),
        chunker=ChunkerInfo.current(settings.chunk_tokens, settings.overlap_tokens),
        assembly=ASSEMBLY,
        dense=DenseInfo(kind, "inner_product", True, dense.tuning.nprobe, dense.tuning.recall_at_10),
        lexical=LexicalInfo("bm25s lucene", K1, B, "kb.lexical v1"),
        counts=Counts(
            files=sum(1 for r in records if r.status.in_index),
            documents=len(metas),
            chunks=len(rows),
            skipped=sum(1 for r in records if not r.status.in_index),
        ),
        corpus=corpus,
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        build_seconds=round(time.perf_counter() - started, 3),
        integrity=integrity,
        follow_symlinks=settings.follow_symlinks,
    ))
    final = layout.publish(build)
    progress.advance()
    return final
