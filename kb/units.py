"""Candidate answers in a passage: sentences, list items read with their lead-in, whole lists, fields.

Legal text answers in pieces that a sentence splitter tears apart:

    (25) The term "primary Federal payment stablecoin regulator" means—
      (A) with respect to a subsidiary of an insured depository institution, ...;
      (D) with respect to a Federal qualified payment stablecoin issuer, the Comptroller.

"(D) ... the Comptroller." answers "who regulates a Federal qualified issuer?" only when read with
its lead-in. So an item is a candidate together with the chain of lead-ins above it (which may sit in
the passage before, when the chunker cut the list), a whole list is a candidate for "which
activities..." questions, and a short label line ("To", "Issued:") is read with the line it labels.
The cited and highlighted part is always a verbatim span of the passage; the lead-in is context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.text import collapse_whitespace, split_sentences, trim_span

MAX_UNIT_CHARS = 700  # longer sentences are not answers a reader can check at a glance
MAX_LIST_CHARS = 1200  # a list up to this long is shown whole; a longer one, each item's opening words
MAX_LEAD_CHARS = 300
ITEM_PREVIEW_CHARS = 150  # each item of a long list, as shown in the answer

# "- (a) ", "(iv) ", "1. ", "12) ", "• ", "(25) ": a list item's marker, after optional indentation.
# UK statutory instruments number a paragraph's first sub-paragraph with the paragraph: "26F.(1) ",
# "2.—(1) "; that is the item "(1)", so that "(2)" after its sub-items is its sibling, not theirs.
_PARAGRAPH_PREFIX = r"(?:[0-9]{1,3}[A-Z]{0,2}\.?[ \t]*[—–-]?[ \t]*)"
_ITEM = re.compile(r"[ \t]*(?:[-*+•][ \t]+)?(?:" + _PARAGRAPH_PREFIX + r"?\(\s*[0-9a-zA-Z]{1,5}\s*\)|[0-9]{1,3}[.)]|[a-zA-Z][.)]|[ivxlc]{1,6}[.)])[ \t]+"
                   r"|[ \t]*[-*+•][ \t]+")
# A lead-in ends without a full stop: "means—", "the following:", "shall not apply to—", "a person that —".
# ("...; and" or "...; or" ends the last but one item of a list, not a lead-in.)
_OPEN_END = re.compile(r"(?:[:—–-]|\bmeans|\bfollowing|\bthat|\bto|\bwhich|\bwho|\bof|\bwhere|\bif|\bby|\bbe|"
                       r"\binclud(?:e|es|ing))\s*$", re.I)
# An item that ends its sentence ("... is a final determination.", "...; and") opens no list.
_CLOSED = re.compile(r"(?:[.;]|;\s+(?:and|or))[\"”’)]*\s*$")
_FIELD_LABEL = re.compile(r"^[A-Z][A-Za-z ]{0,24}:?$")


def starts_with_item(text: str) -> bool:
    """The text's first line is a list item: a passage the chunker began inside a list."""
    first = text.lstrip("\n").split("\n", 1)[0]
    return bool(_ITEM.match(first)) and len(first.strip()) > 3


@dataclass(frozen=True, slots=True)
class Unit:
    """A candidate answer: `passage_text[start:end]`, read after `lead` (context, possibly empty)."""

    passage: int  # index of the passage (hit) it is in
    start: int
    end: int
    lead: str = ""
    kind: str = "sentence"  # "sentence", "item", "list" or "field"
    adjacent: bool = True  # the lead-in directly precedes the span (no lines skipped between them)
    display: str = ""  # a long list, each item cut short; a heading: its text. Shown instead of the span
    members: int = 1  # items in a list
    line: int = 0  # a heading: its line in the source (headings are not in the passage's text)
    # Where the text shown begins and ends when it reaches beyond the span: the lead-in's start, and a
    # list's last item in the next passage. Offsets from the passage's start: below 0 is in the
    # passage before, beyond its length in the passage after (separated by one line break).
    shown_start: int | None = None
    shown_end: int | None = None

    def text(self, passage_text: str) -> str:
        body = self.display or collapse_whitespace(passage_text[self.start:self.end])
        if not self.lead:
            return body
        return f"{self.lead} {body}" if self.adjacent else f"{self.lead} … {body}"

    def body_offset(self) -> int:
        """Where the span's own text starts inside `text()`."""
        return len(self.lead) + (1 if self.adjacent else 3) if self.lead else 0


