"""`kb mcp`: serve the index to AI assistants over the Model Context Protocol (stdio)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from kb.cli.app import command, settings
from kb.cli.options import IndexOption, ModelOption
from kb.errors import KBError


@command("mcp")
def mcp_command(
    index: Optional[Path] = IndexOption,
    model: Optional[str] = ModelOption,
) -> None:
    """Serve the index to an AI assistant over MCP on stdin/stdout: tools ask, search, timeline, sources.

    Start it from an MCP client's configuration, not by hand (it waits for the client's messages).
    The model loads once; a rebuilt index is picked up without a restart.
    Example: kb mcp --index indexes/default
    """
    try:
        from kb.cli.mcp_server import serve
    except ImportError as exc:  # the mcp package is a dependency, but an environment may lack it
        raise KBError(f"kb mcp needs the MCP Python SDK ({exc.name or exc}).", "Install it: pip install mcp") from None
    serve(settings(index=index, model=model))
