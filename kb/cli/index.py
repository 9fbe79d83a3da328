"""`kb index`: build or update the index."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from kb.cli.app import command, settings
from kb.cli.options import IndexOption, JsonOption, ModelOption, WaitOption


@command("index")
def index_command(
    corpus: Optional[Path] = typer.Argument(None, help="Corpus folder (default: corpus/, or `corpus` in kb.toml)."),
    index: Optional[Path] = IndexOption,
    model: Optional[str] = ModelOption,
    rebuild: bool = typer.Option(False, "--rebuild", help="Re-read and re-embed everything."),
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero when any file is skipped."),
    if_missing: bool = typer.Option(False, "--if-missing", help="Do nothing when an index already exists."),
    wait: float = WaitOption,
    follow_symlinks: Optional[bool] = typer.Option(None, "--follow-symlinks", help="Also index files that "
                                                   "symlinks lead to outside the corpus folder (else skipped)."),
    dense: str = typer.Option("auto", "--dense", help="FAISS index: auto (exact up to 20k chunks, then IVF "
                              "tuned to recall@10 >= 0.98), flat, flat-fp16, ivf, ivf-fp16 or hnsw."),
    ray: bool = typer.Option(False, "--ray", help="Embed on a Ray cluster (the `ray` extra); same index format."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster address (default: "
                                              "RAY_ADDRESS, else a local Ray instance)."),
    as_json: bool = JsonOption,
) -> None:
    """Build or update the index from a corpus folder (only changed files are re-read and re-embedded).

    Example: kb index corpus/ --index indexes/default
    """
    from kb.cli.progress import progress_bars
    from kb.cli.render import show
    from kb.build import build_index
    from kb.index.dense import KINDS

    if dense not in KINDS:
        raise typer.BadParameter(f"choose one of {', '.join(KINDS)}", param_hint="--dense")
    configured = settings(corpus=corpus, index=index, model=model, follow_symlinks=follow_symlinks or None)
    factory = None
    if ray:
        from kb.distributed import ray_embedder_factory

        factory = ray_embedder_factory(configured.backend, ray_address)
    with progress_bars(as_json) as progress:
        report = build_index(configured, rebuild=rebuild, strict=strict, wait=wait, if_missing=if_missing,
                             progress=progress, dense_kind=dense, embedder_factory=factory)
    if report is not None:
        show(report, as_json=as_json)
