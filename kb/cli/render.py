"""Every result kb shows, in both its forms: text for a terminal (rich) and JSON for scripts.

One convention for all commands: `to_json(result)` is the JSON object of a command's result, led
by its "schema" ("kb.ask/1": the number goes up only when a key changes meaning or goes away), and
`print_result(result, console)` writes its terminal form; `show` prints one or the other.

Every value that comes from the corpus, the index or the user passes through `shown` (or
`collapse_whitespace`) before it reaches a terminal: no control character, so no escape sequence
(window titles, screen clearing, OSC 8 links, OSC 52 clipboard writes), and no bidirectional
override. Ingest already strips them from metadata and headings; this is the guard for everything
else (file names, ids, reasons, the index's own older builds). JSON stays exact: it escapes them.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import sys
from functools import singledispatch
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Group
from rich.padding import Padding
from rich.style import Style
from rich.table import Table
from rich.text import Text

from kb.citations import CITED_BY_SECTION, citation_details as _details, location, origin, web_address
from kb.cli.console import Console
from kb.models import Answer, Chunk, Hit
from kb.paths import corpus_file, path_key, readable
from kb.results import (AddReport, AnswerScores, BuildReport, Diagnosis, EvalReport, IndexStatus, Passages, Source,
                        SourceList, Timeline)
from kb.text import TERMINAL_UNSAFE, collapse_whitespace, for_terminal, shorten

NO_ANSWER = "No passage in the corpus answers this."
LINKS_SHOWN = 5  # symlinks to indexed files named after kb index; the rest are counted
# PDF passages are cited by page, HTML and DOCX by section: their lines count the extracted text.
EXTRACTED_TEXT = CITED_BY_SECTION | {"pdf"}


def show(result: Any, *, as_json: bool, console: Console | None = None, **context: Any) -> None:
    """Print a command's result: its JSON object, or its terminal form (`context`: what that form needs)."""
    if as_json:
        typer.echo(json_text(to_json(result)))
    else:
        print_result(result, console or output_console(), **context)


PIPED_WIDTH = 120  # into a file or a pipe, unless COLUMNS says otherwise; rich's 80 breaks citations mid-range


def output_console() -> Console:
    """The console for a command's output: the terminal as it is; into a file or a pipe, lines of
    COLUMNS (else 120) characters with no padding at their ends."""
    if _stdout_is_terminal():
        return Console()
    return Console(file=_TrimmedLines(sys.stdout), width=_columns() or PIPED_WIDTH)


class _TrimmedLines(io.TextIOBase):
    """Writes through to `out`, each line without the spaces rich pads it with."""

    def __init__(self, out: Any) -> None:
        self.out, self.pending = out, ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.out.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.out.write(self.pending)
            self.pending = ""
        self.out.flush()


def _stdout_is_terminal() -> bool:
    try:
        return os.isatty(1) and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _columns() -> int | None:
    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def rendered(result: Any, *, as_json: bool, width: int = 120, **context: Any) -> str:
    """What `show` prints, as text for a file: the JSON, or the terminal form without colours or links."""
    if as_json:
        return json_text(to_json(result)) + "\n"
    buffer = io.StringIO()
    print_result(result, Console(file=buffer, width=width, color_system=None, force_terminal=False), **context)
    return buffer.getvalue()


