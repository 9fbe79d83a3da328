"""The `kb` command line: parse arguments, call the library, render. Nothing else lives here."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kb import __version__
from kb.config import Settings, load_settings
from kb.errors import KBError
from kb.progress import NoProgress
from kb.text import strip_controls

app = typer.Typer(
    name="kb",
    help="A regulatory-readiness knowledge base: cited, extractive answers from your own corpus, offline.\n\n"
    'Example: kb index corpus/ && kb ask "When do FCA licences open?"',
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain click help: rich help imports a Markdown parser, +0.15 s a call
    context_settings={"help_option_names": ["-h", "--help"]},
)

IndexOption = typer.Option(None, "--index", "-i", help="Index folder (default: indexes/default, or `index` in kb.toml).")
ModelOption = typer.Option(None, "--model", help="Embedding model: all-MiniLM-L6-v2 (bundled) or a local model folder.")
JsonOption = typer.Option(False, "--json", help="Print one JSON object instead of formatted text.")
JurisdictionOption = typer.Option(None, "--jurisdiction", "-j", help="Only documents of this jurisdiction (UK, EU, US...); repeatable.")
RegulatorOption = typer.Option(None, "--regulator", "-r", help="Only documents of this regulator (FCA, ESMA, SEC...); repeatable.")
TypeOption = typer.Option(None, "--type", "-t", help="Only documents of this type (law, consultation, policy statement, guidance, news); repeatable.")
SinceOption = typer.Option(None, "--since", help="Only documents dated on or after DATE (2025, 2025-09, 2025-09-10).")
UntilOption = typer.Option(None, "--until", help="Only documents dated on or before DATE.")


def _debug() -> bool:
    return os.environ.get("KB_DEBUG", "") not in ("", "0")


def handle_errors(command: Callable) -> Callable:
    """User errors become one red line and a hint, never a traceback (KB_DEBUG=1 shows it)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KBError as exc:
            if _debug():
                raise
            console = Console(stderr=True)
            console.print(Text("Error: ", style="bold red") + Text(exc.message, style="red"), soft_wrap=True)
            if exc.hint:
                console.print(Text(f"Hint: {exc.hint}", style="dim"), soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            Console(stderr=True).print(Text("Interrupted.", style="yellow"))
            raise typer.Exit(130) from None

    return wrapper


def _settings(**overrides: Any) -> Settings:
    return load_settings(overrides)


def _filters(jurisdiction, regulator, doc_type, since, until):
    from kb.filters import Filters

    return Filters.from_options(jurisdiction, regulator, doc_type, since, until)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kb {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """kb: cited answers from a local corpus of regulatory texts."""


# --- kb index ---------------------------------------------------------------------------------------


class _RichProgress:
    """Progress bars for the stages of a long command, on stderr so --json output stays clean."""

    def __init__(self, console: Console, remaining: bool = False) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        clock = TimeRemainingColumn() if remaining else TimeElapsedColumn()
        self._progress = Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), clock,
                                  console=console, transient=False)
        self._task = None

    def __enter__(self) -> "_RichProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()

    def start(self, stage: str, total: int) -> None:
        if self._task is not None:
            task = self._progress.tasks[-1]
            self._progress.update(self._task, completed=task.total)
        self._task = self._progress.add_task(stage, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)


@contextlib.contextmanager
def _progress(as_json: bool, *, remaining: bool = False) -> Iterator[Any]:
    """Bars on a terminal's stderr; nothing for --json or when stderr is not a terminal."""
    err = Console(stderr=True)
    if as_json or not err.is_terminal:
        yield NoProgress()
        return
    with _RichProgress(err, remaining) as progress:
        yield progress


