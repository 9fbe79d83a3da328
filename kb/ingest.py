"""Corpus files → Documents: walk the folder, decode, split off front matter, one Document per unit.

Readers never raise for a single bad file: `read_file` raises `BadDocument` with a reason, and the
index builder records it and goes on. Problems inside a file that do not stop it from being read
(a malformed .jsonl line, broken front matter) come back as warnings.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import json
import os
import re
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from kb.errors import BadDocument, CorpusError
from kb.models import Document, DocumentMeta, FileNote
from kb.paths import path_key
from kb.sidecar import is_sidecar_name, origin_fields
from kb.text import CONTROL_CHARACTERS, collapse_whitespace, for_terminal


@dataclass(frozen=True, slots=True)
class CorpusFile:
    path: Path  # absolute
    rel: str  # relative to the corpus folder, "/"-separated, as kb.paths stores it (valid Unicode)
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class CorpusScan:
    root: Path
    files: tuple[CorpusFile, ...]
    skipped: tuple[FileNote, ...]  # hidden, unsupported, unreadable, loops
    links: tuple[FileNote, ...] = ()  # symlinks to files and folders indexed under their own names


@dataclass(frozen=True, slots=True)
class ReadResult:
    documents: tuple[Document, ...]
    warnings: tuple[str, ...] = field(default=())


# --- walking -----------------------------------------------------------------------------------


def scan_corpus(root: Path, exclude: Path | None = None, follow_symlinks: bool = False) -> CorpusScan:
    """Every supported file under `root` (recursively, following symlinks once), sorted by path.

    `exclude` (the index folder, when it sits inside the corpus) is passed over without a note:
    kb's own files are not documents. A symlink that leads out of the corpus folder (to /etc/passwd,
    say) is skipped with a note unless `follow_symlinks`: a corpus is what its folder holds.
    A symlink to a file or folder that is indexed under its own name is passed over with a note in
    `links` (not a problem): one document, cited by its real name, not an alias and an "also in".
    """
    root = Path(root)
    excluded = _identity(exclude)
    inside = root.resolve()
    if not root.exists():
        raise CorpusError(f"Corpus folder not found: {root}")
    if not root.is_dir():
        raise CorpusError(f"Not a folder: {root}", "kb index expects a folder of documents.")
    files: list[CorpusFile] = []
    skipped: list[FileNote] = []
    links: list[FileNote] = []
    seen_dirs: set[tuple[int, int]] = set()
    # Folders and files by their own names, not reached through a link: what a link may be another name for.
    own_dirs: dict[tuple[int, int], str] = {}
    own_files: dict[tuple[int, int], str] = {}
    # Symlinks are followed after every real file and folder has been found, so that what they lead to
    # is known by its own name first, whichever sorts first.
    pending: list[tuple[Path, str, os.stat_result]] = []

    def walk(folder: Path, linked: bool = False) -> None:
        try:
            info = folder.stat()
        except OSError as exc:
            skipped.append(FileNote(_rel(folder, root), f"cannot open folder: {exc.strerror}"))
            return
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            skipped.append(FileNote(_rel(folder, root), "symlink loop or repeated folder"))
            return
        seen_dirs.add(key)
        if not linked:
            own_dirs[key] = _rel(folder, root)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            skipped.append(FileNote(_rel(folder, root), f"cannot list folder: {exc.strerror}"))
            return
        for entry in entries:
            path = Path(entry.path)
            rel = _rel(path, root)
            if excluded is not None and entry.is_dir() and _identity(path) == excluded:
                continue
            if entry.name.startswith("."):
                if not is_sidecar_name(entry.name):  # kb's record of a fetched file's origin: no note
                    skipped.append(FileNote(rel, "hidden"))
                continue
            try:
                info = path.stat()  # follows symlinks
            except OSError as exc:
                reason = "broken symlink" if entry.is_symlink() else f"cannot stat: {exc.strerror}"
                skipped.append(FileNote(rel, reason))
                continue
            if entry.is_symlink():
                if not follow_symlinks:
                    try:
                        target = path.resolve()
                    except (OSError, RuntimeError):
                        target = None
                    if target is None or not target.is_relative_to(inside):
                        skipped.append(FileNote(rel, f"symlink to {target or 'an unresolvable path'}, outside the "
                                                     "corpus folder; not followed (set follow_symlinks to index it)"))
                        continue
                pending.append((path, rel, info))
            else:
                visit(path, rel, info, linked)

    def visit(path: Path, rel: str, info: os.stat_result, linked: bool) -> None:
        if stat.S_ISDIR(info.st_mode):
            walk(path, linked)
        elif not stat.S_ISREG(info.st_mode):
            skipped.append(FileNote(rel, "not a regular file"))
        elif reader_for(path) is None:
            skipped.append(FileNote(rel, f"unsupported file type {path.suffix or '(no extension)'}"))
        else:
            if not linked:
                own_files.setdefault((info.st_dev, info.st_ino), rel)
            files.append(CorpusFile(path, rel, info.st_size, info.st_mtime_ns))

    walk(root)
    while pending:  # a followed folder may hold links of its own
        batch, pending[:] = sorted(pending, key=lambda item: item[1]), []
        for path, rel, info in batch:
            key = (info.st_dev, info.st_ino)
            is_folder = stat.S_ISDIR(info.st_mode)
            indexed = (own_dirs if is_folder else own_files).get(key)
            # A link to a folder it sits in is a loop (a problem, as before), not another name for a folder.
            if indexed is not None and not (is_folder and _is_within(path, indexed, root)):
                links.append(FileNote(rel, f"a link to {'the folder ' if is_folder else ''}{indexed}, which is indexed"))
            else:
                visit(path, rel, info, linked=True)
    files.sort(key=lambda f: f.rel)
    return CorpusScan(root, tuple(files), tuple(skipped), tuple(sorted(links, key=lambda note: note.path)))


def _is_within(link: Path, folder_rel: str, root: Path) -> bool:
    """Whether the corpus folder `folder_rel` (kb's form, "." for the corpus itself) holds `link`."""
    return folder_rel == "." or _rel(link, root).startswith(folder_rel + "/")


def _identity(path: Path | None) -> tuple[int, int] | None:
    try:
        info = path.stat() if path is not None else None
    except OSError:
        return None
    return None if info is None else (info.st_dev, info.st_ino)


def _rel(path: Path, root: Path) -> str:
    try:
        return path_key(path.relative_to(root).as_posix())
    except ValueError:
        return path_key(path.as_posix())


# --- decoding ----------------------------------------------------------------------------------


def decode_text(raw: bytes) -> tuple[str, str | None]:
    """Text of a file and a warning when its encoding had to be guessed. Raises BadDocument."""
    # UTF-32 first: its little-endian mark begins with the UTF-16 one.
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                       (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if raw.startswith(bom):
            try:
                return _check_text(raw[len(bom):].decode(codec)), None
            except UnicodeDecodeError as exc:
                raise BadDocument(f"invalid {codec} text after its byte-order mark ({exc.reason})") from None
    utf16 = _looks_like_utf16(raw)
    if utf16:
        try:
            return _check_text(raw.decode(utf16)), None
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw[:65536]:
        raise BadDocument("binary content (NUL bytes), not text")
    try:
        text = raw.decode("utf-8")
        warning = None
    except UnicodeDecodeError:
        text, warning = _guess_encoding(raw)
    return _check_text(text), warning


def _check_text(text: str) -> str:
    if "\x00" in text:
        raise BadDocument("binary content (NUL bytes), not text")
    if _control_share(text) > 0.10:
        raise BadDocument("binary content (mostly control characters), not text")
    return text


def _looks_like_utf16(raw: bytes) -> str | None:
    """UTF-16 without a byte-order mark: mostly-ASCII text has a zero in every other byte."""
    sample = raw[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even_zeros = sample[0::2].count(0) / (len(sample) / 2)
    odd_zeros = sample[1::2].count(0) / (len(sample) / 2)
    if odd_zeros > 0.6 and even_zeros < 0.1:
        return "utf-16-le"
    if even_zeros > 0.6 and odd_zeros < 0.1:
        return "utf-16-be"
    return None


def _guess_encoding(raw: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise BadDocument("binary content or unknown text encoding")
    return str(best), f"not UTF-8; decoded as {best.encoding} (guessed)"


def _control_share(text: str) -> float:
    sample = text[:65536]
    return len(CONTROL_CHARACTERS.findall(sample)) / max(len(sample), 1)


# --- front matter and metadata ---------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)
_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
KNOWN_FIELDS = {"title", "source", "date", "jurisdiction", "regulator", "type", "doc_type"}


# Front matter is a few lines of metadata. Larger, or with YAML aliases ("billion laughs": a 600-byte
# file whose aliases expand to gigabytes), or with a value longer than a paragraph, it is not metadata
# kb should store and show on every listing: the file is indexed without it, with a note.
MAX_FRONT_MATTER_BYTES = 64 * 1024
MAX_VALUE_CHARS = 4000
MAX_VALUES = 200
MAX_WARNINGS = 100  # per file


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int, str | None]:
    """(metadata, body, number of lines before the body, warning). Broken YAML keeps the body."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text, 0, None
    import yaml  # here, not at the top: `kb status` scans the corpus but never parses front matter

    body = text[match.end():]
    skipped_lines = text.count("\n", 0, match.end())
    if len(match.group(1).encode("utf-8", "surrogatepass")) > MAX_FRONT_MATTER_BYTES:
        return {}, body, skipped_lines, (f"front matter is over {MAX_FRONT_MATTER_BYTES // 1024} KB; "
                                         "its metadata is ignored")
    try:
        data = yaml.load(match.group(1), Loader=_loader())
    except _AliasRefused:
        return {}, body, skipped_lines, "front matter uses YAML aliases (*name), which kb does not expand; " \
                                        "its metadata is ignored"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        return {}, body, skipped_lines, f"front matter is not valid YAML{where}; its metadata is ignored"
    except RecursionError:
        return {}, body, skipped_lines, "front matter is nested too deeply; its metadata is ignored"
    if data is None:
        return {}, body, skipped_lines, None
    if not isinstance(data, dict):
        return {}, body, skipped_lines, "front matter is not a YAML mapping; its metadata is ignored"
    fields = {str(key): value for key, value in data.items()}
    problem = metadata_problem(fields)
    if problem:
        return {}, body, skipped_lines, f"front matter {problem}; its metadata is ignored"
    return fields, body, skipped_lines, None


def metadata_problem(fields: dict[str, Any]) -> str | None:
    """Why these metadata fields are too big to keep (a value over MAX_VALUE_CHARS, too many values), or None."""
    count = 0
    for key, value in fields.items():
        try:
            size = len(json.dumps(plain_value(value), ensure_ascii=False))
        except (RecursionError, ValueError):
            return f"field {key[:40]!r} is nested too deeply"
        if size > MAX_VALUE_CHARS:
            return f"field {key[:40]!r} is over {MAX_VALUE_CHARS:,} characters"
        count += 1 + (len(value) if isinstance(value, (list, dict)) else 0)
        if count > MAX_VALUES:
            return f"has over {MAX_VALUES} values"
    return None


class _AliasRefused(Exception):
    pass


@functools.cache
def _loader():
    """yaml's safe loader, refusing an alias as soon as the composer meets it, before anything is expanded."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise _AliasRefused
            return super().compose_node(parent, index)

    return NoAliasLoader


def plain_value(value: Any) -> Any:
    """YAML/JSON values as JSON-safe plain values (dates become ISO strings)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _text_field(fields: dict[str, Any], *names: str) -> str | None:
    """A metadata field as one line of text, without control characters: titles and names reach terminals."""
    for name in names:
        value = fields.get(name)
        if isinstance(value, (str, int, float, dt.date)) and not isinstance(value, bool):  # not a list or mapping
            text = collapse_whitespace(str(plain_value(value)))
            if text:
                return text
    return None


# A date field that says there is none ("unknown", "n/a", "TBC"): the document is undated, and may get
# a date inferred from its text like any undated document. Compared as lower-case words.
NO_DATE = frozenset({
    "unknown", "unknown date", "date unknown", "not known", "n a", "na", "none", "null", "nil", "no date",
    "undated", "not dated", "tbc", "tbd", "tba", "to be confirmed", "to be determined", "to be announced",
    "not applicable",
})


def checked_date(fields: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The fields with their "date" read as a date, and a warning when it is not one.

    A date in ISO form ("2025-04-29", "2025-09", also followed by more, "2025-09 (estimated)") stays as
    written; a date in words ("29 April 2025", "Q3 2025") becomes its ISO label, so that it sorts and
    filters like the others; a value that says there is no date ("unknown", "n/a", "TBC", empty) is
    dropped quietly, and any other value ("purple", a list) is dropped with a warning. Dropped, the
    document counts as undated.
    """
    from kb.dates import find_dates, parse_iso_partial

    value = fields.get("date")
    if value is None:
        return fields, None
    rest = {key: item for key, item in fields.items() if key != "date"}
    text = _text_field(fields, "date")
    if text is None:
        if isinstance(value, str):  # blank
            return rest, None
        return rest, f"date is not a date ({collapse_whitespace(json.dumps(plain_value(value)))[:60]}); ignored"
    if " ".join(re.findall(r"[^\W_]+", text.casefold())) in NO_DATE | {""}:
        return rest, None
    if parse_iso_partial(text, leading=True) is not None:
        return fields, None
    written = [mention for mention in find_dates(text) if not mention.relative]
    if written:
        return {**fields, "date": written[0].label}, None
    return rest, f"date {text[:60]!r} is not a date; ignored"


def _safe_value(value: Any) -> Any:
    """A plain value with every string stripped of control characters (escape sequences) and bidi overrides."""
    if isinstance(value, str):
        return for_terminal(value)
    if isinstance(value, dict):
        return {for_terminal(k): _safe_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe_value(v) for v in value]
    return value


def make_meta(doc_id: str, source: str, fields: dict[str, Any], fallback_title: str, kind: str) -> DocumentMeta:
    extra = {for_terminal(key): _safe_value(plain_value(value)) for key, value in fields.items() if key not in KNOWN_FIELDS}
    source_field = _text_field(fields, "source")
    if source_field:
        extra["origin"] = source_field
    return DocumentMeta(
        doc_id=doc_id,
        source=source,
        title=_text_field(fields, "title") or collapse_whitespace(fallback_title) or for_terminal(source),
        date=_text_field(fields, "date"),
        jurisdiction=_text_field(fields, "jurisdiction"),
        regulator=_text_field(fields, "regulator"),
        doc_type=_text_field(fields, "type", "doc_type"),
        extra=extra,
        kind=kind,
    )


# --- readers -----------------------------------------------------------------------------------


def read_error(exc: OSError) -> str:
    """Why a file could not be read, in the words of the index report."""
    if isinstance(exc, FileNotFoundError):
        return "file vanished while indexing"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a folder"
    return f"cannot read: {exc.strerror or exc}"


def unreadable_reason(path: Path) -> str:
    """Why `path`, which could not be hashed, cannot be read (opened again to find out)."""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        return read_error(exc)
    return "cannot read"


def _read_bytes(file: CorpusFile) -> bytes:
    try:
        return file.path.read_bytes()
    except OSError as exc:
        raise BadDocument(read_error(exc)) from None


def _fallback_title(body: str, file: CorpusFile, kind: str) -> str:
    """The first H1 of Markdown; the first line of plain text when it reads as a title (short, not a
    sentence); else the file name."""
    if kind == "markdown":
        match = _H1.search(body)
        if match:
            return match.group(1).strip()
    if kind == "text":
        first = next((line.strip() for line in body.splitlines() if line.strip()), "")
        if first and len(first) <= 120 and len(first.split()) <= 16 and first[-1] not in ".,;:":
            return first
    return Path(file.rel).stem.replace("_", " ").replace("-", " ")


def read_text_file(file: CorpusFile, kind: str) -> ReadResult:
    text, warning = decode_text(_read_bytes(file))
    warnings = [warning] if warning else []
    fields, body, lines_before, fm_warning = split_front_matter(text)
    if fm_warning:
        warnings.append(fm_warning)
    fields, date_warning = checked_date(fields)
    if date_warning:
        warnings.append(f"front matter {date_warning}")
    if not body.strip():
        raise BadDocument("empty file (no text)")
    meta = make_meta(file.rel, file.rel, fields, _fallback_title(body, file, kind), kind)
    document = Document(meta=meta, text=body, first_line=lines_before + 1)
    return ReadResult((document,), tuple(warnings))


def read_jsonl(file: CorpusFile) -> ReadResult:
    text, warning = decode_text(_read_bytes(file))
    warnings = [warning] if warning else []
    documents = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            warnings.append(f"line {number}: invalid JSON ({exc.msg}); line skipped")
            continue
        except RecursionError:
            warnings.append(f"line {number}: JSON nested too deeply; line skipped")
            continue
        if not isinstance(record, dict):
            warnings.append(f"line {number}: not a JSON object; line skipped")
            continue
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            warnings.append(f"line {number}: no \"text\" string; line skipped")
            continue
        record_id = record.get("id")
        if record_id is None or str(record_id).strip() == "":
            warnings.append(f"line {number}: no \"id\"; using {file.rel}:{number}")
            record_id = f"{file.rel}:{number}"
        record_id = str(record_id)
        if len(record_id) > MAX_VALUE_CHARS:
            warnings.append(f"line {number}: id over {MAX_VALUE_CHARS:,} characters; line skipped")
            continue
        if record_id in seen:
            warnings.append(f"line {number}: duplicate id {record_id!r}; line skipped")
            continue
        seen.add(record_id)
        fields = {key: value for key, value in record.items() if key not in {"id", "text"}}
        problem = metadata_problem(fields)
        if problem:
            warnings.append(f"line {number}: metadata {problem}; record indexed without it")
            fields = {}
        fields, date_warning = checked_date(fields)
        if date_warning:
            warnings.append(f"line {number}: {date_warning}")
        meta = make_meta(record_id, file.rel, fields, record_id, "jsonl")
        documents.append(Document(meta=meta, text=body, first_line=number, record_line=number))
    if not documents:
        raise BadDocument("no usable records" + (f" ({warnings[0]})" if warnings else " (empty file)"))
    if len(warnings) > MAX_WARNINGS:  # a million bad lines are one problem, not a million rows in the index
        warnings = warnings[:MAX_WARNINGS] + [f"and {len(warnings) - MAX_WARNINGS:,} more lines with problems"]
    return ReadResult(tuple(documents), tuple(warnings))


def read_extracted(file: CorpusFile, kind: str) -> ReadResult:
    """PDF, HTML and DOCX: text extracted by kb.formats; file metadata fills in what it can (inferred)."""
    from kb import formats

    extract = {"pdf": formats.extract_pdf, "html": formats.extract_html, "docx": formats.extract_docx}[kind]
    extracted = extract(_read_bytes(file))
    fields: dict[str, Any] = {}
    if extracted.title:
        fields["title"] = extracted.title
    if plausible_file_date(extracted.metadata.get("date")):
        # When the file was made, not always when it was published: kb.metadata uses it only when the
        # text gives no date, marked inferred.
        fields["file_date"] = extracted.metadata["date"]
    for key in ("author", "language"):
        if extracted.metadata.get(key):
            fields[key] = extracted.metadata[key]
    meta = make_meta(file.rel, file.rel, fields, Path(file.rel).stem.replace("_", " ").replace("-", " "), kind)
    document = Document(meta=meta, text=extracted.text, page_starts=extracted.page_starts)
    return ReadResult((document,), extracted.warnings)


EARLIEST_FILE_DATE = dt.date(1990, 1, 1)


def plausible_file_date(value: str | None, today: dt.date | None = None) -> bool:
    """Whether a date from a file's own properties can be a publication date: not a placeholder before
    1990 (the zero dates of Word and OLE), not in the future (a wrong clock)."""
    from kb.dates import parse_iso_partial

    period = parse_iso_partial(value, leading=True) if value else None
    return period is not None and EARLIEST_FILE_DATE <= period.first <= (today or dt.date.today())


Reader = Callable[[CorpusFile], ReadResult]

READERS: dict[str, Reader] = {
    ".md": lambda f: read_text_file(f, "markdown"),
    ".markdown": lambda f: read_text_file(f, "markdown"),
    ".txt": lambda f: read_text_file(f, "text"),
    ".jsonl": read_jsonl,
    ".pdf": lambda f: read_extracted(f, "pdf"),
    ".html": lambda f: read_extracted(f, "html"),
    ".htm": lambda f: read_extracted(f, "html"),
    ".docx": lambda f: read_extracted(f, "docx"),
}


def reader_for(path: Path) -> Reader | None:
    return READERS.get(path.suffix.lower())


def read_file(file: CorpusFile) -> ReadResult:
    reader = reader_for(file.path)
    if reader is None:
        raise BadDocument(f"unsupported file type {file.path.suffix}")
    return with_origin(file, reader(file))


def with_origin(file: CorpusFile, read: ReadResult) -> ReadResult:
    """A fetched file's URL and retrieval date (kb.sidecar) as metadata; the file's own fields win."""
    fields, warning = origin_fields(file.path)
    if not fields and not warning:
        return read
    documents = tuple(replace(d, meta=replace(d.meta, extra={**fields, **d.meta.extra})) for d in read.documents)
    return ReadResult(documents, read.warnings + ((warning,) if warning else ()))