def json_text(data: Any) -> str:
    """JSON with every character a terminal could act on escaped (json escapes only those below 0x20):
    the same data for a parser, inert on a screen."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return TERMINAL_UNSAFE.sub(lambda match: "\\u%04x" % ord(match.group(0)), text)


def shown(value: Any) -> str:
    """One line of text that is safe on a terminal (see the module's docstring)."""
    return collapse_whitespace(readable(str(value)))


def path_json(path: Path) -> str:
    """A path for JSON: valid Unicode, a name's undecodable bytes written as kb stores them (kb.paths)."""
    return path_key(str(path))


@singledispatch
def to_json(result: Any) -> dict[str, Any]:
    raise TypeError(f"kb has no JSON form for {type(result).__name__}")


@singledispatch
def print_result(result: Any, console: Console, **context: Any) -> None:
    raise TypeError(f"kb has no terminal form for {type(result).__name__}")


# --- citations ---------------------------------------------------------------------------------------


def display_path(corpus: Path, source: str) -> str:
    """The source file as a path the user can open: relative to the working directory when inside it."""
    path = corpus / source
    try:
        shown_path = os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        shown_path = str(path)
    return shown(shown_path)


def file_link(corpus: Path, chunk: Chunk) -> str | None:
    """A file:// URL that opens the cited file, for terminals that show links (rich drops it when piped).

    A PDF gets its page as `#page=N` (RFC 8118, which PDF viewers and browsers follow); other files none:
    file:// URLs have no line anchor that editors or browsers agree on.
    """
    try:
        url = corpus_file(corpus, chunk.meta.source).resolve().as_uri()
    except (OSError, ValueError):
        return None
    return f"{url}#page={chunk.page_start}" if chunk.page_start is not None and chunk.meta.kind == "pdf" else url


def cited_path(corpus: Path, chunk: Chunk, lines: tuple[int, int] | None = None) -> Text:
    """`corpus/rules.md:45-49`, in green, a link to the file on terminals that show links."""
    return Text(display_path(corpus, chunk.meta.source) + location(chunk, lines),
                style=Style(color="green", link=file_link(corpus, chunk)))


def citation_details(chunk: Chunk) -> str:
    return ", ".join(shown(detail) for detail in _details(chunk))


def unbroken(text: Text, piped: bool) -> Text:
    """`text` on one line however long, when `piped`: a file path or URL broken over two lines cannot be
    copied from a file or a pipe (a terminal keeps its own folding: there a URL stays one link)."""
    if piped:
        text.no_wrap, text.overflow = True, "ignore"
    return text


def citation(hit: Hit, corpus: Path, *, piped: bool = False) -> Group:
    """`[1] Title — path:lines (§ section, date)`, then the URL it came from and its copies elsewhere.
    `piped`: each line runs past the width rather than break its path or URL (print with crop=False)."""
    chunk = hit.chunk
    line = Text(f"[{hit.rank}] ", style="bold cyan")
    line.append(shown(chunk.meta.title), style="bold")
    line.append(" — ")
    line.append_text(cited_path(corpus, chunk))
    line.append(f" ({citation_details(chunk)})", style="red" if chunk.stale else "dim")
    lines: list[Text] = [unbroken(line, piped)]
    address = web_address(chunk.meta)
    if address:
        # The URL alone under the citation: a label before it would push a long URL to the next line anyway.
        # A URL longer than the line folds, but stays one link on a terminal.
        lines.append(unbroken(Text("    ") + Text(address, style=Style(color="blue", underline=True, link=address)),
                              piped))
    for copy in hit.also_in:
        also = Text("    also in: ", style="dim")
        also.append(shown(copy.meta.title), style="bold")
        also.append(" — ")
        also.append_text(cited_path(corpus, copy))
        also.append(f" ({citation_details(copy)})", style="red" if copy.stale else "dim")
        lines.append(unbroken(also, piped))
    return Group(*lines)


def passage_text(hit: Hit, highlight: tuple[int, int] | None = None) -> Text:
    """The passage with white space collapsed and the answer sentence highlighted."""
    text = hit.chunk.text
    if highlight is None:
        return Text(collapse_whitespace(text))
    start, end = highlight
    rendered = Text(collapse_whitespace(text[:start]))
    if rendered:
        rendered.append(" ")
    rendered.append(collapse_whitespace(text[start:end]), style="bold black on yellow")
    after = collapse_whitespace(text[end:])
    if after:
        rendered.append(" " + after)
    return rendered


# --- kb ask ------------------------------------------------------------------------------------------


def _answer_lines(answer: Answer) -> tuple[int, int] | None:
    from kb.answer import answer_lines  # loaded already whenever there is an answer to show

    return answer_lines(answer)


def answer_citations(answer: Answer) -> tuple[int, ...]:
    from kb.answer import answer_citations as citations  # loaded already whenever there is an answer to show

    return citations(answer)


@print_result.register(Answer)
def _(answer: Answer, console: Console, *, corpus: Path) -> None:
    piped = not console.is_terminal
    console.print(render_answer(answer, corpus, piped=piped), crop=not piped)


def render_answer(answer: Answer, corpus: Path, *, piped: bool = False) -> Group:
    parts: list[Any] = []
    if answer.answerable and answer.text:
        cited = next(hit for hit in answer.passages if hit.rank == answer.citation)
        head = Text("Answer ", style="bold")
        head.append(f"[{', '.join(map(str, answer_citations(answer)))}] ", style="bold cyan")
        head.append_text(cited_path(corpus, cited.chunk, _answer_lines(answer)))
        meta = cited.chunk.meta
        head.append(f" · as of {shown(meta.date)}" if meta.date else " · undated source", style="dim")
        parts.append(unbroken(head, piped))
        if answer.span is not None:  # the asked-for value: the date, the amount, the body
            before, value, after = (answer.text[:answer.span.start], answer.text[answer.span.start:answer.span.end],
                                    answer.text[answer.span.end:])
            line = Text(_safe(before), style="bold")
            line.append(_safe(value), style="bold underline cyan")
            line.append(_safe(after))
        else:
            line = Text(_safe(answer.text), style="bold")
        parts.append(Padding(line, (0, 0, 1 if not answer.dates else 0, 2), expand=False))
        if answer.dates:
            parts.append(Padding(Text("Date: " + shown(", ".join(answer.dates)), style="cyan"), (0, 0, 1, 2), expand=False))
        if answer.date_statements:
            parts.append(Padding(Text("Sources differ on the date (newest publication first):", style="bold yellow"),
                                 (0, 0, 0, 2), expand=False))
            for statement in answer.date_statements:
                line = Text(f"[{statement.citation}] ", style="bold cyan")
                line.append(shown(", ".join(statement.dates)), style="cyan")
                line.append(f" — published {shown(statement.published or 'undated')}: ", style="dim")
                line.append(shown(statement.text))
                parts.append(Padding(line, (0, 0, 0, 4), expand=False))
            parts.append(Text(""))
        for note in answer.notes:
            parts.append(Padding(Text(shown(note), style="yellow"), (0, 0, 1, 2), expand=False))
    else:
        parts.append(Text(NO_ANSWER, style="bold yellow"))
        for note in answer.notes:  # what the corpus does hold: "... for the US (GENIUS Act), not for the UK"
            parts.append(Padding(Text(shown(note), style="yellow"), (0, 0, 0, 2), expand=False))
        if answer.passages:
            parts.append(Padding(Text("The closest passages, which do not answer it:", style="dim"), (0, 0, 1, 0), expand=False))
    for hit in answer.passages:
        highlight = answer.highlight if answer.answerable and hit.rank == answer.citation else None
        parts.append(citation(hit, corpus, piped=piped))
        parts.append(Padding(passage_text(hit, highlight), (0, 0, 1, 4), expand=False))
    return Group(*parts)


def _safe(text: str) -> str:
    """Text of several lines safe on a terminal (line breaks kept, everything else `shown` drops dropped)."""
    return for_terminal(text)


def hit_json(hit: Hit) -> dict[str, Any]:
    chunk = hit.chunk
    record = {
        "rank": hit.rank,
        "doc_id": chunk.meta.doc_id,
        "source": chunk.meta.source,
        "title": chunk.meta.title,
        "section": " › ".join(chunk.section) or None,
        "lines": [chunk.line_start, chunk.line_end],
        "lines_of": "extracted text" if chunk.meta.kind in EXTRACTED_TEXT else "source file",
        "score": round(hit.score, 6),
        "text": chunk.text,
        "date": chunk.meta.date,
        "jurisdiction": chunk.meta.jurisdiction,
        "regulator": chunk.meta.regulator,
        "type": chunk.meta.doc_type,
        "dense_score": None if hit.dense_score is None else round(hit.dense_score, 6),
        "lexical_score": None if hit.lexical_score is None else round(hit.lexical_score, 6),
        "stale": chunk.stale,
        "origin": origin(chunk.meta),
    }
    if chunk.page_start is not None:
        record["pages"] = [chunk.page_start, chunk.page_end]
    if hit.also_in:
        record["also_in"] = [{"doc_id": c.meta.doc_id, "source": c.meta.source, "title": c.meta.title,
                              "lines": [c.line_start, c.line_end]} for c in hit.also_in]
    return record


@to_json.register(Answer)
def _(answer: Answer) -> dict[str, Any]:
    lines = _answer_lines(answer)
    return {
        "schema": "kb.ask/1",
        "question": answer.question,
        "answer": answer.text,
        "answerable": answer.answerable,
        "answer_type": answer.answer_type,
        "answer_span": None if answer.span is None else {
            "text": answer.span.text, "start": answer.span.start, "end": answer.span.end, "kind": answer.span.kind},
        "citation": answer.citation,
        "citations": list(answer_citations(answer)),  # the cited passage and any shown one holding the rest of the answer
        "answer_lines": list(lines) if lines else None,
        "confidence": answer.confidence,
        "dates": list(answer.dates),
        "notes": list(answer.notes),
        "date_statements": [{"citation": s.citation, "text": s.text, "dates": list(s.dates),
                             "published": s.published} for s in answer.date_statements],
        "passages": [hit_json(hit) for hit in answer.passages],
    }


# --- search (kb mcp's search tool) ------------------------------------------------------------------


@to_json.register(Passages)
def _(found: Passages) -> dict[str, Any]:
    return {"schema": "kb.search/1", "query": found.query, "filters": found.filters.describe() or None,
            "passages": [hit_json(hit) for hit in found.hits]}


@print_result.register(Passages)
def _(found: Passages, console: Console) -> None:
    piped = not console.is_terminal
    for hit in found.hits:
        console.print(citation(hit, found.corpus, piped=piped), crop=not piped)
        console.print(Padding(passage_text(hit), (0, 0, 1, 4), expand=False))


# --- kb index ----------------------------------------------------------------------------------------


@to_json.register(BuildReport)
def _(report: BuildReport) -> dict[str, Any]:
    return {
        "schema": "kb.index/1",
        "index": path_json(report.index),
        "corpus": path_json(report.corpus),
        "written": report.written,
        "full_rebuild_reason": report.full_reason,
        "documents": report.documents,
        "chunks": report.chunks,
        "added": list(report.added),
        "updated": list(report.updated),
        "removed": list(report.removed),
        "unchanged": report.unchanged,
        "skipped": [{"path": s.path, "reason": s.message} for s in report.skipped],
        "stale": [{"path": s.path, "reason": s.message} for s in report.stale],
        "warnings": [{"path": w.path, "message": w.message} for w in report.warnings],
        "conflicts": [{"path": c.path, "reason": c.message} for c in report.conflicts],
        "links": [{"path": link.path, "reason": link.message} for link in report.links],
        "duplicates_dropped": report.duplicates,
        "embedded": report.embedded,
        "reused": report.reused,
        "seconds": round(report.seconds, 3),
        "notes": list(report.notes),
        "summary": report.summary_line(),
    }


@print_result.register(BuildReport)
def _(report: BuildReport, console: Console) -> None:
    repeated = f" ({report.duplicates:,} repeated passage{'' if report.duplicates == 1 else 's'} dropped)"
    rows = [("Index", shown(report.index)), ("Corpus", shown(report.corpus)), ("Documents", f"{report.documents:,}"),
            ("Chunks", f"{report.chunks:,}" + (repeated if report.duplicates else ""))]
    if report.written:
        rows.append(("Embedded", f"{report.embedded:,} new, {report.reused:,} re-used"))
    rows.append(("Skipped", f"{len(report.skipped)}"))
    ignored = [f"{len(report.hidden)} hidden"] if report.hidden else []
    if report.links:
        ignored.append(f"{len(report.links)} link{'' if len(report.links) == 1 else 's'} to indexed files")
    if ignored:
        rows.append(("Ignored", ", ".join(ignored)))
    rows.append(("Seconds", f"{report.seconds:.2f}"))
    console.print(_fields(rows))
    for link in report.links[:LINKS_SHOWN]:  # not problems, but a file the user may expect to see cited
        console.print(Text(f"  {shown(link.path)}: {shown(link.message)}", style="dim"), soft_wrap=True)
    if len(report.links) > LINKS_SHOWN:
        console.print(Text(f"  and {len(report.links) - LINKS_SHOWN} more (kb index --json lists them)", style="dim"))
    _print_problems(report, console)
    console.print(_build_summary(report))


def _print_problems(report: BuildReport, console: Console) -> None:
    """The files a build skipped, kept stale or warned about, with the reason for each."""
    problems = [(s.path, "skipped", s.message) for s in report.skipped]
    problems += [(s.path, "stale", f"{s.message}; its last indexed text is kept") for s in report.stale]
    problems += [(c.path, "record skipped", c.message) for c in report.conflicts]
    problems += [(w.path, "warning", w.message) for w in report.warnings]
    if problems:
        details = Table(title="Files with problems", title_justify="left", show_lines=False)
        details.add_column("File", style="yellow", overflow="fold")
        details.add_column("")
        details.add_column("Reason", overflow="fold")
        for path, kind, reason in problems[:200]:
            details.add_row(shown(path), kind, shown(reason))
        if len(problems) > 200:
            details.add_row(f"… {len(problems) - 200} more", "", "see kb index --json")
        console.print(details)
    for note in report.notes:
        console.print(Text(f"Note: {shown(note)}", style="yellow"))


def _build_summary(report: BuildReport) -> Text:
    """The line `kb index` ends with (and `kb add` too): what was new, updated, unchanged, removed, skipped."""
    line = report.summary_line()
    if not report.written:
        line += " — the index is up to date"
    elif report.full_reason:
        line += f" — full build ({shown(report.full_reason)})"
    return Text(line, style="bold green")


def _fields(rows: list[tuple[str, str]]) -> Table:
    """Label and value, one pair a line, without borders."""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, value)
    return table


