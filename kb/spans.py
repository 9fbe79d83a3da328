"""Typed spans in regulatory sentences: dates, durations, amounts, organisations, references, places.

A "how long" question is answered by a sentence with a duration in it ("within 25 working days",
"every 3 years", "without undue delay"); a "how much" question by one with an amount ("$100,000
for each day", "at least 12%", "EUR 43 million", "⅔ vote"). `find_spans` returns every span of the
kinds asked for, so the answerer can require one and show it. Recognition is by pattern: it has to
be right about regulatory prose in general, not about any one document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class SpanKind(StrEnum):
    DATE = "date"
    DURATION = "duration"
    AMOUNT = "amount"
    ORGANISATION = "organisation"
    REFERENCE = "reference"
    PLACE = "place"


@dataclass(frozen=True, slots=True)
class TypedSpan:
    kind: SpanKind
    start: int
    end: int
    text: str
    precision: int = 0  # dates: 0 day, 1 week, 2 month, ... 6 year (smaller is more precise)
    relative: bool = False  # dates: resolved against the document's date ("today", "next week")


# --- numbers -----------------------------------------------------------------------------------

_NUMBER_WORD = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
                r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|a|an)")
_NUMBER = rf"(?:\d[\d,]*(?:\.\d+)?|{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})*)"

# --- durations ---------------------------------------------------------------------------------

_TIME_UNIT = r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|quarters?)"
_DURATION = re.compile(
    rf"(?<![\w/.-])(?:{_NUMBER})(?:\s*\([\d,]+\))?[\s-]+(?:(?:calendar|working|business|clear|consecutive)[\s-]+)?{_TIME_UNIT}\b"
    rf"(?:\s+(?:after|before|from|following|of|prior\s+to|beginning|starting))?"
    r"|\bevery\s+(?:" + _NUMBER + r"[\s-]+)?(?:(?:calendar|working|business)\s+)?" + _TIME_UNIT + r"\b"
    r"|\bevery\s+(?:other|second|third|" + _NUMBER + r")\s+[a-z]+s?\b"  # "every three tests": a frequency too
    r"|\b(?:annually|yearly|monthly|quarterly|weekly|daily|biennially|semi-annually|once\s+a\s+(?:year|month|week|day)|"
    r"twice\s+a\s+(?:year|month))\b"
    r"|\bwithout\s+(?:undue\s+|unreasonable\s+)?delay\b|\bimmediately\b|\bpromptly\b|\bforthwith\b"
    r"|\bas\s+soon\s+as\s+(?:is\s+)?(?:reasonably\s+)?(?:possible|practicable|feasible)\b|\bin\s+a\s+timely\s+manner\b"
    r"|\b(?:a|an|the)\s+(?:additional|further|extra)\s+(?:year|month|week|day)\b"
    r"|\b(?:a|one)\s+(?:year|month|week|day)\b",
    re.I)

# --- amounts -----------------------------------------------------------------------------------

# "more than one authority" is no amount; "fewer than ten persons" is.
_COUNTED = (r"(?:persons|people|members|employees|staff|individuals|customers|accounts|firms|entities|shares|votes|units|"
            r"tokens|transactions|times|percent|per\s?cent)\b")

_SCALE = r"(?:\s*(?:million|billion|trillion|thousand|mn|bn|m|k)\b)?"
_CURRENCY_CODE = r"(?:USD|EUR|GBP|HKD|SGD|AED|CHF|JPY|AUD|CAD|CNY|INR|US\$|S\$|HK\$|A\$|C\$)"
_AMOUNT = re.compile(
    rf"(?:[$£€¥]|\b{_CURRENCY_CODE}\s?)\s?\d[\d,]*(?:\.\d+)?{_SCALE}"
    rf"|\b\d[\d,]*(?:\.\d+)?{_SCALE}\s*(?:dollars|euros?|pounds(?:\s+sterling)?|pence|cents|{_CURRENCY_CODE})\b"
    r"|\b\d+(?:\.\d+)?\s*(?:%|per\s?cent\b|percent\b|percentage\s+points?\b|basis\s+points\b|bps\b)"
    r"|[½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛]\s*(?:vote|majority)?"
    r"|\b(?:one|two|three)[\s-](?:half|halves|thirds?|quarters?|fifths?)\b|\b(?:simple|qualified|absolute)\s+majority\b"
    r"|\bone[\s-]to[\s-]one\b|\b1:1\b"
    rf"|\b(?:fewer|less|more|greater|not\s+more|not\s+less|no\s+more|no\s+less|at\s+least|at\s+most|up\s+to|exceed(?:ing|s)?|"
    rf"over|under|below|above|maximum\s+of|minimum\s+of)\s+(?:than\s+)?(?:\d[\d,]*(?:\.\d+)?(?:\s*%|\s+per\s?cent\b|\s+\w+)?|{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})*\s+{_COUNTED})"
    rf"|\b\d[\d,]*(?:\.\d+)?{_SCALE}\s+(?!(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|quarters?|working|"
    r"business|calendar)\b)[a-z]+s\b",  # "250 persons", "500 credits": a count of something
    re.I)

# --- organisations and people --------------------------------------------------------------------

_ORG_HEAD = (r"(?:Authority|Authorities|Commission|Committee|Board|Bureau|Agency|Bank|Treasury|Council|Parliament|Office|"
             r"Comptroller|Corporation|Service|Services|Department|Ministry|Secretary|Government|Court|Overseer|Regulator|"
             r"Supervisor|Exchange|Institute|Association|Fund|Union|Administration|Reserve|Network|Congress|Senate|"
             r"Governor|Chair|Chairman|Chairperson|Minister|Ombudsman|Tribunal|Registrar|Commissioner|Directorate|"
             r"Organisation|Organization|Group|Forum|Centre|Center|Institution|Body|Officer|Officers)")
_CAPITALISED = r"[A-Z][\w'’.&-]*"
_ORGANISATION = re.compile(
    rf"\b(?:{_CAPITALISED}\s+(?:(?:of|for|and|on|the|in)\s+){{0,2}}){{0,7}}{_ORG_HEAD}\b(?:\s+(?:of|for)\s+(?:the\s+)?{_CAPITALISED}(?:\s+{_CAPITALISED}){{0,3}})?"
    r"|\b[A-Z][A-Za-z]*[A-Z]{1,}[a-z]?s?\b(?<![IVX]{2})"  # acronyms: FCA, ESMA, FinCEN, SFC
    r"|\b[A-Z][a-z]+(?:\s+[A-Z]\.)?\s+[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b(?=\s*(?:,|said|says|announced|stated|\(|$))"  # names
    r"|\b(?i:(?:(?:chief|senior|compliance|executive|nominated|money\s+laundering\s+reporting|data\s+protection|risk|"
    r"responsible|deputy|vice)\s+){0,3}(?:officers?|managers?|directors?|chairs?|chairman|chairperson|secretary|controllers?|"
    r"custodians?|auditors?|supervisors?|regulators?|authorit(?:y|ies)|overseers?|trustees?|administrators?|"
    r"agents?|ministers?|governors?|members?\s+states?|committees?|boards?|bodies|body|agenc(?:y|ies)|"
    r"institutions?|entities|entity|firms?|persons?|issuers?|providers?|operators?))\b",
    re.M)

# --- references --------------------------------------------------------------------------------

_REFERENCE = re.compile(
    r"\b(?:CP|PS|DP|FG|GC|TR|CS|SS|SoP|PRA|FSA)\s?\d{1,2}/\d{1,3}\b"  # UK regulator papers: CP25/41, PS6/21
    r"|\b[A-Z]{2,}-\d{2,4}-[A-Z0-9]{2,6}\b"  # FIN-2019-G001
    r"|\b(?:Articles?|Art\.|Arts\.|sections?|§+|regulations?|rules?|paragraphs?|paras?\.|Parts?|Chapters?|Schedules?|"
    r"Annex(?:es)?|Titles?|subsections?|subparagraphs?|clauses?|points?|recitals?)\s+\d+(?:\.\d+)*[A-Za-z]?(?:\(\w{1,4}\))*"
    r"(?:\s*(?:,|and|or|to)\s*\d+(?:\.\d+)*[A-Za-z]?(?:\(\w{1,4}\))*)*"
    r"|\b(?:Regulation|Directive|Decision|Implementing\s+Regulation|Delegated\s+Regulation)\s+\((?:EU|EC|EEC|Euratom)\)\s+"
    r"(?:No\.?\s+)?\d+/\d+"
    r"|\b(?:Interpretive\s+Letter|IL|Bulletin|Notice|Circular|Guidance|Statutory\s+Instrument|S\.?I\.?)\s+(?:No\.?\s+)?\d[\d/-]*"
    r"|\b(?:[A-Z][\w'’()-]*\s+){1,8}(?:Act|Regulations?|Order|Directive|Rules|Code)(?:\s+(?:of\s+)?\d{4})?\b"
    r"|\b\d+\s+U\.?\s?S\.?\s?C\.?\s+§*\s*\d+[a-z]?\b|\b\d+\s+(?:CFR|C\.F\.R\.)\s+[\d.]+",
    re.M)

# --- places and addresses ---------------------------------------------------------------------------

_PLACE = re.compile(
    r"\b\d{1,4}[A-Za-z]?\s+(?:[A-Z][\w'-]*\s+){1,4}(?:Street|St|Square|Road|Rd|Avenue|Ave|Lane|Place|Way|Quay|Wharf|Court|"
    r"Plaza|Boulevard|Building|Tower|House)\b"
    r"|\b(?:home|host)\s+Member\s+State\b|\bMember\s+States?\b"
    r"|\b(?:home|host)\s+(?:Member\s+)?(?:State|country|authority)\b"
    r"|\b(?:in|at|to)\s+(?:the\s+)?(?!(?:Article|Section|Regulation|Rule|Part|Chapter|Schedule|Annex|Title|Paragraph)\b)"
    r"[A-Z][\w'-]+(?:\s+(?:of\s+|for\s+|and\s+)?[A-Z][\w'-]+){0,6}",
    re.M)


def find_spans(text: str, kinds: frozenset[SpanKind] | set[SpanKind], *, published: str | None = None,
               jurisdiction: str | None = None) -> list[TypedSpan]:
    """Every span of `kinds` in `text`, in order of position (overlaps allowed between kinds)."""
    spans: list[TypedSpan] = []
    if SpanKind.DATE in kinds:
        from kb.dates import PRECISIONS, document_dates

        rank = {p: i for i, p in enumerate(PRECISIONS)}
        spans += [TypedSpan(SpanKind.DATE, m.start, m.end, m.text, rank.get(m.precision, 6), m.relative)
                  for m in document_dates(text, published, jurisdiction)]
    patterns = ((SpanKind.DURATION, _DURATION), (SpanKind.AMOUNT, _AMOUNT), (SpanKind.ORGANISATION, _ORGANISATION),
                (SpanKind.REFERENCE, _REFERENCE), (SpanKind.PLACE, _PLACE))
    date_spans = [(s.start, s.end) for s in spans if s.kind is SpanKind.DATE]
    for kind, pattern in patterns:
        if kind not in kinds:
            continue
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind in (SpanKind.AMOUNT, SpanKind.DURATION) and _inside_date_or_reference(text, start, end, date_spans):
                continue
            if kind is SpanKind.DURATION and (tail := _LINKING_WORD.search(text, start, end)):
                end = tail.start()  # "within 25 working days of receipt": the value is "25 working days"
            if kind is SpanKind.AMOUNT and (rest := _RANGE_REST.match(text, end)) and \
                    (upper := _AMOUNT.match(text, rest.end())):
                end = upper.end()  # "at least 12%, but less than 20%": the range, not its floor
            if end > start:
                spans.append(TypedSpan(kind, start, end, text[start:end]))
    # the upper bound of a range is not a value of its own
    spans = [s for s in spans if not any(o.kind is s.kind and o.start <= s.start and s.end <= o.end
                                         and o.end - o.start > s.end - s.start for o in spans)]
    return sorted(spans, key=lambda s: (s.start, -s.end))


_LINKING_WORD = re.compile(r"\s+(?:after|before|from|following|of|prior\s+to|beginning|starting)$", re.I)
_RANGE_REST = re.compile(r",?\s+(?:but\s+)?(?:less|more|fewer|lower|higher|not\s+more|not\s+less)\s+than\s+|"
                         r"\s*(?:to|-|–)\s*(?=[$£€¥\d])", re.I)


_YEAR_ONLY = re.compile(r"(?:19|20)\d\d")


def _inside_date_or_reference(text: str, start: int, end: int, dates: list[tuple[int, int]]) -> bool:
    """A number that is a year, part of a date, or a section number is not an amount or a duration."""
    if any(s <= start and end <= e for s, e in dates):
        return True
    token = text[start:end].strip()
    if _YEAR_ONLY.fullmatch(token):
        return True
    before = text[max(0, start - 12):start].casefold()
    return bool(re.search(r"(?:section|article|art\.|rule|regulation|paragraph|para\.|part|chapter|§|no\.|title)\s*$", before))
