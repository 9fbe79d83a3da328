"""The `kb` application: its commands' registration, error handling and version option."""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import sys
from typing import Any, Callable, Iterator

import typer
from rich.text import Text
from typer.core import TyperGroup

from kb import __version__
from kb.cli.console import Console
from kb.cli.options import with_filters
from kb.config import Settings, load_settings
from kb.errors import KBError
from kb.paths import readable
from kb.text import collapse_whitespace

CLOSED_OUTPUT_EXIT = 0  # the reader of kb's output stopped reading (`kb sources | head -1`): not a failure


@contextlib.contextmanager
def closed_output_ends_quietly() -> Iterator[None]:
    """A reader that closes kb's standard output early ends kb quietly with CLOSED_OUTPUT_EXIT, as
    a `-f csv | head` whose output fit the pipe always did: no traceback, and not click's silent exit 1."""
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        _stop_output()
        raise typer.Exit(CLOSED_OUTPUT_EXIT) from None


def _stop_output() -> None:
    """Point standard output and error at /dev/null (what the Python docs recommend for SIGPIPE):
    Python flushes them once more at exit, and output still buffered would fail again there with an
    'Exception ignored' message. Nothing is left to say once the reader has gone."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):  # not a real file (a test runner's)
            os.dup2(devnull, stream.fileno())
    os.close(devnull)


class _Group(TyperGroup):
    # click reports --help and --version while it makes the context, and a command's output while it
    # invokes it: a closed output is caught in both, before typer turns it into exit 1.
    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with closed_output_ends_quietly():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with closed_output_ends_quietly():
            return super().invoke(ctx)


app = typer.Typer(
    name="kb",
    cls=_Group,
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
                try:
                    typer.echo(json.dumps({"schema": "kb.error/1", "error": message, "hint": hint or None,
                                           "kind": type(exc).__name__}, ensure_ascii=True))
                except BrokenPipeError:  # its reader has gone: the error's own exit code still tells
                    _stop_output()
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
    try:
        app(prog_name="kb")
    finally:
        # Output a command left in the buffer is written only now, after the command returned.
        try:
            sys.stdout.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            _stop_output()
            raise SystemExit(CLOSED_OUTPUT_EXIT) from None
