"""`kb timeline`: dated regulatory events, in order."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from kb.cli.app import command, settings
from kb.cli.options import (PLACE_AND_TYPE_FILTERS, IndexOption, JsonOption, OutputOption, TimelineFormat,
                            is_standard_output)

if TYPE_CHECKING:
    from kb.filters import Filters


@command("timeline")
def timeline_command(
    index: Optional[Path] = IndexOption,
    filters: Filters = PLACE_AND_TYPE_FILTERS,
    topic: Optional[str] = typer.Option(None, "--topic", help='Only passages that mention this, e.g. "stablecoin".'),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Tell past from upcoming relative to DATE (default: today)."),
    upcoming: bool = typer.Option(False, "--upcoming", help="Only events that have not passed yet."),
    since: Optional[str] = typer.Option(None, "--since", help="Only events on or after DATE (2026, 2026-03, 2026-03-31)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only events on or before DATE."),
    fmt: TimelineFormat = typer.Option(TimelineFormat.table, "--format", "-f", help="table (on the terminal), or a "
                                       "file to import elsewhere: ics (calendar), csv (spreadsheet), markdown. A csv "
                                       "--output file starts with a UTF-8 BOM, which Excel needs to read accents and "
                                       "symbols; standard output gets none."),
    output: Optional[Path] = OutputOption,
    as_json: bool = JsonOption,
) -> None:
    """A chronological table of the dated regulatory events in the corpus, each with its citation.

    Relative dates ("next week") are resolved against the document's publication date; --since and
    --until choose events by their own dates.
    --format ics|csv|markdown writes the events for a calendar, a spreadsheet or a memo.
    Example: kb timeline --jurisdiction UK --topic licensing --upcoming --format ics -o deadlines.ics
    """
    from kb.cli.render import rendered, show
    from kb.filters import parse_date_option
    from kb.timeline import index_timeline

    if as_json and fmt is not TimelineFormat.table:
        raise typer.BadParameter("--json is a format of its own; leave out one of them", param_hint="--format")
    reference = parse_date_option(as_of, "--as-of", "timeline")[0] if as_of else None
    window = (parse_date_option(since, "--since", "timeline")[0] if since else None,
              parse_date_option(until, "--until", "timeline")[1] if until else None)
    timeline = index_timeline(settings(index=index).index, filters, topic, reference, upcoming=upcoming,
                              since=window[0], until=window[1])
    if is_standard_output(output):
        output = None
    if fmt is TimelineFormat.table and output is None:
        show(timeline, as_json=as_json)
        return
    from kb.export import timeline_file, write_export

    if fmt is TimelineFormat.table:  # --json or the table into a file: what the terminal would show
        data = rendered(timeline, as_json=as_json).encode("utf-8")
    else:
        data = timeline_file(timeline.events, fmt.value, excel_bom=output is not None)
    if output is None:
        typer.echo(data, nl=False)
    else:
        write_export(data, output)
    if not timeline.events and fmt is not TimelineFormat.table:  # the table and JSON say so themselves
        from kb.cli.console import Console
        from rich.text import Text

        Console(stderr=True).print(Text(f"0 dated event(s), as of {timeline.as_of.isoformat()}: "
                                        f"{EMPTY_EXPORT[fmt]}.", style="dim"), soft_wrap=True)


EMPTY_EXPORT = {TimelineFormat.ics: "the calendar has no events",
                TimelineFormat.csv: "the CSV has its header row only",
                TimelineFormat.markdown: "the table has its header row only"}
