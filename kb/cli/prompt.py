"""The `kb ask` prompt: questions one after another with the model and index loaded once.

Lines starting with ":" are commands (:help lists them); `quit` and `exit` leave too, so they are
never searched as questions. Ctrl-C cancels the question being answered (or the line being typed)
and the prompt stays; Ctrl-D leaves. Questions are kept in a history file (Up recalls them), in
the user's data folder or at KB_HISTORY; when it cannot be written the prompt works without one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.text import Text

from kb.cli.render import output_console
from kb.errors import KBError
from kb.text import collapse_whitespace

if TYPE_CHECKING:
    from kb.session import Session

MAX_K = 50  # as --top-k
HISTORY_LINES = 1000
LEAVE = {":quit", ":q", ":exit", "quit", "exit"}
HELP = """\
Type a question and press Enter. Commands:
  :k N      cite N passages from now on (now {k})
  :json     JSON output on or off (now {json})
  :help     this help
  :quit     leave (also :q, quit, exit, or Ctrl-D)
Ctrl-C cancels the question being answered. History: {history}"""


@dataclass
class Asker:
    """An open index and how answers are shown; the prompt's commands change the last three."""

    session: Session
    top_k: int
    as_json: bool = False
    markdown: bool = False
    console: Console = field(default_factory=output_console)

    def ask(self, question: str) -> None:
        from kb.cli.render import show

        answer = self.session.ask(question, self.top_k)
        if self.markdown and not self.as_json:
            from kb.export import answer_markdown

            typer.echo(answer_markdown(answer), nl=False)
        else:
            show(answer, as_json=self.as_json, console=self.console, corpus=self.session.corpus)


class History:
    """Questions typed at the prompt, one a line, appended as they are asked (a crash loses none)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def open(cls, path: Path | None) -> History | None:
        """The history at `path`, made if need be; None when it cannot be written."""
        if path is None:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8"):
                pass
        except OSError:
            return None
        return cls(path)

    def entries(self) -> list[str]:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []
        return [line for line in lines if line.strip()][-HISTORY_LINES:]

    def add(self, line: str) -> bool:
        try:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line.replace("\n", " ") + "\n")
        except OSError:
            return False
        return True


def history_path() -> Path | None:
    """KB_HISTORY if set ("off": no history), else `history` in the user's data folder for kb."""
    configured = os.environ.get("KB_HISTORY", "").strip()
    if configured:
        return None if configured.lower() == "off" else Path(os.path.expanduser(configured))
    import platformdirs

    return Path(platformdirs.user_data_dir("kb", appauthor=False)) / "history"


def _line_editing(history: History | None):
    """readline for line editing and Up/Down through the history, where Python has it; else None."""
    try:
        import readline
    except ImportError:
        return None
    readline.set_auto_history(False)  # lines are added here, once, whether stdin is a terminal or not
    if history is not None:
        for entry in history.entries():
            readline.add_history(entry)
    return readline


def interactive(asker: Asker) -> None:
    """Ask questions until :quit, quit, exit or Ctrl-D."""
    console = asker.console
    wanted = history_path()
    history = History.open(wanted)
    readline = _line_editing(history)
    where = str(history.path) if history else "off"
    console.print(Text("Ask a question (:help for commands, Ctrl-D to leave).", style="dim"))
    if wanted is not None and history is None:
        console.print(Text(f"No history: {wanted} cannot be written (KB_HISTORY chooses another file).", style="dim"))
    while True:
        try:
            line = input("? ")
        except EOFError:
            console.print()
            return
        except KeyboardInterrupt:  # drop the line being typed, keep the prompt
            console.print()
            continue
        text = line.strip()
        if not text:
            continue
        if readline is not None:
            readline.add_history(text)
        if history is not None and not history.add(text):
            history = None
            console.print(Text("History off: its file can no longer be written.", style="dim"))
        if text.lower() in LEAVE:
            return
        if text.startswith(":"):
            _command(text, asker, where)
            continue
        try:
            asker.ask(text)
        except KBError as exc:
            console.print(Text(f"Error: {collapse_whitespace(exc.message)}", style="red"), soft_wrap=True)
            if exc.hint:
                console.print(Text(f"Hint: {collapse_whitespace(exc.hint)}", style="dim"), soft_wrap=True)
        except KeyboardInterrupt:
            console.print(Text("Cancelled.", style="yellow"))


def _command(text: str, asker: Asker, history: str) -> None:
    console = asker.console
    name, _, argument = text.partition(" ")
    name, argument = name.lower(), argument.strip()
    if name in {":help", ":h", ":?"}:
        console.print(Text(HELP.format(k=asker.top_k, json="on" if asker.as_json else "off", history=history)))
    elif name == ":json":
        asker.as_json = not asker.as_json
        console.print(Text(f"JSON output {'on' if asker.as_json else 'off'}.", style="dim"))
    elif name == ":k":
        if not argument:
            console.print(Text(f"Citing {asker.top_k} passages; :k N to change.", style="dim"))
        elif argument.isdigit() and 1 <= int(argument) <= MAX_K:
            asker.top_k = int(argument)
            console.print(Text(f"Citing {asker.top_k} passage{'' if asker.top_k == 1 else 's'}.", style="dim"))
        else:
            console.print(Text(f":k takes a whole number from 1 to {MAX_K}, not {collapse_whitespace(argument)!r}.", style="red"))
    else:
        console.print(Text(f"Unknown command {collapse_whitespace(name)}; :help lists the commands.", style="red"))
