"""How a passage is cited, as plain text: where in its file, its details, and where the file came from.

Shared by the terminal and JSON forms (kb/cli/render.py) and by the exports (kb/export.py, kb/mcp.py),
so a citation reads the same everywhere. Cheap to import (kb.models, kb.text): `kb status` loads it.
"""

from __future__ import annotations

import re

from kb.models import Chunk, DocumentMeta
from kb.text import collapse_whitespace

# Formats whose text is extracted, so line numbers of the source file would mean nothing: cited by section.
CITED_BY_SECTION = frozenset({"html", "docx"})
_WEB_ADDRESS = re.compile(r"https?://[^\s<>\"'`\\\x00-\x1f\x7f-\x9f]+")


def location(chunk: Chunk, lines: tuple[int, int] | None = None) -> str:
    """":36-37", " p. 12", ":5" for a .jsonl record; nothing for HTML/DOCX (cited by section)."""
    if chunk.meta.kind in CITED_BY_SECTION:
        return ""
    if chunk.page_start is not None:
        return f" p. {pages(chunk)}"
    start, end = lines or (chunk.line_start, chunk.line_end)
    return f":{start}" if start == end else f":{start}-{end}"


def pages(chunk: Chunk) -> str | None:
    """"12" or "12-13" for a passage of a PDF; None for other formats."""
    if chunk.page_start is None:
        return None
    return f"{chunk.page_start}" if chunk.page_start == chunk.page_end else f"{chunk.page_start}-{chunk.page_end}"


def citation_details(chunk: Chunk) -> tuple[str, ...]:
    """The record id (when it is not the file), the section, the date and staleness, in that order."""
    details = []
    if chunk.meta.doc_id != chunk.meta.source:
        details.append(f"id {chunk.meta.doc_id}")
    if chunk.section:
        heading = chunk.section[-1]
        # Statute headings often start with "§" already; a second one reads as a typo.
        details.append(heading if heading.startswith("§") else f"§ {heading}")
    details.append(chunk.meta.date or "undated")
    if chunk.stale:
        details.append(f"STALE: {chunk.stale}")
    return tuple(details)


def origin(meta: DocumentMeta) -> str | None:
    """Where the document came from: the URL `kb add URL` fetched it from (kb.sidecar), or the `source`
    of its front matter. One line of plain text; None when unknown."""
    value = meta.extra.get("origin")
    return None if value is None else collapse_whitespace(str(value)) or None


def web_address(meta: DocumentMeta) -> str | None:
    """The origin when it is a plain http(s) URL, safe to show as an address and to put in a link."""
    value = origin(meta)
    return value if value and _WEB_ADDRESS.fullmatch(value) else None
