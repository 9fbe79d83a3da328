"""The `kb` command line: parse arguments, call the library, render. Nothing else lives here."""

from __future__ import annotations

import functools
import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import typer
from rich.console import Console
from rich.text import Text

from kb import __version__
from kb.config import Settings, load_settings
from kb.errors import KBError
from kb.cli.render import progress_bars, show

if TYPE_CHECKING:
    from kb.filters import Filters

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


@dataclass(frozen=True)
class FilterOptions:
    """Stands in a command's signature for the filter options; `with_filters` puts them there and
    hands the command one `kb.filters.Filters` made from them."""

    dates: bool = True  # also --since and --until


ALL_FILTERS = FilterOptions()
PLACE_AND_TYPE_FILTERS = FilterOptions(dates=False)

_FILTER_OPTIONS = [  # (parameter, option), in --help order
    ("jurisdiction", typer.Option(None, "--jurisdiction", "-j",
                                  help="Only documents of this jurisdiction (UK, EU, US...); repeatable.")),
    ("regulator", typer.Option(None, "--regulator", "-r",
                               help="Only documents of this regulator (FCA, ESMA, SEC...); repeatable.")),
    ("doc_type", typer.Option(None, "--type", "-t", help="Only documents of this type (law, consultation, "
                              "policy statement, guidance, news); repeatable.")),
    ("since", typer.Option(None, "--since", help="Only documents dated on or after DATE (2025, 2025-09, 2025-09-10).")),
    ("until", typer.Option(None, "--until", help="Only documents dated on or before DATE.")),
]
_FILTER_TYPES = {"jurisdiction": Optional[list[str]], "regulator": Optional[list[str]],
                 "doc_type": Optional[list[str]], "since": Optional[str], "until": Optional[str]}


def with_filters(command: Callable) -> Callable:
    """The filter options in place of the command's parameter whose default is a FilterOptions."""
    signature = inspect.signature(command)
    marked = [p for p in signature.parameters.values() if isinstance(p.default, FilterOptions)]
    if not marked:
        return command
    placeholder = marked[0]
    names = [name for name, _ in _FILTER_OPTIONS if placeholder.default.dates or name not in ("since", "until")]
    options = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=option,
                                 annotation=_FILTER_TYPES[name]) for name, option in _FILTER_OPTIONS if name in names]
    parameters = []
    for parameter in signature.parameters.values():
        parameters.extend(options if parameter is placeholder else [parameter])

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from kb.filters import Filters

        values = {name: kwargs.pop(name) for name in names}
        kwargs[placeholder.name] = Filters.from_options(values["jurisdiction"], values["regulator"],
                                                        values["doc_type"], values.get("since"), values.get("until"))
        return command(*args, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=parameters)
    annotations = {k: v for k, v in command.__annotations__.items() if k != placeholder.name}
    wrapper.__annotations__ = {**annotations, **{name: _FILTER_TYPES[name] for name in names}}
    return wrapper


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
    with progress_bars(as_json) as progress:
        report = build_index(settings, rebuild=rebuild, strict=strict, wait=wait, if_missing=if_missing,
                             progress=progress, dense_kind=dense, embedder_factory=factory)
    if report is not None:
        show(report, as_json=as_json)


# --- kb ask -----------------------------------------------------------------------------------------


@app.command("ask")
@handle_errors
@with_filters
def ask_command(
    question: Optional[str] = typer.Argument(None, help="The question, in quotes. Leave out for an interactive prompt."),
    top_k: Optional[int] = typer.Option(None, "--top-k", "-k", min=1, max=50, help="Number of passages to cite."),
    index: Optional[Path] = IndexOption,
    model: Optional[str] = ModelOption,
    filters: Filters = ALL_FILTERS,
    as_json: bool = JsonOption,
) -> None:
    """Answer a question from the index: the answering sentence, highlighted, with numbered citations.

    Filters apply inside the search, so a filtered question still gets --top-k passages.
    Example: kb ask "When do FCA licences open?" --top-k 3 --jurisdiction UK
    """
    from kb.session import open_session

    settings = _settings(index=index, model=model, top_k=top_k)
    session = open_session(settings, filters)
    console = Console()

    def ask_one(text: str) -> None:
        show(session.ask(text, settings.top_k), as_json=as_json, console=console, corpus=session.corpus)

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

    show(index_status(_settings(index=index).index), as_json=as_json)


# --- kb sources ------------------------------------------------------------------------------------


@app.command("sources")
@handle_errors
@with_filters
def sources_command(
    index: Optional[Path] = IndexOption,
    filters: Filters = ALL_FILTERS,
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Show at most N documents."),
    as_json: bool = JsonOption,
) -> None:
    """List the documents in the index: title, date, jurisdiction, regulator, type and chunks.

    Values marked * were inferred from the text rather than given in the document's metadata.
    Example: kb sources --jurisdiction UK --type consultation
    """
    from kb.sources import list_sources

    show(list_sources(_settings(index=index).index, filters, limit), as_json=as_json)


# --- kb timeline -----------------------------------------------------------------------------------


@app.command("timeline")
@handle_errors
@with_filters
def timeline_command(
    index: Optional[Path] = IndexOption,
    filters: Filters = PLACE_AND_TYPE_FILTERS,
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
    from kb.timeline import index_timeline

    reference = parse_date_option(as_of, "--as-of")[0] if as_of else None
    show(index_timeline(_settings(index=index).index, filters, topic, reference, upcoming=upcoming), as_json=as_json)


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

    diagnosis = diagnose(_settings(index=index).index)
    show(diagnosis, as_json=as_json)
    if not diagnosis.healthy:
        raise typer.Exit(1)


# --- kb eval ---------------------------------------------------------------------------------------


@app.command("eval")
@handle_errors
@with_filters
def eval_command(
    questions: Path = typer.Argument(..., help='JSON lines: {"id", "question", "relevant": [doc_id, ...]}.'),
    index: Optional[Path] = IndexOption,
    k: int = typer.Option(10, "--k", min=1, max=1000, help="Cut-off of every metric."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid, dense or lexical (for ablations)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Use only the first N questions."),
    filters: Filters = ALL_FILTERS,
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
    with progress_bars(as_json, remaining=True) as progress:
        report = evaluate_questions(_settings(index=index), questions, k, mode=mode, limit=limit, filters=filters,
                                    progress=progress)
    show(report, as_json=as_json)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