# --- kb add ------------------------------------------------------------------------------------------


@to_json.register(AddReport)
def _(report: AddReport) -> dict[str, Any]:
    return {
        "schema": "kb.add/1",
        "corpus": path_json(report.corpus),
        "ok": report.ok,
        "sources": [{"source": readable(r.source), "status": r.status, "path": path_json(r.path), "size": r.size,
                     "content_type": r.content_type, "url": r.url} for r in report.results],
        "failed": [{"source": readable(source), "error": readable(error.message), "hint": error.hint or None}
                   for source, error in report.failures],
        "index": None if report.build is None else to_json(report.build),
        "index_error": None if report.index_error is None else {
            "error": report.index_error.message, "hint": report.index_error.hint or None},
    }


@print_result.register(AddReport)
def _(report: AddReport, console: Console) -> None:
    styles = {"added": "bold green", "updated": "yellow", "unchanged": "dim"}
    for result in report.results:
        line = Text(f"{result.status:<10}", style=styles[result.status])
        line.append(display_path(result.path.parent, result.path.name), style="green")
        if result.url:
            line.append(" ← ", style="dim")
            line.append(shown(result.url), style="blue")
        line.append(f" ({_size(result.size)})", style="dim")
        console.print(line, soft_wrap=True)
    errors = Console(stderr=True)
    for source, error in report.failures:
        errors.print(Text("Error: ", style="bold red") + Text(shown(error.message), style="red"), soft_wrap=True)
        if error.hint:
            errors.print(Text(f"  Hint: {error.hint}", style="dim"), soft_wrap=True)
    if report.index_error is not None:
        errors.print(Text("Error: ", style="bold red") + Text(f"the index was not updated: {report.index_error.message}",
                                                               style="red"), soft_wrap=True)
        errors.print(Text(f"  Hint: {report.index_error.hint or 'run kb index'}", style="dim"), soft_wrap=True)
    if report.build is not None:
        _print_problems(report.build, console)
        console.print(_build_summary(report.build))
    elif report.results and report.index_error is None:
        console.print(Text("Not indexed: run `kb index` to index the added files.", style="dim"))


