"""PDF, HTML and DOCX files → plain text, a title, page offsets and metadata.

The ingest code wraps an `Extracted` into Documents. HTML and DOCX come out markdown-like
(headings as "#" lines, list items as "- " lines, table rows as "a | b" lines, a blank line between
paragraphs) because that is the structure the chunker reads; PDF text stays plain, page after page.

A file that cannot be read raises `BadDocument` with a short reason and never a library's own
exception: one bad file must not stop an index build. Problems that still leave text (an empty
page, bytes that are not valid in the declared charset) come back as warnings.

The parsing libraries are imported inside the functions so that importing kb stays fast.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import io
import logging
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from kb.dates import parse_iso_partial
from kb.errors import BadDocument
from kb.text import collapse_whitespace, remove_escape_sequences, strip_controls


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a PDF, HTML or DOCX file holds, as plain data: ingest makes the Documents."""

    text: str
    title: str | None  # PDF metadata title, HTML <title> / first <h1>, DOCX core title / first heading
    page_starts: tuple[int, ...] = ()  # PDFs only: offset in `text` where each page begins
    warnings: tuple[str, ...] = ()  # non-fatal problems
    metadata: dict = field(default_factory=dict)  # "author", "date" (ISO), "language" when the file says


# --- shared text hygiene ---------------------------------------------------------------------------

_BLANK_RUN = re.compile(r"\n{4,}")  # three or more blank lines


def _clean_text(text: str) -> str:
    """Text the index can store and the chunker can split: "\\n" line ends, no control characters,
    no trailing spaces, at most two blank lines in a row. Line breaks are kept: blank lines are
    the chunker's paragraph breaks. Linear in the length of the text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # str.splitlines() breaks lines at these too; the chunker's line numbers count only "\n".
    text = text.replace("\x85", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = strip_controls(remove_escape_sequences(text))  # an escape sequence goes whole, payload too
    # Line by line: a trailing-space regex backtracks quadratically on long runs of inner spaces.
    text = "\n".join(line.rstrip(" \t\f\v\xa0") for line in text.split("\n"))
    return _BLANK_RUN.sub("\n\n\n", text).strip()


def _join_blocks(blocks: list[tuple[int, str]]) -> str:
    """Blocks as markdown-like text: a blank line between blocks, one line break between blocks of
    the same non-zero group (the items of one list, the rows of one table), so each list or table is
    one paragraph for the chunker."""
    parts: list[str] = []
    previous = None
    for group, text in blocks:
        if parts:
            parts.append("\n" if group and group == previous else "\n\n")
        parts.append(text)
        previous = group
    return "".join(parts)


def _one_line(text: str | None) -> str:
    return collapse_whitespace(str(text or ""))


def _reason(exc: BaseException) -> str:
    """A library's error as a short phrase for a BadDocument reason."""
    text = _one_line(str(exc)).strip("'\"")
    if not text:
        return type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


_FILENAME_TITLE = re.compile(r"^[\w\-. ()]+\.(?:pdf|docx?|rtf|odt|indd|qxd|tmp|txt)$", re.IGNORECASE)


def _clean_title(value: Any) -> str | None:
    """A usable title, or None for the placeholders authoring tools leave behind."""
    title = _one_line(value)
    title = re.sub(r"^Microsoft (?:Word|PowerPoint) - ", "", title)
    if not title or title.lower() in {"untitled", "title", "document", "word document"} or _FILENAME_TITLE.match(title):
        return None
    return title


def _parse_date(value: Any) -> str | None:
    """The date at the start of an ISO-like or PDF ("D:20250429...") date string, as ISO ("2025-04-29")."""
    period = parse_iso_partial(_one_line(value).removeprefix("D:"), leading=True)
    return period.label if period else None


# --- PDF -----------------------------------------------------------------------------------------


