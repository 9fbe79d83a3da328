"""`kb ask`: one question, or a prompt that keeps the model loaded."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import typer
from rich.console import Console
from rich.text import Text

from kb.cli.app import command, settings
from kb.cli.options import ALL_FILTERS, IndexOption, JsonOption, ModelOption
from kb.errors import KBError
from kb.text import collapse_whitespace

if TYPE_CHECKING:
    from kb.filters import Filters


@command("ask")
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
    from kb.cli.render import show
    from kb.session import open_session

    configured = settings(index=index, model=model, top_k=top_k)
    session = open_session(configured, filters)
    console = Console()

    def ask_one(text: str) -> None:
        show(session.ask(text, configured.top_k), as_json=as_json, console=console, corpus=session.corpus)

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
            console.print(Text(f"Error: {collapse_whitespace(exc.message)}", style="red"))
