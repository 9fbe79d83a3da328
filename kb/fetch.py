"""Downloading one HTML page or PDF for `kb add URL`, within limits, with a clear error for each failure.

httpx is imported inside the functions: `kb --help` and `kb status` never pay for it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from kb.errors import FetchError, FetchTimeout, SourceError, SourceTooLarge

if TYPE_CHECKING:
    import httpx

USER_AGENT = "kb/0.1 (local regulatory-readiness knowledge base)"
ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.1"
HTML_TYPES = {"text/html", "application/xhtml+xml"}
PDF_TYPES = {"application/pdf", "application/x-pdf"}
# Servers label downloads vaguely; such a body is accepted only if it starts like a PDF.
GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/download",
                 "application/force-download", "application/x-download"}
PDF_MAGIC_WITHIN = 1024  # the PDF header may follow a little junk (the spec allows it)
SUPPORTED_HINT = ("kb add fetches HTML pages and PDFs. Save other documents from your browser and add the file "
                  "(.md, .txt, .jsonl, .pdf, .html, .docx).")


DEFAULT_MAX_BYTES = 25 * 1024 * 1024  # the index skips larger files anyway (Settings.max_file_mb)


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # longest wait for the next bytes
    total_timeout: float = 120.0  # whole download: a server dripping bytes cannot hold kb for ever
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # as asked
    final_url: str  # after redirects
    kind: str  # "html" or "pdf"
    content_type: str  # the server's Content-Type header, verbatim
    body: bytes
    etag: str | None = None
    last_modified: str | None = None

    @property
    def suffix(self) -> str:
        return "." + self.kind


def normalise_url(url: str) -> str:
    """The URL without its #fragment; SourceError for anything but an absolute http(s) URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise SourceError(f"Not a valid URL: {url} ({exc}).", "Give a full address, e.g. https://example.org/page") from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise SourceError(f"Unsupported URL scheme {parts.scheme + ':' if parts.scheme else '(none)'} in {url}.",
                          "kb add fetches http:// and https:// URLs; give local files as paths.")
    if not parts.hostname:
        raise SourceError(f"No host in URL {url}.", "Give a full address, e.g. https://example.org/page")
    if parts.username is not None or parts.password is not None:  # it would be kept in the corpus and cited
        shown = urlunsplit((parts.scheme, parts.hostname + (f":{parts.port}" if parts.port else ""), parts.path, "", ""))
        raise SourceError(f"The URL of {shown} holds a user name or password, which kb would store in the corpus "
                          "and show in every citation.", "Save the page from your browser and add the file.")
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, ""))


def open_client(limits: FetchLimits = FetchLimits()) -> httpx.Client:
    import httpx

    timeout = httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout)
    return httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=limits.max_redirects,
                        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT})


def fetch(url: str, *, etag: str | None = None, last_modified: str | None = None,
          limits: FetchLimits = FetchLimits(), client: httpx.Client | None = None) -> Fetched | None:
    """The document at `url`, or None when the server says it has not changed since `etag`/`last_modified`.

    Raises SourceError (bad URL, not HTML/PDF), FetchError (HTTP status, connection, redirects),
    FetchTimeout or SourceTooLarge; nothing is kept of a failed download.
    """
    import httpx

    url = normalise_url(url)
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    own_client = client is None
    client = client or open_client(limits)
    try:
        with client.stream("GET", url, headers=headers) as response:
            return _receive(url, response, limits, bool(headers))
    except httpx.ConnectTimeout:
        raise FetchTimeout(f"Timed out connecting to {urlsplit(url).netloc} (after {limits.connect_timeout:g} s).") from None
    except httpx.TimeoutException:
        raise FetchTimeout(f"Timed out fetching {url} (no data for {limits.read_timeout:g} s).") from None
    except httpx.TooManyRedirects:
        raise FetchError(f"Too many redirects fetching {url} (more than {limits.max_redirects}).",
                         "The address may loop between pages; open it in a browser and add the final URL.") from None
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(f"Cannot fetch {url}: redirected to an unsupported address ({exc}).") from None
    except httpx.ConnectError as exc:
        raise FetchError(f"Cannot connect to {urlsplit(url).netloc}: {_reason(exc)}.",
                         "Check the address and your network connection.") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise FetchError(f"Cannot fetch {url}: {_reason(exc)}.") from None
    finally:
        if own_client:
            client.close()


