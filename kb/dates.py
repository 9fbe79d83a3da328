"""Dates and periods in regulatory sentences, as calendar spans with a normalised label.

"When" questions and timelines need "1 January 2027", "Q3 2026", "mid-2026" and "next week" as
comparable periods: a first and a last day, the unit the text was stated in, and a short label
("2027-01-01", "2026-Q3", "2026 (mid)", "2025-W38"). Relative expressions are resolved only
against a reference date (the document's publication date); without one they are not returned,
because a wrong absolute date is worse than none.

Rules for the ambiguous cases (each one is tested):

- Years are 1900–2099. A bare year counts only when it does not look like part of a number or a
  reference: not after "/", ".", ",", ":", "$", "£", "€", "§", a digit, or a word such as
  "Article", "Rule", "No", "Act", "U.S.C."; not before "/", ".1", "%", a digit, or an amount word
  ("dollars", "tokens", "million"). Before a count noun ("2026 firms") it counts only after a
  temporal preposition ("In 2026 firms must ...").
- "01/02/2027" follows `day_first`, unless one part is over 12, which settles it.
- A month or day without a year takes the year of a dated neighbour in a list or range
  ("January to March 2026", "from 1 April 2026 to 30 June"; "December to February 2026" starts in
  December 2025). Otherwise it needs the reference date, and a bare month name also needs a capital
  and a preposition or modifier before it ("in", "by", "until", "early", "end of", ...). It is then
  the occurrence within the 12 months from 9 months before to 2 months after the reference month:
  a text dated September means the past March but the coming November. "last March" is the latest
  March before the reference month, "next March" the first after it, "this March" the one in its year.
- "March, 2026" (a comma between month and year) is not one date: "In March, 2026 applications
  were received" is a month and a count. An impossible day ("31 February 2027") keeps its month.
- "early/mid/late X" are the thirds of X (years: Jan–Apr, May–Aug, Sep–Dec; months: days 1–10,
  11–20, 21–end); "the start/beginning of X" its first month (days 1–10 of a month), "the end of X"
  its last month (days 21–end of a month). They are approximate and keep X's precision; the label
  is X's label with the modifier: "2026 (end)".
- Seasons are meteorological, northern hemisphere: spring Mar–May, summer Jun–Aug, autumn Sep–Nov,
  winter Dec–Feb starting in the named year ("winter 2025" and "winter 2025/26" are Dec 2025–Feb
  2026).
- Weeks are ISO weeks, Monday to Sunday. "the next year" / "the last month" (with "the") mean a
  rolling span, not a calendar period, and are not returned.
- "18 months after <date>" is the shifted date (month arithmetic clamps to the month's end);
  "business days" are not counted.
- Overlapping matches: the longest wins, then the most precise.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass, replace
from typing import NamedTuple

# Most precise first: the one order of precisions (overlapping matches, timelines, vague references).
PRECISIONS = ("day", "week", "month", "quarter", "season", "half", "year")
PRECISION_RANK = {precision: rank for rank, precision in enumerate(PRECISIONS)}


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date or period found in a sentence, as the calendar span it stands for."""

    text: str  # the matched text, verbatim
    start: int  # span in the sentence
    end: int
    first: datetime.date  # first day of the period
    last: datetime.date  # last day of the period
    precision: str  # one of PRECISIONS: the unit the text states the period in
    label: str  # "2027-01-01", "2025-W38", "2027-01", "2026-Q3", "2026-spring", "2026-H1", "2026"
    relative: bool = False  # resolved against the reference date ("next week", "in March")
    approximate: bool = False  # "early 2027", "mid-2026", "the end of 2026": label "2027 (early)"


# --- Building blocks -------------------------------------------------------------------------

_MONTH_WORD = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\b\.?"
)
# Without a year a month must be written out and capitalised: "may" and "march" are also verbs.
_FULL_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"
_MONTH_CAPITALISED = _FULL_MONTH + r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?"
_DAY = r"(?P<day>[0-3]?\d)(?!\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)(?!\d)"
_SEASON_START = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
_SEASON_NAME = {3: "spring", 6: "summer", 9: "autumn", 12: "winter"}
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
             "final": 4, "last": 4}
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
                 "eighteen": 18, "twenty-four": 24, "thirty": 30, "sixty": 60, "ninety": 90}

# --- Absolute forms --------------------------------------------------------------------------

