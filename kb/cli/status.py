"""`kb status`: what the index holds and how the corpus changed (no model, no numpy)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from kb.cli.app import command, settings
from kb.cli.options import IndexOption, JsonOption


@command("status")
def status_command(
    index: Optional[Path] = IndexOption,
    as_json: bool = JsonOption,
) -> None:
    """Show what the index holds and which corpus files changed since it was built (no model needed).

    Example: kb status --index indexes/default
    """
    from kb.cli.render import show
    from kb.status import index_status

    configured = settings(index=index)
    show(index_status(configured.index, configured.max_file_mb, configured.follow_symlinks), as_json=as_json)