def _size(size: int) -> str:
    return f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{size / 1024:.1f} kB" if size >= 1024 else f"{size} B"


# --- kb status ---------------------------------------------------------------------------------------


@to_json.register(IndexStatus)
def _(status: IndexStatus) -> dict[str, Any]:
    return {
        "schema": "kb.status/1",
        "index": path_json(status.index),
        "build": status.build,
        "manifest": status.manifest.to_json(),
        "corpus": path_json(status.corpus),
        "corpus_missing": status.corpus_missing,
        "up_to_date": status.is_current,
        "update_command": None if status.is_current else status.update_command,
        "added": list(status.added),
        "changed": list(status.changed),
        "removed": list(status.removed),
        "skipped": [{"path": s.path, "reason": s.message} for s in status.skipped],
        "stale": [{"path": s.path, "reason": s.message} for s in status.stale],
    }


@print_result.register(IndexStatus)
def _(status: IndexStatus, console: Console) -> None:
    manifest, counts = status.manifest, status.manifest.counts
    console.print(_fields([
        ("Index", shown(f"{status.index} (build {status.build})")),
        ("Built", shown(manifest.built_at)),
        ("Corpus", shown(status.corpus)),
        ("Model", shown(f"{manifest.model.name} ({manifest.model.dimension} dimensions)")),
        ("Chunking", f"≤ {manifest.chunker.max_tokens} tokens, overlap {manifest.chunker.overlap_tokens}"),
        ("Dense index", shown(manifest.dense.kind)),
        ("Files", f"{counts.files:,} indexed, {counts.skipped:,} skipped"),
        ("Documents", f"{counts.documents:,}"),
        ("Chunks", f"{counts.chunks:,}"),
    ] + [("Stale", shown(f"{s.path}: {s.message}")) for s in status.stale]))
    if status.corpus_missing:
        console.print(Text(f"The corpus folder {shown(status.corpus)} no longer exists.", style="yellow"))
    elif status.is_current:
        console.print(Text("The corpus is unchanged since the build.", style="green"))
    else:
        for label, paths, style in (("added", status.added, "green"), ("changed", status.changed, "yellow"),
                                    ("removed", status.removed, "red")):
            for path in paths:
                console.print(Text(f"  {label:<8}", style=style) + Text(shown(path)))
        console.print(Text(f"Run `{shown(status.update_command)}` to bring the index up to date.", style="bold"),
                      soft_wrap=True)  # a command to copy: not folded


