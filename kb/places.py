"""Jurisdictions: the one table of their names, for questions and for documents' metadata.

Codes are ISO 3166 alpha-2 where a country has one ("UK" for the United Kingdom, as regulators write
it), and the usual short names of the EU and of financial free zones ("ADGM", "DIFC"), which are
jurisdictions of their own inside a country.
"""

from __future__ import annotations

import re

from kb.glossary import normalise_name

# Names of places a question may use, by canonical code (kb.glossary normalises the documents' side).
PLACES: dict[str, tuple[str, ...]] = {
    "UK": ("uk", "u.k.", "united kingdom", "britain", "great britain", "british", "england", "scotland", "wales"),
    "US": ("us", "u.s.", "usa", "united states", "america", "american"),
    "EU": ("eu", "european union", "europe", "european", "union-wide", "member state", "member states"),
    "HK": ("hong kong", "hk", "hksar"),
    "SG": ("singapore", "singaporean"),
    "ADGM": ("adgm", "abu dhabi global market", "abu dhabi"),
    "UAE": ("uae", "ae", "united arab emirates", "dubai", "emirati"),
    "CH": ("switzerland", "swiss"),
    "JP": ("japan", "japanese"),
    "AU": ("australia", "australian"),
    "CA": ("canada", "canadian"),
    "IN": ("india", "indian"),
}
_PLACE_PATTERN = re.compile(
    r"(?<![\w.])(" + "|".join(sorted((re.escape(n) for names in PLACES.values() for n in names), key=len, reverse=True))
    + r")(?![\w])", re.I)
_PLACE_OF = {name: code for code, names in PLACES.items() for name in names}


def named_places(text: str) -> frozenset[str]:
    found = set()
    for match in _PLACE_PATTERN.finditer(text):
        word = match.group(1)
        if word.casefold() == "us" and word != "US":  # "us" is the pronoun; only "US" names the country
            continue
        found.add(_PLACE_OF[word.casefold()])
    return frozenset(found)


def without_places(text: str) -> str:
    """The text with every place name taken out ("Hong Kong" → "", "UK MLR" → "MLR")."""
    return " ".join(_PLACE_PATTERN.sub(" ", text).split())


# Financial free zones are jurisdictions of their own inside a country: a text of either may answer.
PLACE_PARENTS = {"ADGM": "UAE", "DIFC": "UAE"}


def places_fit(asked: frozenset[str], place: str | None) -> bool:
    """Whether a document of `place` speaks for one of the `asked` jurisdictions (unknown: yes)."""
    if place is None or not asked:
        return True
    family = {place, PLACE_PARENTS.get(place, place)}
    return any(a in family or PLACE_PARENTS.get(a) == place for a in asked)


def canonical_place(value: str | None) -> str | None:
    """A document's jurisdiction as a code PLACES knows ("United Kingdom" → "UK"), else as given."""
    if not value:
        return None
    code = _PLACE_OF.get(value.strip().casefold())
    return code or normalise_name(value, "jurisdiction")
