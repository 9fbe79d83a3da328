"""`kb doctor`: check an index and say how to repair it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from kb.cli.app import command, settings
from kb.cli.options import IndexOption, JsonOption


@command("doctor")
def doctor_command(
    index: Optional[Path] = IndexOption,
    as_json: bool = JsonOption,
) -> None:
    """Check an index for integrity (manifest, FAISS, BM25 and SQLite agree; every chunk's source known).

    Exits non-zero when something is wrong, and says how to repair it.
    Example: kb doctor --index indexes/default
    """
    from kb.cli.render import show
    from kb.doctor import diagnose

    diagnosis = diagnose(settings(index=index).index)
    show(diagnosis, as_json=as_json)
    if not diagnosis.healthy:
        raise typer.Exit(1)