# --- kb sources --------------------------------------------------------------------------------------


@to_json.register(SourceList)
def _(listed: SourceList) -> dict[str, Any]:
    return {"schema": "kb.sources/1", "documents": [_source_json(source) for source in listed.sources],
            "total": listed.total}


def _source_json(source: Source) -> dict[str, Any]:
    meta = source.meta
    return {"doc_id": meta.doc_id, "source": meta.source, "title": meta.title, "date": meta.date,
            "jurisdiction": meta.jurisdiction, "regulator": meta.regulator, "type": meta.doc_type,
            "inferred": list(meta.inferred), "chunks": source.chunks, "origin": meta.extra.get("origin")}


@print_result.register(SourceList)
def _(listed: SourceList, console: Console) -> None:
    filters = listed.filters
    table = Table(title=f"{listed.total:,} document(s)" + (f" ({shown(filters.describe())})" if not filters.is_empty else ""),
                  title_justify="left")
    for column in ("Title", "Date", "Jurisdiction", "Regulator", "Type", "Chunks", "Source"):
        table.add_column(column, justify="right" if column == "Chunks" else "left", overflow="fold")

    def mark(meta, field: str, value: str | None) -> str:  # "*": inferred from the text
        return "" if value is None else shown(value) + ("*" if field in meta.inferred else "")

    for source in listed.sources:
        meta = source.meta
        where = Text(shown(meta.source))
        address = web_address(meta)
        if address:
            where.append("\n" + address, style=Style(color="blue", link=address))
        table.add_row(shown(meta.title), mark(meta, "date", meta.date) or "undated",
                      mark(meta, "jurisdiction", meta.jurisdiction), mark(meta, "regulator", meta.regulator),
                      mark(meta, "doc_type", meta.doc_type), str(source.chunks), where)
    console.print(table)
    if any(source.meta.inferred for source in listed.sources):
        console.print(Text("* inferred from the text", style="dim"))