def extract_pdf(raw: bytes) -> Extracted:
    """Text of every page, "\\n\\n" between pages, with the offset where each page starts."""
    head = raw[:1024]
    if not head.strip():
        raise BadDocument("corrupt PDF: empty file")
    if b"%PDF-" not in head:
        raise BadDocument("corrupt PDF: not a PDF file (no %PDF header)")
    with _pypdf_log() as log:
        reader = _open_pdf(raw)
        try:
            page_count = len(reader.pages)
        except Exception as exc:
            raise BadDocument(f"corrupt PDF: {_reason(exc)}") from None
        if page_count == 0:
            raise BadDocument("corrupt PDF: no pages")
        pages: list[str] = []
        failures: list[tuple[int, str]] = []
        for number in range(1, page_count + 1):
            try:
                pages.append(_clean_text(reader.pages[number - 1].extract_text() or ""))
            except Exception as exc:
                pages.append("")
                failures.append((number, _reason(exc)))
        title, metadata = _pdf_info(reader)
    if not any(pages):
        if failures and len(failures) == page_count:
            raise BadDocument(f"corrupt PDF: {failures[0][1]}")
        raise BadDocument("no extractable text (scanned PDF?)")

    page_starts = []
    offset = 0
    for text in pages:
        page_starts.append(offset)
        offset += len(text) + 2  # the "\n\n" joining it to the next page
    failed = {number for number, _ in failures}
    warnings = [f"page {number}: text could not be extracted ({reason})" for number, reason in failures]
    warnings += _empty_page_warnings([i for i, text in enumerate(pages, start=1) if not text and i not in failed])
    if log:
        warnings.append(f"damaged PDF structure, read leniently ({log[0]})")
    return Extracted("\n\n".join(pages), title, tuple(page_starts), tuple(warnings), metadata)


def _open_pdf(raw: bytes):
    """A PdfReader, decrypted with the empty password when the file is encrypted."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import DependencyError
    except ImportError:  # pragma: no cover - the package is a dependency
        raise BadDocument("cannot read PDF files: the pypdf package is not installed") from None
    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted:
            # Many "encrypted" PDFs only restrict printing or copying and open with an empty password.
            try:
                opened = reader.decrypt("")
            except DependencyError:
                raise BadDocument("encrypted PDF (decrypting it needs the cryptography package)") from None
            if not opened:
                raise BadDocument("encrypted PDF (password required)")
        return reader
    except BadDocument:
        raise
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise BadDocument(f"corrupt PDF: {_reason(exc)}") from None


def _pdf_info(reader) -> tuple[str | None, dict]:
    """Title, author and creation date from the document information dictionary, when readable."""
    try:
        info = reader.metadata
        if not info:
            return None, {}
        title = _clean_title(info.get("/Title"))
        author = _one_line(info.get("/Author"))
        date = _parse_date(info.get("/CreationDate"))
    except Exception:  # a damaged info dictionary costs the metadata, not the text
        return None, {}
    metadata = {}
    if author:
        metadata["author"] = author
    if date:
        metadata["date"] = date
    return title, metadata


def _empty_page_warnings(numbers: list[int]) -> list[str]:
    """One warning per run of consecutive empty pages, so a scanned appendix is one line, not fifty."""
    warnings = []
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    for first, last in runs:
        if first == last:
            warnings.append(f"page {first} has no extractable text (scanned image?)")
        else:
            warnings.append(f"pages {first}-{last} have no extractable text (scanned images?)")
    return warnings


class _ListHandler(logging.Handler):
    def __init__(self, thread: int) -> None:
        super().__init__(logging.WARNING)
        self.thread = thread
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and len(self.messages) < 10:
            self.messages.append(_reason(Exception(record.getMessage())))


@contextmanager
def _pypdf_log() -> Iterator[list[str]]:
    """pypdf logs repairs of damaged files; with no logging set up Python would print them to
    stderr. Collect them instead (a handler on the logger also keeps the last-resort printer off)."""
    logger = logging.getLogger("pypdf")
    handler = _ListHandler(threading.get_ident())
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


# --- HTML ----------------------------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_META_CHARSET = re.compile(rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# The WHATWG encoding standard's aliases, where they differ from Python's codecs.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "l1": "cp1252",
    "ascii": "cp1252", "us-ascii": "cp1252", "iso-8859-9": "cp1254", "latin5": "cp1254",
    "gb2312": "gb18030", "gbk": "gb18030", "shift_jis": "cp932", "sjis": "cp932", "euc-kr": "cp949",
    "tis-620": "cp874", "utf-16": "utf-8", "utf-16le": "utf-8", "utf-16be": "utf-8",  # a <meta> cannot say UTF-16
}


def _decode_html(raw: bytes) -> tuple[str, str | None]:
    """Text of an HTML file by its byte-order mark, else its <meta> charset, else UTF-8; bytes that
    do not decode are replaced (with a warning) rather than failing the file."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return _decode(raw[len(bom):], codec)
    if b"\x00" in raw[:65536]:
        raise BadDocument("binary content (NUL bytes), not HTML")
    match = _META_CHARSET.search(raw[:8192])
    if match:
        label = match.group(1).decode("ascii", "replace").lower()
        codec = _CHARSET_ALIASES.get(label, label)
        try:
            codecs.lookup(codec)
        except LookupError:
            text, warning = _decode(raw, "utf-8")
            return text, f"unknown charset {label!r}; decoded as UTF-8" + (f" ({warning})" if warning else "")
        return _decode(raw, codec)
    return _decode(raw, "utf-8")


