"""`kb index`: corpus folder → a new complete build, swapped in atomically.

Incremental by design: files whose size and mtime (or, failing that, content hash) are unchanged
keep their documents and chunks from the previous build, and every chunk whose embedding input is
unchanged keeps its vector, so an edit re-embeds only the chunks it touched. The new build is
always assembled in the same order from all files, so its search results equal a full rebuild's.
"""

from __future__ import annotations

import math
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from kb.changes import ChangePlan, file_sha256, plan_changes
from kb.chunk import ChunkerSettings, chunk_document
from kb.config import Settings
from kb.embed import Embedder, Tokenizer, load_embedder, load_tokenizer
from kb.errors import (BadDocument, CorpusError, EmptyCorpus, IndexLocked, IndexMismatch, IndexMissing,
                       IndexWriteError, KBError)
from kb.errors import StrictModeError
from kb.index.integrity import (FP16_NORM_TOLERANCE, NORM_TOLERANCE, chunk_checksum, vector_damage,
                                document_checksum)
from kb.index.layout import IndexLayout
from kb.index.manifest import ASSEMBLY, ChunkerInfo, read_manifest
from kb.index.reader import IndexReader
from kb.index.store import FileRecord, FileStatus, chunk_from_row, meta_from_row
from kb.index.writer import write_build
from kb.ingest import CorpusFile, CorpusScan, read_file, scan_corpus, unreadable_reason
from kb.metadata import complete as complete_metadata
from kb.models import Chunk, DocumentMeta, FileNote
from kb.progress import NoProgress, Progress
from kb.results import BuildReport
from kb.text import normalise_for_dedup, strip_controls, text_hash


CONFLICT = "conflict: "  # a file record's warning that is a .jsonl record skipped for its id


@dataclass
class _FileResult:
    record: FileRecord
    metas: list[DocumentMeta] = field(default_factory=list)
    chunks: list[tuple[int, Chunk, str | None]] = field(default_factory=list)  # (meta index, chunk, embed key)
    damaged: bool = False  # re-used rows that fail their checksums: the file must be read again


@dataclass
class _Row:
    document: int  # row of its document in the new build
    chunk: Chunk
    embed_key: str | None  # None until computed for freshly chunked text
    embed_text: str | None = None


def embed_text(chunk: Chunk, text_tokens: int, tokenizer: Tokenizer) -> str:
    """The chunk with its own heading in front, cut so the whole fits the model's limit.

    Only the nearest heading, not the document title: long titles dominate the small model's
    embedding (on ObliQA dev, dense Recall@10 fell from 0.69 to 0.59 with titles prepended).
    A change here needs a new EMBED_CONTEXT_VERSION (kb/index/manifest.py), or old vectors are re-used.
    """
    heading = chunk.section[-1] if chunk.section else ""
    prefix = heading if heading and heading != chunk.meta.title else ""
    budget = tokenizer.max_tokens - text_tokens - 2  # a line break and a possible "…"
    if not prefix or budget <= 0:
        return strip_controls(chunk.text)
    spans = tokenizer.spans(prefix)
    if len(spans) > budget:
        prefix = prefix[: spans[budget - 1][1]] + "…"
    return strip_controls(f"{prefix}\n{chunk.text}")


def with_index_corpus(settings: Settings) -> Settings:
    """`settings` with the corpus its index was built from, when none was chosen (no argument or
    KB_CORPUS, and no config file's corpus for the config file's index): `kb index -i OTHER` updates
    OTHER from its own corpus instead of rebuilding it from "./corpus" or the project's configured
    corpus. Raises CorpusError when that corpus is gone."""
    if settings.corpus_given:
        return settings
    try:
        build = IndexLayout(Path(settings.index)).current_build()
        recorded = read_manifest(build).corpus if build is not None else None
    except KBError:
        return settings  # no readable index: the default corpus it is (kb doctor speaks to the rest)
    if recorded is None or recorded.resolve() == Path(settings.corpus).resolve():
        return settings
    if not recorded.is_dir():
        raise CorpusError(f"The index {settings.index} was built from {recorded}, which is not there any more, "
                          "and no corpus was given.",
                          f"Name the corpus to build it from: kb index CORPUS --index {settings.index}")
    return replace(settings, corpus=recorded)