_ISO_DATE = re.compile(r"(?<![\w./-])" + _YEAR + r"(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})(?!\d|(?P=sep)\d)")
_NUMERIC_DATE = re.compile(r"(?<![\w./])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)" + _YEAR + r"(?![/.]\d)")
_DAY_MONTH_YEAR = re.compile(r"(?<![\w.,/])" + _DAY + r"\s+(?:of\s+)?(?P<month>" + _MONTH_WORD + r"),?\s+" + _YEAR, re.I)
_MONTH_DAY_YEAR = re.compile(r"(?<!\w)(?P<month>" + _MONTH_WORD + r")\s+" + _DAY + r",?\s+" + _YEAR, re.I)
_MONTH_YEAR = re.compile(r"(?<!\w)(?P<month>" + _MONTH_WORD + r")\s+(?:of\s+)?" + _YEAR, re.I)
_QUARTER = re.compile(
    r"(?<!\w)(?:Q(?P<q>[1-4])(?:\s*[-/]\s*|\s+(?:of\s+)?)" + _YEAR
    + r"|(?P<ord>first|second|third|fourth|final|last|1st|2nd|3rd|4th)\s+(?:calendar\s+)?quarter\s+(?:of\s+)?(?:the\s+year\s+)?"
    + _YEAR.replace("year>", "year2>") + r")", re.I)
_YEAR_QUARTER = re.compile(r"(?<![\w/.-])" + _YEAR + r"(?:\s*[-/]\s*|\s+)Q(?P<q>[1-4])(?!\w)", re.I)
_HALF = re.compile(
    r"(?<!\w)(?:H(?P<h>[12])(?:\s*[-/]\s*|\s+(?:of\s+)?)" + _YEAR
    + r"|(?P<ord>first|second|1st|2nd)\s+half\s+(?:of\s+)?(?:the\s+year\s+)?" + _YEAR.replace("year>", "year2>") + r")",
    re.I)
_YEAR_HALF = re.compile(r"(?<![\w/.-])" + _YEAR + r"(?:\s*[-/]\s*|\s+)H(?P<h>[12])(?!\w)", re.I)
_SEASON = re.compile(
    r"(?<!\w)(?P<season>spring|summer|autumn|fall|winter)\s+(?:of\s+)?" + _YEAR + r"(?:\s*[/-]\s*(?P<next>\d{4}|\d{2})(?!\d))?",
    re.I)
_BARE_YEAR = re.compile(r"(?<!\w)" + _YEAR + r"(?!\w)")

# --- Context of a bare year ------------------------------------------------------------------

# Words after which a number is a reference, not a year: "Article 2026", "12 U.S.C. 2026", "Act 2026"
# (the year of an Act is part of its name, not an event). Compared lower case, without dots.
_REFERENCE_WORDS = frozenset(
    """
    section sections sec secs s ss article articles art arts rule rules regulation regulations reg regs
    paragraph paragraphs para paras page pages p pp no nos number num nr chapter ch chap part parts
    schedule annex annexes appendix title law act acts bill order code form item footnote note box
    table figure fig exhibit question step line lines reference ref id usc cfr si isbn tel telephone
    phone fax room suite floor ext extension version vol volume fy cy cp ps dp fg iso iec
    en bs directive usd gbp eur chf jpy aud cad sgd hkd inr
    """.split()
)
# Words that make a number an amount whatever precedes it: "by 2026 tokens", "2026 per cent".
_AMOUNT_WORDS = frozenset(
    """
    dollars dollar pounds pound euros euro yen francs pence cents usd gbp eur chf jpy btc eth coins
    units unit tokens token shares share points bps bp million billion trillion thousand m bn mn k
    per percent pc times hours hrs hr minutes seconds metres meters km kg tonnes tons
    """.split()
)
# Count nouns: "2026 firms" is a count, but "In 2026 firms must report" is a year.
_COUNT_WORDS = frozenset(
    """
    firms companies banks people persons individuals members employees staff workers customers
    clients consumers accounts entities institutions respondents cases complaints transactions
    applications loans mortgages policies products funds votes comments responses submissions
    words pages characters items records rows days weeks months years
    """.split()
)
_TEMPORAL_PREPOSITION = re.compile(r"\b(?:in|by|from|until|till|before|after|since|during|throughout|between)\s+$", re.I)
_PREVIOUS_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\s*$")
_NEXT_WORD = re.compile(r"\s+([A-Za-z]+)")
_GLUED_BEFORE = re.compile(r"(?:[/\\.,:+\-–—]|[$£€¥#§¶]\s*|\d\s?)$")  # "2023/", "2,", "$ ", "0300 "
_GLUED_AFTER = re.compile(r"[/\\]|[.,:\-–—]\d|\s?\d|\s*(?:%|per\s*cent\b|percent\b)", re.I)
_YEAR_DASH_AFTER = re.compile(r"\s*[-–—]\s*((?:19|20)\d\d)(?!\d)")
_YEAR_DASH_BEFORE = re.compile(r"(?<![\w./-])((?:19|20)\d\d)\s*[-–—]\s*$")
_MODIFIER_DASH = re.compile(r"(?<![\w-])(?:mid|early|late)\s*-\s*$", re.I)

# --- Months without a year -------------------------------------------------------------------