def _decode(raw: bytes, codec: str) -> tuple[str, str | None]:
    try:
        return raw.decode(codec), None
    except UnicodeDecodeError:
        return raw.decode(codec, "replace"), f"bytes not valid {codec} were replaced"


def extract_html(raw: bytes) -> Extracted:
    """The main text of a page as markdown-like text, without navigation, scripts and banners."""
    html, warning = _decode_html(raw)
    try:
        from selectolax.lexbor import LexborHTMLParser
    except ImportError:  # pragma: no cover - the package is a dependency
        raise BadDocument("cannot read HTML files: the selectolax package is not installed") from None
    try:
        tree = LexborHTMLParser(html)
        tree.strip_tags(list(_DROP_TAGS), recursive=True)
        root = _main_root(tree)
        text = _clean_text(_HtmlText(root.tag == "body").render(root)) if root is not None else ""
        first_h1 = root.css_first("h1") if root is not None else None
        title = _clean_title(_node_text(tree.css_first("title"))) or _clean_title(_node_text(first_h1))
        metadata = _html_metadata(tree)
    except Exception as exc:  # lexbor is forgiving; this guards against the unforeseen
        raise BadDocument(f"unreadable HTML: {_reason(exc)}") from None
    if not text:
        raise BadDocument("no main text found in HTML")
    return Extracted(text, title, warnings=(warning,) if warning else (), metadata=metadata)


# Removed before anything else: never text a reader sees.
_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed",
              "canvas", "video", "audio", "map")
# Skipped with everything inside them when met under the main element.
_SKIP_TAGS = {"nav", "aside", "button", "select", "input", "textarea", "option", "dialog", "menu", "img"}
_SKIP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog", "menu",
               "menubar"}