def build_index(
    settings: Settings,
    *,
    rebuild: bool = False,
    strict: bool = False,
    wait: float = 0.0,
    dense_kind: str = "auto",
    if_missing: bool = False,
    progress: Progress | None = None,
    embedder_factory: Callable[[str], Embedder] | None = None,
) -> BuildReport | None:
    """Index `settings.corpus` into `settings.index`. Raises KBError subclasses for user errors.

    With `strict`, the index is still written, then StrictModeError is raised if a file was skipped.
    With `if_missing`, an index that already has a build is left alone (and None returned).
    The builder closes every embedder it gets from `embedder_factory` that has a close() method.
    """
    from filelock import FileLock, Timeout

    if math.isnan(wait):
        raise KBError("--wait needs a number of seconds, not nan.", "Pass --wait SECONDS, e.g. --wait 30.")
    layout = IndexLayout(Path(settings.index))
    if if_missing and layout.current_build() is not None:
        return None
    settings = with_index_corpus(settings)
    try:
        claim = layout.claim(Path(settings.corpus))
    except OSError as exc:
        raise KBError(f"Cannot create the index folder {layout.root}: {exc.strerror}") from None
    lock = FileLock(str(layout.lock_file), timeout=max(wait, 0))
    try:
        lock.acquire()
    except Timeout:
        raise IndexLocked(f"Another `kb index` is already building {layout.root}.") from None
    except OSError as exc:  # a read-only folder or file system: nothing can be built there
        raise IndexWriteError(f"Cannot write in the index folder {layout.root}: {exc.strerror or exc}.",
                              "kb index writes a new build there; kb ask, status and sources only read it.") from None
    try:
        layout.check_pointer()
        factory = embedder_factory or (lambda name: load_embedder(name, settings.backend))
        report = _Builder(settings, layout, rebuild, dense_kind, progress or NoProgress(), factory).run()
    except BaseException:
        # A first build that failed (no corpus, nothing to index...) leaves no stub index behind:
        # what this run made goes again, while it holds the lock. Nothing else is touched.
        layout.give_up(claim)
        raise
    finally:
        lock.release()
    if strict and (report.skipped or report.stale or report.conflicts):
        problems = (*report.skipped, *report.stale)
        raise StrictModeError(
            f"{len(problems)} file(s) could not be indexed"
            + (f", {len(report.conflicts)} record(s) skipped for an id conflict" if report.conflicts else "")
            + ": " + ", ".join(list(dict.fromkeys(note.path for note in (*problems, *report.conflicts)))[:5])
        )
    return report


def _listed(notes: list[FileNote], shown: int = 5) -> str:
    """"a.pdf: encrypted PDF; b.txt: empty file and 3 more": the reasons, in the error message itself."""
    text = "; ".join(f"{note.path}: {note.message}" for note in notes[:shown])
    return text + (f" and {len(notes) - shown} more" if len(notes) > shown else "")


