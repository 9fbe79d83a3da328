"""Where a fetched document came from: a small JSON record beside it, `.<file name>.kb.json`.

`kb add URL` writes `report.html` and `.report.html.kb.json` side by side. The record is hidden and
named so the corpus scan passes over it without a note (it is kb's metadata, not a document), and it
moves, or is deleted, with its document by hand just as easily as the document itself.

Ingest reads it to give the document its `origin` (the URL citations show) and `retrieved` date; the
validators (ETag, Last-Modified) and the content hash let `kb add URL` refresh without re-downloading.
This module is cheap (json only): the corpus scan of `kb status` imports it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

PREFIX = "."
SUFFIX = ".kb.json"
FORMAT = 1


@dataclass(frozen=True, slots=True)
class SourceRecord:
    url: str  # as the user gave it (fragment removed): the key `kb add URL` refreshes by
    final_url: str  # after redirects: where the bytes came from, shown as the document's origin
    retrieved: str  # UTC ISO 8601 time the current bytes were fetched (an unchanged refresh keeps it)
    content_type: str
    sha256: str  # of the document file, so a refresh can trust the validators only for the bytes on disk
    size: int
    etag: str | None = None
    last_modified: str | None = None

    def to_json(self) -> bytes:
        return (json.dumps({"kb_source": FORMAT, **asdict(self)}, indent=2, ensure_ascii=False) + "\n").encode()


def sidecar_path(document: Path) -> Path:
    return document.with_name(f"{PREFIX}{document.name}{SUFFIX}")


def is_sidecar_name(name: str) -> bool:
    return name.startswith(PREFIX) and name.endswith(SUFFIX) and len(name) > len(PREFIX) + len(SUFFIX)


def document_of(sidecar: Path) -> Path:
    return sidecar.with_name(sidecar.name[len(PREFIX):-len(SUFFIX)])


def read_sidecar(document: Path) -> SourceRecord | None:
    """The record beside `document`; None when there is none. Raises ValueError when it is unreadable."""
    path = sidecar_path(document)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.pop("kb_source", None) != FORMAT:
            raise ValueError("not a kb source record")
        return SourceRecord(**data)
    except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError; TypeError: missing/unknown keys
        raise ValueError(f"{path.name} is not a valid kb source record ({exc})") from None


def origin_fields(document: Path) -> tuple[dict[str, str], str | None]:
    """(metadata fields from the record beside `document`, warning). Empty when it has no record."""
    try:
        record = read_sidecar(document)
    except ValueError as exc:
        return {}, f"{exc}; its origin URL is not known"
    if record is None:
        return {}, None
    return {"origin": record.final_url or record.url, "retrieved": record.retrieved}, None
