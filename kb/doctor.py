"""`kb doctor`: check an index for integrity and say how to repair what is wrong."""

from __future__ import annotations

from pathlib import Path

from kb.errors import IndexFormatMismatch, IndexMissing, KBError
from kb.index import FORMAT_VERSION, IndexLayout, IndexReader, read_manifest
from kb.index.reader import build_hint
from kb.index.integrity import (FP16_NORM_TOLERANCE, NORM_TOLERANCE, chunk_checksum, vector_damage,
                                document_checksum, file_hashes)
from kb.index.store import FileStatus, chunk_from_row, meta_from_row
from kb.results import Check, Diagnosis

REBUILD = "kb index --rebuild --index {index}"


def diagnose(index: Path) -> Diagnosis:
    """Every check that could be run, in order; later checks are skipped once the index cannot be opened."""
    return Diagnosis(Path(index), tuple(_checks(index)))


def _checks(index: Path) -> list[Check]:
    layout = IndexLayout(Path(index))
    fix = REBUILD.format(index=index)
    checks: list[Check] = []
    try:
        build = layout.current_build()
    except IndexMissing as exc:  # the index path is a file
        return [Check("current build", False, exc.message, exc.hint)]
    except KBError as exc:
        return [Check("current build", False, exc.message, fix)]
    if build is None:
        how = build_hint(Path(index)).removeprefix("Build it first: ")
        return [Check("current build", False, f"no index at {index}", how)]
    if not build.is_dir():
        return [Check("current build", False, f"CURRENT names a missing build ({build.name})", fix)]
    checks.append(Check("current build", True, build.name))
    leftovers = layout.temporary_builds()
    if leftovers:
        checks.append(Check("interrupted builds", True, f"{len(leftovers)} left by an interrupted `kb index`",
                            "harmless: the next `kb index` removes them"))
    try:
        manifest = read_manifest(build)
    except IndexFormatMismatch as exc:
        return checks + [Check("manifest", False, f"format version {exc.version}, this kb reads {FORMAT_VERSION}", fix)]
    except KBError as exc:
        return checks + [Check("manifest", False, exc.message, fix)]
    checks.append(Check("manifest", True, f"format {manifest.format_version}, model {manifest.model.name}, "
                                           f"{manifest.counts.chunks:,} chunks"))
    reader = IndexReader(Path(index), build, manifest)
    try:
        checks.extend(_check_parts(reader, fix))
    finally:
        reader.close()
    return checks


def _check_parts(reader: IndexReader, fix: str) -> list[Check]:
    checks = []
    counts = reader.manifest.counts
    try:
        integrity = reader.db.execute("PRAGMA quick_check").fetchone()[0]
        documents = reader.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks, first, last = reader.db.execute("SELECT COUNT(*), MIN(id), MAX(id) FROM chunks").fetchone()
    except Exception as exc:  # any SQLite failure means the same thing here: the store is unusable
        return [Check("metadata store", False, f"{reader.parts.store.name} cannot be read: {exc}", fix)]
    agree = integrity == "ok" and documents == counts.documents and chunks == counts.chunks
    agree = agree and (chunks == 0 or (first, last) == (0, chunks - 1))
    checks.append(Check("metadata store", agree,
                        f"{documents:,} documents, {chunks:,} chunks (SQLite: {integrity})"
                        if agree else f"{documents:,} documents and {chunks:,} chunks, manifest says "
                        f"{counts.documents:,} and {counts.chunks:,} (SQLite: {integrity})", "" if agree else fix))
    for name, part in (("dense index", lambda: reader.dense), ("lexical index", lambda: reader.lexical)):
        try:
            loaded = part()
            checks.append(Check(name, True, f"{loaded.size:,} chunks"))
        except Exception as exc:  # a truncated FAISS or BM25 file fails in many ways
            message = exc.message if isinstance(exc, KBError) else f"{type(exc).__name__}: {exc}"
            checks.append(Check(name, False, message, fix))
    orphans = reader.db.execute(
        "SELECT COUNT(*) FROM chunks WHERE document NOT IN (SELECT id FROM documents)").fetchone()[0]
    in_index = [status.value for status in FileStatus if status.in_index]
    unknown = reader.db.execute(
        "SELECT COUNT(*) FROM documents WHERE source NOT IN "
        f"(SELECT path FROM files WHERE status IN ({','.join('?' * len(in_index))}))", in_index).fetchone()[0]
    ok = orphans == 0 and unknown == 0
    checks.append(Check("sources", ok, "every chunk has a document and every document a source file" if ok else
                        f"{orphans:,} chunks without a document, {unknown:,} documents without a source file",
                        "" if ok else fix))
    checks.extend(_check_integrity(reader, fix))
    if not reader.corpus.is_dir():
        checks.append(Check("corpus", False, f"the corpus folder {reader.corpus} is gone",
                            "restore it, or index another folder: kb index PATH --rebuild"))
    else:
        from kb.status import index_status

        status = index_status(reader.root)
        changed = len(status.added) + len(status.changed) + len(status.removed)
        checks.append(Check("corpus", True, "unchanged since the build" if not changed else
                            f"{changed} file(s) added, changed or removed since the build",
                            "" if not changed else f"{status.update_command} (only the changes are re-indexed)"))
        if status.stale:
            checks.append(Check("stale files", True, f"{len(status.stale)} file(s) fail to read; their last good "
                                                     "text is still indexed",
                                f"fix the files, then {status.update_command}"))
    return checks