@dataclass(frozen=True, slots=True)
class _Line:
    start: int
    end: int  # without the line break
    level: int  # indentation depth; items are one deeper than prose at the same indentation
    item: bool
    blank: bool


def _lines(text: str, part_starts: tuple[int, ...] = (0,)) -> list[_Line]:
    """Lines with their depth. Indentation gives depth where the text has it; flat legal text
    ("(2) ... come into force—" then "(a) this regulation;") nests by marker kind: an item that
    opens ("—", ":") and is followed by items of another kind is their parent."""
    raw_lines = text.split("\n")
    parsed = []  # (start, end, indent, item, marker class, opens) or None for a blank line
    offset = 0
    for raw in raw_lines:
        start, end = offset, offset + len(raw)
        offset = end + 1
        stripped = raw.strip()
        if not stripped:
            parsed.append(None)
            continue
        item = bool(_ITEM.match(raw)) and len(stripped) > 3
        indent = len(raw) - len(raw.lstrip(" \t"))
        parsed.append([start, end, indent, item, _marker_class(stripped) if item else None,
                       bool(_OPEN_END.search(stripped))])
    # A passage starts where the chunker cut, its first line's indentation trimmed away: an item
    # there is as deep as the next item with the same kind of marker ("(B)" like the "(C)" below it);
    # without one, an item that ends its sentence is no parent of the next item ("(iv) … is final."
    # then "(3) If …": the "(3)" is an outer paragraph, not a sub-item of "(iv)").
    for part_start in part_starts:
        first = next((i for i, p in enumerate(parsed) if p is not None and p[0] >= part_start), None)
        if first is not None and parsed[first][3]:
            following = [p for p in parsed[first + 1:] if p is not None and p[3]]
            preceding = [p for p in reversed(parsed[:first]) if p is not None and p[3]]  # in the passage before
            sibling = next((p for p in following + preceding if p[4] == parsed[first][4]), None)
            if sibling is not None:
                parsed[first][2] = sibling[2]
            elif following and _CLOSED.search(text[parsed[first][0]:parsed[first][1]]):
                parsed[first][2] = max(parsed[first][2], following[0][2])
            elif following and following[0][2] > parsed[first][2]:
                # its first sub-item tells its depth: "(C)" above "      (i)" sits one step up, so a
                # "  (3)" further down is an outer paragraph, not one of its sub-items
                parsed[first][2] = following[0][2] - _indent_step(parsed)
    lines = []
    stack: list[tuple[int, str, bool]] = []  # open enumerations: (indent, marker class, opens)
    for entry in parsed:
        if entry is None:
            lines.append(_Line(0, 0, 0, False, True))
            continue
        start, end, indent, item, kind, opens = entry
        if not item:
            if not stack or indent <= stack[0][0]:
                stack = []  # prose at the outer margin ends every enumeration
            lines.append(_Line(start, end, indent, False, False))
            continue
        while stack and stack[-1][0] > indent:
            stack.pop()
        same = next((i for i in range(len(stack) - 1, -1, -1) if stack[i][0] == indent and stack[i][1] == kind), None)
        if same is not None:
            del stack[same:]
        elif stack and stack[-1][0] == indent and not stack[-1][2]:
            stack.pop()  # another kind of marker, but the item before it does not open a list: a sibling
        lines.append(_Line(start, end, indent + 1 + len(stack), True, False))
        stack.append((indent, kind, opens))
    # blank lines keep their offsets for callers that look at them
    offset = 0
    fixed = []
    for raw, line in zip(raw_lines, lines):
        if line.blank:
            line = _Line(offset, offset + len(raw), 0, False, True)
        fixed.append(line)
        offset += len(raw) + 1
    return fixed


def _indent_step(parsed: list) -> int:
    """How far this text indents a sub-item under its parent (2 when it does not show)."""
    items = [p[2] for p in parsed if p is not None and p[3]]
    steps = [b - a for a, b in zip(items, items[1:]) if b > a]
    return min(steps, default=2)


