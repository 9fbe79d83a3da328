"""`kb add SOURCE...`: copy files and fetch web pages into the corpus folder, and refresh fetched ones.

Every write goes to a hidden temporary file in the same folder, is flushed to disk, then renamed over
the target: `kb index` (or a crash) sees the old file or the new one, never part of one. A source
whose bytes did not change is not written at all, so the incremental index has nothing to redo.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import ipaddress
import mimetypes
import os
import re
import secrets
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

from kb.errors import CorpusError, KBError, SourceError, SourceExists, SourceTooLarge
from kb.fetch import DEFAULT_MAX_BYTES, FetchLimits, Fetched, fetch, normalise_url, open_client
from kb.ingest import READERS
from kb.results import AddReport, AddResult
from kb.sidecar import SourceRecord, document_of, is_sidecar_name, read_sidecar, sidecar_path

if TYPE_CHECKING:
    import httpx

    from kb.config import Settings
    from kb.progress import Progress

SUPPORTED = tuple(sorted(READERS))
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_GENERIC_SEGMENTS = {"", "index", "default", "home", "main", "view", "download", "file", "document", "page"}
CONTROL_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_STEM = 96  # characters of a generated file name, before the suffix


def is_url(source: str) -> bool:
    return bool(_URL.match(source.strip()))


def add_and_index(settings: Settings, sources: Iterable[str], *, overwrite: bool = False, index: bool = True,
                  limits: FetchLimits | None = None, wait: float = 0.0, progress: Progress | None = None) -> AddReport:
    """`kb add`: add every source to `settings.corpus`, then update `settings.index` as `kb index` does.

    The index is updated when at least one source was added or is already there (an unchanged corpus
    costs a fraction of a second and loads no model). A failed update is reported in the result, not
    raised: the files are in the corpus either way, and `kb index` finishes the job.
    """
    from kb.build import build_index, with_index_corpus

    settings = with_index_corpus(settings)  # into the corpus the index was built from, unless one was named
    limits = limits or FetchLimits(max_bytes=settings.max_file_mb * 1024 * 1024)
    report = add_sources(sources, settings.corpus, overwrite=overwrite, limits=limits)
    if not index or not report.results:
        return report
    try:
        return replace(report, build=build_index(settings, wait=wait, progress=progress))
    except KBError as exc:
        return replace(report, index_error=exc)


def add_sources(sources: Iterable[str], corpus: Path, *, overwrite: bool = False,
                limits: FetchLimits = FetchLimits(), client: httpx.Client | None = None) -> AddReport:
    """Add every source; one that fails is reported and the others are still added.

    Raises CorpusError when the corpus folder cannot be made: then no source can be added.
    """
    sources = list(sources)
    corpus_folder(corpus)
    own_client = client is None and any(is_url(s) for s in sources)
    client = open_client(limits) if own_client else client
    results, failures = [], []
    try:
        for source in sources:
            try:
                results.append(add_source(source, corpus, overwrite=overwrite, limits=limits, client=client))
            except KBError as exc:
                failures.append((source, exc))
    finally:
        if own_client:
            client.close()
    return AddReport(Path(corpus), tuple(results), tuple(failures))


def add_source(source: str, corpus: Path, *, overwrite: bool = False, limits: FetchLimits = FetchLimits(),
               client: httpx.Client | None = None) -> AddResult:
    if is_url(source):
        return add_url(source, corpus, limits=limits, client=client)
    return add_file(source, corpus, overwrite=overwrite, max_bytes=limits.max_bytes)


# --- local files -----------------------------------------------------------------------------------


def add_file(path: str | Path, corpus: Path, *, overwrite: bool = False, max_bytes: int = DEFAULT_MAX_BYTES) -> AddResult:
    """Copy `path` into the corpus folder under its own name. Same content already there: unchanged.

    A different file of that name is replaced only with `overwrite`.
    """
    source = str(path)
    path = Path(os.path.expanduser(path))
    _check_file(path, source, max_bytes)
    folder = corpus_folder(corpus)
    if _inside(path, folder):
        return AddResult(source, path, "unchanged", path.stat().st_size, _guess_type(path))
    target = folder / path.name
    data = _read(path)
    old = _existing_bytes(target)
    if old == data:
        return AddResult(source, target, "unchanged", len(data), _guess_type(path))
    if old is not None and not overwrite:
        raise SourceExists(f"{target} already exists with other content; {source} was not added.")
    check_readable(data, target.name, source)
    write_atomic(target, data)
    if old is not None:
        # The replaced file may have been fetched: its URL no longer describes this content.
        sidecar_path(target).unlink(missing_ok=True)
    return AddResult(source, target, "updated" if old is not None else "added", len(data), _guess_type(path))


def _check_file(path: Path, source: str, max_bytes: int) -> None:
    if not path.exists():
        looks_like_host = re.match(r"^(?:www\.)?[\w-]+(?:\.[\w-]+)+/", source) is not None
        raise SourceError(f"No such file: {source}.",
                          "For a web page give the full URL, with https://." if looks_like_host else None)
    if path.is_dir():
        raise SourceError(f"{source} is a folder.", "Give its files: kb add FOLDER/*.pdf")
    if not path.is_file():
        raise SourceError(f"{source} is not a regular file.")
    if path.suffix.lower() not in READERS:
        raise SourceError(f"Unsupported file type {path.suffix or '(no extension)'}: {source}.",
                          f"Supported types: {', '.join(SUPPORTED)}.")
    if CONTROL_IN_NAME.search(path.name):
        raise SourceError(f"{source!r} has a line break or control character in its name, which no citation "
                          "could show.", "Rename the file.")
    if path.name.startswith("."):
        raise SourceError(f"{source} has a hidden name; the index ignores hidden files.",
                          "Rename it without the leading dot.")
    size = path.stat().st_size
    if size > max_bytes:
        raise SourceTooLarge(f"{source} is {size / 1048576:.1f} MB, over the {max_bytes / 1048576:.1f} MB limit.")


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _guess_type(path: Path) -> str | None:
    return mimetypes.guess_type(path.name)[0]


# --- web pages -------------------------------------------------------------------------------------


def add_url(url: str, corpus: Path, *, limits: FetchLimits = FetchLimits(),
            client: httpx.Client | None = None) -> AddResult:
    """Fetch an HTML page or PDF into the corpus folder, or refresh the copy an earlier `kb add` made.

    An unchanged document (the server says so, or sends the same bytes) is left as it is; a changed
    one replaces its own file only.
    """
    source = url
    url = normalise_url(url)
    folder = corpus_folder(corpus)
    known = find_fetched(folder, url)
    old_path, old_record = known if known else (None, None)
    old_bytes = _existing_bytes(old_path) if old_path else None
    # Validators describe the bytes the server sent; trust them only for the bytes still on disk.
    trusted = old_record is not None and old_bytes is not None and _sha256(old_bytes) == old_record.sha256
    fetched = fetch(url, etag=old_record.etag if trusted else None,
                    last_modified=old_record.last_modified if trusted else None, limits=limits, client=client)
    if fetched is None:  # 304 Not Modified
        return AddResult(source, old_path, "unchanged", len(old_bytes), old_record.content_type, url)
    same_kind = old_path is not None and old_path.suffix == fetched.suffix
    target = old_path if same_kind else free_name(folder, url, fetched)
    previous = old_bytes if same_kind else None
    if previous == fetched.body:
        # Same bytes: the document (and the date it was retrieved) stays. New validators are kept so
        # that the next refresh can be a 304; the record alone is not indexed, so this redoes nothing.
        checked = replace(old_record, sha256=_sha256(previous), size=len(previous), etag=fetched.etag,
                          last_modified=fetched.last_modified)
        if checked != old_record:
            write_atomic(sidecar_path(target), checked.to_json())
        return AddResult(source, target, "unchanged", len(previous), fetched.content_type, url)
    check_readable(fetched.body, target.name, source)  # before anything is written: a good copy stays
    record = SourceRecord(url=url, final_url=fetched.final_url, retrieved=_now(), content_type=fetched.content_type,
                          sha256=_sha256(fetched.body), size=len(fetched.body), etag=fetched.etag,
                          last_modified=fetched.last_modified)
    # The record first: a document is never on disk with a record of other bytes that looks trustworthy
    # (a crash between the two leaves a record whose hash does not match, and the next refresh re-fetches).
    write_atomic(sidecar_path(target), record.to_json())
    write_atomic(target, fetched.body)
    if old_path is not None and old_path != target:  # the URL now serves a PDF instead of a page, or back
        old_path.unlink(missing_ok=True)
        sidecar_path(old_path).unlink(missing_ok=True)
    status = "updated" if old_bytes is not None else "added"
    return AddResult(source, target, status, len(fetched.body), fetched.content_type, url)


def find_fetched(folder: Path, url: str) -> tuple[Path, SourceRecord] | None:
    """The document an earlier `kb add URL` stored in `folder` for this URL, with its record."""
    try:
        names = sorted(entry.name for entry in os.scandir(folder) if is_sidecar_name(entry.name))
    except OSError:
        return None
    for name in names:
        document = document_of(folder / name)
        try:
            record = read_sidecar(document)
        except ValueError:
            continue  # unreadable: not ours to match, and ingest reports it
        if record is not None and record.url == url:
            return document, record
    return None


def free_name(folder: Path, url: str, fetched: Fetched) -> Path:
    """A readable file name for a fetched document that no other document or record uses."""
    stem = readable_stem(url, fetched.body if fetched.kind == "html" else b"")
    for number in range(1, 10_000):
        candidate = folder / f"{stem}{'' if number == 1 else f'-{number}'}{fetched.suffix}"
        if not candidate.exists() and not sidecar_path(candidate).exists():
            return candidate
    raise CorpusError(f"No free file name for {url} in {folder}.")


def readable_stem(url: str, page: bytes = b"") -> str:
    """`fca.org.uk-cp25-14-stablecoin-issuance`: the host, then the last meaningful part of the path
    and the query's values; a page's <title> when the address has nothing better (a site's home).

    Portable: letters, digits, `.`, `-` and `_` only, so the name is valid on Windows and macOS too
    (no `:` from an IPv6 host, no `<>:"/\\|?*`), and never a name Windows reserves for a device."""
    parts = urlsplit(url)
    host = _host_words(unquote(parts.hostname or "site"))
    segments = [unquote(s) for s in parts.path.split("/") if s]
    while segments and _slug(Path(segments[-1]).stem) in _GENERIC_SEGMENTS:
        segments.pop()
    words = [Path(segments[-1]).stem] if segments else []
    words += [value for _, value in parse_qsl(parts.query)]
    if not _slug(" ".join(words)):
        words = [_page_title(page)]
    slug = _slug(" ".join(words))
    stem = (f"{host}-{slug}" if slug else host)[:MAX_STEM].rstrip("-.")
    first, dot, rest = stem.partition(".")
    if first.upper() in _WINDOWS_DEVICES:  # "aux.html", "con.local.html" cannot be created on Windows
        stem = f"{first}_{dot}{rest}"
    return stem


_WINDOWS_DEVICES = frozenset(["CON", "PRN", "AUX", "NUL", *(f"{port}{n}" for port in ("COM", "LPT") for n in range(1, 10))])


def _host_words(host: str) -> str:
    """The host as a file name part: a name keeps its letters, digits, dots and hyphens ("fca.org.uk",
    an IDN host its own letters); an IPv6 address has its colons turned into hyphens, after "ipv6"
    ("::1" is "ipv6-1", "2001:db8::7" is "ipv6-2001-db8-7")."""
    try:
        ipv6 = ipaddress.ip_address(host.partition("%")[0]).version == 6  # "%" starts a zone ("fe80::1%eth0")
    except ValueError:
        ipv6 = False
    if ipv6:
        return _slug("ipv6 " + host)
    return re.sub(r"[^\w.-]+", "-", host.removeprefix("www.")).strip("-.") or "site"


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def _page_title(page: bytes) -> str:
    match = _TITLE.search(page[:65536])
    return html.unescape(match.group(1).decode("utf-8", "replace")) if match else ""


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


# --- writing ---------------------------------------------------------------------------------------


def corpus_folder(corpus: Path) -> Path:
    """The corpus folder, made if only its last part is missing (a mistyped parent is an error)."""
    corpus = Path(os.path.expanduser(corpus))
    if corpus.is_dir():
        return corpus
    if corpus.exists():
        raise CorpusError(f"Not a folder: {corpus}", "The corpus setting must name a folder.")
    try:
        corpus.mkdir()
    except FileNotFoundError:
        raise CorpusError(f"Corpus folder not found: {corpus} (nor its parent folder).") from None
    except OSError as exc:
        raise CorpusError(f"Cannot create the corpus folder {corpus}: {exc.strerror}") from None
    return corpus


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old file or the new one, never a part of one."""
    # Hidden (the scan ignores it) and short: a 255-byte file name must still have a temporary name.
    temporary = path.with_name(f".kb-{secrets.token_hex(6)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        _remove(temporary)
        raise CorpusError(f"Cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _remove(temporary)
        raise
    _fsync_folder(path.parent)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # nothing was written under that name


def check_readable(data: bytes, name: str, source: str) -> None:
    """Raise SourceError unless kb can read the document: a fake or truncated PDF, a page with no text or
    an empty file is refused before it is written, so it never replaces a good copy."""
    import tempfile

    from kb.errors import BadDocument
    from kb.ingest import CorpusFile, read_file

    with tempfile.TemporaryDirectory(prefix="kb-add-") as folder:
        path = Path(folder) / f"check{Path(name).suffix.lower()}"
        path.write_bytes(data)
        try:
            read_file(CorpusFile(path, path.name, len(data), 0))
        except BadDocument as exc:
            raise SourceError(f"{source} was not added: {exc.message}.",
                              "kb can index only documents it can read; check the file or the page.") from None


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); not every platform can open a folder, which is fine."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _existing_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise SourceError(f"{path} is a folder; kb add will not replace it.") from None
    except OSError as exc:
        raise CorpusError(f"Cannot read {path}: {exc.strerror or exc}") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"Cannot read {path}: {exc.strerror or exc}") from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