_SECTIONING = {"article", "main", "section", "aside", "nav"}
_BOILERPLATE = re.compile(
    r"cookie|gdpr|onetrust|consent[-_]?(?:banner|bar|popup|modal|notice|manager)|breadcrumb|skip[-_]?(?:link|to|nav)"
    r"|^(?:share|sharing|social|social[-_](?:share|links|media)|share[-_](?:buttons|links|this|bar)|print[-_]?link)$",
    re.IGNORECASE,
)
_BOILERPLATE_MAX_CHARS = 2000  # a banner is short; a long block with such a class name is content
# Layout blocks of pages built from <div>s, by the names sites give them.
_LAYOUT = re.compile(
    r"^(?:(?:site|page|global|main|top|primary|secondary)[-_]?)?(?:header|footer|masthead|nav|navbar|navigation"
    r"|menu|menubar|sidebar|side[-_]?bar|toolbar|top[-_]?bar|toc|table[-_]of[-_]contents)$",
    re.IGNORECASE,
)
_CONTAINERS = {"div", "section", "header", "footer", "ul", "ol", "table", "form", "p", "dl", "details"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "footer", "blockquote", "address", "figure",
               "figcaption", "dl", "dt", "dd", "details", "summary", "center", "fieldset", "legend", "caption",
               "hr", "form", "body", "html", "hgroup", "search"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SPACES = re.compile(r"\s+")


def _node_text(node) -> str:
    return _one_line(node.text(separator=" ")) if node is not None else ""


def _is_hidden(node) -> bool:
    attributes = node.attributes
    return ("hidden" in attributes or (attributes.get("aria-hidden") or "").lower() == "true"
            or bool(_HIDDEN_STYLE.search(attributes.get("style") or "")))


def _link_share(node) -> float:
    """How much of an element's text is link text: near 1 for menus, low for prose."""
    text = len("".join(node.text().split()))
    links = sum(len("".join(link.text().split())) for link in node.css("a"))
    return links / text if text else 0.0


def _main_root(tree):
    """<main> (or role=main), else the only <article>, else <body>: where the page's own text is."""
    mains = [node for node in tree.css("main, [role=main]") if not _is_hidden(node)]
    if mains:
        return max(mains, key=lambda node: len(node.text()))
    articles = [node for node in tree.css("article") if not _is_hidden(node)]
    if len(articles) == 1:
        return articles[0]
    return tree.body


class _HtmlText:
    """Walks the element tree (iteratively: real pages nest deeply) and writes markdown-like blocks.

    Text collects in `inline` until a block boundary flushes it as the kind of block it is in: a
    paragraph, a heading, a list item or a table cell. Consecutive list items and table rows of one
    list or table stay on adjacent lines, so each list or table is one paragraph for the chunker.
    """

    def __init__(self, page_level: bool) -> None:
        self.page_level = page_level  # no <main> or <article>: the whole <body> is being read
        self.blocks: list[tuple[int, str]] = []  # (group, text); same group → joined by "\n"
        self.inline: list[str] = []
        self.group = 0
        self.list_depth = 0
        self.pre = 0
        self.cell: list[str] | None = None  # text of the table cell being read
        self.row: list[str] | None = None

    def render(self, root) -> str:
        stack: list[tuple[Any, bool, tuple]] = [(root, True, ())]
        while stack:
            node, entering, ancestors = stack.pop()
            tag = node.tag
            if not entering:
                self.leave(node, tag)
                continue
            if tag == "-text":
                self.text(node.text_content or "")
                continue
            if tag.startswith("-") or (node is not root and self.skip(node, tag, ancestors)):
                continue
            self.enter(node, tag)
            stack.append((node, False, ancestors))
            inner = ancestors + (tag,) if tag in _SECTIONING else ancestors
            stack.extend((child, True, inner) for child in reversed(list(node.iter(include_text=True))))
        self.flush()
        return _join_blocks(self.blocks)

    def skip(self, node, tag: str, sectioning: tuple) -> bool:
        """Navigation, page banners and footers, hidden elements, cookie notices and the like."""
        if tag in _SKIP_TAGS or _is_hidden(node):
            return True
        attributes = node.attributes
        if (attributes.get("role") or "").lower() in _SKIP_ROLES:
            return True
        if tag == "footer" or (tag == "header" and not sectioning):  # an article's own header holds its title
            return True
        if tag not in _CONTAINERS:  # class names on links and spans say how they look, not what they are
            return False
        names = (attributes.get("class") or "").split() + (attributes.get("id") or "").split()
        if any(_BOILERPLATE.search(name) for name in names):
            return len(node.text()) <= _BOILERPLATE_MAX_CHARS
        if any(_LAYOUT.match(name) for name in names) and node.css_first("h1") is None:
            return len(node.text()) <= _BOILERPLATE_MAX_CHARS or _link_share(node) >= 0.5
        if self.page_level and tag in {"ul", "ol"}:
            # Without <main> to go by, a list of nothing but links is a menu.
            return len(node.css("li")) >= 3 and _link_share(node) >= 0.8
        return False

    def text(self, value: str) -> None:
        if self.cell is not None:
            self.cell.append(value)
        elif self.pre:
            self.inline.append(value)
        else:
            self.inline.append(_SPACES.sub(" ", value))

    def enter(self, node, tag: str) -> None:
        if self.cell is not None:  # inside a table cell everything is one line of text
            if tag in _BLOCK_TAGS or tag in {"br", "li", "td", "th", "tr"} or tag in _HEADINGS:
                self.cell.append(" ")
            return
        if tag == "br":
            self.inline.append("\n")
        elif tag in {"ul", "ol"}:
            self.flush()
            if self.list_depth == 0:
                self.group += 1
            self.list_depth += 1
        elif tag == "table":
            self.flush()
            self.group += 1
        elif tag == "tr":
            self.flush()
            self.row = []
        elif tag in {"td", "th"}:
            if self.row is None:  # a cell outside a row: read it as a paragraph
                self.flush()
            else:
                self.cell = []
        elif tag == "pre":
            self.flush()
            self.pre += 1
        elif tag in _HEADINGS or tag == "li" or tag in _BLOCK_TAGS:
            self.flush()

    def leave(self, node, tag: str) -> None:
        if tag in {"td", "th"} and self.cell is not None and self.row is not None:
            self.row.append(_one_line("".join(self.cell)))
            self.cell = None
            return
        if self.cell is not None:
            return
        if tag in _HEADINGS:
            heading = _one_line("".join(self.inline))
            self.inline = []
            if heading:
                self.emit("#" * _HEADINGS[tag] + " " + heading, grouped=False)
        elif tag == "li":
            self.flush()
        elif tag in {"ul", "ol"}:
            self.flush()
            self.list_depth = max(self.list_depth - 1, 0)
        elif tag == "tr":
            self.flush()
            cells = [cell for cell in self.row or () if cell]
            if cells:
                self.emit(" | ".join(cells), grouped=True)
            self.row = None
        elif tag == "pre":
            text = "".join(self.inline).strip("\n")
            self.inline = []
            self.pre = max(self.pre - 1, 0)
            if text.strip():
                self.emit(text, grouped=False)
        elif tag in _BLOCK_TAGS or tag == "table":
            self.flush()

    def flush(self) -> None:
        """Write the collected inline text as a paragraph, or as a list item inside a list."""
        if self.pre:
            return
        lines = [line.strip() for line in "".join(self.inline).split("\n")]
        self.inline = []
        text = "\n".join(lines).strip("\n")
        if not text:
            return
        if self.list_depth:
            indent = "  " * (self.list_depth - 1)
            self.emit(indent + "- " + " ".join(text.split()), grouped=True)
        else:
            self.emit(text, grouped=False)

    def emit(self, text: str, grouped: bool) -> None:
        self.blocks.append((self.group if grouped else 0, text))


_META_AUTHOR = ("author", "dc.creator", "dcterms.creator", "citation_author")
_META_DATE = ("dcterms.issued", "dcterms.date", "dc.date", "dcterms.created", "date", "citation_publication_date",
              "citation_date", "article:published_time", "og:published_time", "datepublished")


def _html_metadata(tree) -> dict:
    """Author, date and language, from the <meta> tags and <html lang> that pages commonly carry."""
    found: dict[str, str] = {}
    for node in tree.css("meta"):
        attributes = node.attributes
        name = (attributes.get("name") or attributes.get("property") or attributes.get("itemprop") or "").lower()
        content = _one_line(attributes.get("content"))
        if name and content and name not in found:
            found[name] = content
    metadata: dict[str, str] = {}
    author = next((found[name] for name in _META_AUTHOR if name in found), None)
    if author:
        metadata["author"] = author
    date = next((d for d in (_parse_date(found[name]) for name in _META_DATE if name in found) if d), None)
    if date:
        metadata["date"] = date
    html = tree.css_first("html")
    language = _one_line(html.attributes.get("lang")) if html is not None else ""
    if language:
        metadata["language"] = language
    return metadata


# --- DOCX ----------------------------------------------------------------------------------------

# Measured on generated Word documents (python-docx, headings, lists, tables): 2,000 pages of text
# (4 M characters) is 6.9 MB of document.xml, read in 1.2 s; Word's own files carry 3 to 5 times as
# much markup for the same text. 32 MB of document.xml is about 2,000 pages as Word writes them,
# read (streamed) in under 15 s; more is a zip bomb or generated filler, not a document to cite.
# Only the XML parts kb reads count: images and other media are never unpacked.
_DOCX_MAX_DOCUMENT_XML = 32 * 1024 * 1024
_DOCX_MAX_OTHER_XML = 8 * 1024 * 1024  # styles.xml, core.xml, relationships: each
# Runs and paragraphs in one body paragraph or table: what it holds in memory while it is read (about
# 600 bytes each). A 500-row table of five cells is 5,000; 200,000 is about 120 MB.
_DOCX_MAX_PARTS = 200_000
_HEADING_STYLE = re.compile(r"heading ([1-9])")
_STYLE_ID_WORDS = re.compile(r"(?<=[a-z])(?=[A-Z0-9])|[\s_-]+")  # "ListBullet2" → "List Bullet 2"
_LIST_STYLE = re.compile(r"list (?:bullet|number|paragraph)(?: ([2-9]))?")
_RUN_PATHS = ("w:r | w:hyperlink | w:ins/w:r | w:ins/w:hyperlink | w:moveTo/w:r | w:smartTag/w:r"
              " | w:fldSimple/w:r | w:sdt/w:sdtContent/w:r")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def extract_docx(raw: bytes) -> Extracted:
    """Body paragraphs and tables in document order, as markdown-like text.

    document.xml is streamed (lxml iterparse) and each paragraph or table is let go once read, so
    memory stays bounded by the largest single paragraph or table, not by the document.
    """
    archive, document_part = _open_docx(raw)
    styles = _docx_styles(archive)
    blocks: list[tuple[int, str]] = []  # (group, text); same non-zero group → joined by "\n"
    warnings: list[str] = []
    first_heading = None
    kinds: dict[str | None, tuple[int, int | None]] = {}  # style id → its kind, looked up once
    group = 0
    previous_was_item = False
    try:
        for kind, element in _docx_body_items(archive, document_part):
            if kind == "table":
                group += 1
                previous_was_item = False
                try:
                    blocks.extend((group, row) for row in _docx_table_rows(element))
                except Exception as exc:
                    warnings.append(f"a table could not be read ({_reason(exc)}); it is left out")
                continue
            text = _docx_paragraph_text(element)
            if not text.strip():
                previous_was_item = False  # an empty paragraph ends a list, as it does on the page
                continue
            level, list_level = _docx_paragraph_kind(element, styles, kinds)
            if level:
                heading = " ".join(text.split())
                if level == 1:
                    first_heading = first_heading or heading
                blocks.append((0, "#" * level + " " + heading))
                previous_was_item = False
            elif list_level is not None:
                if not previous_was_item:
                    group += 1
                blocks.append((group, "  " * list_level + "- " + " ".join(text.split())))
                previous_was_item = True
            else:
                blocks.append((0, text.strip()))
                previous_was_item = False
    except BadDocument:
        raise
    except Exception as exc:
        raise BadDocument(f"corrupt DOCX: {_reason(exc)}") from None

    text = _clean_text(_join_blocks(blocks))
    if not text:
        raise BadDocument("no text found in DOCX")
    title, metadata = _docx_core(archive)
    return Extracted(text, title or _clean_title(first_heading), warnings=tuple(warnings), metadata=metadata)


def _open_docx(raw: bytes):
    """The zip archive and the name of its main document part, or BadDocument with a clear reason."""
    import zipfile

    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise BadDocument("corrupt DOCX: an OLE file (legacy .doc or password-protected), not a DOCX zip")
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        names = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise BadDocument("corrupt DOCX: not a zip archive") from None
    except Exception as exc:
        raise BadDocument(f"corrupt DOCX: {_reason(exc)}") from None
    part = "word/document.xml"
    if "_rels/.rels" in names:
        try:
            relations = _docx_xml(archive, "_rels/.rels")
            for relation in relations:
                if relation.get("Type") == _OFFICE_DOCUMENT and relation.get("Target"):
                    part = relation.get("Target").lstrip("/")
        except BadDocument:
            raise
        except Exception as exc:
            raise BadDocument(f"corrupt DOCX: {_reason(exc)}") from None
    if part not in names:
        raise BadDocument("corrupt DOCX: no main document part (not a Word document)")
    size = archive.getinfo(part).file_size
    if size > _DOCX_MAX_DOCUMENT_XML:
        raise BadDocument(f"DOCX text unpacks to {size / 1048576:.0f} MB of XML; the limit is "
                          f"{_DOCX_MAX_DOCUMENT_XML // 1048576} MB (zip bomb or generated filler?)")
    return archive, part


def _docx_xml(archive, name: str):
    """A small XML part, parsed whole (never the document itself), or None when absent."""
    from lxml import etree

    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _DOCX_MAX_OTHER_XML:
        raise BadDocument(f"corrupt DOCX: {name} unpacks to over {_DOCX_MAX_OTHER_XML // 1048576} MB")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)
    return etree.fromstring(archive.read(name), parser)


