"""Abbreviations a document defines for itself: "threat-led penetration testing (TLPT)".

Regulatory texts coin their own short forms and then use only those; a question may use either. The
glossary (kb.glossary) knows the common ones across the field; this finds the rest in the passages
at hand, so "threat-led penetration testing" in a question meets "TLPT" in the answer.
Detection follows Schwartz & Hearst (2003): the short form in brackets, its letters found in order
at the starts of the words before it.
"""

from __future__ import annotations

import re
from typing import Iterable

from kb.index.lexical import tokenize

_SHORT = re.compile(r"\(\s*[“\"'‘]?([A-Z][A-Za-z0-9&-]{1,9}?)s?[”\"'’]?\s*\)")
_WORDS_BEFORE = re.compile(r"([\w'’-]+(?:\s+[\w'’-]+){0,9})\s*[“\"'‘]?\s*$")


def defined_abbreviations(texts: Iterable[str]) -> dict[str, frozenset[str]]:
    """Short form token → the word tokens of its long form, for every "long form (SHORT)" in `texts`."""
    found: dict[str, frozenset[str]] = {}
    for text in texts:
        for match in _SHORT.finditer(text):
            short = match.group(1)
            if sum(c.isupper() for c in short) < 2:
                continue
            before = _WORDS_BEFORE.search(text, max(0, match.start() - 160), match.start())
            if not before:
                continue
            long_form = _long_form(short, before.group(1).split())
            if long_form:
                tokens = frozenset(tokenize(long_form))
                short_tokens = tokenize(short)
                if tokens and short_tokens and short_tokens[0] not in tokens:
                    found[short_tokens[0]] = tokens
    return found


def _long_form(short: str, words: list[str]) -> str | None:
    """The shortest run of trailing words whose initials spell the short form's letters in order."""
    letters = [c.casefold() for c in short if c.isalpha()]
    while words and words[-1].isdigit():  # "the Financial Services and Markets Regulations 2015 (FSMR)"
        words = words[:-1]
    if not letters:
        return None
    for size in range(1, min(len(words), len(letters) + 4) + 1):
        candidate = words[-size:]
        if _spells(letters, candidate):
            return " ".join(candidate)
    return None


def _spells(letters: list[str], words: list[str]) -> bool:
    """Each word's parts (split at hyphens) are consumed by letters, the first letter on the first word."""
    parts = [part.casefold() for word in words for part in re.split(r"[-’']", word) if part]
    if not parts or parts[0][0] != letters[0]:
        return False
    i = 0
    for part in parts:
        if i < len(letters) and part[0] == letters[i]:
            i += 1
        elif part in {"of", "the", "and", "for", "on", "in", "to", "a"}:
            continue
        else:
            return False
    return i == len(letters)


def expand(tokens: set[str], abbreviations: dict[str, frozenset[str]]) -> set[str]:
    """Tokens with each defined short form standing also for its long form, and the other way round."""
    expanded = set(tokens)
    for short, long_tokens in abbreviations.items():
        if short in tokens:
            expanded |= long_tokens
        elif long_tokens <= tokens:
            expanded.add(short)
    return expanded