_MARKER = re.compile(r"^(?:[-*+•]\s+)?(?:" + _PARAGRAPH_PREFIX + r"?\(\s*([0-9a-zA-Z]{1,5})\s*\)|([0-9]{1,3}|[a-zA-Z]|[ivxlc]{1,6})[.)])")


def _marker_class(line: str) -> str:
    """"digit", "roman", "lower", "upper" or "bullet": items of one class in a row are siblings."""
    match = _MARKER.match(line)
    if not match:
        return "bullet"
    label = match.group(1) or match.group(2)
    if label.isdigit():
        return "digit"
    if re.fullmatch(r"[ivxlc]+", label) and (len(label) > 1 or label in "iv"):
        return "roman"
    return "lower" if label.islower() else "upper"


def units_of(passage: int, text: str, before: str = "", after: str = "") -> list[Unit]:
    """Every candidate unit of one passage. `before` and `after` are the texts of the passages next
    to it in the same document (or ""): a list's lead-in may be before it, its last items after it.

    The three are read as one text, so depth and lead-ins carry across the cuts; units are spans of
    the passage itself, and a list's items from the neighbours are shown, not highlighted.
    """
    base = len(before) + 1 if before else 0
    combined = (before + "\n" if before else "") + text + ("\n" + after if after else "")
    stop = base + len(text)
    lines = _lines(combined, (0, base, stop + 1) if after else (0, base))
    inside = [i for i, line in enumerate(lines) if base <= line.start and line.end <= stop]
    units: list[Unit] = []
    # Prose: sentences, one paragraph at a time (a sentence never spans paragraphs).
    for index in inside:
        line = lines[index]
        if line.blank or line.item or _is_continuation(lines, index):
            continue
        paragraph_end = min(_block_end(lines, index), stop)
        label = _field_label(passage, combined, lines, index, paragraph_end, base)
        if label is not None:
            units.extend(label)
            continue
        for start, end in split_sentences(combined, line.start, paragraph_end):
            if _usable(combined, start, end):
                units.append(Unit(passage, start - base, end - base))
    # Items, each with its chain of lead-ins; and whole lists under a lead-in.
    children: dict[int, list[tuple[int, int]]] = {}
    for index, line in enumerate(lines):
        if not line.item:
            continue
        # An item ends at the end of its passage: the next passage's first line is not its continuation.
        limit = stop if line.start < stop else len(combined)
        if line.start < base:
            limit = base - 1
        start, end = trim_span(combined, line.start, min(_block_end(lines, index), limit))
        lead, parent, adjacent, lead_start = _lead_chain(combined, lines, index)
        shown = lead_start - base if lead_start is not None else None
        if parent is not None:
            siblings = children.setdefault(parent, [])
            if all(combined[s:e] != combined[start:end] for s, e in siblings):  # passages overlap a little
                siblings.append((start, end))
        if not (base <= start and end <= stop):
            continue
        if end - start <= MAX_UNIT_CHARS:
            units.append(Unit(passage, start - base, end - base, lead, "item", adjacent, shown_start=shown))
        else:
            units.extend(Unit(passage, s - base, e - base, lead, "item", False, shown_start=shown)
                         for s, e in split_sentences(combined, start, end) if _usable(combined, s, e))
    for parent, members in children.items():
        here = [(s, e) for s, e in members if base <= s and e <= stop]
        if len(members) < 2 or not here:
            continue
        lead, _, adjacent, lead_start = _lead_chain(combined, lines, _line_at(lines, members[0][0]))
        start, end = here[0][0], here[-1][1]
        display = ""
        if len(here) < len(members) or members[-1][1] - members[0][0] > MAX_LIST_CHARS:
            # Items beyond the passage, or too many words: each item's opening words.
            display = _joined([_preview(collapse_whitespace(combined[s:e])) for s, e in members])
        units.append(Unit(passage, start - base, end - base, lead, "list", adjacent and here[0] == members[0],
                          display, len(members),
                          shown_start=min(lead_start if lead_start is not None else start, members[0][0]) - base,
                          shown_end=members[-1][1] - base))
    return sorted(set(units), key=lambda u: (u.start, u.end, u.kind))


def _line_at(lines: list[_Line], offset: int) -> int:
    return next(i for i, line in enumerate(lines) if line.start <= offset <= max(line.end, line.start))