def _check_integrity(reader: IndexReader, fix: str) -> list[Check]:
    """Every row against its checksum, every vector block against its hash (and finite, of unit length),
    every BM25 file against its hash. Builds from before the checksums get the vector checks only."""
    checks = []
    integrity = reader.manifest.integrity
    has_sums = reader.has_checksums and integrity is not None
    if not has_sums:
        checks.append(Check("checksums", True, "this build predates integrity checksums",
                            "kb index adds them (re-using every vector; nothing is embedded again)"))
    else:
        damaged: set[str] = set()
        try:
            metas = {}
            for row in reader.query("SELECT * FROM documents"):
                try:
                    meta = meta_from_row(row)
                    good = document_checksum(meta) == row["checksum"]
                except (TypeError, ValueError):
                    meta, good = None, False
                metas[row["id"]] = meta
                if not good:
                    damaged.add(row["source"])
            bad_chunks = 0
            orphans = 0  # damaged chunks whose document row is missing or unreadable: no file to name
            for row in reader.query("SELECT * FROM chunks"):
                meta = metas.get(row["document"])
                try:
                    good = meta is not None and chunk_checksum(chunk_from_row(row, meta), meta.doc_id,
                                                               row["embed_key"]) == row["checksum"]
                except (TypeError, ValueError):
                    good = False
                if not good:
                    bad_chunks += 1
                    if meta is not None:
                        damaged.add(meta.source)
                    else:
                        orphans += 1
        except KBError as exc:
            return [Check("checksums", False, exc.message, fix)]
        ok = not damaged and not orphans
        problems = ([f"damaged rows ({bad_chunks - orphans:,} chunks) of {len(damaged)} file(s): "
                     + ", ".join(sorted(damaged)[:5])] if damaged else []) + (
                    [f"{orphans:,} damaged chunk(s) without a readable document"] if orphans else [])
        checks.append(Check("checksums", ok, "every document and chunk matches its checksum" if ok else
                            "; ".join(problems), "" if ok else fix))
    try:
        vectors = reader.vectors()
        fp16 = reader.manifest.dense.kind.endswith("fp16") and not reader.parts.vectors.is_file()
        damage = vector_damage(vectors, integrity.vectors if has_sums else None,
                               FP16_NORM_TOLERANCE if fp16 else NORM_TOLERANCE)
        ok = not damage.rows()
        checks.append(Check("vectors", ok, f"{len(vectors):,} finite unit vectors" + (
            ", every block matches its hash" if has_sums else "") if ok else damage.describe(), "" if ok else fix))
    except Exception as exc:  # an unreadable dense part was reported above
        checks.append(Check("vectors", False, exc.message if isinstance(exc, KBError) else f"{type(exc).__name__}: {exc}", fix))
    if has_sums:
        checks.append(_check_lexical_files(reader.parts.lexical, integrity.lexical, fix))
    return checks


def _check_lexical_files(folder: Path, expected: dict[str, str], fix: str) -> Check:
    """The BM25 files against their hashes, each problem named by its file: missing, changed or not kb's."""
    unreadable = ""
    try:
        found = file_hashes(folder)
    except OSError as exc:  # the folder is gone or cannot be listed: every file of it is missing
        found = {}
        unreadable = f"{folder.name}/ cannot be read ({exc.strerror or type(exc).__name__}); "
    missing = sorted(set(expected) - set(found))
    changed = sorted(name for name in set(expected) & set(found) if found[name] != expected[name])
    extra = sorted(set(found) - set(expected))
    problems = [f"{what}: {', '.join(names)}" for what, names in
                (("missing", missing), ("changed", changed), ("not made by kb", extra)) if names]
    if not problems:
        return Check("lexical checksums", True, "every BM25 file matches its hash")
    return Check("lexical checksums", False, unreadable + "; ".join(problems), fix)
