"""Options several commands share, each declared once."""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Optional

import typer

IndexOption = typer.Option(None, "--index", "-i", help="Index folder (default: indexes/default, or `index` in kb.toml).")
ModelOption = typer.Option(None, "--model", help="Embedding model: all-MiniLM-L6-v2 (bundled) or a local model folder.")
JsonOption = typer.Option(False, "--json", help="Print one JSON object instead of formatted text.")
OutputOption = typer.Option(None, "--output", "-o", dir_okay=False, allow_dash=True,
                            help="Write to FILE; - (or no --output) writes to standard output.")



def seconds(value: float) -> float:
    """A number of seconds: finite and not negative (click lets nan and inf through a float range)."""
    if not math.isfinite(value) or value < 0:
        raise typer.BadParameter(f"give a number of seconds, 0 or more, not {value:g}")
    return value


WaitOption = typer.Option(0.0, "--wait", callback=seconds, help="Seconds to wait for another running `kb index`.")


def is_standard_output(output: object) -> bool:
    """`--output -` means standard output, as for most Unix tools; no --output too."""
    return output is None or str(output) == "-"


class TimelineFormat(str, Enum):  # an Enum: click checks the choice and shell completion offers them
    table = "table"
    ics = "ics"
    csv = "csv"
    markdown = "markdown"


class AnswerFormat(str, Enum):
    text = "text"
    markdown = "markdown"


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """Stands in a command's signature for the filter options; `with_filters` puts them there and
    hands the command one `kb.filters.Filters` made from them."""

    dates: bool = True  # also --since and --until


ALL_FILTERS = FilterOptions()
PLACE_AND_TYPE_FILTERS = FilterOptions(dates=False)

_FILTER_OPTIONS = [  # (parameter, type, option), in --help order
    ("jurisdiction", Optional[list[str]], typer.Option(
        None, "--jurisdiction", "-j", help="Only documents of this jurisdiction (UK, EU, US...); repeatable.")),
    ("regulator", Optional[list[str]], typer.Option(
        None, "--regulator", "-r", help="Only documents of this regulator (FCA, ESMA, SEC...); repeatable.")),
    ("doc_type", Optional[list[str]], typer.Option(
        None, "--type", "-t",
        help="Only documents of this type (law, consultation, policy statement, guidance, news); repeatable.")),
    ("since", Optional[str], typer.Option(
        None, "--since", help="Only documents dated on or after DATE (2025, 2025-09, 2025-09-10).")),
    ("until", Optional[str], typer.Option(None, "--until", help="Only documents dated on or before DATE.")),
]
_DATE_FILTERS = {"since", "until"}


def with_filters(command: Callable) -> Callable:
    """The filter options in place of the command's FilterOptions parameter, which gets their Filters.

    typer reads a command's options from its signature, so the options must stand in it; this
    writes them there once for every command that filters.
    """
    signature = inspect.signature(command)
    placeholder = next((p for p in signature.parameters.values() if isinstance(p.default, FilterOptions)), None)
    if placeholder is None:
        return command
    command_name = command.__name__.removesuffix("_command")  # for examples in messages: "kb sources --since 2025-01"
    chosen = [(name, kind, option) for name, kind, option in _FILTER_OPTIONS
              if placeholder.default.dates or name not in _DATE_FILTERS]
    options = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=option, annotation=kind)
               for name, kind, option in chosen]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from kb.filters import Filters

        given = {name: kwargs.pop(name) for name, _, _ in chosen}
        kwargs[placeholder.name] = Filters.from_options(given["jurisdiction"], given["regulator"], given["doc_type"],
                                                        given.get("since"), given.get("until"), command_name)
        return command(*args, **kwargs)

    parameters = [option for parameter in signature.parameters.values()
                  for option in (options if parameter is placeholder else [parameter])]
    wrapper.__signature__ = signature.replace(parameters=parameters)
    wrapper.__annotations__ = {**{k: v for k, v in command.__annotations__.items() if k != placeholder.name},
                               **{name: kind for name, kind, _ in chosen}}
    return wrapper
