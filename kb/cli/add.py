"""`kb add`: files and web pages into the corpus folder, then the index brought up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from kb.cli.app import command, settings
from kb.cli.options import IndexOption, JsonOption, ModelOption, WaitOption, seconds


@command("add")
def add_command(
    sources: list[str] = typer.Argument(..., help="Files, or http(s) URLs of HTML pages and PDFs.", metavar="SOURCE..."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", "-c", help="Corpus folder to add to (default: corpus/, "
                                          "or `corpus` in kb.toml, or KB_CORPUS)."),
    index: Optional[Path] = IndexOption,
    model: Optional[str] = ModelOption,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a corpus file of the same name that differs."),
    no_index: bool = typer.Option(False, "--no-index", help="Only add the files; run `kb index` later."),
    wait: float = WaitOption,
    timeout: float = typer.Option(30.0, "--timeout", min=0.1, callback=seconds, help="Seconds to wait for a server to answer (a whole "
                                  "download may take four times as long)."),
    as_json: bool = JsonOption,
) -> None:
    """Add files or web pages (HTML, PDF) to the corpus, then update the index as `kb index` does.

    A URL is saved with its address, which citations and `kb sources` show; adding it again
    refreshes it (an unchanged page is not re-indexed). Exits non-zero if any source failed.
    Example: kb add https://www.fca.org.uk/publications/consultation-papers/cp25-14 notes/memo.pdf
    """
    from kb.add import add_and_index
    from kb.cli.progress import progress_bars
    from kb.cli.render import show
    from kb.fetch import FetchLimits

    configured = settings(corpus=corpus, index=index, model=model)
    limits = FetchLimits(max_bytes=configured.max_file_mb * 1024 * 1024, connect_timeout=min(10.0, timeout),
                         read_timeout=timeout, total_timeout=4 * timeout)
    with progress_bars(as_json) as progress:
        report = add_and_index(configured, sources, overwrite=overwrite, index=not no_index, limits=limits,
                               wait=wait, progress=progress)
    show(report, as_json=as_json)
    if not report.ok:
        raise typer.Exit(1)
