"""`kb ask`: one question, or a prompt that keeps the model loaded."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from kb.cli.app import command, settings
from kb.cli.options import ALL_FILTERS, AnswerFormat, IndexOption, JsonOption, ModelOption

if TYPE_CHECKING:
    from kb.filters import Filters


@command("ask")
def ask_command(
    question: Optional[str] = typer.Argument(None, help="The question, in quotes. Leave out for an interactive prompt."),
    top_k: Optional[int] = typer.Option(None, "--top-k", "-k", min=1, max=50, help="Number of passages to cite."),
    index: Optional[Path] = IndexOption,
    model: Optional[str] = ModelOption,
    filters: Filters = ALL_FILTERS,
    fmt: AnswerFormat = typer.Option(AnswerFormat.text, "--format", "-f",
                                     help="text (for the terminal) or markdown (the answer with footnote citations)."),
    as_json: bool = JsonOption,
) -> None:
    """Answer a question from the index: the answering sentence, highlighted, with numbered citations.

    Filters apply inside the search, so a filtered question still gets --top-k passages.
    Without a question, a prompt keeps the model loaded (:help lists its commands).
    Example: kb ask "When do FCA licences open?" --top-k 3 --jurisdiction UK
    """
    from kb.cli.prompt import Asker, interactive
    from kb.session import open_session

    if as_json and fmt is not AnswerFormat.text:
        raise typer.BadParameter("--json is a format of its own; leave out one of them", param_hint="--format")
    configured = settings(index=index, model=model, top_k=top_k)
    asker = Asker(open_session(configured, filters), configured.top_k, as_json=as_json, markdown=fmt is AnswerFormat.markdown)
    if question is not None:
        asker.ask(question)
        return
    interactive(asker)
