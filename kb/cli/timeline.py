"""`kb timeline`: dated regulatory events, in order."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from kb.cli.app import command, settings
from kb.cli.options import PLACE_AND_TYPE_FILTERS, IndexOption, JsonOption

if TYPE_CHECKING:
    from kb.filters import Filters


@command("timeline")
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
    from kb.cli.render import show
    from kb.filters import parse_date_option
    from kb.timeline import index_timeline

    reference = parse_date_option(as_of, "--as-of", "timeline")[0] if as_of else None
    show(index_timeline(settings(index=index).index, filters, topic, reference, upcoming=upcoming), as_json=as_json)
