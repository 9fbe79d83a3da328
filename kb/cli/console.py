"""The rich console every kb command writes through."""

from __future__ import annotations

import errno
import os

from rich.console import Console as RichConsole


class Console(RichConsole):
    """rich's console, but a reader that closes the output early is handed back as the BrokenPipeError
    it is: rich's own handling exits 1 on the spot, and kb ends every command alike on a closed output
    (kb.cli.app.closed_output_ends_quietly)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True  # nothing more goes to a reader that has gone
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))
