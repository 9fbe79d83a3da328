"""Complete and normalise document metadata: who regulates what, where, of which type, and when.

Front matter and .jsonl fields come first. Missing fields are inferred only where it can be done
reliably — the date from the first lines ("published 29 April 2025", or a cover page's "May 2025" on
a line of its own), before a file's own date (a PDF's creation date), the regulator from names
mentioned in the title or repeatedly near the top, the jurisdiction from that regulator, the type
from the title (a parliamentary debate also from its speakers' "My Lords," near the top) — and
every inferred field is listed in `DocumentMeta.inferred`. Names are normalised with the glossary
("Financial Conduct Authority" → FCA, "United Kingdom" → UK).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from functools import lru_cache

from kb.glossary import TERMS, normalise_name, words_of
from kb.models import Document, DocumentMeta

HEAD_CHARS = 2000  # "prominently": the title and roughly the first page
TYPES = {
    "law": ("law", "act", "statute", "regulation", "regulations", "directive", "order", "statutory instrument",
            "rulebook", "rules"),
    "consultation": ("consultation", "consultation paper", "cp", "discussion paper", "call for evidence"),
    "policy statement": ("policy statement", "policy-statement", "ps", "policy note", "policy paper"),
    "guidance": ("guidance", "guide", "guidelines", "handbook guidance", "faq", "q&a"),
    "news": ("news", "article", "press", "press release", "blog"),
    "speech": ("speech",),
    "report": ("report", "review", "study"),
    "parliamentary debate": ("parliamentary debate", "debate", "hansard", "oral question", "written question",
                             "parliamentary question", "congressional record"),
}
_TYPE_OF = {alias: kind for kind, aliases in TYPES.items() for alias in aliases}
# A record of what was said in a legislature: its form, which a title states ("Hansard", "oral question")
# before naming its subject, which is often a law's or a consultation's ("Cryptocurrencies: US Regulation").
# So these come first. Not "Parliament" or "House of Lords" alone: laws name them too (the House of Lords
# Act 1999, "laid before Parliament").
_DEBATE_TITLE = re.compile(
    r"\bHansard\b|\b(?:oral|written|urgent|parliamentary) (?:questions?|answers?)\b|\bCongressional Record\b"
    r"|\b(?:parliamentary|Lords|Commons|Westminster Hall|Senate|adjournment|Second Reading|Third Reading) debates?\b"
    r"|\bdebates? (?:in|of) the (?:House|Lords|Commons|Senate)\b", re.I)
# How members address the chair in a transcript ("My Lords, the Government ..."): no law, guidance or
# consultation speaks so, and a transcript does in almost every contribution. Near the top, twice, or
# once beside the name of the record (a news story may quote one speech, not name Hansard too).
_DEBATE_ADDRESS = re.compile(r"\b(?:My Lords|M(?:r|r\.|adam) (?:Deputy )?Speaker),")
_DEBATE_RECORD = re.compile(r"\b(?:Hansard|Official Report|Congressional Record|(?:Lords|Commons) Chamber"
                            r"|Westminster Hall|Grand Committee|oral questions?)\b", re.I)
_TITLE_TYPE_PATTERNS = [
    (re.compile(r"\bconsultation\b|\bCP\d{2}/\d+|\bcall for evidence\b|\bdiscussion paper\b", re.I), "consultation"),
    (re.compile(r"\bpolicy (?:statement|note|paper)\b|\bPS\d{2}/\d+", re.I), "policy statement"),
    (re.compile(r"\bguidance\b|\bguidelines?\b|\bguide\b", re.I), "guidance"),
    (re.compile(r"\b(?:Act|Regulation|Regulations|Directive|Order|Rules|Rulebook|Law)\b|U\.S\.C\.", re.S), "law"),
]
_DATE_CUE = re.compile(r"\b(?:published|issued|dated|updated|last updated|date|first published|adopted|approved)\b",
                       re.I)


def normalise_type(value: str) -> str:
    folded = " ".join(value.casefold().replace("-", " ").replace("_", " ").split())
    return _TYPE_OF.get(folded, folded)


@lru_cache(maxsize=1)
def _regulator_phrases() -> dict[str, list[tuple[tuple[str, ...], str, str | None]]]:
    """First word → [(words of a regulator's name, short form, exact spelling required or None)]."""
    table: dict[str, list[tuple[tuple[str, ...], str, str | None]]] = {}
    for term in TERMS:
        if term.kind != "regulator":
            continue
        for name in (term.short, *term.names):
            words = words_of(name)
            if not words or words[0] == "the":
                continue
            # A one-word name counts only as written ("FCA", "Congress"), not as a common word.
            exact = name if len(words) == 1 else None
            table.setdefault(words[0], []).append((words, term.short, exact))
    for entries in table.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return table


def _regulator_counts(text: str) -> Counter:
    """How often each regulator is named in `text`, one pass over its words."""
    table = _regulator_phrases()
    words = words_of(text)
    counts: Counter = Counter()
    exact_words = None
    i = 0
    while i < len(words):
        for phrase, short, exact in table.get(words[i], ()):
            if tuple(words[i : i + len(phrase)]) != phrase:
                continue
            if exact is not None:
                exact_words = exact_words if exact_words is not None else Counter(re.findall(r"[^\W_]+", text))
                if not exact_words[exact]:
                    continue
            counts[short] += 1
            i += len(phrase) - 1
            break
        i += 1
    return counts


def infer_regulator(title: str, head: str) -> str | None:
    """A regulator named in the title, or clearly the most mentioned near the top (at least twice)."""
    in_title = _regulator_counts(title)
    if in_title:
        return in_title.most_common(1)[0][0]
    counts = _regulator_counts(head).most_common(2)
    if counts and counts[0][1] >= 2 and (len(counts) == 1 or counts[0][1] > counts[1][1]):
        return counts[0][0]
    return None


def jurisdiction_of(regulator: str | None) -> str | None:
    for term in TERMS:
        if term.short == regulator:
            return term.jurisdiction
    return None


def infer_type(title: str, head: str = "") -> str | None:
    """The type the title names ("consultation", "... Act 2023"); first, a parliamentary debate, which
    the title ("Hansard", "oral question", "Lords debate") or the speakers' address to the chair in the
    text ("My Lords," near the top, twice or beside "Hansard") shows whatever its subject."""
    if _DEBATE_TITLE.search(title):
        return "parliamentary debate"
    addresses = len(_DEBATE_ADDRESS.findall(head))
    if addresses >= 2 or addresses == 1 and _DEBATE_RECORD.search(head):
        return "parliamentary debate"
    for pattern, kind in _TITLE_TYPE_PATTERNS:
        if pattern.search(title):
            return kind
    return None


def infer_date(head: str) -> str | None:
    """The publication date the first lines state: a full date next to "published", "issued",
    "dated"...; else a line that is a date and nothing else, as a cover page or a byline gives it
    ("May 2025", "Wednesday 12 November 2025"). A date inside a sentence is not one: it may be any event."""
    from kb.dates import find_dates

    lines = head.splitlines()[:15]
    for line in lines:
        if not _DATE_CUE.search(line):
            continue
        for mention in find_dates(line):
            if mention.precision in {"day", "month"} and not mention.relative:
                return mention.label
    for line in lines:
        mentions = find_dates(line)
        if (len(mentions) == 1 and mentions[0].precision in {"day", "month"} and not mentions[0].relative
                and not _WORD_OR_NUMBER.search(_DAY_NAME.sub("", line[:mentions[0].start] + line[mentions[0].end:]))):
            return mentions[0].label
    return None


_WORD_OR_NUMBER = re.compile(r"[^\W_]")
_DAY_NAME = re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b,?", re.I)


def complete(document: Document) -> Document:
    """The document with normalised metadata and missing fields inferred (and marked so)."""
    meta = document.meta
    head = document.text[:HEAD_CHARS]
    inferred = list(meta.inferred)
    regulator = normalise_name(meta.regulator, "regulator") if meta.regulator else None
    if regulator is None:
        regulator = infer_regulator(meta.title, head)
        if regulator:
            inferred.append("regulator")
    jurisdiction = normalise_name(meta.jurisdiction, "jurisdiction") if meta.jurisdiction else None
    if jurisdiction is None and regulator:
        jurisdiction = jurisdiction_of(regulator)
        if jurisdiction:
            inferred.append("jurisdiction")
    doc_type = normalise_type(meta.doc_type) if meta.doc_type else None
    if doc_type is None:
        doc_type = infer_type(meta.title, head)
        if doc_type:
            inferred.append("doc_type")
    date = meta.date
    if date is None and meta.kind != "jsonl":
        # A date the text gives ("published 29 April 2025") first; the file's own (PDF, DOCX, HTML
        # properties, kept only when plausible) only when the text has none.
        date = infer_date(head) or meta.extra.get("file_date")
        if date:
            inferred.append("date")
    updated = replace(meta, regulator=regulator, jurisdiction=jurisdiction, doc_type=doc_type, date=date,
                      inferred=tuple(dict.fromkeys(inferred)))
    return replace(document, meta=updated)