def _docx_body_items(archive, part: str) -> Iterator[tuple[str, Any]]:
    """("paragraph" | "table", element) of the body in document order, including those inside content
    controls (w:sdt), streamed: each element is cleared once the caller has read it."""
    from lxml import etree

    paragraph, table, run, body = _W + "p", _W + "tbl", _W + "r", _W + "body"
    passable = {_W + "sdt", _W + "sdtContent"}
    parts = 0  # runs and paragraphs read since the last body element: its size in memory
    with archive.open(part) as stream:
        events = etree.iterparse(stream, events=("end",), tag=(paragraph, table, run), resolve_entities=False,
                                 no_network=True, huge_tree=False)
        for _, element in events:
            if element.tag == run or parts > _DOCX_MAX_PARTS:
                parts += 1
                if parts > _DOCX_MAX_PARTS:
                    raise BadDocument(f"corrupt DOCX: a paragraph or table of over {_DOCX_MAX_PARTS:,} runs "
                                      "(generated filler?)")
                continue
            parts += 1
            parent = element.getparent()
            container = parent
            while container is not None and container.tag in passable:
                container = container.getparent()
            if container is None or container.tag != body:
                continue  # inside a table (read with it), a text box, a comment...
            yield ("table" if element.tag == table else "paragraph"), element
            parts = 0
            element.clear(keep_tail=False)
            while element.getprevious() is not None:  # let go of what was read
                del parent[0]


