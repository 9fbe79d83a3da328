"""Writing a new build: every part into a temporary folder, then published as the live build.

The parts are written by their own modules (store, dense, lexical, manifest); the layout names
their files and publishes the build (flush, rename, swap CURRENT), so a crash at any moment leaves
the previous build live.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from kb import __version__
from kb.config import Settings
from kb.index.layout import IndexLayout
from kb.index.manifest import (ASSEMBLY, FORMAT_VERSION, ChunkerInfo, Counts, DenseInfo, LexicalInfo, Manifest,
                               ModelInfo, write_manifest)
from kb.index.store import FileRecord, write_store
from kb.models import Chunk, DocumentMeta
from kb.progress import NoProgress, Progress

if TYPE_CHECKING:
    import numpy as np


def write_build(layout: IndexLayout, settings: Settings, corpus: Path, metas: Sequence[DocumentMeta],
                rows: Sequence[tuple[int, Chunk, str]], vectors: np.ndarray, records: Sequence[FileRecord], *,
                dense_kind: str = "auto", started: float | None = None, progress: Progress = NoProgress()) -> Path:
    """Write a complete build and make it the live one; returns its folder.

    rows: (document row, chunk, embed key), in chunk-id order, aligned with `vectors`.
    """
    import numpy as np

    from kb.index.dense import DenseIndex, choose_kind
    from kb.index.lexical import K1, B, LexicalIndex, lexical_text

    started = time.perf_counter() if started is None else started
    build = layout.start_build()
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
    ))
    final = layout.publish(build)
    progress.advance()
    return final
