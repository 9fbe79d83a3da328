"""Jurisdictions: the one table of their names, for questions, documents' metadata and filters.

Codes are ISO 3166 alpha-2 where a country has one ("UK" for the United Kingdom and "UAE" for the
United Arab Emirates, as regulators write them; "GB" and "AE" are accepted), and the usual short
names of the EU and of financial free zones ("ADGM", "DIFC"), which are jurisdictions of their own
inside a country. Two kinds of names:

- PLACES: names and adjectives found in running text ("Singapore", "Swiss"), matched in questions
  and in metadata values;
- CODES: ISO codes and other abbreviations ("SG", "SGP", "JP"), matched only as a whole metadata or
  filter value: in a question, "in" or "no" are words, not India and Norway.

`canonical_place` gives the one form every document and filter value is compared in:
"Singapore", "SG" and "SGP" are all "SG"; "Japan" and "JP" are "JP".
"""

from __future__ import annotations

import re

# Names of places, by canonical code: found in questions (kb.question) and accepted as metadata values.
PLACES: dict[str, tuple[str, ...]] = {
    "UK": ("uk", "u.k.", "united kingdom", "britain", "great britain", "british", "england", "scotland", "wales",
           "northern ireland", "united kingdom of great britain and northern ireland"),
    "US": ("us", "u.s.", "usa", "u.s.a.", "united states", "united states of america", "america", "american"),
    "EU": ("eu", "european union", "europe", "european", "union-wide", "member state", "member states"),
    "HK": ("hong kong", "hk", "hksar"),
    "SG": ("singapore", "singaporean"),
    "ADGM": ("adgm", "abu dhabi global market", "abu dhabi"),
    "DIFC": ("difc", "dubai international financial centre", "dubai international financial center"),
    "UAE": ("uae", "ae", "united arab emirates", "dubai", "emirati"),
    "CH": ("switzerland", "swiss"),
    "JP": ("japan", "japanese"),
    "AU": ("australia", "australian"),
    "CA": ("canada", "canadian"),
    "IN": ("india", "indian"),
    "CN": ("china", "mainland china", "people's republic of china"),
    "KR": ("south korea", "republic of korea"),
    "TW": ("taiwan",),
    "TH": ("thailand",),
    "MY": ("malaysia",),
    "ID": ("indonesia",),
    "PH": ("philippines",),
    "NZ": ("new zealand",),
    "ZA": ("south africa",),
    "BR": ("brazil",),
    "MX": ("mexico",),
    "AR": ("argentina",),
    "NG": ("nigeria",),
    "KE": ("kenya",),
    "MU": ("mauritius",),
    "SC": ("seychelles",),
    "BH": ("bahrain",),
    "SA": ("saudi arabia",),
    "QA": ("qatar",),
    "QFC": ("qfc", "qatar financial centre", "qatar financial center"),
    "KZ": ("kazakhstan",),
    "AIFC": ("aifc", "astana international financial centre", "astana international financial center"),
    "TR": ("turkey", "türkiye"),
    "IL": ("israel",),
    "KY": ("cayman islands",),
    "BM": ("bermuda",),
    "BS": ("bahamas", "the bahamas"),
    "VG": ("british virgin islands",),
    "GI": ("gibraltar",),
    "IM": ("isle of man",),
    "LI": ("liechtenstein",),
    "NO": ("norway",),
    "IS": ("iceland",),
    "FR": ("france",),
    "DE": ("germany",),
    "IE": ("ireland", "republic of ireland"),
    "LU": ("luxembourg",),
    "NL": ("netherlands", "the netherlands", "holland"),
    "BE": ("belgium",),
    "IT": ("italy",),
    "ES": ("spain",),
    "PT": ("portugal",),
    "AT": ("austria",),
    "MT": ("malta",),
    "CY": ("cyprus",),
    "GR": ("greece",),
    "SE": ("sweden",),
    "DK": ("denmark",),
    "FI": ("finland",),
    "PL": ("poland",),
    "CZ": ("czechia", "czech republic"),
    "EE": ("estonia",),
    "LV": ("latvia",),
    "LT": ("lithuania",),
}
# Codes and names that are only ever a whole value ("-j SG", "jurisdiction: JPN"): ISO 3166 alpha-2
# (the canonical code itself counts too) and alpha-3, and names that are words or places elsewhere.
CODES: dict[str, tuple[str, ...]] = {
    "UK": ("gb", "gbr"), "US": ("usa",), "SG": ("sgp",), "HK": ("hkg",), "UAE": ("are",), "CH": ("che",),
    "JP": ("jpn",), "AU": ("aus",), "CA": ("can",), "IN": ("ind",), "CN": ("chn", "prc"), "KR": ("kor", "korea"),
    "TW": ("twn",), "TH": ("tha",), "MY": ("mys",), "ID": ("idn",), "PH": ("phl",), "NZ": ("nzl",), "ZA": ("zaf",),
    "BR": ("bra",), "MX": ("mex",), "AR": ("arg",), "NG": ("nga",), "KE": ("ken",), "MU": ("mus",), "SC": ("syc",),
    "BH": ("bhr",), "SA": ("sau",), "QA": ("qat",), "KZ": ("kaz",), "TR": ("tur",), "IL": ("isr",), "KY": ("cym",),
    "BM": ("bmu",), "BS": ("bhs",), "VG": ("vgb",), "GI": ("gib",), "IM": ("imn",), "LI": ("lie",), "NO": ("nor",),
    "IS": ("isl",), "FR": ("fra",), "DE": ("deu",), "IE": ("irl",), "LU": ("lux",), "NL": ("nld",), "BE": ("bel",),
    "IT": ("ita",), "ES": ("esp",), "PT": ("prt",), "AT": ("aut",), "MT": ("mlt",), "CY": ("cyp",), "GR": ("grc",),
    "SE": ("swe",), "DK": ("dnk",), "FI": ("fin",), "PL": ("pol",), "CZ": ("cze",), "EE": ("est",), "LV": ("lva",),
    "LT": ("ltu",), "JE": ("jey", "jersey", "bailiwick of jersey"), "GG": ("ggy", "guernsey", "bailiwick of guernsey"),
}
_PLACE_PATTERN = re.compile(
    r"(?<![\w.])(" + "|".join(sorted((re.escape(n) for names in PLACES.values() for n in names), key=len, reverse=True))
    + r")(?![\w])", re.I)
_PLACE_OF = {name: code for code, names in PLACES.items() for name in names}
_VALUE_OF = {**{code.casefold(): code for code in (*PLACES, *CODES)}, **_PLACE_OF,
             **{name: code for code, names in CODES.items() for name in names}}


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
PLACE_PARENTS = {"ADGM": "UAE", "DIFC": "UAE", "QFC": "QA", "AIFC": "KZ"}


def places_fit(asked: frozenset[str], place: str | None) -> bool:
    """Whether a document of `place` speaks for one of the `asked` jurisdictions (unknown: yes)."""
    if place is None or not asked:
        return True
    family = {place, PLACE_PARENTS.get(place, place)}
    return any(a in family or PLACE_PARENTS.get(a) == place for a in asked)


def canonical_place(value: str | None) -> str | None:
    """A jurisdiction as its code ("United Kingdom", "GB" → "UK"; "Singapore", "SGP" → "SG"), else as given."""
    if not value:
        return None
    folded = " ".join(value.replace("_", " ").split()).casefold()
    code = _VALUE_OF.get(folded) or _VALUE_OF.get(folded.removeprefix("the ")) \
        or _VALUE_OF.get(folded.replace("-", " ")) or _VALUE_OF.get(folded.rstrip("."))
    return code or value.strip()