class _Builder:
    def __init__(self, settings: Settings, layout: IndexLayout, rebuild: bool, dense_kind: str,
                 progress: Progress, embedder_factory: Callable[[str], Embedder]) -> None:
        self.settings = settings
        self.layout = layout
        self.rebuild = rebuild
        self.dense_kind = dense_kind
        self.progress = progress
        self.embedder_factory = embedder_factory
        self.started = time.perf_counter()
        self.notes: list[str] = []  # what this build repaired or added, for the report
        self.conflicts: list[FileNote] = []  # .jsonl records skipped because their id is taken

    def _previous(self, corpus: Path) -> tuple[IndexReader | None, str | None]:
        """The previous build when its parts can be re-used, else why not."""
        if self.rebuild:
            return None, "--rebuild"
        try:
            previous = IndexReader.open(self.layout.root)
            previous.files()
        except IndexMissing:
            return None, "first build"
        except IndexMismatch:
            return None, "index format changed"
        except Exception:  # a damaged previous build is rebuilt from scratch, not trusted
            return None, "previous build unreadable"
        try:
            previous.dense  # loads and checks counts against the manifest (memory-mapped)
        except Exception as exc:
            previous.close()
            return None, f"previous build damaged ({exc.message if isinstance(exc, KBError) else type(exc).__name__})"
        try:
            previous.lexical
        except KBError:  # made from the chunks in every build: nothing of it is re-used
            self.notes.append("the BM25 part of the previous build was damaged; written anew")
        manifest = previous.manifest
        if manifest.model.name != self.settings.model:
            return None, f"model changed ({manifest.model.name} → {self.settings.model})"
        if manifest.chunker != ChunkerInfo.current(self.settings.chunk_tokens, self.settings.overlap_tokens):
            return None, "chunking settings changed"
        if manifest.corpus != corpus:
            return None, "corpus folder changed"
        return previous, None

    def _live_follows_symlinks(self, corpus: Path) -> bool:
        try:
            manifest = IndexReader.open(self.layout.root).manifest
        except KBError:
            return False
        return manifest.follow_symlinks and manifest.corpus == corpus

    def _live_files(self) -> tuple[Path | None, dict[str, FileRecord]]:
        """The corpus and files of the live build, whether or not it can be re-used; (None, {}) when it
        cannot be read."""
        try:
            reader = IndexReader.open(self.layout.root)
        except KBError:
            return None, {}
        try:
            return reader.corpus, reader.files()
        except KBError:
            return None, {}
        finally:
            reader.close()

    def run(self) -> BuildReport:
        # The lock is held: any temporary build here was left by a run that crashed or was killed.
        self._clean_up(keep=set(), temporary_only=True)
        try:
            live_before = self.layout.current_build()
        except KBError:
            live_before = None
        corpus = Path(self.settings.corpus).resolve()
        if not self.settings.follow_symlinks and self._live_follows_symlinks(corpus):
            # The live build was made with --follow-symlinks: later builds keep to it (so do status and doctor).
            self.settings = replace(self.settings, follow_symlinks=True)
        scan = scan_corpus(corpus, exclude=self.layout.root, follow_symlinks=self.settings.follow_symlinks)
        if not scan.files:
            refused = [note for note in scan.skipped if note.message != "hidden"]
            links = any("not followed" in note.message for note in refused)
            raise EmptyCorpus(f"No supported files in {corpus}" + (f" ({_listed(refused)})." if refused else "."),
                              "To index what the symlinks lead to: kb index --follow-symlinks" if links else None)
        previous, full_reason = self._previous(corpus)
        reread = previous is not None and previous.manifest.assembly != ASSEMBLY
        if reread:
            full_reason = "assembly changed; every file re-read, vectors re-used"
        old_files = previous.files() if previous and not reread else {}
        plan = plan_changes(scan, old_files, self.settings.max_file_mb * 1024 * 1024)
        if not old_files:  # not re-used (another corpus, --rebuild...): what it held still counts as removed
            live_corpus, live_files = self._live_files()
            # A file of another corpus is another document even where its path is the same: all of them go.
            scanned = {file.rel for file in scan.files} if live_corpus == corpus else set()
            plan = replace(plan, removed=sorted(path for path, record in live_files.items()
                                                if record.status.was_read and path not in scanned))
        touched = any(record.mtime_ns != old_files[path].mtime_ns for path, record in plan.unchanged.items())
        kind_changed = previous is not None and self.dense_kind not in ("auto", previous.manifest.dense.kind)
        if previous is not None and self.settings.follow_symlinks and not previous.manifest.follow_symlinks:
            self.notes.append("symlinks out of the corpus folder are followed from now on")
        if previous is not None and not previous.has_integrity:
            self.notes.append("integrity checksums added (the previous build predates them; every vector re-used)")
        if plan.recovered:
            self.notes.append(f"{len(plan.recovered)} stale file(s) restored, no longer stale: "
                              + ", ".join(plan.recovered[:5]))
        if previous is not None and plan.is_empty and not touched and not kind_changed and not reread \
                and not self.notes:
            return self._report(corpus, scan, plan, None, written=False, previous=previous)

        tokenizer = load_tokenizer(self.settings.model)
        results: dict[str, _FileResult] = {}
        stale: list[FileNote] = []
        self.progress.start("Reading", len(plan.to_read))
        for file, sha in plan.to_read:
            result = self._read(file, sha, tokenizer)
            old = old_files.get(file.rel)
            if result.record.status is FileStatus.SKIPPED and old and old.status.in_index and old.chunks:
                # Keep the last good chunks, marked stale, rather than losing the document silently.
                kept = replace(old, status=FileStatus.STALE, reason=result.record.reason)
                results[file.rel] = self._reuse(previous, {file.rel: kept})[file.rel]
                stale.append(FileNote(file.rel, result.record.reason or "unreadable"))
            else:
                results[file.rel] = result
            self.progress.advance()
        if plan.unchanged:
            results.update(self._reuse(previous, plan.unchanged))
            stale.extend(FileNote(p, r.reason or "") for p, r in plan.unchanged.items() if r.status is FileStatus.STALE)
        damaged = sorted(path for path, result in results.items() if result.damaged)
        if damaged:  # never carry a damaged text forward: read those files again
            files = {file.rel: file for file in scan.files}
            for path in damaged:
                results[path] = self._read(files[path], results[path].record.sha256 or None, tokenizer)
            self.notes.append(f"damaged index text of {len(damaged)} file(s) read again from the corpus: "
                              + ", ".join(damaged[:5]))

        ordered = [results[path] for path in sorted(results)]
        metas, rows, warnings, duplicates = self._assemble(ordered)
        if not rows:
            reasons = [FileNote(r.record.path, r.record.reason or "empty") for r in ordered] + [
                note for note in scan.skipped if note.message != "hidden"]
            raise EmptyCorpus(f"Nothing to index in {corpus}: every file was skipped or empty ("
                              + _listed(reasons) + ").", "Fix or replace these files, then run kb index again.")
        vectors, embedded, reused = self._vectors(rows, previous, tokenizer)
        records = [result.record for result in ordered]
        build = self._write(corpus, metas, rows, vectors, records, scan)
        report = self._report(corpus, scan, plan, full_reason, written=True, records=records, stale=stale,
                              warnings=warnings, counts=(len(metas), len(rows)), duplicates=duplicates,
                              embedded=embedded, reused=reused)
        # The build that was live until now stays (also after --rebuild or a damaged one): a `kb ask` that
        # read CURRENT a moment ago may still be opening it. Older builds go.
        keep = {build.name} | ({live_before.name} if live_before is not None else set())
        if previous:
            previous.close()
        self._clean_up(keep)
        return report

    # -- reading ------------------------------------------------------------------------------------

    def _read(self, file: CorpusFile, sha: str | None, tokenizer: Tokenizer) -> _FileResult:
        base = FileRecord(file.rel, file.size, file.mtime_ns, sha or "", FileStatus.INDEXED)
        limit = self.settings.max_file_mb * 1024 * 1024
        try:
            if file.size > limit:  # before anything reads it: not even a hash
                raise BadDocument(f"too large ({file.size / 1048576:.1f} MB; the limit is "
                                  f"{self.settings.max_file_mb} MB, set max_file_mb to index it)")
            if sha is None:
                try:
                    sha = file_sha256(file.path)
                except OSError:
                    raise BadDocument(unreadable_reason(file.path)) from None
                base = replace(base, sha256=sha)
            read = read_file(file)
        except BadDocument as exc:
            return _FileResult(replace(base, status=FileStatus.SKIPPED, reason=exc.message))
        except (OSError, MemoryError, RecursionError, ValueError) as exc:  # one file never stops the build
            return _FileResult(replace(base, status=FileStatus.SKIPPED, reason=f"{type(exc).__name__}: {exc}"))
        result = _FileResult(replace(base, warnings=read.warnings))
        chunker = ChunkerSettings(self.settings.chunk_tokens, self.settings.overlap_tokens)
        for document in read.documents:
            document = complete_metadata(document)
            result.metas.append(document.meta)
            result.chunks.extend((len(result.metas) - 1, c, None) for c in chunk_document(document, tokenizer, chunker))
        return result

    def _reuse(self, previous: IndexReader, records: dict[str, FileRecord]) -> dict[str, _FileResult]:
        """Documents and chunks of `records` as the previous build has them; a file whose rows fail their
        checksums (or do not add up to its record's counts) comes back marked `damaged`."""
        results = {path: _FileResult(record) for path, record in records.items()}
        position: dict[int, tuple[_FileResult, int]] = {}
        verify = previous.has_checksums
        for row in previous.query("SELECT * FROM documents ORDER BY id"):
            result = results.get(row["source"])
            if result is not None:
                try:
                    meta = meta_from_row(row)
                except (TypeError, ValueError):
                    result.damaged = True
                    continue
                result.damaged |= verify and document_checksum(meta) != row["checksum"]
                result.metas.append(meta)
                position[row["id"]] = (result, len(result.metas) - 1)
        for row in previous.query("SELECT * FROM chunks ORDER BY id"):
            found = position.get(row["document"])
            if found is not None:
                result, meta_index = found
                try:
                    chunk = chunk_from_row(row, result.metas[meta_index])
                except (TypeError, ValueError):
                    result.damaged = True
                    continue
                result.damaged |= verify and chunk_checksum(chunk, chunk.meta.doc_id, row["embed_key"]) != row["checksum"]
                result.chunks.append((meta_index, chunk, row["embed_key"]))
        for result in results.values():
            record = result.record
            if record.status.in_index and (len(result.metas), len(result.chunks)) != (record.documents, record.chunks):
                result.damaged = True
        return results

    # -- assembling ---------------------------------------------------------------------------------

    def _assemble(self, ordered: list[_FileResult]) -> tuple[list[DocumentMeta], list[_Row], list[FileNote], int]:
        metas: list[DocumentMeta] = []
        rows: list[_Row] = []
        warnings: list[FileNote] = []
        # A file's own document is named by its path, which no .jsonl record may take over: a record
        # with another file's path as its id (or an id an earlier record has) is skipped, and said so.
        file_ids = {meta.doc_id for result in ordered for meta in result.metas if meta.kind != "jsonl"}
        seen_ids: set[str] = set()
        # Repeats are dropped within a document only: the same rule in two documents is two citations
        # (search returns it once and names the other copy, see Searcher.search).
        seen_texts: set[tuple[int, str]] = set()
        duplicates = 0
        for result in ordered:
            path = result.record.path
            own = [w for w in result.record.warnings if not w.startswith(CONFLICT)]  # conflicts are found anew
            warnings.extend(FileNote(path, warning) for warning in own)
            conflicts = len(self.conflicts)
            row_of_meta: dict[int, int] = {}
            for meta_index, meta in enumerate(result.metas):
                if meta.kind == "jsonl" and meta.doc_id in file_ids:
                    self.conflicts.append(FileNote(path, f"record id {meta.doc_id!r} is the path of another file "
                                                         "in the corpus; record skipped"))
                    continue
                if meta.doc_id in seen_ids:
                    self.conflicts.append(FileNote(path, f"record id {meta.doc_id!r} is already used by another "
                                                         "file's record; record skipped"))
                    continue
                seen_ids.add(meta.doc_id)
                row_of_meta[meta_index] = len(metas)
                metas.append(meta)
            kept = 0
            for meta_index, chunk, key in result.chunks:
                normal = normalise_for_dedup(chunk.text)
                if meta_index not in row_of_meta or not normal:
                    continue
                fingerprint = (row_of_meta[meta_index], text_hash(normal))
                if fingerprint in seen_texts:
                    duplicates += 1
                    continue
                seen_texts.add(fingerprint)
                rows.append(_Row(row_of_meta[meta_index], chunk, key))
                kept += 1
            # Kept with the file's record, so a `kb index --strict` with nothing to do still reports them.
            own += [CONFLICT + note.message for note in self.conflicts[conflicts:]]
            result.record = replace(result.record, documents=len(row_of_meta), chunks=kept, warnings=tuple(own))
        return metas, rows, warnings, duplicates

    def _vectors(self, rows: list[_Row], previous: IndexReader | None, tokenizer: Tokenizer) -> tuple[np.ndarray, int, int]:
        model = self.settings.model
        fresh = [row for row in rows if row.embed_key is None]
        for row, tokens in zip(fresh, tokenizer.count([row.chunk.text for row in fresh])):
            row.embed_text = embed_text(row.chunk, tokens, tokenizer)
            row.embed_key = text_hash(f"{model}\n{row.embed_text}")
        cached = previous.embed_texts() if previous else {}
        old_vectors = previous.vectors() if cached else None
        if cached:  # a vector that fails its block's hash, or is not a finite unit vector, is embedded again
            manifest = previous.manifest
            expected = manifest.integrity.vectors if manifest.integrity and previous.has_checksums else None
            tolerance = FP16_NORM_TOLERANCE if manifest.dense.kind.endswith("fp16") and not previous.parts.vectors.is_file() \
                else NORM_TOLERANCE
            damage = vector_damage(np.asarray(old_vectors), expected, tolerance)
            bad = damage.rows()
            if bad:
                cached = {key: chunk_id for key, chunk_id in cached.items() if chunk_id not in bad}
                self.notes.append(f"vectors of the previous build damaged ({damage.describe()}): "
                                  f"{len(bad)} embedded again")
        reuse = [(i, cached[row.embed_key]) for i, row in enumerate(rows) if row.embed_key in cached]
        pending: dict[str, list[int]] = defaultdict(list)
        texts: dict[str, str] = {}
        lost = [row for row in rows if row.embed_key not in cached and row.embed_text is None]
        for row, tokens in zip(lost, tokenizer.count([row.chunk.text for row in lost])):  # re-used chunk, bad vector
            row.embed_text = embed_text(row.chunk, tokens, tokenizer)
        for i, row in enumerate(rows):
            if row.embed_key not in cached:
                pending[row.embed_key].append(i)
                texts[row.embed_key] = row.embed_text
        embedder = self.embedder_factory(model) if pending else None
        try:
            dimension = embedder.dimension if embedder else old_vectors.shape[1]
            vectors = np.zeros((len(rows), dimension), dtype=np.float32)
            if reuse:
                if old_vectors.shape[1] != dimension:
                    raise IndexMismatch(f"The model {model!r} now gives {dimension} dimensions; "
                                        f"the index has {old_vectors.shape[1]}.")
                targets, sources = map(list, zip(*reuse))
                vectors[targets] = np.asarray(old_vectors)[sources]
            if pending:
                keys = list(pending)
                self.progress.start("Embedding", len(keys))
                fresh_vectors = embedder.embed([texts[k] for k in keys], batch_size=self.settings.batch_size,
                                               progress=self.progress.advance)
                for key, vector in zip(keys, fresh_vectors):
                    vectors[pending[key]] = vector
        finally:
            if hasattr(embedder, "close"):  # an embedder holding a cluster (RayEmbedder) lets it go
                embedder.close()
        return vectors, sum(len(v) for v in pending.values()), len(reuse)

    # -- writing ------------------------------------------------------------------------------------

    def _write(self, corpus: Path, metas: list[DocumentMeta], rows: list[_Row], vectors: np.ndarray,
               records: list[FileRecord], scan: CorpusScan) -> Path:
        refused = [FileRecord(s.path, 0, 0, "", FileStatus.IGNORED, s.message) for s in scan.skipped if s.message != "hidden"]
        return write_build(self.layout, self.settings, corpus, metas,
                           [(row.document, row.chunk, row.embed_key) for row in rows], vectors, records + refused,
                           dense_kind=self.dense_kind, started=self.started, progress=self.progress)

    def _clean_up(self, keep: set[str], temporary_only: bool = False) -> None:
        """Remove kb's own builds but the live and the previous one (a reader may still use it), and
        crashed temps. Anything else in the folder is not kb's and is left alone."""
        for entry in self.layout.temporary_builds() if temporary_only else self.layout.own_builds():
            if entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)

    # -- reporting ----------------------------------------------------------------------------------

    def _report(self, corpus: Path, scan: CorpusScan, plan: ChangePlan, full_reason: str | None, *, written: bool,
                previous: IndexReader | None = None, records: list[FileRecord] | None = None,
                stale: list[FileNote] = (), warnings: list[FileNote] = (), counts: tuple[int, int] | None = None,
                duplicates: int = 0, embedded: int = 0, reused: int = 0) -> BuildReport:
        if records is None:  # nothing changed: report the previous build
            records = list(plan.unchanged.values())
            counts = (previous.manifest.counts.documents, previous.manifest.counts.chunks)
            warnings = [FileNote(r.path, w) for r in records for w in r.warnings if not w.startswith(CONFLICT)]
            stale = [FileNote(r.path, r.reason or "") for r in records if r.status is FileStatus.STALE]
        status = {record.path: record.status for record in records}
        skipped = [s for s in scan.skipped if s.message != "hidden"]
        skipped += [FileNote(r.path, r.reason or "") for r in records if r.status is FileStatus.SKIPPED]
        return BuildReport(
            index=self.layout.root,
            corpus=corpus,
            written=written,
            full_reason=full_reason,
            documents=counts[0],
            chunks=counts[1],
            added=tuple(p for p in plan.added if status.get(p) is FileStatus.INDEXED),
            updated=tuple(p for p in plan.changed if status.get(p) is FileStatus.INDEXED),
            removed=tuple(plan.removed),
            unchanged=sum(1 for p in plan.unchanged if status.get(p) is FileStatus.INDEXED),
            skipped=tuple(sorted(skipped, key=lambda s: s.path)),
            hidden=tuple(s for s in scan.skipped if s.message == "hidden"),
            links=scan.links,
            stale=tuple(stale),
            warnings=tuple(warnings),
            duplicates=duplicates,
            embedded=embedded,
            reused=reused,
            seconds=time.perf_counter() - self.started,
            notes=tuple(self.notes) if written else (),
            conflicts=tuple(self.conflicts) if written else tuple(
                FileNote(r.path, w.removeprefix(CONFLICT)) for r in records for w in r.warnings if w.startswith(CONFLICT)),
        )