# --- kb timeline -------------------------------------------------------------------------------------


@to_json.register(Timeline)
def _(timeline: Timeline) -> dict[str, Any]:
    return {"schema": "kb.timeline/1", "as_of": timeline.as_of.isoformat(), "events": [
        {"date": e.label, "first": e.first.isoformat(), "last": e.last.isoformat(), "precision": e.precision,
         "relative": e.relative, "status": e.status, "event": e.text, "doc_id": e.chunk.meta.doc_id,
         "source": e.chunk.meta.source, "title": e.chunk.meta.title, "lines": list(e.lines),
         "pages": [e.chunk.page_start, e.chunk.page_end] if e.chunk.page_start else None,
         "published": e.chunk.meta.date, "jurisdiction": e.chunk.meta.jurisdiction,
         "regulator": e.chunk.meta.regulator} for e in timeline.events]}


TIMELINE_TITLE_CHARS = 70


@print_result.register(Timeline)
def _(timeline: Timeline, console: Console) -> None:
    table = Table(title=f"{len(timeline.events)} dated event(s), as of {timeline.as_of.isoformat()}",
                  title_justify="left", show_lines=False)
    table.add_column("Date", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("Event", overflow="fold", ratio=3)
    table.add_column("Source", overflow="fold", ratio=2)
    styles = {"past": "dim", "current": "yellow", "upcoming": "bold green"}
    for event in timeline.events:
        chunk = event.chunk
        # The document's title first: "Consultation opens: 16/12/2025" says which consultation only by it.
        source = Text(shorten(shown(chunk.meta.title), TIMELINE_TITLE_CHARS) + "\n", style="italic")
        source.append_text(cited_path(timeline.corpus, chunk, event.lines))
        source.append(f" ({shown(chunk.meta.date or 'undated')})", style="dim")
        table.add_row(Text(shown(event.label), style="bold"), Text(event.status, style=styles[event.status]),
                      Text(shown(event.text)), source)
    console.print(table)


# --- kb doctor ---------------------------------------------------------------------------------------


@to_json.register(Diagnosis)
def _(diagnosis: Diagnosis) -> dict[str, Any]:
    return {"schema": "kb.doctor/1", "healthy": diagnosis.healthy,
            "checks": [dataclasses.asdict(check) for check in diagnosis.checks]}


@print_result.register(Diagnosis)
def _(diagnosis: Diagnosis, console: Console) -> None:
    for check in diagnosis.checks:
        mark = Text("  ok  ", style="bold green") if check.ok else Text(" FAIL ", style="bold white on red")
        console.print(mark + Text(f" {check.name}: ", style="bold") + Text(shown(check.detail)), soft_wrap=True)
        if check.fix:
            console.print(Text(f"       → {shown(check.fix)}", style="yellow" if check.ok else "bold yellow"), soft_wrap=True)
    healthy = diagnosis.healthy
    console.print(Text("The index is healthy." if healthy else "The index needs repair.",
                       style="bold green" if healthy else "bold red"))


# --- kb eval -----------------------------------------------------------------------------------------


@to_json.register(EvalReport)
def _(report: EvalReport) -> dict[str, Any]:
    data = {"schema": "kb.eval/1", **report.metrics, "questions": report.questions, "mode": report.mode,
            "latency_ms": {"p50": round(report.latency_p50_ms, 2), "p95": round(report.latency_p95_ms, 2)},
            "unknown_relevant": list(report.unknown_relevant), "questions_read": report.read,
            "answers_only": list(report.answers_only), "skipped": list(report.skipped)}
    if report.answers is not None:
        answers = report.answers
        data["answers"] = {**_scores_json(answers.overall),
                           "by_type": {kind: _scores_json(scores) for kind, scores in answers.by_type.items()},
                           "latency_ms": {"p50": round(answers.latency_p50_ms, 2),
                                          "p95": round(answers.latency_p95_ms, 2)},
                           "misses": list(answers.misses)}
    return data


def _scores_json(scores: AnswerScores) -> dict[str, Any]:
    return {"answerable": scores.answerable, "unanswerable": scores.unanswerable, "accuracy": scores.accuracy,
            "file_accuracy": scores.file_accuracy, "hit@1": scores.hit_at_1, "hit@3": scores.hit_at_3,
            "unanswerable_declined": scores.declined, "answerable_declined": scores.wrongly_declined}


@print_result.register(EvalReport)
def _(report: EvalReport, console: Console) -> None:
    if report.metrics:
        table = Table(title=f"{report.questions:,} questions, {report.mode} search, k = {report.k}",
                      title_justify="left")
        for name in report.metrics:
            table.add_column(name, justify="right")
        table.add_column("p50 ms", justify="right")
        table.add_column("p95 ms", justify="right")
        table.add_row(*(f"{value:.4f}" for value in report.metrics.values()),
                      f"{report.latency_p50_ms:.1f}", f"{report.latency_p95_ms:.1f}")
        console.print(table)
    if report.answers is not None:
        answers = report.answers
        # Headers broken into lines by hand (rich would cut them short): the table fits 80 columns.
        table = Table(title=f"Answers (as kb ask gives them), p50 {answers.latency_p50_ms:.0f} ms a question",
                      title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0))
        table.add_column("questions")
        for column in ("with\nanswer", "without", "accuracy", "right\nfile", "hit@1", "hit@3", "declined",
                       "wrongly\ndeclined"):
            table.add_column(column, justify="right")
        for label, scores in [("all", answers.overall), *answers.by_type.items()]:
            table.add_row(label, str(scores.answerable), str(scores.unanswerable),
                          *(_share(value) for value in (scores.accuracy, scores.file_accuracy, scores.hit_at_1,
                                                        scores.hit_at_3, scores.declined, scores.wrongly_declined)))
        console.print(table)
        console.print(Text("right file: the answer cites a relevant file; declined: questions without an answer "
                           "that kb declined; wrongly declined: questions with one that it declined.", style="dim"))
    if report.answers_only or report.skipped:  # why the count above is not the file's number of lines
        text = f"{report.read:,} question(s) read"
        if report.answers_only:
            ids = ", ".join(shown(i) for i in report.answers_only[:5])
            more = f" and {len(report.answers_only) - 5} more" if len(report.answers_only) > 5 else ""
            text += (f"; {len(report.answers_only):,} without relevant documents, scored on the answer only "
                     f"(not in the search metrics): {ids}{more}")
        if report.skipped:
            text += "; skipped " + ", ".join(shown(note) for note in report.skipped[:5]) + (
                f" and {len(report.skipped) - 5} more" if len(report.skipped) > 5 else "")
        console.print(Text(text + ".", style="dim"))
    if report.unknown_relevant:
        names = ", ".join(shown(r) for r in report.unknown_relevant[:5])
        more = f" and {len(report.unknown_relevant) - 5} more" if len(report.unknown_relevant) > 5 else ""
        console.print(Text(f"Warning: {len(report.unknown_relevant)} relevant id(s) are not in the index "
                           f"(each counts as a miss): {names}{more}", style="yellow"), soft_wrap=True)


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"