def _docx_paragraph_text(p) -> str:
    """Text of a paragraph, including tracked insertions (python-docx's .text leaves them out)."""
    parts: list[str] = []
    for element in _docx_xpath("runs")(p):
        runs = element.iter(_W + "r") if element.tag == _W + "hyperlink" else (element,)
        for run in runs:
            for child in run:
                tag = child.tag
                if tag == _W + "t":
                    parts.append(child.text or "")
                elif tag in (_W + "tab", _W + "ptab"):
                    parts.append("\t")
                elif tag == _W + "cr" or tag == _W + "br" and child.get(_W + "type", "textWrapping") == "textWrapping":
                    parts.append("\n")
                elif tag == _W + "noBreakHyphen":
                    parts.append("-")
    return "".join(parts)


def _docx_xpath(name: str):
    """Compiled XPath: python-docx's element.xpath() compiles on every call, which dominates the
    time of a long document."""
    return _docx_xpaths()[name]


@functools.cache
def _docx_xpaths() -> dict[str, Any]:
    from lxml import etree

    namespaces = {"w": _W[1:-1]}
    return {
        "runs": etree.XPath(_RUN_PATHS, namespaces=namespaces),
        "num_id": etree.XPath("string(w:pPr/w:numPr/w:numId/@w:val)", namespaces=namespaces),
        "style": etree.XPath("string(w:pPr/w:pStyle/@w:val)", namespaces=namespaces),
        "ilvl": etree.XPath("string(w:pPr/w:numPr/w:ilvl/@w:val)", namespaces=namespaces),
        "outline": etree.XPath("string(w:pPr/w:outlineLvl/@w:val)", namespaces=namespaces),
    }