@app.command("index")
@handle_errors
def index_command(
    corpus: Optional[Path] = typer.Argument(None, help="Corpus folder (default: corpus/, or `corpus` in kb.toml)."),
    index: Optional[Path] = IndexOption,
    model: Optional[str] = ModelOption,
    rebuild: bool = typer.Option(False, "--rebuild", help="Re-read and re-embed everything."),
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero when any file is skipped."),
    if_missing: bool = typer.Option(False, "--if-missing", help="Do nothing when an index already exists."),
    wait: float = typer.Option(0.0, "--wait", help="Seconds to wait for another running `kb index`."),
    dense: str = typer.Option("auto", "--dense", help="FAISS index: auto (exact up to 20k chunks, then IVF "
                              "tuned to recall@10 >= 0.98), flat, flat-fp16, ivf, ivf-fp16 or hnsw."),
    ray: bool = typer.Option(False, "--ray", help="Embed on a Ray cluster (the `ray` extra); same index format."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster address (default: "
                                              "RAY_ADDRESS, else a local Ray instance)."),
    as_json: bool = JsonOption,
) -> None:
    """Build or update the index from a corpus folder (only changed files are re-read and re-embedded).

    Example: kb index corpus/ --index indexes/default
    """
    from kb.build import build_index
    from kb.index.dense import KINDS

    if dense not in KINDS:
        raise typer.BadParameter(f"choose one of {', '.join(KINDS)}", param_hint="--dense")
    settings = _settings(corpus=corpus, index=index, model=model)
    factory = None
    if ray:
        from kb.distributed import ray_embedder_factory

        factory = ray_embedder_factory(settings.backend, ray_address)
    with _progress(as_json) as progress:
        report = build_index(settings, rebuild=rebuild, strict=strict, wait=wait, if_missing=if_missing,
                             progress=progress, dense_kind=dense, embedder_factory=factory)
    if report is None:
        return
    if as_json:
        _print_json(_report_json(report))
        return
    _print_report(report, Console())


def _report_json(report) -> dict[str, Any]:
    return {
        "index": str(report.index),
        "corpus": str(report.corpus),
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
        "duplicates_dropped": report.duplicates,
        "embedded": report.embedded,
        "reused": report.reused,
        "seconds": round(report.seconds, 3),
        "summary": report.summary_line(),
    }


def _print_report(report, console: Console) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Index", str(report.index))
    table.add_row("Corpus", str(report.corpus))
    table.add_row("Documents", f"{report.documents:,}")
    table.add_row("Chunks", f"{report.chunks:,}" + (f" ({report.duplicates:,} repeated passage{'' if report.duplicates == 1 else 's'} dropped)" if report.duplicates else ""))
    if report.written:
        table.add_row("Embedded", f"{report.embedded:,} new, {report.reused:,} re-used")
    table.add_row("Skipped", f"{len(report.skipped)}")
    if report.hidden:
        table.add_row("Ignored", f"{len(report.hidden)} hidden")
    table.add_row("Seconds", f"{report.seconds:.2f}")
    console.print(table)
    problems = [(s.path, "skipped", s.message) for s in report.skipped]
    problems += [(s.path, "stale", f"{s.message}; its last indexed text is kept") for s in report.stale]
    problems += [(w.path, "warning", w.message) for w in report.warnings]
    if problems:
        details = Table(title="Files with problems", title_justify="left", show_lines=False)
        details.add_column("File", style="yellow", overflow="fold")
        details.add_column("")
        details.add_column("Reason", overflow="fold")
        for path, kind, reason in problems[:200]:
            details.add_row(strip_controls(path), kind, strip_controls(reason))
        if len(problems) > 200:
            details.add_row(f"… {len(problems) - 200} more", "", "see kb index --json")
        console.print(details)
    line = report.summary_line()
    if not report.written:
        line += " — the index is up to date"
    elif report.full_reason:
        line += f" — full build ({report.full_reason})"
    console.print(Text(line, style="bold green"))


# --- kb ask -----------------------------------------------------------------------------------------


@app.command("ask")
@handle_errors
def ask_command(
    question: Optional[str] = typer.Argument(None, help="The question, in quotes. Leave out for an interactive prompt."),
    top_k: Optional[int] = typer.Option(None, "--top-k", "-k", min=1, max=50, help="Number of passages to cite."),
    index: Optional[Path] = IndexOption,
    model: Optional[str] = ModelOption,
    jurisdiction: Optional[list[str]] = JurisdictionOption,
    regulator: Optional[list[str]] = RegulatorOption,
    doc_type: Optional[list[str]] = TypeOption,
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    as_json: bool = JsonOption,
) -> None:
    """Answer a question from the index: the answering sentence, highlighted, with numbered citations.

    Filters apply inside the search, so a filtered question still gets --top-k passages.
    Example: kb ask "When do FCA licences open?" --top-k 3 --jurisdiction UK
    """
    from kb.cli.render import answer_to_json, render_answer
    from kb.session import open_session

    settings = _settings(index=index, model=model, top_k=top_k)
    session = open_session(settings, _filters(jurisdiction, regulator, doc_type, since, until))
    console = Console()

    def ask_one(text: str) -> None:
        answer = session.ask(text, settings.top_k)
        if as_json:
            _print_json(answer_to_json(answer))
        else:
            console.print(render_answer(answer, session.corpus))

    if question is not None:
        ask_one(question)
        return
    _interactive(ask_one, console)


def _interactive(ask_one: Callable[[str], None], console: Console) -> None:
    """A prompt that keeps the model and index loaded; Ctrl-D leaves."""
    try:
        import readline  # noqa: F401  (gives input() history and line editing)
    except ImportError:
        pass
    console.print(Text("Ask a question (Ctrl-D to leave).", style="dim"))
    while True:
        try:
            text = input("? ")
        except EOFError:
            console.print()
            return
        if not text.strip():
            continue
        try:
            ask_one(text)
        except KBError as exc:
            console.print(Text(f"Error: {exc.message}", style="red"))


# --- kb status --------------------------------------------------------------------------------------


@app.command("status")
@handle_errors
def status_command(
    index: Optional[Path] = IndexOption,
    as_json: bool = JsonOption,
) -> None:
    """Show what the index holds and which corpus files changed since it was built (no model needed).

    Example: kb status --index indexes/default
    """
    from kb.status import index_status

    settings = _settings(index=index)
    status = index_status(settings.index)
    if as_json:
        _print_json(status.to_json())
        return
    console = Console()
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for label, value in status.rows():
        table.add_row(label, value)
    console.print(table)
    if status.corpus_missing:
        console.print(Text(f"The corpus folder {status.corpus} no longer exists.", style="yellow"))
    elif status.is_current:
        console.print(Text("The corpus is unchanged since the build.", style="green"))
    else:
        for label, paths, style in (("added", status.added, "green"), ("changed", status.changed, "yellow"),
                                    ("removed", status.removed, "red")):
            for path in paths:
                console.print(Text(f"  {label:<8}", style=style) + Text(strip_controls(path)))
        console.print(Text("Run `kb index` to bring the index up to date.", style="bold"))


# --- kb sources ------------------------------------------------------------------------------------


@app.command("sources")
@handle_errors
def sources_command(
    index: Optional[Path] = IndexOption,
    jurisdiction: Optional[list[str]] = JurisdictionOption,
    regulator: Optional[list[str]] = RegulatorOption,
    doc_type: Optional[list[str]] = TypeOption,
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Show at most N documents."),
    as_json: bool = JsonOption,
) -> None:
    """List the documents in the index: title, date, jurisdiction, regulator, type and chunks.

    Values marked * were inferred from the text rather than given in the document's metadata.
    Example: kb sources --jurisdiction UK --type consultation
    """
    from kb.sources import list_sources

    settings = _settings(index=index)
    listed = list_sources(settings.index, _filters(jurisdiction, regulator, doc_type, since, until), limit)
    if as_json:
        _print_json({"documents": [
            {"doc_id": m.doc_id, "source": m.source, "title": m.title, "date": m.date, "jurisdiction": m.jurisdiction,
             "regulator": m.regulator, "type": m.doc_type, "inferred": list(m.inferred), "chunks": chunks,
             "origin": m.extra.get("origin")} for m, chunks in ((s.meta, s.chunks) for s in listed.sources)],
            "total": listed.total})
        return
    filters = listed.filters
    table = Table(title=f"{listed.total:,} document(s)" + (f" ({filters.describe()})" if not filters.is_empty else ""),
                  title_justify="left")
    for column in ("Title", "Date", "Jurisdiction", "Regulator", "Type", "Chunks", "Source"):
        table.add_column(column, justify="right" if column == "Chunks" else "left", overflow="fold")

    def mark(meta, field: str, value: str | None) -> str:
        return "" if value is None else strip_controls(value) + ("*" if field in meta.inferred else "")

    for source in listed.sources:
        meta = source.meta
        table.add_row(strip_controls(meta.title), mark(meta, "date", meta.date) or "undated",
                      mark(meta, "jurisdiction", meta.jurisdiction), mark(meta, "regulator", meta.regulator),
                      mark(meta, "doc_type", meta.doc_type), str(source.chunks), strip_controls(meta.source))
    console = Console()
    console.print(table)
    if any(source.meta.inferred for source in listed.sources):
        console.print(Text("* inferred from the text", style="dim"))


# --- kb timeline -----------------------------------------------------------------------------------


@app.command("timeline")
@handle_errors
def timeline_command(
    index: Optional[Path] = IndexOption,
    jurisdiction: Optional[list[str]] = JurisdictionOption,
    regulator: Optional[list[str]] = RegulatorOption,
    doc_type: Optional[list[str]] = TypeOption,
    topic: Optional[str] = typer.Option(None, "--topic", help='Only passages that mention this, e.g. "stablecoin".'),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Tell past from upcoming relative to DATE (default: today)."),
    upcoming: bool = typer.Option(False, "--upcoming", help="Only events that have not passed yet."),
    as_json: bool = JsonOption,
) -> None:
    """A chronological table of the dated regulatory events in the corpus, each with its citation.

    Relative dates ("next week") are resolved against the document's publication date.
    Example: kb timeline --jurisdiction UK --topic licensing --upcoming
    """
    from kb.filters import parse_date_option
    from kb.cli.render import display_path, location
    from kb.timeline import index_timeline

    settings = _settings(index=index)
    filters = _filters(jurisdiction, regulator, doc_type, None, None)
    reference = parse_date_option(as_of, "--as-of")[0] if as_of else None
    timeline = index_timeline(settings.index, filters, topic, reference, upcoming=upcoming)
    reference, events = timeline.as_of, timeline.events
    if as_json:
        _print_json({"as_of": reference.isoformat(), "events": [
            {"date": e.label, "first": e.first.isoformat(), "last": e.last.isoformat(), "precision": e.precision,
             "relative": e.relative, "status": e.status, "event": e.text, "doc_id": e.chunk.meta.doc_id,
             "source": e.chunk.meta.source, "title": e.chunk.meta.title, "lines": list(e.lines),
             "pages": [e.chunk.page_start, e.chunk.page_end] if e.chunk.page_start else None,
             "published": e.chunk.meta.date, "jurisdiction": e.chunk.meta.jurisdiction,
             "regulator": e.chunk.meta.regulator} for e in events]})
        return
    table = Table(title=f"{len(events)} dated event(s), as of {reference.isoformat()}", title_justify="left",
                  show_lines=False)
    table.add_column("Date", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("Event", overflow="fold", ratio=3)
    table.add_column("Source", overflow="fold", ratio=2)
    styles = {"past": "dim", "current": "yellow", "upcoming": "bold green"}
    for event in events:
        chunk = event.chunk
        where = display_path(timeline.corpus, chunk.meta.source) + location(chunk, event.lines)
        source = Text(where, style="green")
        source.append(f" ({chunk.meta.date or 'undated'})", style="dim")
        table.add_row(Text(event.label, style="bold"), Text(event.status, style=styles[event.status]),
                      Text(event.text), source)
    Console().print(table)


# --- kb doctor -------------------------------------------------------------------------------------


@app.command("doctor")
@handle_errors
def doctor_command(
    index: Optional[Path] = IndexOption,
    as_json: bool = JsonOption,
) -> None:
    """Check an index for integrity (manifest, FAISS, BM25 and SQLite agree; every chunk's source known).

    Exits non-zero when something is wrong, and says how to repair it.
    Example: kb doctor --index indexes/default
    """
    from kb.doctor import diagnose

    settings = _settings(index=index)
    diagnosis = diagnose(settings.index)
    checks, healthy = diagnosis.checks, diagnosis.healthy
    if as_json:
        _print_json({"healthy": healthy, "checks": [dataclasses.asdict(check) for check in checks]})
    else:
        console = Console()
        for check in checks:
            mark = Text("  ok  ", style="bold green") if check.ok else Text(" FAIL ", style="bold white on red")
            console.print(mark + Text(f" {check.name}: ", style="bold") + Text(check.detail), soft_wrap=True)
            if check.fix:
                console.print(Text(f"       → {check.fix}", style="yellow" if check.ok else "bold yellow"), soft_wrap=True)
        console.print(Text("The index is healthy." if healthy else "The index needs repair.",
                           style="bold green" if healthy else "bold red"))
    if not healthy:
        raise typer.Exit(1)


# --- kb eval ---------------------------------------------------------------------------------------


@app.command("eval")
@handle_errors
def eval_command(
    questions: Path = typer.Argument(..., help='JSON lines: {"id", "question", "relevant": [doc_id, ...]}.'),
    index: Optional[Path] = IndexOption,
    k: int = typer.Option(10, "--k", min=1, max=1000, help="Cut-off of every metric."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid, dense or lexical (for ablations)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Use only the first N questions."),
    jurisdiction: Optional[list[str]] = JurisdictionOption,
    regulator: Optional[list[str]] = RegulatorOption,
    doc_type: Optional[list[str]] = TypeOption,
    since: Optional[str] = SinceOption,
    until: Optional[str] = UntilOption,
    as_json: bool = JsonOption,
) -> None:
    """Measure retrieval on questions with known relevant documents (same search as `kb ask`).

    Reports Recall@k, MAP@k, nDCG@k, MRR@k and Hit@k over documents, and warm search latency.
    Example: kb eval ../shared/data/obliqa/dev.jsonl --index indexes/obliqa --k 10
    """
    from kb.evaluate import evaluate_questions
    from kb.search import MODES

    if mode not in MODES:
        raise typer.BadParameter(f"choose one of {', '.join(MODES)}", param_hint="--mode")
    settings = _settings(index=index)
    filters = _filters(jurisdiction, regulator, doc_type, since, until)
    with _progress(as_json, remaining=True) as progress:
        report = evaluate_questions(settings, questions, k, mode=mode, limit=limit, filters=filters, progress=progress)
    if as_json:
        _print_json(report.to_json())
        return
    table = Table(title=f"{report.questions:,} questions, {mode} search, k = {k}", title_justify="left")
    for name in report.metrics:
        table.add_column(name, justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p95 ms", justify="right")
    table.add_row(*(f"{value:.4f}" for value in report.metrics.values()),
                  f"{report.latency_p50_ms:.1f}", f"{report.latency_p95_ms:.1f}")
    Console().print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
