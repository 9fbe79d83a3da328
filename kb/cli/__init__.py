"""The `kb` command line (typer and rich are used in this folder only)."""

from kb.cli.app import app, main

__all__ = ["app", "main"]