_YEARLESS_DAY_MONTH = re.compile(r"(?<![\w.,/])" + _DAY + r"\s+(?:of\s+)?(?P<month>" + _MONTH_CAPITALISED + r")")
_YEARLESS_MONTH_DAY = re.compile(r"(?<!\w)(?P<month>" + _MONTH_CAPITALISED + r")\s+" + _DAY + r"(?!\w)")
_YEARLESS_MONTH = re.compile(r"(?<!\w)(?P<month>" + _FULL_MONTH + r")")
_MONTH_CONTEXT = re.compile(
    r"(?:\b(?:in|by|from|to|until|till|through|since|during|before|after|between|throughout)\s+"
    r"(?:(?:early|mid|late)(?:\s*-\s*|\s+))?|(?<![\w-])(?:early|mid|late)(?:\s*-\s*|\s+)"
    r"|\b(?:end|start|beginning|middle|close)\s+of\s+)$",
    re.I)
# What joins a month without a year to a dated one that lends it its year: "January to March 2026".
_LIST_JOINER = re.compile(r"\s*(?:,\s*)?(?:\b(?:and|or|to|until|till|through)\b|[-–—]|,)\s*", re.I)
_LIST_JOINER_BEFORE = re.compile(r"\s*(?:,\s*)?(?:\b(?:and|or|to|until|till|through)\b|[-–—]|,)\s*$", re.I)

# --- Relative forms --------------------------------------------------------------------------

_RELATIVE_DAY = re.compile(r"(?<!\w)(?P<word>today|yesterday|tomorrow)(?!\w)", re.I)
_RELATIVE_PERIOD = re.compile(r"(?<!\w)(?P<dir>this|next|last)\s+(?P<unit>week|month|quarter|year)(?!\w)", re.I)
_RELATIVE_PART = re.compile(r"(?<!\w)(?P<dir>earlier|later)\s+this\s+(?P<unit>week|month|quarter|year)(?!\w)", re.I)
_RELATIVE_MONTH = re.compile(r"(?<!\w)(?P<dir>[Tt]his|[Nn]ext|[Ll]ast)\s+(?P<month>" + _FULL_MONTH + r")")
# Relative wording on its own: "today", "this week", "earlier this month" (not "in March", "next June").
_RELATIVE_WORDING = re.compile(r"today|yesterday|tomorrow|(?:(?:earlier|later)\s+)?(?:this|next|last)\s+(?:week|month|quarter|year)",
                               re.I)
_THE_BEFORE = re.compile(r"\bthe\s+$", re.I)

# --- Wrappers: modifiers and offsets ---------------------------------------------------------

_MODIFIER = re.compile(
    r"(?<![\w-])(?:(?:the\s+)?(?:very\s+)?(?P<part>end|start|beginning|middle|close)\s+of\s+(?:the\s+)?"
    r"|(?P<third>early|mid|late)(?:\s*-\s*|\s+(?:in\s+)?))$",
    re.I)
_PART_NAMES = {"end": "end", "close": "end", "start": "start", "beginning": "start", "middle": "mid"}
_OFFSET = re.compile(
    r"(?<![\w-])(?P<n>\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen"
    r"|twenty-four|thirty|sixty|ninety)\s+(?:calendar\s+)?(?P<unit>day|week|month|year)s?\s+"
    r"(?P<dir>after|from|following|before|prior\s+to)\s+(?:the\s+)?$",
    re.I)
# "12 months from 1 January 2026 to 31 December 2026" is a span, not an offset.
_RANGE_FOLLOWS = re.compile(r"\s*(?:to|until|till|through|and|[-–—])\s*(?:the\s+)?(?:\d|" + _MONTH_WORD + ")", re.I)


# --- ISO values (metadata dates and our own labels) -------------------------------------------

_ISO_PARTIAL = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2})"
    r"(?:[T ]\d{1,2}(?::\d{2}){0,2}(?:\.\d+)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?"
)
_LEADING_ISO = re.compile(r"(?P<year>\d{4})(?:(?P<sep>[-/.])(?P<month>\d{1,2})(?:(?P=sep)(?P<day>\d{1,2}))?"
                          r"|(?P<compact_month>\d{2})(?P<compact_day>\d{2})?)?")
MIN_YEAR = 1000  # "0000" or "0999" in a date field is a placeholder, not a year
_ISO_LABEL = re.compile(r"(?P<year>\d{4})-(?:Q(?P<q>[1-4])|H(?P<h>[12])|W(?P<w>\d{2})|(?P<season>spring|summer|autumn|winter))")


