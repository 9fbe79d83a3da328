"""Checksums and sanity checks of a build's parts: a damaged index is refused, never quoted.

    chunks, documents  a checksum per row (meta.sqlite), verified on every read of a cited chunk,
                       before a chunk is carried into the next build, and by `kb doctor`
    vectors            a hash per block of BLOCK_ROWS vectors (manifest.json), verified before vectors
                       are re-used and by `kb doctor`; every vector must be finite and of unit length
    lexical            a SHA-256 per file of the BM25 folder (manifest.json), verified by `kb doctor`;
                       the reader checks the matrix's bounds when it loads it

Builds written before these existed have none (format 2 all the same): they are read as before,
`kb doctor` says so, and the next `kb index` adds them, re-using every vector.
Checksums catch damage (a flipped bit, an edited file), not a forger who rewrites them too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from kb.models import Chunk, DocumentMeta

if TYPE_CHECKING:
    import numpy as np

BLOCK_ROWS = 4096
NORM_TOLERANCE = 1e-3  # float32 unit vectors are within 1e-6 of 1; fp16 kinds round to about 1e-3
FP16_NORM_TOLERANCE = 1e-2


def _digest(parts: list) -> str:
    data = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def document_checksum(meta: DocumentMeta) -> str:
    return _digest([meta.doc_id, meta.source, meta.title, meta.date, meta.jurisdiction, meta.regulator,
                    meta.doc_type, list(meta.inferred), dict(meta.extra), meta.kind])


def chunk_checksum(chunk: Chunk, doc_id: str, embed_key: str) -> str:
    """Everything a citation shows of a chunk (its text, heading path, lines, pages), its document's id
    and the key of its vector."""
    return _digest([doc_id, chunk.text, list(chunk.section), chunk.char_start, chunk.char_end, chunk.line_start,
                    chunk.line_end, chunk.page_start, chunk.page_end, chunk.ordinal, embed_key])


def vector_blocks(vectors: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    for start in range(0, len(vectors), BLOCK_ROWS):
        yield start, vectors[start:start + BLOCK_ROWS]


def vector_block_hashes(vectors: np.ndarray) -> tuple[str, ...]:
    import numpy as np

    return tuple(hashlib.blake2b(np.ascontiguousarray(block, dtype=np.float32).tobytes(), digest_size=16).hexdigest()
                 for _, block in vector_blocks(vectors))


@dataclass(frozen=True, slots=True)
class VectorDamage:
    changed_blocks: tuple[int, ...]  # blocks whose hash differs from the manifest's
    wrong_rows: tuple[int, ...]  # vectors that are not finite or not of unit length
    total: int

    def rows(self) -> set[int]:
        """Every vector that must not be used."""
        rows = set(self.wrong_rows)
        for block in self.changed_blocks:
            rows.update(range(block * BLOCK_ROWS, min((block + 1) * BLOCK_ROWS, self.total)))
        return rows

    def describe(self) -> str:
        parts = []
        if self.changed_blocks:
            parts.append(f"{len(self.changed_blocks)} block(s) of {BLOCK_ROWS} vectors do not match their hash "
                         f"(first: block {self.changed_blocks[0]})")
        if self.wrong_rows:
            parts.append(f"{len(self.wrong_rows)} vector(s) not finite or not of unit length, first at chunk "
                         f"{self.wrong_rows[0]}")
        return "; ".join(parts)


def vector_damage(vectors: np.ndarray, expected: tuple[str, ...] | None, tolerance: float = NORM_TOLERANCE) -> VectorDamage:
    """Which vectors must not be used: those in a block whose hash differs from `expected`, and those
    that are not finite or not of unit length."""
    import numpy as np

    changed: list[int] = []
    wrong: list[int] = []
    blocks = -(-len(vectors) // BLOCK_ROWS)
    if expected is not None and len(expected) != blocks:
        changed = list(range(blocks))
    for number, (start, block) in enumerate(vector_blocks(vectors)):
        block = np.asarray(block, dtype=np.float32)
        if expected is not None and number < len(expected) and number not in changed \
                and vector_block_hashes(block)[0] != expected[number]:
            changed.append(number)
        with np.errstate(invalid="ignore", over="ignore"):
            norms = np.linalg.norm(block.astype(np.float64), axis=1)
        wrong.extend((start + np.flatnonzero(~np.isfinite(norms) | (np.abs(norms - 1.0) > tolerance))).tolist())
    return VectorDamage(tuple(sorted(changed)), tuple(wrong), len(vectors))


def file_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file in a folder (the BM25 part), by name."""
    result = {}
    for path in sorted(folder.iterdir()):
        if path.is_file():
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            result[path.name] = digest.hexdigest()
    return result
