"""Options several commands share, each declared once."""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Optional

import typer

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