def _docx_paragraph_kind(p, styles: dict, kinds: dict) -> tuple[int, int | None]:
    """(heading level or 0, list nesting level or None), from the paragraph's outline level, style and
    numbering."""
    # An outline level set on the paragraph itself wins over its style's, as in Word's navigation pane
    # (level 9, body text, makes a paragraph of a heading style plain text).
    outline = _outline_level(_docx_xpath("outline")(p))
    if outline:
        return outline, None
    style_id = _docx_xpath("style")(p) or None
    if style_id not in kinds:
        kinds[style_id] = _docx_style_kind(style_id, styles)
    level, list_level = kinds[style_id]
    if level and outline is None:
        return level, None
    num_id = _docx_xpath("num_id")(p)
    if num_id == "0":  # numbering switched off for this paragraph, whatever its style says
        return 0, None
    if num_id:
        ilvl = _docx_xpath("ilvl")(p)
        return 0, min(int(ilvl), 8) if ilvl.isdigit() else (list_level or 0)
    return 0, list_level


def _outline_level(value: str) -> int | None:
    """The heading level of a w:outlineLvl value: 0-8 are levels 1-9 (kept to 6, as Markdown); 9 is body text."""
    if not value.isdigit():
        return None
    return min(int(value) + 1, 6) if int(value) < 9 else 0