def find_dates(sentence: str, reference: datetime.date | None = None, *, day_first: bool = True) -> list[DateMention]:
    """Dates and periods in `sentence`, sorted by start and without overlaps.

    Relative expressions ("next week", "in March") are resolved against `reference` and dropped
    when it is None. `day_first` reads "01/02/2027" as 1 February (False: 2 January, US style).
    """
    if isinstance(reference, datetime.datetime):
        reference = reference.date()  # a timestamp's day; date arithmetic must not carry the time
    found = _absolute(sentence, day_first)
    found += _yearless(sentence, found, reference)
    if reference is not None:
        found += _relative(sentence, reference)
    found += [wrapped for mention in found if (wrapped := _with_modifier(sentence, mention))]
    found += [shifted for mention in found if (shifted := _with_offset(sentence, mention))]
    kept = _without_overlaps(found)
    # "On 10 November, just earlier this week, ...": the date the sentence states is the event's;
    # the relative period around it adds nothing (and would be a second event).
    return [m for m in kept if not (_RELATIVE_WORDING.fullmatch(m.text) and any(
        o is not m and not _RELATIVE_WORDING.fullmatch(o.text) and m.first <= o.first and o.last <= m.last
        for o in kept))]


class Period(NamedTuple):
    """A calendar span and the unit it was stated in."""

    first: datetime.date
    last: datetime.date
    precision: str  # one of PRECISIONS

    @property
    def label(self) -> str:
        """"2025", "2025-09", "2025-09-10", "2026-Q3": the value parse_iso_partial reads back."""
        return _label(self.precision, self.first)


def parse_iso_partial(value: str, *, leading: bool = False) -> Period | None:
    """(first, last, precision) of "2025", "2025-09", "2025-09-10" (a time part is ignored).

    Also reads the labels find_dates gives weeks, quarters, halves and seasons ("2025-W38",
    "2026-Q3", "2026-H1", "2026-spring"), so a label turns back into its span. None when not a date.
    With `leading`, a date that starts a longer value counts too, and what follows is ignored:
    "2025-09 (estimated)", "2025/04/29", a PDF's "20250429093000Z" (filters and file metadata).
    """
    text = value.strip()
    if match := _ISO_PARTIAL.fullmatch(text):
        return _iso_span(match["year"], match["month"], match["day"])
    if match := _ISO_LABEL.fullmatch(text):
        return _label_span(match)
    if leading and (match := _LEADING_ISO.match(text)):
        return _iso_span(match["year"], match["month"] or match["compact_month"], match["day"] or match["compact_day"])
    return None


def _iso_span(year: str, month: str | None, day: str | None) -> Period | None:
    year, month, day = (int(part) if part else None for part in (year, month, day))
    if year < MIN_YEAR or month is not None and not 1 <= month <= 12:
        return None
    if month is None:
        return Period(*_span(year, 1, 12), "year")
    if day is None:
        return Period(*_span(year, month, month), "month")
    date = _date(year, month, day)
    return Period(date, date, "day") if date else None


def _label_span(match: re.Match) -> Period | None:
    year = int(match["year"])
    if year < MIN_YEAR:
        return None
    if match["q"]:
        quarter = int(match["q"])
        return Period(*_span(year, 3 * quarter - 2, 3 * quarter), "quarter")
    if match["h"]:
        half = int(match["h"])
        return Period(*_span(year, 6 * half - 5, 6 * half), "half")
    if match["season"]:
        start = _SEASON_START[match["season"]]
        return Period(*_span(year, start, start + 2), "season")
    try:
        monday = datetime.date.fromisocalendar(year, int(match["w"]), 1)
    except ValueError:
        return None
    return Period(monday, monday + datetime.timedelta(days=6), "week")


# --- Calendar helpers ------------------------------------------------------------------------

def _date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def _span(year: int, first_month: int, last_month: int) -> tuple[datetime.date, datetime.date]:
    """First day of `first_month` to last day of `last_month`; months past 12 run into next year."""
    end_year, end_month = year + (last_month - 1) // 12, (last_month - 1) % 12 + 1
    return datetime.date(year, first_month, 1), _month_end(end_year, end_month)


