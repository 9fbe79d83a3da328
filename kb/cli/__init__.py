"""The `kb` command line. typer and rich are imported in this folder only.

Each command is a module here that parses its arguments, makes one library call and shows the
result with `render.show` (render.py holds every result's terminal and JSON form). app.py holds
the typer app and the `command` decorator that registers a command; options.py the options
several commands share; progress.py the progress bars. A new command is a new module, imported below.
"""

from kb.cli.app import app, main

# Registers the commands; the order is the order of `kb --help`.
from kb.cli import index, add, ask, status, sources, timeline, doctor, evaluate, mcp  # noqa: E402,F401,I001

__all__ = ["app", "main"]
