"""`kb sources`: the documents of the index."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from kb.cli.app import command, settings
from kb.cli.options import ALL_FILTERS, IndexOption, JsonOption

if TYPE_CHECKING:
    from kb.filters import Filters


@command("sources")
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
    from kb.cli.render import show
    from kb.sources import list_sources

    show(list_sources(settings(index=index).index, filters, limit), as_json=as_json)
