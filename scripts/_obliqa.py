"""Shared by the evaluation scripts: where the shared data is (ObliQA, regqa), and the index built from
the ObliQA passages."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The shared data is never copied into the repository: a clone elsewhere names its folder in KB_SHARED.
SHARED = Path(os.path.expanduser(os.environ.get("KB_SHARED") or REPO.parent / "shared")).resolve()
DATA = SHARED / "data" / "obliqa"
REGQA = SHARED / "data" / "regqa"
DEFAULT_INDEX = REPO / "indexes" / "obliqa"


def available(purpose: str) -> bool:
    """True when the ObliQA data is here; else says so on stderr (it exists only in the dev workspace)."""
    if (DATA / "passages.jsonl").is_file():
        return True
    print(not_found("ObliQA data", DATA, purpose), file=sys.stderr)
    return False


def not_found(what: str, path: Path, purpose: str) -> str:
    return (f"{what} not found at {path}: {purpose} needs the shared data folder (../shared/ next to the "
            "repository); set KB_SHARED to the folder that holds data/obliqa and data/regqa.")


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
