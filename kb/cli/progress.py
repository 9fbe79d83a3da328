"""Progress bars for long commands (kb index, kb eval), drawn on stderr so --json output stays clean."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from kb.cli.console import Console
from kb.progress import NoProgress, Progress


class RichProgress:
    """Progress bars for the stages of a long command, on stderr so --json output stays clean."""

    def __init__(self, console: Console, remaining: bool = False) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        clock = TimeRemainingColumn() if remaining else TimeElapsedColumn()
        self._progress = Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), clock,
                                  console=console, transient=False)
        self._task = None

    def __enter__(self) -> "RichProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()

    def start(self, stage: str, total: int) -> None:
        if self._task is not None:
            task = self._progress.tasks[-1]
            self._progress.update(self._task, completed=task.total)
        self._task = self._progress.add_task(stage, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)


@contextlib.contextmanager
def progress_bars(as_json: bool, *, remaining: bool = False) -> Iterator[Progress]:
    """Bars on a terminal's stderr; nothing for --json or when stderr is not a terminal."""
    err = Console(stderr=True)
    if as_json or not err.is_terminal:
        yield NoProgress()
        return
    with RichProgress(err, remaining) as progress:
        yield progress
