"""Metadata filters for search, sources and timeline: who regulates, where, what kind, and when.

Filters become a boolean mask over chunks that the dense and lexical searches apply inside the
search itself, so a filtered question still gets k passages whenever the corpus has them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.dates import parse_iso_partial
from kb.errors import BadQuestion
from kb.glossary import named_regulators, normalise_name
from kb.metadata import normalise_type
from kb.models import DocumentMeta
from kb.places import canonical_place
from kb.text import collapse_whitespace

if TYPE_CHECKING:  # numpy is imported where masks are made: building Filters stays cheap
    import numpy as np


def parse_date_option(value: str, option: str, command: str = "ask") -> tuple[dt.date, dt.date]:
    """The first and last day of a date option's value; BadQuestion, with an example for `command`, if it is none."""
    period = parse_iso_partial(value)
    if period is None:
        example = f'kb {command} "..." {option} 2025-01' if command == "ask" else f"kb {command} {option} 2025-01"
        raise BadQuestion(f"{option} needs a date such as 2025, 2025-09 or 2025-09-10, not {value!r}.",
                          f"Example: {example}")
    return period.first, period.last


@dataclass(frozen=True, slots=True)
class Filters:
    jurisdictions: tuple[str, ...] = ()
    regulators: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None

    @classmethod
    def from_options(cls, jurisdictions=(), regulators=(), types=(), since: str | None = None,
                     until: str | None = None, command: str = "ask") -> "Filters":
        for option, values in (("--jurisdiction", jurisdictions), ("--regulator", regulators), ("--type", types)):
            if any(not collapse_whitespace(value) for value in values or ()):
                raise BadQuestion(f"{option} needs a name; the value given has no visible characters.",
                                  f"Example: kb {command} {option} UK" if option == "--jurisdiction" else
                                  f"Example: kb {command} {option} FCA" if option == "--regulator" else
                                  f"Example: kb {command} {option} guidance")
        return cls(
            jurisdictions=tuple(canonical_place(j).casefold() for j in jurisdictions or ()),
            regulators=tuple(normalise_name(r, "regulator").casefold() for r in regulators or ()),
            types=tuple(normalise_type(t) for t in types or ()),
            since=parse_date_option(since, "--since", command)[0] if since else None,
            until=parse_date_option(until, "--until", command)[1] if until else None,
        )

    @property
    def is_empty(self) -> bool:
        return not (self.jurisdictions or self.regulators or self.types or self.since or self.until)

    def matches(self, meta: DocumentMeta) -> bool:
        # Both sides through one table: "-j Singapore" finds "SG", and "-j JP" finds an older index's "Japan".
        if self.jurisdictions and (canonical_place(meta.jurisdiction) or "").casefold() not in self.jurisdictions:
            return False
        if self.regulators and (meta.regulator or "").casefold() not in self.regulators and not any(
                named.casefold() in self.regulators for named in named_regulators(meta.regulator or "")):
            return False  # "Bank of England (PRA), with the FCA" is found by -r PRA and by -r FCA
        if self.types and (meta.doc_type or "") not in self.types:
            return False
        if self.since or self.until:
            period = parse_iso_partial(meta.date, leading=True) if meta.date else None
            if period is None:  # undated documents cannot be placed in a date range
                return False
            if self.since and period[1] < self.since or self.until and period[0] > self.until:
                return False
        return True

    def describe(self) -> str:
        parts = [f"jurisdiction {' or '.join(self.jurisdictions).upper()}" if self.jurisdictions else "",
                 f"regulator {' or '.join(self.regulators).upper()}" if self.regulators else "",
                 f"type {' or '.join(self.types)}" if self.types else "",
                 f"dated from {self.since.isoformat()}" if self.since else "",
                 f"dated until {self.until.isoformat()}" if self.until else ""]
        return ", ".join(part for part in parts if part)


def document_mask(documents: list[DocumentMeta], filters: Filters) -> np.ndarray:
    import numpy as np

    return np.fromiter((filters.matches(meta) for meta in documents), dtype=bool, count=len(documents))


def chunk_mask(documents: list[DocumentMeta], chunk_documents: np.ndarray, filters: Filters) -> np.ndarray | None:
    """Which chunks pass the filters (None when there are no filters). Raises when none does."""
    if filters.is_empty:
        return None
    allowed = document_mask(documents, filters)
    if not allowed.any():
        raise BadQuestion(f"No document matches the filters ({filters.describe()}).",
                          "See what the corpus holds with `kb sources`.")
    return allowed[chunk_documents]
