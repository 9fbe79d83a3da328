"""The `kb` application: its commands' registration, error handling and version option."""

from __future__ import annotations

import functools
import json
import os
from typing import Any, Callable

import typer
from rich.console import Console
from rich.text import Text

from kb import __version__
from kb.cli.options import with_filters
from kb.config import Settings, load_settings
from kb.errors import KBError
from kb.paths import readable
from kb.text import collapse_whitespace

app = typer.Typer(
    name="kb",
    help="A regulatory-readiness knowledge base: cited, extractive answers from your own corpus, offline.\n\n"
    'Example: kb index corpus/ && kb ask "When do FCA licences open?"',
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish (typer's own scripts)
    rich_markup_mode=None,  # plain click help: rich help imports a Markdown parser, +0.15 s a call
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
            # Messages quote file names, filter values and ids: shown without control characters, and a
            # name's undecodable bytes as \xe9 rather than dropped.
            message, hint = readable(exc.message), readable(exc.hint) if exc.hint else exc.hint
            console.print(Text("Error: ", style="bold red") + Text(collapse_whitespace(message), style="red"),
                          soft_wrap=True)
            if hint:
                console.print(Text(f"Hint: {collapse_whitespace(hint)}", style="dim"), soft_wrap=True)
            if kwargs.get("as_json"):  # a script reading stdout gets the error as JSON too, not nothing
                typer.echo(json.dumps({"schema": "kb.error/1", "error": message, "hint": hint or None,
                                       "kind": type(exc).__name__}, ensure_ascii=True))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            Console(stderr=True).print(Text("Interrupted.", style="yellow"))
            raise typer.Exit(130) from None

    return wrapper


def settings(**overrides: Any) -> Settings:
    """Defaults < kb.toml or [tool.kb] < KB_* environment < the command's flags (None: not given)."""
    return load_settings(overrides)


def command(name: str) -> Callable[[Callable], Callable]:
    """Register a `kb` command: filter options expanded (options.with_filters), user errors handled."""

    def register(function: Callable) -> Callable:
        return app.command(name)(handle_errors(with_filters(function)))

    return register


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kb {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """kb: cited answers from a local corpus of regulatory texts."""


def main() -> None:
    # "kb" however it was started (python -m kb too): shell completion finds kb by this name (_KB_COMPLETE).
    app(prog_name="kb")
