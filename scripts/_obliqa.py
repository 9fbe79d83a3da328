"""Shared by the ObliQA scripts: where the data is, and the index built from its passages."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "obliqa"
DEFAULT_INDEX = REPO / "indexes" / "obliqa"


def available(purpose: str) -> bool:
    """True when the ObliQA data is here; else says so on stderr (it exists only in the dev workspace)."""
    if (DATA / "passages.jsonl").is_file():
        return True
    print(f"ObliQA data not found at {DATA}: {purpose} runs only where ../shared/ exists.", file=sys.stderr)
    return False


def obliqa_settings(index: Path):
    """Settings for an index of the ObliQA passages alone (the data folder also holds questions)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(REPO))
    from kb.config import load_settings

    corpus = Path(tempfile.gettempdir()) / "kb-obliqa-corpus"
    corpus.mkdir(exist_ok=True)
    if not (corpus / "passages.jsonl").exists():
        (corpus / "passages.jsonl").symlink_to(DATA / "passages.jsonl")
    # The corpus is a symlink to the data, outside the corpus folder: followed on purpose.
    return replace(load_settings({"index": index}), corpus=corpus, follow_symlinks=True)