def _docx_styles(archive) -> dict[str, tuple[str, str | None, int | None]]:
    """Paragraph styles: style id → (name in lower case, id of the style it is based on, the heading
    level its outline level gives, if it sets one)."""
    try:
        root = _docx_xml(archive, "word/styles.xml")
    except BadDocument:
        raise
    except Exception:  # damaged styles cost the headings, not the text
        return {}
    styles = {}
    for style in root.iter(_W + "style") if root is not None else ():
        style_id = style.get(_W + "styleId")
        name = style.find(_W + "name")
        based = style.find(_W + "basedOn")
        outline = style.find(f"{_W}pPr/{_W}outlineLvl")
        if style_id:
            styles[style_id] = ((name.get(_W + "val") or "").lower() if name is not None else "",
                                based.get(_W + "val") if based is not None else None,
                                _outline_level(outline.get(_W + "val") or "") if outline is not None else None)
    return styles


def _docx_style_kind(style_id: str | None, styles: dict) -> tuple[int, int | None]:
    """(heading level or 0, list level or None) of a paragraph style. Custom styles count through
    the built-in style they are based on ("Widget Heading" based on "Heading 2" is a level-2 heading),
    or through an outline level they set. A style the file does not define (a DOCX written without
    styles.xml, as small generators do) is read by its id: Word's ids name the built-in styles
    ("Heading1", "Title", "ListBullet2")."""
    list_level = None
    for _ in range(8):  # the base-style chain; Word never nests deeply, broken files may loop
        if style_id is None:
            break
        if style_id not in styles:
            name, based_on, outline = _STYLE_ID_WORDS.sub(" ", style_id).lower(), None, None
        else:
            name, based_on, outline = styles[style_id]
        heading = _HEADING_STYLE.fullmatch(name)
        if name == "title" or heading:
            return (min(int(heading.group(1)), 6) if heading else 1), None
        if outline:
            return outline, None
        listed = _LIST_STYLE.fullmatch(name)
        if listed and list_level is None:
            list_level = int(listed.group(1)) - 1 if listed.group(1) else 0
        style_id = based_on
    return 0, list_level


def _docx_table_rows(tbl) -> list[str]:
    """Each row as its non-empty cells' text joined by " | ". Read from the XML, where a merged cell
    is one element (python-docx's row.cells repeats it) and the rest of a vertical merge is empty."""
    table, row = _W + "tbl", _W + "tr"
    rows = []
    for tr in tbl.iter(row):
        if _nearest(tr, table) is not tbl:  # rows of nested tables are read as their cell's text
            continue
        cells = []
        for tc in tr.iter(_W + "tc"):
            if _nearest(tc, row) is not tr:
                continue
            paragraphs = [_docx_paragraph_text(p) for p in tc.iter(_W + "p")]
            cell = " ".join(" ".join(paragraphs).split())
            if cell:
                cells.append(cell)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _nearest(element, tag: str):
    """The closest ancestor with this tag (rows and cells may sit inside content controls)."""
    parent = element.getparent()
    while parent is not None and parent.tag != tag:
        parent = parent.getparent()
    return parent


def _docx_core(archive) -> tuple[str | None, dict]:
    """Title, author and creation date from the core properties (docProps/core.xml), when readable."""
    try:
        root = _docx_xml(archive, "docProps/core.xml")
    except Exception:  # a damaged docProps/core.xml costs the metadata, not the text
        return None, {}
    if root is None:
        return None, {}
    values = {}
    for element in root:
        tag = element.tag.rsplit("}", 1)[-1]
        values.setdefault(tag, element.text or "")
    title = _clean_title(values.get("title"))
    author = _one_line(values.get("creator"))
    metadata = {}
    if author:
        metadata["author"] = author
    created = values.get("created", "").strip()
    date = _parse_date(created) if created not in _PLACEHOLDER_CREATED else None
    if date:
        metadata["date"] = date
    return title, metadata


# Creation stamps that say nothing about the document: python-docx's template (every document made
# with it is "created" then, unless the author sets the date), and the zero dates of Word and OLE.
_PLACEHOLDER_CREATED = {"2013-12-23T23:15:00Z", "1601-01-01T00:00:00Z", "1899-12-30T00:00:00Z",
                        "1900-01-01T00:00:00Z", "1970-01-01T00:00:00Z"}