def _joined(items: list[str]) -> str:
    """Items one after another, "; " between them unless an item ends its own way ("...; or", "adheres to:")."""
    out = items[0] if items else ""
    for previous, item in zip(items, items[1:]):
        out += (" " if re.search(r"(?:[;,]\s*(?:or|and)|[:—–])$", previous) else "; ") + item
    return out


def _preview(item: str) -> str:
    if len(item) <= ITEM_PREVIEW_CHARS:
        return item.rstrip(";")
    return item[:ITEM_PREVIEW_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def _usable(text: str, start: int, end: int) -> bool:
    return 0 < end - start <= MAX_UNIT_CHARS and any(char.isalpha() for char in text[start:end])


def _is_continuation(lines: list[_Line], index: int) -> bool:
    """A prose line that continues the item above it (indented under it, no blank line between)."""
    for previous in reversed(lines[:index]):
        if previous.blank:
            return False
        if previous.item:
            return lines[index].level >= previous.level
    return False


def _block_end(lines: list[_Line], index: int) -> int:
    """Where the paragraph or item starting at `index` ends: an item runs over the lines under it (its
    continuation), not its sub-items; both end at a blank line or the next item."""
    end = lines[index].end
    for line in lines[index + 1:]:
        if line.blank or line.item:
            break
        end = line.end
    return end


def _field_label(passage: int, text: str, lines: list[_Line], index: int, paragraph_end: int,
                 base: int = 0) -> list[Unit] | None:
    """"To" / "Issued:" on a line of its own labels the paragraph after it: read them together."""
    line = lines[index]
    label = text[line.start:line.end].strip()
    if paragraph_end != line.end or not _FIELD_LABEL.match(label) or len(label.split()) > 3:
        return None
    following = next((i for i in range(index + 1, len(lines)) if not lines[i].blank), None)
    if following is None or lines[following].item:
        return None
    end = _block_end(lines, following)
    sentences = split_sentences(text, lines[following].start, end)
    if not sentences:
        return None
    start, stop = sentences[0]
    if not _usable(text, start, stop):
        return None
    return [Unit(passage, start - base, stop - base, label.rstrip(":"), "field", True)]


LEAD_SEARCH_LINES = 40  # a lead-in further up than this is not the item's: lists are not that long between them


def _lead_chain(text: str, lines: list[_Line], index: int) -> tuple[str, int | None, bool, int | None]:
    """(lead-in text, index of the direct parent line, whether the parent directly precedes the item,
    offset where the outermost lead-in starts).

    The chain runs from the outer lead-in to the direct parent (two at most), each cut to its
    last open sentence ("... means—").
    """
    level = lines[index].level
    chain: list[str] = []  # nearest lead-in first; two are enough to read an item by
    parent = None
    adjacent = True
    position = index
    skipped = False
    outer_start = None
    while level > 0 and len(chain) < 2:
        found = None
        for i in range(position - 1, max(-1, position - 1 - LEAD_SEARCH_LINES), -1):
            candidate = lines[i]
            if candidate.blank:
                continue
            if candidate.level < level:
                found = i
                break
            if candidate.item and candidate.level == level:
                skipped = True  # a sibling item lies between the item and its lead-in
        if found is None:
            break
        lead_piece = _lead_text(text, lines[found])
        if lead_piece is None:
            break
        piece, outer_start = lead_piece
        if parent is None:
            parent = found
            adjacent = not skipped
        chain.append(piece)
        level = lines[found].level
        position = found
    lead = " ".join(reversed(chain))
    if len(lead) > MAX_LEAD_CHARS:
        lead = "… " + lead[-MAX_LEAD_CHARS:].split(" ", 1)[-1]
    return lead, parent, adjacent, outer_start


def _lead_text(text: str, line: _Line) -> tuple[str, int] | None:
    """(text, start) of a parent item, or of the last sentence of a prose lead-in that stays open ("means—")."""
    raw = text[line.start:line.end]
    if line.item:
        return collapse_whitespace(raw), line.start
    sentences = split_sentences(text, line.start, line.end)
    if not sentences:
        return None
    start, end = sentences[-1]
    last = collapse_whitespace(text[start:end])
    return (last, start) if _OPEN_END.search(last) else None
