"""The timeline and answers as files other tools take: iCalendar, CSV, Markdown.

Pure functions over kb's dataclasses (and `write_export`, which writes one to a file). Text comes from
documents, so each format gets it neutralised: control characters and bidirectional overrides dropped
(kb.text.for_terminal, as on a screen) and white space collapsed everywhere, Markdown syntax escaped,
CSV cells that a spreadsheet would run as a formula defused. Paths are relative to the corpus folder,
as in `--json` output. icalendar is imported only when a calendar is made.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from kb.citations import citation_details, location, origin, pages, web_address
from kb.errors import KBError
from kb.models import Answer, Chunk
from kb.text import collapse_whitespace, shorten

if TYPE_CHECKING:
    from kb.results import Event

NO_ANSWER = "Not in the corpus: no passage answers this."
CSV_COLUMNS = ("date", "status", "event", "title", "source", "lines", "pages", "published", "jurisdiction",
               "regulator", "origin")
SUMMARY_CHARS = 120
EXCERPT_CHARS = 300


def where(chunk: Chunk, lines: tuple[int, int] | None = None) -> str:
    """`rules.md:45-49`, `report.pdf p. 3`, or the bare path for HTML/DOCX (cited by section)."""
    return chunk.meta.source + location(chunk, lines)


def citation_text(chunk: Chunk, lines: tuple[int, int] | None = None) -> str:
    """`Title — path:lines (§ section, date)`, plain text."""
    return f"{_plain(chunk.meta.title)} — {_plain(where(chunk, lines))} ({_plain(', '.join(citation_details(chunk)))})"


# --- timeline --------------------------------------------------------------------------------------


def event_uid(event: Event) -> str:
    """Stable across exports, so a calendar re-importing the file updates events instead of doubling them."""
    meta = event.chunk.meta
    key = "\x1f".join((meta.source, meta.doc_id, f"{event.lines[0]}-{event.lines[1]}", event.label))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + "@kb"


def timeline_ics(events: Sequence[Event], *, name: str = "kb timeline", stamp: dt.datetime | None = None) -> bytes:
    """An iCalendar file: one all-day event per dated item, spanning its period (a month, a year...).
    No events: a valid calendar with none (see below), as the CSV and Markdown forms keep their header."""
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//kb//regulatory timeline//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _plain(name))
    stamp = stamp or dt.datetime.now(dt.timezone.utc)
    used: dict[str, int] = {}
    for event in events:
        uid = event_uid(event)
        used[uid] = used.get(uid, 0) + 1
        if used[uid] > 1:  # two statements of one date on the same lines (a one-line record): keep both
            uid = uid.replace("@", f"-{used[uid]}@")
        chunk = event.chunk
        item = icalendar.Event()
        item.add("uid", uid)
        item.add("dtstamp", stamp)
        item.add("dtstart", event.first)
        item.add("dtend", event.last + dt.timedelta(days=1))  # DTEND of an all-day event is exclusive
        item.add("summary", shorten(_plain(event.text), SUMMARY_CHARS))
        item.add("description", _event_description(event))
        item.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy all day
        categories = [_plain(v) for v in (chunk.meta.jurisdiction, chunk.meta.regulator, chunk.meta.doc_type) if v]
        if categories:
            item.add("categories", categories)
        if web_address(chunk.meta):
            item.add("url", web_address(chunk.meta))
        calendar.add_component(item)
    if not events:
        # RFC 5545 (3.4, 3.6) wants at least one component in a calendar, and strict readers refuse one
        # without; a time zone is the one component every calendar reads and none shows. Still a calendar
        # with no events, so a feed re-exported when nothing is upcoming empties instead of going stale.
        calendar.add_component(_utc_time_zone(icalendar))
    return calendar.to_ical()


def _utc_time_zone(icalendar: Any) -> Any:
    zone = icalendar.Timezone()
    zone.add("tzid", "UTC")
    standard = icalendar.TimezoneStandard()
    standard.add("dtstart", dt.datetime(1970, 1, 1))
    standard.add("tzoffsetfrom", dt.timedelta(0))
    standard.add("tzoffsetto", dt.timedelta(0))
    standard.add("tzname", "UTC")
    zone.add_component(standard)
    return zone


def _event_description(event: Event) -> str:
    chunk = event.chunk
    lines = [_plain(event.text), "", f"Date: {event.label} ({event.precision}"
             + (", resolved from a relative date" if event.relative else "") + ")",
             f"Source: {citation_text(chunk, event.lines)}"]
    if origin(chunk.meta):
        lines.append(f"Origin: {origin(chunk.meta)}")
    return "\n".join(lines)


def timeline_rows(events: Sequence[Event]) -> list[dict[str, str]]:
    """One flat record per event, with the CSV columns; values are one-line plain text."""
    rows = []
    for event in events:
        chunk, meta = event.chunk, event.chunk.meta
        values = {"date": event.label, "status": event.status, "event": event.text, "title": meta.title,
                  "source": meta.source, "lines": f"{event.lines[0]}-{event.lines[1]}", "pages": pages(chunk),
                  "published": meta.date, "jurisdiction": meta.jurisdiction, "regulator": meta.regulator,
                  "origin": origin(chunk.meta)}
        rows.append({column: _plain(values[column] or "") for column in CSV_COLUMNS})
    return rows


def timeline_csv(events: Sequence[Event]) -> str:
    """CSV with a header row (RFC 4180: CRLF line ends; write it with newline="")."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in timeline_rows(events):
        writer.writerow([csv_cell(row[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


def csv_cell(text: str) -> str:
    """A spreadsheet runs a cell starting with = + - @ as a formula (CSV injection): make it text."""
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def timeline_markdown(events: Sequence[Event]) -> str:
    """A Markdown (GFM) table: date, status, event, source with its citation and link."""
    lines = ["| Date | Status | Event | Source | Published |", "|---|---|---|---|---|"]
    for event in events:
        chunk = event.chunk
        source = f"{md_escape(chunk.meta.title)} — {md_escape(where(chunk, event.lines))}"
        if web_address(chunk.meta):
            source += f" <{_autolink(web_address(chunk.meta))}>"
        lines.append(f"| {md_escape(event.label)} | {event.status} | {md_escape(event.text)} | {source} | "
                     f"{md_escape(chunk.meta.date or 'undated')} |")
    return "\n".join(lines) + "\n"


FORMATS = ("ics", "csv", "markdown")
UTF8_BOM = "\ufeff".encode("utf-8")


def timeline_file(events: Sequence[Event], fmt: str, *, excel_bom: bool = False) -> bytes:
    """The timeline as the bytes of a file in `fmt`: ics, csv (UTF-8, CRLF rows) or markdown (UTF-8).

    `excel_bom` starts the CSV with a UTF-8 byte-order mark: Excel reads a CSV without one in the
    system's code page ("CafÃ©" for "Café"). kb asks for it when writing a file, not on standard
    output, where a pipe's next program would find it glued to the first column's name."""
    if fmt == "ics":
        return timeline_ics(events)
    if fmt == "csv":
        return (UTF8_BOM if excel_bom else b"") + timeline_csv(events).encode("utf-8")
    if fmt == "markdown":
        return timeline_markdown(events).encode("utf-8")
    raise ValueError(f"unknown timeline format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write_export(data: bytes, path: Path) -> None:
    """Write an export to `path`; KBError (one line for the user) when it cannot be written."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise KBError(f"Cannot write {path}: {exc.strerror or exc}.", "Choose another --output file.") from None


# --- answers ---------------------------------------------------------------------------------------


def answer_markdown(answer: Answer) -> str:
    """The answer for a memo: the sentence emphasised, its sources as footnotes numbered as in `kb ask`.

    A question the corpus does not answer says so, and lists the closest passages as what they are.
    """
    from kb.answer import answer_lines

    parts = [f"**Question:** {md_escape(answer.question)}", ""]
    if not (answer.answerable and answer.text and answer.citation):
        parts.append(f"*{md_escape(NO_ANSWER)}*")
        if answer.passages:
            parts += ["", "The closest passages, which do not answer it:", ""]
            for hit in answer.passages:
                excerpt = shorten(_plain(hit.chunk.text), EXCERPT_CHARS)
                parts.append(f"{hit.rank}. {_md_citation(hit.chunk)}: “{md_escape(excerpt)}”")
        return "\n".join(parts) + "\n"
    cited = {answer.citation: answer_lines(answer)}
    parts.append(f"*{md_escape(answer.text)}*[^{answer.citation}]")
    if answer.dates:
        parts += ["", "Date: " + md_escape(", ".join(answer.dates))]
    if answer.date_statements:
        parts += ["", "Sources differ on the date (newest publication first):", ""]
        for statement in answer.date_statements:
            cited.setdefault(statement.citation, None)
            parts.append(f"- {md_escape(', '.join(statement.dates))}, published "
                         f"{md_escape(statement.published or 'undated')}: {md_escape(statement.text)}"
                         f"[^{statement.citation}]")
    for note in answer.notes:
        parts += ["", f"> {md_escape(note)}"]
    parts.append("")
    by_rank = {hit.rank: hit for hit in answer.passages}  # the cited passage may be beyond --top-k
    for rank, lines in sorted(cited.items()):
        parts.append(f"[^{rank}]: {_md_citation(by_rank[rank].chunk, lines)}")
    return "\n".join(parts) + "\n"


def _md_citation(chunk: Chunk, lines: tuple[int, int] | None = None) -> str:
    text = (f"{md_escape(chunk.meta.title)} — {md_escape(where(chunk, lines))} "
            f"({md_escape(', '.join(citation_details(chunk)))})")
    address = web_address(chunk.meta)
    return text + (f" <{_autolink(address)}>" if address else "")


# --- neutralising text -----------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_ENTITY = re.compile(r"&(?=#?\w+;)")


def _autolink(url: str) -> str:
    """A URL inside <...>: percent-encode what would end the link or split a table cell (a "|" in a
    query string), so the cell stays one cell and the link still opens the page."""
    return url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


def md_escape(text: str) -> str:
    """One line of literal text in Markdown: emphasis, links, HTML, table pipes and entities escaped.

    Never placed at the start of a line here, so "#" and "- " need no escape.
    """
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", _plain(text))
    return _ENTITY.sub(r"\\&", text)


def _plain(text: str) -> str:
    return collapse_whitespace(str(text))