def _receive(url: str, response: httpx.Response, limits: FetchLimits, conditional: bool) -> Fetched | None:
    if response.status_code == 304 and conditional:
        return None
    if response.status_code >= 300:  # a 3xx left over means a redirect without a usable Location
        phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
        raise FetchError(f"Cannot fetch {url}: HTTP {response.status_code}{phrase}.", _status_hint(response.status_code))
    content_type = response.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in HTML_TYPES | PDF_TYPES | GENERIC_TYPES:
        raise SourceError(f"{url} is {media_type}, not an HTML page or a PDF.", SUPPORTED_HINT)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise SourceTooLarge(f"{url} is {_megabytes(int(declared))}, over the {_megabytes(limits.max_bytes)} limit.")
    body = _read_body(url, response, limits)
    if not body.strip():
        raise SourceError(f"{url} sent an empty page.", "Check the URL in a browser; the page may need JavaScript.")
    if not media_type:  # no Content-Type at all: what the content and the address say, as a browser reads it
        kind = sniffed_kind(body, str(response.url))
        if kind is None:
            raise SourceError(f"{url} has no Content-Type, and its content is neither an HTML page nor a PDF.",
                              SUPPORTED_HINT)
    else:
        kind = "html" if media_type in HTML_TYPES else "pdf"
    if kind == "pdf" and b"%PDF-" not in body[:PDF_MAGIC_WITHIN]:
        what = "labelled a PDF" if media_type in PDF_TYPES else f"{media_type or 'of no stated type'}"
        raise SourceError(f"{url} is {what}, but its content is not a PDF.", SUPPORTED_HINT)
    if kind == "html":
        body = with_declared_charset(body, response.charset_encoding)
    return Fetched(url, str(response.url), kind, content_type, body,
                   response.headers.get("etag"), response.headers.get("last-modified"))


# How an HTML document starts, after any BOM and white space: the tags browsers sniff for (WHATWG MIME
# Sniffing, "text/html" patterns), each followed by a space or ">" (a comment by anything).
_HTML_STARTS = tuple(b"<" + tag for tag in (b"!doctype html", b"html", b"head", b"script", b"iframe", b"h1", b"div",
                                              b"font", b"table", b"a", b"style", b"title", b"b", b"body", b"br", b"p"))
_HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_BOMS = {b"\xef\xbb\xbf": "utf-8", b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


def sniffed_kind(body: bytes, url: str) -> str | None:
    """"pdf" or "html" for a body the server sent without a Content-Type, else None: a PDF by its
    signature, HTML by how it starts (after a BOM and white space), then by the URL's extension
    (.pdf, .html, .htm, .xhtml) for text that starts otherwise."""
    if b"%PDF-" in body[:PDF_MAGIC_WITHIN]:
        return "pdf"
    head = body[:1024]
    for bom, encoding in _BOMS.items():
        if head.startswith(bom):  # read as text in its own encoding: "<html" in UTF-16 is not these bytes
            head = head[len(bom):].decode(encoding, errors="ignore").encode("ascii", errors="replace")
            break
    head = head.lstrip(b" \t\r\n\x0c").lower()
    if head.startswith(b"<!--") or any(head.startswith(start) and head[len(start):len(start) + 1] in (b" ", b">")
                                       for start in _HTML_STARTS):
        return "html"
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    if suffix == ".pdf":
        return "pdf"  # refused just after, as not a PDF: the address promised one
    if suffix in _HTML_SUFFIXES and b"\x00" not in head:
        return "html"
    return None


def _read_body(url: str, response: httpx.Response, limits: FetchLimits) -> bytes:
    """The decoded body, read in pieces: past the size limit or the total time, stop and raise."""
    deadline = time.monotonic() + limits.total_timeout
    pieces: list[bytes] = []
    size = 0
    for piece in response.iter_bytes():
        size += len(piece)
        if size > limits.max_bytes:  # counted after decompression: a small gzip cannot unpack into gigabytes
            raise SourceTooLarge(f"{url} is over the {_megabytes(limits.max_bytes)} limit; download stopped.")
        if time.monotonic() > deadline:
            raise FetchTimeout(f"Timed out fetching {url} (still downloading after {limits.total_timeout:g} s).")
        pieces.append(piece)
    return b"".join(pieces)


_META_CHARSET = re.compile(rb"<meta\s[^>]*?charset\s*=", re.IGNORECASE)
_DOCTYPE = re.compile(rb"\A\s*<!doctype[^>]*>", re.IGNORECASE)


def with_declared_charset(body: bytes, charset: str | None) -> bytes:
    """The page, with the HTTP header's charset written into it when only the header said it.

    Saved to disk the page loses its headers, and HTML ingest (like a browser opening a file) would
    read it as UTF-8; a <meta charset> keeps a windows-1252 page readable. Anything else is untouched.
    """
    if not charset or charset.lower().replace("_", "-") in {"utf-8", "utf8"}:
        return body
    if body.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or _META_CHARSET.search(body[:8192]):
        return body
    if not re.fullmatch(r"[A-Za-z0-9_.:-]+", charset):
        return body
    meta = b'<meta charset="' + charset.encode("ascii") + b'">'  # no newline: the page keeps its line count
    doctype = _DOCTYPE.match(body)
    at = doctype.end() if doctype else 0  # after a doctype, which must come first
    return body[:at] + meta + body[at:]


def _status_hint(status: int) -> str:
    if status == 404 or status == 410:
        return "The page is not there (any more); check the address, or search the site for its new one."
    if status in {401, 403}:
        return "The site refuses automated downloads or needs a login; save the page from your browser and add the file."
    if status == 429 or status >= 500:
        return "The server is busy or failing; try again later."
    return "Check the URL in a browser."


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _megabytes(size: int) -> str:
    return f"{size / 1048576:.1f} MB" if size >= 102400 else f"{size:,} bytes"