def _add_months(date: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (or earlier), clamped to the end of a shorter month."""
    index = date.year * 12 + date.month - 1 + months
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, min(date.day, calendar.monthrange(year, month + 1)[1]))


def _months_between(first: datetime.date, last: datetime.date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _label(precision: str, first: datetime.date) -> str:
    if precision == "day":
        return first.isoformat()
    if precision == "week":
        iso = first.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if precision == "month":
        return f"{first.year}-{first.month:02d}"
    if precision == "quarter":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    if precision == "half":
        return f"{first.year}-H{1 if first.month <= 6 else 2}"
    if precision == "season":
        return f"{first.year}-{_SEASON_NAME[first.month]}"
    return str(first.year)


def _mention(sentence: str, start: int, end: int, first: datetime.date, last: datetime.date, precision: str,
             *, relative: bool = False) -> DateMention:
    return DateMention(sentence[start:end], start, end, first, last, precision, _label(precision, first), relative)


def _day_mention(sentence: str, match: re.Match, year: int, month: int, day: int, *,
                 relative: bool = False) -> DateMention | None:
    date = _date(year, month, day)
    return date and _mention(sentence, match.start(), match.end(), date, date, "day", relative=relative)


def _month_number(token: str) -> int:
    key = token.rstrip(".").casefold()[:3]
    return ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec").index(key) + 1


def _nearest_month_year(month: int, reference: datetime.date) -> int:
    """Year of `month` within the 12 months from 9 months before to 2 months after the reference.

    Undated "in March" in a text published in September is usually the past March, while
    "in November" is the coming one; past tense is the commoner reading beyond a short horizon.
    """
    ahead = (month - reference.month) % 12
    offset = ahead if ahead <= 2 else ahead - 12
    return reference.year + (reference.month - 1 + offset) // 12


# --- Matchers --------------------------------------------------------------------------------

def _absolute(sentence: str, day_first: bool) -> list[DateMention]:
    found: list[DateMention | None] = []
    for match in _ISO_DATE.finditer(sentence):
        found.append(_day_mention(sentence, match, int(match["year"]), int(match["month"]), int(match["day"])))
    for match in _NUMERIC_DATE.finditer(sentence):
        if not _after_reference_word(sentence[max(0, match.start() - 40):match.start()]):  # "section 1.2.2026"
            found.append(_numeric_date(sentence, match, day_first))
    for pattern in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR):
        for match in pattern.finditer(sentence):
            found.append(_day_mention(sentence, match, int(match["year"]), _month_number(match["month"]), int(match["day"])))
    for match in _MONTH_YEAR.finditer(sentence):
        if match["month"] != "may":  # "firms may 2026 ..." is not a date; "May 2026" is
            year, month = int(match["year"]), _month_number(match["month"])
            found.append(_mention(sentence, match.start(), match.end(), *_span(year, month, month), "month"))
    for pattern in (_QUARTER, _YEAR_QUARTER):
        for match in pattern.finditer(sentence):
            quarter = int(match["q"]) if match["q"] else _ORDINALS[match["ord"].casefold()]
            year = int(match["year"] or match.groupdict().get("year2"))
            found.append(_mention(sentence, match.start(), match.end(), *_span(year, 3 * quarter - 2, 3 * quarter), "quarter"))
    for pattern in (_HALF, _YEAR_HALF):
        for match in pattern.finditer(sentence):
            half = int(match["h"]) if match["h"] else _ORDINALS[match["ord"].casefold()]
            year = int(match["year"] or match.groupdict().get("year2"))
            found.append(_mention(sentence, match.start(), match.end(), *_span(year, 6 * half - 5, 6 * half), "half"))
    for match in _SEASON.finditer(sentence):
        found.append(_season(sentence, match))
    for match in _BARE_YEAR.finditer(sentence):
        if _standalone_year(sentence, match.start(), match.end()):
            year = int(match["year"])
            found.append(_mention(sentence, match.start(), match.end(), *_span(year, 1, 12), "year"))
    return [mention for mention in found if mention]


def _numeric_date(sentence: str, match: re.Match, day_first: bool) -> DateMention | None:
    a, b = int(match["a"]), int(match["b"])
    if a > 12 >= b:  # "28/05/2025" is day first whatever the convention
        day, month = a, b
    elif b > 12 >= a:
        day, month = b, a
    else:
        day, month = (a, b) if day_first else (b, a)
    return _day_mention(sentence, match, int(match["year"]), month, day)


def _season(sentence: str, match: re.Match) -> DateMention | None:
    year, start_month = int(match["year"]), _SEASON_START[match["season"].casefold()]
    if match["next"]:
        # Only winter spans two years: "winter 2025/26". Anything else is not a season.
        following = int(match["next"])
        if start_month != 12 or following not in (year + 1, (year + 1) % 100):
            return None
    return _mention(sentence, match.start(), match.end(), *_span(year, start_month, start_month + 2), "season")


# An acronym before a year names an instrument by its short title: "(PSRs 2017)", "FSMA 2000", "MLRs 2017".
# (Upper-case text keeps its prepositions: "BY 2025" is still a date.)
_ACRONYM = re.compile(r"[A-Z]{2,}s?")
_UPPER_CASE_WORDS = frozenset("BY IN ON FROM UNTIL TILL BEFORE AFTER SINCE DURING OF TO AND OR THE END MID EARLY LATE "
                              "FY CY Q H".split())


def _after_reference_word(before: str) -> bool:
    word = _PREVIOUS_WORD.search(before)
    if not word:
        return False
    bare = word[1].replace(".", "")
    return bare.casefold() in _REFERENCE_WORDS or (bool(_ACRONYM.fullmatch(bare)) and bare not in _UPPER_CASE_WORDS)


def _standalone_year(sentence: str, start: int, end: int) -> bool:
    """Whether a bare 4-digit number reads as a year rather than part of a number or reference."""
    year = int(sentence[start:end])
    before, after = sentence[max(0, start - 40):start], sentence[end:end + 40]
    later = _YEAR_DASH_AFTER.match(after)
    earlier = _YEAR_DASH_BEFORE.search(before)
    if later and int(later[1]) > year:  # "2025-2027"
        return not _after_reference_word(before)
    if earlier and int(earlier[1]) < year:
        return not _after_reference_word(before[:earlier.start()])
    if _GLUED_BEFORE.search(before) and not _MODIFIER_DASH.search(before):
        return False
    if _GLUED_AFTER.match(after) or _after_reference_word(before):
        return False
    word = _NEXT_WORD.match(after)
    if word:
        noun = word[1].casefold()
        if noun in _AMOUNT_WORDS or noun in _COUNT_WORDS and not _TEMPORAL_PREPOSITION.search(before):
            return False
    return True


_YEAR_AFTER = re.compile(r",?\s+(?:of\s+)?(?P<dir>last|this|next)\s+year\b", re.I)


@dataclass(frozen=True, slots=True)
class _Yearless:
    """A month, or a day of a month, written without a year."""

    start: int
    end: int
    month: int
    day: int | None
    needs_context: bool  # a bare month name needs a preposition before it to read as a date


def _yearless(sentence: str, dated: list[DateMention], reference: datetime.date | None) -> list[DateMention]:
    """Months and days without a year: they borrow the year of a dated neighbour, else the reference's."""
    candidates = [_Yearless(m.start(), m.end(), _month_number(m["month"]), int(m["day"]), False)
                  for pattern in (_YEARLESS_DAY_MONTH, _YEARLESS_MONTH_DAY) for m in pattern.finditer(sentence)]
    candidates += [_Yearless(m.start(), m.end(), _month_number(m["month"]), None, True)
                   for m in _YEARLESS_MONTH.finditer(sentence)]
    # "1 January" inside "1 January 2026" is not a yearless date.
    candidates = [c for c in candidates if not any(d.start <= c.start and c.end <= d.end for d in dated)]
    lenders = [mention for mention in dated if mention.precision in ("day", "month")]
    by_start = {mention.start: mention for mention in lenders}
    by_end = {mention.end: mention for mention in lenders}
    found: dict[tuple[int, int], DateMention] = {}
    # "between February and April last year": the year the document's own date gives, said after the
    # month (it lends it on, below). Without a reference, no year.
    for candidate in candidates if reference is not None else ():
        said = _YEAR_AFTER.match(sentence, candidate.end)
        if said:
            year = reference.year + {"last": -1, "this": 0, "next": 1}[said["dir"].casefold()]
            wide = _Yearless(candidate.start, said.end(), candidate.month, candidate.day, False)
            if mention := _yearless_mention(sentence, wide, year, True):
                found[candidate.start, candidate.end] = by_start[mention.start] = by_end[mention.end] = mention
    # The dated one after: "January to March 2026". Right to left, so that in "January, February
    # and March 2026" each month lends its year to the one before.
    for candidate in sorted(candidates, key=lambda c: -c.start):
        joiner = _LIST_JOINER.match(sentence, candidate.end)
        lender = by_start.get(joiner.end()) if joiner else None
        if lender is not None and (candidate.start, candidate.end) not in found:
            year = lender.first.year - (candidate.month > lender.first.month)  # "December to February 2026"
            if mention := _yearless_mention(sentence, candidate, year, lender.relative):
                found[candidate.start, candidate.end] = by_start[mention.start] = by_end[mention.end] = mention
    # The dated one before: "from 1 April 2026 to 30 June". Left to right, for the same reason.
    for candidate in sorted(candidates, key=lambda c: c.start):
        joiner = _LIST_JOINER_BEFORE.search(sentence, max(0, candidate.start - 20), candidate.start)
        lender = by_end.get(joiner.start()) if joiner else None
        if (candidate.start, candidate.end) not in found and lender is not None:
            year = lender.first.year + (candidate.month < lender.first.month)  # "November 2025 to February"
            if mention := _yearless_mention(sentence, candidate, year, False):
                found[candidate.start, candidate.end] = by_start[mention.start] = by_end[mention.end] = mention
    if reference is not None:
        for candidate in candidates:
            if (candidate.start, candidate.end) not in found and (
                    not candidate.needs_context
                    or _MONTH_CONTEXT.search(sentence, max(0, candidate.start - 40), candidate.start)):
                year = _nearest_month_year(candidate.month, reference)
                if mention := _yearless_mention(sentence, candidate, year, True):
                    found[candidate.start, candidate.end] = mention
    return list(found.values())


def _yearless_mention(sentence: str, candidate: _Yearless, year: int, relative: bool) -> DateMention | None:
    if candidate.day is None:
        first, last = _span(year, candidate.month, candidate.month)
        precision = "month"
    else:
        first = last = _date(year, candidate.month, candidate.day)
        precision = "day"
        if first is None:
            return None
    return _mention(sentence, candidate.start, candidate.end, first, last, precision, relative=relative)


def _relative(sentence: str, reference: datetime.date) -> list[DateMention]:
    found = []
    for match in _RELATIVE_DAY.finditer(sentence):
        shift = {"today": 0, "yesterday": -1, "tomorrow": 1}[match["word"].casefold()]
        date = reference + datetime.timedelta(days=shift)
        found.append(_mention(sentence, match.start(), match.end(), date, date, "day", relative=True))
    for match in _RELATIVE_PERIOD.finditer(sentence):
        # "over the next year" is the coming twelve months, not next calendar year.
        if not _THE_BEFORE.search(sentence, max(0, match.start() - 10), match.start()):
            shift = {"this": 0, "next": 1, "last": -1}[match["dir"].casefold()]
            first, last = _calendar_period(match["unit"].casefold(), reference, shift)
            found.append(_mention(sentence, match.start(), match.end(), first, last, match["unit"].casefold(), relative=True))
    for match in _RELATIVE_PART.finditer(sentence):
        unit, direction = match["unit"].casefold(), match["dir"].casefold()
        first, last = _calendar_period(unit, reference, 0)
        base_label = _label(unit, first)
        first, last = (first, reference) if direction == "earlier" else (reference, last)
        found.append(DateMention(match[0], match.start(), match.end(), first, last, unit,
                                 f"{base_label} ({direction})", relative=True, approximate=True))
    for match in _RELATIVE_MONTH.finditer(sentence):
        month, direction = _month_number(match["month"]), match["dir"].casefold()
        year = reference.year
        if direction == "last":
            year -= month >= reference.month
        elif direction == "next":
            year += month <= reference.month
        found.append(_mention(sentence, match.start(), match.end(), *_span(year, month, month), "month", relative=True))
    return found


def _calendar_period(unit: str, reference: datetime.date, shift: int) -> tuple[datetime.date, datetime.date]:
    """The calendar week/month/quarter/year containing `reference`, moved by `shift` units."""
    if unit == "week":
        monday = reference - datetime.timedelta(days=reference.weekday()) + datetime.timedelta(weeks=shift)
        return monday, monday + datetime.timedelta(days=6)
    if unit == "year":
        return _span(reference.year + shift, 1, 12)
    months = 1 if unit == "month" else 3
    start = _add_months(reference.replace(day=1), -((reference.month - 1) % months) + shift * months)
    return _span(start.year, start.month, start.month + months - 1)


# --- Wrappers --------------------------------------------------------------------------------

def _with_modifier(sentence: str, mention: DateMention) -> DateMention | None:
    """"early 2027", "mid-March 2026", "the end of Q3 2026": the part of a month or longer period."""
    if mention.approximate or mention.precision in ("day", "week"):
        return None
    match = _MODIFIER.search(sentence, max(0, mention.start - 40), mention.start)
    if not match:
        return None
    part = _PART_NAMES.get((match["part"] or "").casefold()) or match["third"].casefold()
    first, last = _portion(mention.first, mention.last, mention.precision, part)
    return replace(mention, text=sentence[match.start():mention.end], start=match.start(), first=first, last=last,
                   label=f"{mention.label} ({part})", approximate=True)


def _portion(first: datetime.date, last: datetime.date, precision: str, part: str) -> tuple[datetime.date, datetime.date]:
    if precision == "month":
        low, high = {"early": (1, 10), "start": (1, 10), "mid": (11, 20), "late": (21, 31), "end": (21, 31)}[part]
        return first.replace(day=low), first.replace(day=min(high, last.day))
    months = _months_between(first, last)
    third = months // 3
    low, high = {"early": (0, third), "mid": (third, 2 * third), "late": (2 * third, months),
                 "start": (0, 1), "end": (months - 1, months)}[part]
    return _add_months(first, low), _add_months(first, high) - datetime.timedelta(days=1)


def _with_offset(sentence: str, mention: DateMention) -> DateMention | None:
    """"18 months after July 18, 2025": the date that far from a stated date."""
    if mention.approximate or mention.precision not in ("day", "month", "year"):
        return None
    match = _OFFSET.search(sentence, max(0, mention.start - 40), mention.start)
    if not match or _RANGE_FOLLOWS.match(sentence, mention.end):
        return None
    count = match["n"].casefold()
    count = int(count) if count.isdigit() else _NUMBER_WORDS[count]
    if match["dir"].casefold().startswith(("before", "prior")):
        count = -count
    unit = match["unit"].casefold()
    if mention.precision == "day" and unit in ("day", "week"):
        first = mention.first + datetime.timedelta(days=count * (7 if unit == "week" else 1))
    elif mention.precision in ("day", "month") and unit in ("month", "year"):
        first = _add_months(mention.first, count * (12 if unit == "year" else 1))
    elif mention.precision == "year" and unit == "year":
        first = mention.first.replace(year=mention.first.year + count)
    else:
        return None  # "six months after 2026" has no definite answer
    last = {"day": first, "month": _month_end(first.year, first.month),
            "year": datetime.date(first.year, 12, 31)}[mention.precision]
    return _mention(sentence, match.start(), mention.end, first, last, mention.precision, relative=mention.relative)


def _without_overlaps(found: list[DateMention]) -> list[DateMention]:
    """Longest first, then most precise; a match overlapping one already kept is dropped."""
    kept: list[DateMention] = []
    for mention in sorted(found, key=lambda m: (m.start - m.end, PRECISION_RANK[m.precision], m.start)):
        if all(mention.end <= other.start or mention.start >= other.end for other in kept):
            kept.append(mention)
    return sorted(kept, key=lambda m: m.start)


# --- dates that name a document -------------------------------------------------------------------

# "its 2023 discussion paper", "the 2022 consultation", "the FCA's March 2024 report", "the 2023 Act":
# a date written before a document's noun, after a determiner or a possessive, says which document
# (an earlier one, mostly), not when something happens. A timeline skips them; "Act 2023" is already
# no date at all (_REFERENCE_WORDS).
_DOCUMENT_NOUNS = (
    r"(?:paper|consultation|report|review|strategy|act|bill|regulation|directive|order|rules?|rulebook|code"
    r"|guidance|guidelines?|statement|roadmap|road\s+map|letter|speech|survey|study|notice|bulletin|circular"
    r"|publication|response|manifesto|judgment|judgement|handbook|edition|version|white\s+paper|green\s+paper)"
)
_NAMING_BEFORE = re.compile(
    r"(?:\b(?:the|its|their|his|her|our|your|this|that|these|those|a|an)|\w['’]s|s['’])\s+"
    r"(?:(?:19|20)\d\d\s*(?:,|\band\b|\bor\b|&)\s*)*$", re.I)  # "its 2022 and" before 2023 in "its 2022 and 2023 reports"
_NOT_A_MODIFIER = (r"(?:for|of|on|to|in|into|by|at|from|with|and|or|but|the|a|an|is|was|were|are|be|been|will|would"
                   r"|shall|should|may|must|can|could|has|had|have|that|which|who|when|where|as|than|it|its)\b")
_NAMING_AFTER = re.compile(
    r"(?:\s*(?:,|\band\b|\bor\b|&)\s*(?:19|20)\d\d)*"  # "2022 and 2023 reports"
    r"\s+(?:(?!" + _NOT_A_MODIFIER + r"|(?:19|20)\d\d)[\w-]+\s+){0,2}?"  # "discussion", "FCA", "annual"
    + _DOCUMENT_NOUNS + r"s?\b"
    # ...unless the noun qualifies a time: "the 2025 consultation period" is a period in 2025.
    r"(?!\s+(?:period|periods|deadline|deadlines|window|date|dates|timetable|timeline|process|phase|round|cycle"
    r"|year|closing)\b)", re.I)


def names_a_document(sentence: str, mention: DateMention) -> bool:
    """Whether `mention` is part of a document's name ("its 2023 discussion paper", "the 2023 Act",
    "the FCA's March 2024 report"), not the date of an event in `sentence`."""
    return bool(_NAMING_BEFORE.search(sentence, max(0, mention.start - 80), mention.start)
                and _NAMING_AFTER.match(sentence, mention.end))


# --- dates as a document states them -----------------------------------------------------------------

def document_dates(sentence: str, published: str | None, jurisdiction: str | None = None) -> list[DateMention]:
    """Dates in a sentence of a document: relative ones resolved against its publication date.

    US documents write 02/01/2026 month first. When the publication date is itself vague (only
    "2025-09"), a relative date cannot be finer than it: "next week" becomes "2025-09", approximate.
    """
    reference_period = parse_iso_partial(published) if published else None
    reference = reference_period[0] if reference_period else None
    mentions = find_dates(sentence, reference, day_first=(jurisdiction or "").upper() != "US")
    if reference_period is None:
        return mentions
    first, last, precision = reference_period
    resolved = []
    for mention in mentions:
        if mention.relative and PRECISION_RANK[mention.precision] < PRECISION_RANK[precision]:
            label = published if precision != "year" else str(first.year)
            mention = DateMention(mention.text, mention.start, mention.end, first, last, precision,
                                  f"{label} (approx.)", relative=True, approximate=True)
        resolved.append(mention)
    return resolved
