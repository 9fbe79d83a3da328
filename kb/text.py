"""Small text helpers shared by the chunker, the index and the answerer."""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata

# Words after which a full stop does not end a sentence. Lower case, without the stop.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st no nos art arts para paras p pp cf al etc vs v e.g i.e viz approx
    inc ltd co corp plc llc dept govt reg regs sec secs ch chap fig figs vol eds ed est min max
    jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.u a.m p.m op cit ibid
    stat pub supp amdt fed cong sess rept rev ann
    """.split()
)  # "stat" ... "ann": legal citations ("139 Stat. 419", "Pub. L. 119-27", "90 Fed. Reg. 1234")

_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"'“‘(\[]?[A-Z0-9§•\-–—*]")
_LIST_ITEM_START = re.compile(r"\n[ \t]*(?:[-*+•]|\(?[0-9a-zA-Z]{1,4}[.)]|\([0-9a-zA-Z]{1,4}\))[ \t]+")
_WORD_BEFORE = re.compile(r"([\w.]+)$")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_WHITESPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w]+")


def normalise_for_dedup(text: str) -> str:
    """Case-, accent-, punctuation- and whitespace-insensitive form, for finding repeated passages."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", text).strip()


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


# What must not reach the store, the embedder or a terminal: C0 and C1 control codes except tab,
# line feed and carriage return (white space), lone surrogates (not encodable) and stray byte-order
# marks. The one pattern for text entering kb (extracted files, questions) and leaving it (display).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")


# What must not reach a terminal besides those: the bidirectional embeddings, overrides and isolates,
# which reorder what is shown ("Trojan source"), and the line and paragraph separators.
TERMINAL_UNSAFE = re.compile(CONTROL_CHARACTERS.pattern[:-1] + r"\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def strip_controls(text: str) -> str:
    """`text` without control characters: for the embedder and for text extracted from files."""
    return CONTROL_CHARACTERS.sub("", text)


# Whole escape sequences, so that none of their payload is left behind as text: OSC (window titles,
# OSC 8 links, OSC 52 clipboard writes) up to its terminator, CSI (colours, clearing the screen), and
# the two-character escapes; in their 7-bit (ESC ...) and 8-bit (C1) forms.
# A string sequence ends at its terminator, or at the end of the line (at most 512 characters), so a
# stray ESC ] in a document never takes the rest of the text with it.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c\n]{0,512}(?:\x07|\x1b\\|\x9c)?"  # OSC ... BEL or ST
    r"|(?:\x1b[P_^X]|[\x90\x98\x9e\x9f])[^\x1b\x9c\n]{0,512}(?:\x1b\\|\x9c)?"  # DCS, APC, PM, SOS ... ST
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI
    r"|\x1b[!-/]*[0-~]?"  # other escapes (a space after ESC is text, not part of one)
)


def remove_escape_sequences(text: str) -> str:
    """`text` without terminal escape sequences, each removed whole (its payload too)."""
    if "\x1b" in text or any("\x90" <= char <= "\x9f" for char in text):
        return _ESCAPE_SEQUENCE.sub("", text)
    return text


def for_terminal(text: str) -> str:
    """`text` safe to show on a terminal: no escape sequence (removed whole, payload included), no
    control character, no bidirectional override. For metadata where it enters kb, and for every field
    where it is displayed."""
    return TERMINAL_UNSAFE.sub("", remove_escape_sequences(text))


def collapse_whitespace(text: str) -> str:
    """One line of text for display: control characters and bidirectional overrides dropped, white space collapsed."""
    return _WHITESPACE.sub(" ", for_terminal(text)).strip()


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut between words ("…" marks the cut), not inside one."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return (text[:cut] if cut > limit // 2 else text[:limit - 1]).rstrip(" ,;:") + "…"


def _is_abbreviation(text: str, stop: int) -> bool:
    match = _WORD_BEFORE.search(text, max(0, stop - 64), stop)  # not from the start: linear, not quadratic
    if not match:
        return False
    word = match.group(1).rstrip(".").casefold()
    if word in ABBREVIATIONS:
        return True
    # A single letter ("J. Smith") or dotted initials ("U.S.", "e.g.") rarely end a sentence.
    return len(word) == 1 and word.isalpha() or bool(re.fullmatch(r"(?:\w\.)+\w", word))


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (start, end) in `text[start:end]`, whitespace trimmed, covering every word.

    Rule-based: a sentence ends at . ! ? followed by white space and a capital, digit or quote,
    unless the word before is a known abbreviation or an initial; a new list item also starts
    a sentence. Good enough for regulatory prose, and fast.
    """
    end = len(text) if end is None else end
    cuts = [start]
    for match in _SENTENCE_END.finditer(text, start, end):
        stop = match.end()
        if not _NEXT_STARTS_SENTENCE.match(text, stop, end):
            continue
        if text[match.start()] == "." and match.end() - match.start() == 1 and _is_abbreviation(text, match.start()):
            continue
        cuts.append(stop)
    for match in _LIST_ITEM_START.finditer(text, start, end):
        cuts.append(match.start())
    for match in _PARAGRAPH_BREAK.finditer(text, start, end):  # a sentence never spans paragraphs
        cuts.append(match.start())
    cuts.extend(_heading_line_ends(text, start, end))
    cuts = sorted(set(cuts)) + [end]
    spans = []
    for left, right in zip(cuts, cuts[1:]):
        span = trim_span(text, left, right)
        if span[0] < span[1]:
            spans.append(span)
    return spans


_HEADING_NUMBER = re.compile(r"(?:part|chapter|section|article|schedule|annex|appendix|title|rule|§)\b|\d+(?:\.\d+)*\.?(?=\s)",
                             re.IGNORECASE)
_SMALL_WORDS = frozenset("a an and as at by for from in of on or the to with under into".split())


def _heading_line_ends(text: str, start: int, end: int) -> list[int]:
    """Ends of lines that are headings glued to the next sentence, as PDF text has them ("Part 2
    Licensing\nFirms must apply..."): a short line that starts a sentence, has no closing punctuation,
    is numbered or title-cased, and is followed by a line that starts with a capital."""
    cuts = []
    line_start = start
    previous_end = ""  # the last non-space character before the line ("" at the start of a paragraph)
    while line_start < end:
        newline = text.find("\n", line_start, end)
        if newline < 0:
            break
        line = text[line_start:newline].strip()
        following = text[newline + 1:end].lstrip(" \t")
        if (line and following[:1].isupper() and previous_end in ("", ".", "!", "?", ":", ";")
                and _looks_like_heading(line)):
            cuts.append(newline)
        if line:
            previous_end = line[-1]
        elif not line:
            previous_end = ""
        line_start = newline + 1
    return cuts


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    if len(words) > 10 or len(line) > 80 or line[-1] in ".,;:!?\"'”’-–—" or not (line[0].isupper() or line[0].isdigit()
                                                                              or line[0] == "§"):
        return False
    if _HEADING_NUMBER.match(line):
        return True
    content = [w for w in words if w[:1].isalpha() and w.casefold() not in _SMALL_WORDS]
    return len(content) >= 1 and all(w[0].isupper() for w in content)


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


class LineIndex:
    """Maps character offsets of a text to 1-based line numbers."""

    def __init__(self, text: str, first_line: int = 1) -> None:
        self._newlines = [match.start() for match in re.finditer("\n", text)]
        self._first_line = first_line

    def line_of(self, offset: int) -> int:
        return self._first_line + bisect.bisect_left(self._newlines, offset)
