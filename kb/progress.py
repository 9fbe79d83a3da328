"""How long-running library calls report progress, without knowing who shows it (the CLI draws bars)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, stage: str, total: int) -> None:
        """A new stage ("Reading", "Embedding", "Writing", "Questions") of `total` steps begins."""

    def advance(self, amount: int = 1) -> None:
        """`amount` more steps of the current stage are done."""


class NoProgress:
    def start(self, stage: str, total: int) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass
