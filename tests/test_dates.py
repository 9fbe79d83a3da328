"""Dates and periods in sentences (kb.dates). All sentences are invented fixtures."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from kb.dates import DateMention, find_dates, parse_iso_partial

REF = datetime.date(2025, 9, 10)  # a Wednesday, in ISO week 37
D = datetime.date.fromisoformat


def found(sentence, reference=None, **options):
    """find_dates, checking what holds for every result: spans are verbatim, sorted, disjoint."""
    mentions = find_dates(sentence, reference, **options)
    for mention in mentions:
        assert sentence[mention.start:mention.end] == mention.text
        assert mention.first <= mention.last
    for left, right in zip(mentions, mentions[1:]):
        assert left.end <= right.start
    return mentions


def only(sentence, reference=None, **options):
    mentions = found(sentence, reference, **options)
    assert len(mentions) == 1, mentions
    return mentions[0]


def summary(mention):
    return (mention.text, mention.first.isoformat(), mention.last.isoformat(), mention.precision, mention.label)


# --- Absolute dates and periods ----------------------------------------------------------------

@pytest.mark.parametrize("sentence, expected", [
    ("The regime starts on 1 January 2027.", ("1 January 2027", "2027-01-01", "2027-01-01", "day", "2027-01-01")),
    ("The regime starts on 1st January 2027.", ("1st January 2027", "2027-01-01", "2027-01-01", "day", "2027-01-01")),
    ("It starts on the 1st of January, 2027.", ("1st of January, 2027", "2027-01-01", "2027-01-01", "day", "2027-01-01")),
    ("The regime starts on January 1, 2027.", ("January 1, 2027", "2027-01-01", "2027-01-01", "day", "2027-01-01")),
    ("The regime starts on Jan. 1, 2027.", ("Jan. 1, 2027", "2027-01-01", "2027-01-01", "day", "2027-01-01")),
    ("Comments are due by July 18, 2025.", ("July 18, 2025", "2025-07-18", "2025-07-18", "day", "2025-07-18")),
    ("Comments are due by Sept. 30, 2026.", ("Sept. 30, 2026", "2026-09-30", "2026-09-30", "day", "2026-09-30")),
    ("Comments are due by 3 Dec 2026.", ("3 Dec 2026", "2026-12-03", "2026-12-03", "day", "2026-12-03")),
    ("THE REGIME STARTS ON 1 MARCH 2026.", ("1 MARCH 2026", "2026-03-01", "2026-03-01", "day", "2026-03-01")),
    ("The leap day 29 February 2028 counts.", ("29 February 2028", "2028-02-29", "2028-02-29", "day", "2028-02-29")),
    ("The deadline is 2027-01-01.", ("2027-01-01", "2027-01-01", "2027-01-01", "day", "2027-01-01")),
    ("Filed at 2027-01-01T09:00:00Z by the firm.", ("2027-01-01", "2027-01-01", "2027-01-01", "day", "2027-01-01")),
    ("Published 2027/03/04 by the Authority.", ("2027/03/04", "2027-03-04", "2027-03-04", "day", "2027-03-04")),
    ("The window opens on 28/05/2025.", ("28/05/2025", "2025-05-28", "2025-05-28", "day", "2025-05-28")),
    ("The window opens on 28.05.2025.", ("28.05.2025", "2025-05-28", "2025-05-28", "day", "2025-05-28")),
    ("Rules apply from January 2027.", ("January 2027", "2027-01-01", "2027-01-31", "month", "2027-01")),
    ("Rules apply from Jan 2027.", ("Jan 2027", "2027-01-01", "2027-01-31", "month", "2027-01")),
    ("Rules apply from January of 2027.", ("January of 2027", "2027-01-01", "2027-01-31", "month", "2027-01")),
    ("Rules apply from February 2028.", ("February 2028", "2028-02-01", "2028-02-29", "month", "2028-02")),
    ("Rules apply from May 2026.", ("May 2026", "2026-05-01", "2026-05-31", "month", "2026-05")),
    ("Licensing opens in Q3 2026.", ("Q3 2026", "2026-07-01", "2026-09-30", "quarter", "2026-Q3")),
    ("Licensing opens in Q1/2027.", ("Q1/2027", "2027-01-01", "2027-03-31", "quarter", "2027-Q1")),
    ("Licensing opens in 2026-Q4.", ("2026-Q4", "2026-10-01", "2026-12-31", "quarter", "2026-Q4")),
    ("Licensing opens in the third quarter of 2026.",
     ("third quarter of 2026", "2026-07-01", "2026-09-30", "quarter", "2026-Q3")),
    ("Licensing opens in the final quarter of 2026.",
     ("final quarter of 2026", "2026-10-01", "2026-12-31", "quarter", "2026-Q4")),
    ("Reports are due in H1 2026.", ("H1 2026", "2026-01-01", "2026-06-30", "half", "2026-H1")),
    ("Reports are due in 2026 H2.", ("2026 H2", "2026-07-01", "2026-12-31", "half", "2026-H2")),
    ("Reports are due in the first half of 2026.", ("first half of 2026", "2026-01-01", "2026-06-30", "half", "2026-H1")),
    ("Reports are due in the second half of 2026.", ("second half of 2026", "2026-07-01", "2026-12-31", "half", "2026-H2")),
    ("A consultation follows in spring 2026.", ("spring 2026", "2026-03-01", "2026-05-31", "season", "2026-spring")),
    ("A consultation follows in the autumn of 2025.", ("autumn of 2025", "2025-09-01", "2025-11-30", "season", "2025-autumn")),
    ("A consultation follows in fall 2025.", ("fall 2025", "2025-09-01", "2025-11-30", "season", "2025-autumn")),
    ("A consultation follows in winter 2025/26.", ("winter 2025/26", "2025-12-01", "2026-02-28", "season", "2025-winter")),
    ("A consultation follows in winter 2027.", ("winter 2027", "2027-12-01", "2028-02-29", "season", "2027-winter")),
    ("The Fixture Authority expects applications to open in 2026.", ("2026", "2026-01-01", "2026-12-31", "year", "2026")),
    ("Firms must comply by 2026.", ("2026", "2026-01-01", "2026-12-31", "year", "2026")),
    ("2026 will be a busy year for the Fixture Authority.", ("2026", "2026-01-01", "2026-12-31", "year", "2026")),
    ("The review (2026) found gaps.", ("2026", "2026-01-01", "2026-12-31", "year", "2026")),
    ("In 2026 firms must report quarterly.", ("2026", "2026-01-01", "2026-12-31", "year", "2026")),
    ("It rose 5% in 1999.", ("1999", "1999-01-01", "1999-12-31", "year", "1999")),
])
def test_absolute_dates_and_periods(sentence, expected):
    mention = only(sentence)
    assert summary(mention) == expected
    assert not mention.relative and not mention.approximate
    # An absolute date does not depend on the reference date.
    assert only(sentence, REF) == mention


@pytest.mark.parametrize("sentence, expected", [
    ("Rules apply from mid-2026.", ("mid-2026", "2026-05-01", "2026-08-31", "year", "2026 (mid)")),
    ("Rules apply from mid 2026.", ("mid 2026", "2026-05-01", "2026-08-31", "year", "2026 (mid)")),
    ("Rules apply in early 2027.", ("early 2027", "2027-01-01", "2027-04-30", "year", "2027 (early)")),
    ("Rules apply early in 2027.", ("early in 2027", "2027-01-01", "2027-04-30", "year", "2027 (early)")),
    ("Rules applied in late 2025.", ("late 2025", "2025-09-01", "2025-12-31", "year", "2025 (late)")),
    ("Firms must comply by the end of 2026.", ("the end of 2026", "2026-12-01", "2026-12-31", "year", "2026 (end)")),
    ("Firms must comply by end of 2026.", ("end of 2026", "2026-12-01", "2026-12-31", "year", "2026 (end)")),
    ("Firms must comply by the beginning of 2026.",
     ("the beginning of 2026", "2026-01-01", "2026-01-31", "year", "2026 (start)")),
    ("Firms must comply by the middle of 2026.", ("the middle of 2026", "2026-05-01", "2026-08-31", "year", "2026 (mid)")),
    ("Firms must comply by the end of March 2026.",
     ("the end of March 2026", "2026-03-21", "2026-03-31", "month", "2026-03 (end)")),
    ("Firms must comply by mid-March 2026.", ("mid-March 2026", "2026-03-11", "2026-03-20", "month", "2026-03 (mid)")),
    ("Firms must comply by early February 2028.",
     ("early February 2028", "2028-02-01", "2028-02-10", "month", "2028-02 (early)")),
    ("Firms must comply by late February 2028.",
     ("late February 2028", "2028-02-21", "2028-02-29", "month", "2028-02 (late)")),
    ("Firms must comply by the end of Q3 2026.",
     ("the end of Q3 2026", "2026-09-01", "2026-09-30", "quarter", "2026-Q3 (end)")),
    ("Firms must comply by the end of the first half of 2026.",
     ("the end of the first half of 2026", "2026-06-01", "2026-06-30", "half", "2026-H1 (end)")),
    ("Firms must comply by late spring 2026.", ("late spring 2026", "2026-05-01", "2026-05-31", "season", "2026-spring (late)")),
])
def test_approximate_periods_narrow_the_period_and_keep_its_label(sentence, expected):
    mention = only(sentence)
    assert summary(mention) == expected
    assert mention.approximate and not mention.relative


def test_amid_is_not_mid():
    assert summary(only("Amid 2026 reforms were made.")) == ("2026", "2026-01-01", "2026-12-31", "year", "2026")


@pytest.mark.parametrize("sentence, day_first, expected", [
    ("Due 01/02/2027.", True, "2027-02-01"),
    ("Due 01/02/2027.", False, "2027-01-02"),
    ("Due 01-02-2027.", False, "2027-01-02"),
    ("Due 28/05/2025.", False, "2025-05-28"),  # 28 cannot be a month, whatever the convention
    ("Due 05/28/2025.", True, "2025-05-28"),
    ("Due 12/11/2025.", True, "2025-11-12"),
    ("Due 12/11/2025.", False, "2025-12-11"),
])
def test_numeric_dates_follow_day_first_unless_one_part_settles_it(sentence, day_first, expected):
    mention = only(sentence, day_first=day_first)
    assert (mention.first.isoformat(), mention.precision) == (expected, "day")


def test_every_day_of_a_leap_year_in_every_format():
    day = D("2028-01-01")
    while day.year == 2028:
        month = day.strftime("%B")
        for text in (f"{day.day} {month} 2028", f"{month} {day.day}, 2028", day.strftime("%d/%m/%Y"), day.isoformat()):
            mention = only(f"The Fixture Authority acts on {text}.")
            assert (mention.text, mention.first, mention.last) == (text, day, day)
        day += datetime.timedelta(days=1)


def test_impossible_day_keeps_its_month():
    assert summary(only("Due 31 February 2027.")) == ("February 2027", "2027-02-01", "2027-02-28", "month", "2027-02")
    assert found("Due 30/02/2027.") == []


# --- What is not a date --------------------------------------------------------------------

@pytest.mark.parametrize("sentence", [
    "Regulation (EU) 2023/1114 applies to issuers.",
    "See Regulation (EU) No 1093/2010.",
    "See Directive 2014/65/EU.",
    "See CP25/14 for the proposals.",
    "Rule 2026.1 applies to issuers.",
    "See 12 U.S.C. 5901 and 12 U.S.C. 2026.",
    "See Public Law 119-27.",
    "See Article 59 and section 5.2.1.",
    "See Article 2026 and Rule 2026.",
    "See page 2026 of the annex.",
    "See section 1.2.2026 of the rulebook.",
    "A total of 2,026 firms applied.",
    "The fee is $2026.",
    "The fee is £2026.",
    "The fee is € 2026.",
    "The fee is USD 2026.",
    "Take-up rose to 2026%.",
    "Take-up rose by 2026 per cent.",
    "2026 firms applied for a licence.",
    "Some 2026 people replied.",
    "The pool grew by 2026 tokens.",
    "The issuer sold 2026 shares.",
    "The meeting starts at 20:26.",
    "The meeting starts at 10:30 a.m.",
    "Call 0300 500 2026 for help.",
    "Call +44 20 2026 1234 for help.",
    "The FY2026 budget is set.",
    "Trends of the 2020s are covered.",
    "The Payment Services Regulations 2017 apply.",
    "The Fixture Markets Act 2023 applies.",
    "See ISO 8601-2004 and ISO 9001:2015.",
    "The figure for 2025/26 is higher.",
    "The figure for 2026-27 is higher.",
    "A plan for summer 2025/26 was dropped.",
    "The rule dates from 1850.",
    "The rule runs to 2150.",
    "See version 2026 of the form.",
])
def test_numbers_that_are_not_dates(sentence):
    assert found(sentence) == []
    assert found(sentence, REF) == []


@pytest.mark.parametrize("sentence", [
    "May firms apply for a licence?",  # "May" starts a question
    "Firms march in protest.",
    "The regulator will consult on it over the next year.",  # a rolling twelve months
    "Complaints rose in the last month.",
    "The Authority set out its plans in the last quarter.",
    "We reviewed 30 business days of data.",
])
def test_words_that_are_not_dates_even_with_a_reference(sentence):
    assert found(sentence, REF) == []


def test_month_and_year_split_by_a_comma_are_a_month_and_a_count():
    mention = only("In March, 2026 applications were received.", REF)
    assert summary(mention) == ("March", "2025-03-01", "2025-03-31", "month", "2025-03")
    assert mention.relative


# --- Relative dates -------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, expected", [
    ("The portal opens next week.", ("next week", "2025-09-15", "2025-09-21", "week", "2025-W38")),
    ("The portal opened last week.", ("last week", "2025-09-01", "2025-09-07", "week", "2025-W36")),
    ("The portal opens this week.", ("this week", "2025-09-08", "2025-09-14", "week", "2025-W37")),
    ("The portal opens next month.", ("next month", "2025-10-01", "2025-10-31", "month", "2025-10")),
    ("The portal opened last month.", ("last month", "2025-08-01", "2025-08-31", "month", "2025-08")),
    ("The portal opens this month.", ("this month", "2025-09-01", "2025-09-30", "month", "2025-09")),
    ("The portal opens next quarter.", ("next quarter", "2025-10-01", "2025-12-31", "quarter", "2025-Q4")),
    ("The portal opened last quarter.", ("last quarter", "2025-04-01", "2025-06-30", "quarter", "2025-Q2")),
    ("The portal opens next year.", ("next year", "2026-01-01", "2026-12-31", "year", "2026")),
    ("The portal opened last year.", ("last year", "2024-01-01", "2024-12-31", "year", "2024")),
    ("This year's report is out.", ("This year", "2025-01-01", "2025-12-31", "year", "2025")),
    ("The portal opened yesterday.", ("yesterday", "2025-09-09", "2025-09-09", "day", "2025-09-09")),
    ("Today the Authority publishes its plan.", ("Today", "2025-09-10", "2025-09-10", "day", "2025-09-10")),
    ("The portal opens tomorrow.", ("tomorrow", "2025-09-11", "2025-09-11", "day", "2025-09-11")),
    ("The Authority consulted in March.", ("March", "2025-03-01", "2025-03-31", "month", "2025-03")),
    ("In July, the Authority consulted.", ("July", "2025-07-01", "2025-07-31", "month", "2025-07")),
    ("The portal opens in November.", ("November", "2025-11-01", "2025-11-30", "month", "2025-11")),
    ("The portal opened in December.", ("December", "2024-12-01", "2024-12-31", "month", "2024-12")),
    ("The portal opened on 15 March.", ("15 March", "2025-03-15", "2025-03-15", "day", "2025-03-15")),
    ("The portal opens on October 1.", ("October 1", "2025-10-01", "2025-10-01", "day", "2025-10-01")),
    ("The portal opened last March.", ("last March", "2025-03-01", "2025-03-31", "month", "2025-03")),
    ("The portal opens next March.", ("next March", "2026-03-01", "2026-03-31", "month", "2026-03")),
    ("The portal opened this March.", ("this March", "2025-03-01", "2025-03-31", "month", "2025-03")),
    ("The portal opened last September.", ("last September", "2024-09-01", "2024-09-30", "month", "2024-09")),
    ("The portal opens next September.", ("next September", "2026-09-01", "2026-09-30", "month", "2026-09")),
    ("The portal opened in March last year.", ("March last year", "2024-03-01", "2024-03-31", "month", "2024-03")),
    ("The portal opens in November next year.", ("November next year", "2026-11-01", "2026-11-30", "month", "2026-11")),
])
def test_relative_dates_resolve_against_the_reference(sentence, expected):
    mention = only(sentence, REF)
    assert summary(mention) == expected
    assert mention.relative and not mention.approximate
    assert found(sentence) == []  # without a reference there is nothing to resolve against


@pytest.mark.parametrize("sentence, expected", [
    ("The Authority consulted earlier this year.",
     ("earlier this year", "2025-01-01", "2025-09-10", "year", "2025 (earlier)")),
    ("The Authority will consult later this year.",
     ("later this year", "2025-09-10", "2025-12-31", "year", "2025 (later)")),
    ("The Authority will consult later this month.",
     ("later this month", "2025-09-10", "2025-09-30", "month", "2025-09 (later)")),
    ("The Authority will consult early next year.", ("early next year", "2026-01-01", "2026-04-30", "year", "2026 (early)")),
    ("The Authority consulted late last year.", ("late last year", "2024-09-01", "2024-12-31", "year", "2024 (late)")),
    ("Firms must comply by the end of next month.",
     ("the end of next month", "2025-10-21", "2025-10-31", "month", "2025-10 (end)")),
    ("The Authority consulted in mid-March.", ("mid-March", "2025-03-11", "2025-03-20", "month", "2025-03 (mid)")),
    ("Firms must comply by the end of June.", ("the end of June", "2025-06-21", "2025-06-30", "month", "2025-06 (end)")),
])
def test_relative_approximate_periods(sentence, expected):
    mention = only(sentence, REF)
    assert summary(mention) == expected
    assert mention.relative and mention.approximate
    assert found(sentence) == []


def test_a_timestamp_reference_counts_as_its_day():
    mention = only("The portal opens tomorrow.", datetime.datetime(2025, 9, 10, 23, 30))
    assert (type(mention.first), mention.label) == (datetime.date, "2025-09-11")


@pytest.mark.parametrize("reference, sentence, label", [
    ("2025-09-10", "It happened in October.", "2025-10"),
    ("2025-09-10", "It happened in January.", "2025-01"),
    ("2025-01-15", "It happened in March.", "2025-03"),
    ("2025-01-15", "It happened in April.", "2024-04"),
    ("2025-01-15", "It happened in December.", "2024-12"),
    ("2025-11-20", "It happens in January.", "2026-01"),  # two months ahead runs into next year
    ("2025-12-05", "It happens in February.", "2026-02"),
    ("2025-12-05", "It happened in March.", "2025-03"),
    ("2025-03-31", "It happened in March.", "2025-03"),
])
def test_month_without_year_is_the_nearest_occurrence(reference, sentence, label):
    assert only(sentence, D(reference)).label == label


@pytest.mark.parametrize("reference, sentence, expected", [
    ("2025-12-31", "The portal opens next week.", ("2026-01-05", "2026-01-11", "2026-W02")),
    ("2025-12-31", "The portal opens this week.", ("2025-12-29", "2026-01-04", "2026-W01")),  # ISO week-year
    ("2025-09-14", "The portal opens next week.", ("2025-09-15", "2025-09-21", "2025-W38")),  # Sunday
    ("2025-09-15", "The portal opened last week.", ("2025-09-08", "2025-09-14", "2025-W37")),  # Monday
    ("2025-12-10", "The portal opens next month.", ("2026-01-01", "2026-01-31", "2026-01")),
    ("2025-01-10", "The portal opened last month.", ("2024-12-01", "2024-12-31", "2024-12")),
    ("2025-11-10", "The portal opens next quarter.", ("2026-01-01", "2026-03-31", "2026-Q1")),
    ("2025-02-10", "The portal opened last quarter.", ("2024-10-01", "2024-12-31", "2024-Q4")),
    ("2025-03-31", "The portal opens tomorrow.", ("2025-04-01", "2025-04-01", "2025-04-01")),
    ("2028-03-01", "The portal opened yesterday.", ("2028-02-29", "2028-02-29", "2028-02-29")),
    ("2025-03-10", "The portal opened last March.", ("2024-03-01", "2024-03-31", "2024-03")),
    ("2025-03-10", "The portal opens next March.", ("2026-03-01", "2026-03-31", "2026-03")),
])
def test_relative_periods_cross_year_boundaries(reference, sentence, expected):
    mention = only(sentence, D(reference))
    assert (mention.first.isoformat(), mention.last.isoformat(), mention.label) == expected


# --- Ranges and lists ------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, labels", [
    ("Applications open between 2025 and 2027.", ["2025", "2027"]),
    ("Applications open in 2025–2027.", ["2025", "2027"]),
    ("Applications open in 2025-2027.", ["2025", "2027"]),
    ("The window runs 28/05/2025 – 31/07/2025.", ["2025-05-28", "2025-07-31"]),
    ("The window runs from January to March 2026.", ["2026-01", "2026-03"]),
    ("The window runs from December to February 2026.", ["2025-12", "2026-02"]),
    ("The window runs between 1 January and 31 March 2026.", ["2026-01-01", "2026-03-31"]),
    ("The window runs from 1 April 2026 to 30 June.", ["2026-04-01", "2026-06-30"]),
    ("The window runs from November 2025 to February.", ["2025-11", "2026-02"]),
    ("Reports are due in January, February and March 2026.", ["2026-01", "2026-02", "2026-03"]),
    ("Reports are due on 1 January 2026, 1 February and 1 March.", ["2026-01-01", "2026-02-01", "2026-03-01"]),
    ("Reports are due on March 15, 2026 and 15 March 2027.", ["2026-03-15", "2027-03-15"]),
])
def test_ranges_and_lists_give_one_mention_each_and_share_the_year(sentence, labels):
    mentions = found(sentence)
    assert [mention.label for mention in mentions] == labels
    assert not any(mention.relative for mention in mentions)
    # A year lent by a neighbour wins over the reference date.
    assert [mention.label for mention in found(sentence, REF)] == labels


def test_year_ranges_must_ascend():
    assert found("See EN 1990-2002 for loads.") == []
    assert [m.label for m in found("Data for 2027-2025 is mixed.")] == []


# --- Offsets from a date -----------------------------------------------------------------------

@pytest.mark.parametrize("sentence, expected", [
    ("The rule applies 18 months after July 18, 2025.",
     ("18 months after July 18, 2025", "2027-01-18", "2027-01-18", "day", "2027-01-18")),
    ("Firms must notify six months before 1 March 2026.",
     ("six months before 1 March 2026", "2025-09-01", "2025-09-01", "day", "2025-09-01")),
    ("The rule applies 30 days after 1 January 2026.",
     ("30 days after 1 January 2026", "2026-01-31", "2026-01-31", "day", "2026-01-31")),
    ("The rule applies two weeks following 1 January 2026.",
     ("two weeks following 1 January 2026", "2026-01-15", "2026-01-15", "day", "2026-01-15")),
    ("The rule applies one month after 31 January 2026.",
     ("one month after 31 January 2026", "2026-02-28", "2026-02-28", "day", "2026-02-28")),
    ("The rule applies a year after 29 February 2028.",
     ("a year after 29 February 2028", "2029-02-28", "2029-02-28", "day", "2029-02-28")),
    ("The rule applies two years after January 2026.",
     ("two years after January 2026", "2028-01-01", "2028-01-31", "month", "2028-01")),
    ("The rule applies 3 years after 2026.", ("3 years after 2026", "2029-01-01", "2029-12-31", "year", "2029")),
])
def test_offsets_from_a_stated_date(sentence, expected):
    mention = only(sentence)
    assert summary(mention) == expected
    assert not mention.relative and not mention.approximate


def test_offset_from_a_relative_date_is_relative():
    mention = only("The portal opens 30 days after today.", REF)
    assert summary(mention) == ("30 days after today", "2025-10-10", "2025-10-10", "day", "2025-10-10")
    assert mention.relative


@pytest.mark.parametrize("sentence, labels", [
    ("The period of 12 months from 1 January 2026 to 31 December 2026 applies.", ["2026-01-01", "2026-12-31"]),
    ("The rule applies 30 business days after 1 January 2026.", ["2026-01-01"]),
    ("The rule applies six months after 2026.", ["2026"]),  # no definite answer: the year alone
    ("The rule applies within 18 months of July 18, 2025.", ["2025-07-18"]),
    ("The rule applies 3 years after mid-2026.", ["2026 (mid)"]),  # no offsets from approximate periods
])
def test_what_is_not_an_offset(sentence, labels):
    assert [mention.label for mention in found(sentence)] == labels
    assert [mention.label for mention in found(sentence, REF)] == labels


# --- Overlaps and structure ------------------------------------------------------------------

@pytest.mark.parametrize("sentence, reference, texts", [
    ("The regime starts on 1 January 2027.", None, ["1 January 2027"]),  # not "January 2027" nor "2027"
    ("Firms must comply by the end of March 2026.", None, ["the end of March 2026"]),
    ("It starts in the last quarter of 2026.", REF, ["last quarter of 2026"]),  # not "last quarter"
    ("It ended earlier this year.", REF, ["earlier this year"]),  # not "this year"
    ("It starts on 15 March 2026.", REF, ["15 March 2026"]),  # not a yearless "15 March"
    ("May firms apply in May?", REF, ["May"]),
])
def test_longest_match_wins(sentence, reference, texts):
    assert [mention.text for mention in found(sentence, reference)] == texts


def test_mentions_are_sorted_by_position_with_their_spans():
    sentence = "Next month the Fixture Authority consults; rules follow in Q3 2026 and apply from 1 January 2027."
    mentions = found(sentence, REF)
    assert [(m.start, m.end, m.label) for m in mentions] == [
        (0, 10, "2025-10"),
        (sentence.index("Q3"), sentence.index("Q3") + 7, "2026-Q3"),
        (sentence.index("1 January"), len(sentence) - 1, "2027-01-01"),
    ]
    assert [m.relative for m in mentions] == [True, False, False]


def test_mentions_are_immutable():
    mention = only("Due 1 January 2027.")
    assert isinstance(mention, DateMention)
    with pytest.raises(dataclasses.FrozenInstanceError):
        mention.label = "2028-01-01"


def test_an_empty_sentence_has_no_dates():
    assert found("") == []
    assert found("The Fixture Authority publishes guidance.", REF) == []


# --- ISO partial dates -----------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2025", ("2025-01-01", "2025-12-31", "year")),
    ("2025-09", ("2025-09-01", "2025-09-30", "month")),
    ("2025-02", ("2025-02-01", "2025-02-28", "month")),
    ("2024-02", ("2024-02-01", "2024-02-29", "month")),
    ("2025-09-10", ("2025-09-10", "2025-09-10", "day")),
    (" 2025-09-10 ", ("2025-09-10", "2025-09-10", "day")),
    ("2025-09-10T12:00:00Z", ("2025-09-10", "2025-09-10", "day")),
    ("2025-09-10T12:00:00.123+01:00", ("2025-09-10", "2025-09-10", "day")),
    ("2025-09-10 12:00", ("2025-09-10", "2025-09-10", "day")),
    ("2026-Q3", ("2026-07-01", "2026-09-30", "quarter")),
    ("2026-H2", ("2026-07-01", "2026-12-31", "half")),
    ("2025-W38", ("2025-09-15", "2025-09-21", "week")),
    ("2026-W01", ("2025-12-29", "2026-01-04", "week")),
    ("2026-spring", ("2026-03-01", "2026-05-31", "season")),
    ("2025-winter", ("2025-12-01", "2026-02-28", "season")),
])
def test_parse_iso_partial(value, expected):
    first, last, precision = parse_iso_partial(value)
    assert (first.isoformat(), last.isoformat(), precision) == expected


@pytest.mark.parametrize("value", [
    "", "2025-13", "2025-00", "2025-02-30", "0000", "September 2025", "25-09-10", "20250910", "2025-W54", "2025-Q5",
    "2025-09-10Tnoon", "2025-09-10 and more", "0000-Q1", "2026-fall",
])
def test_parse_iso_partial_rejects_what_is_not_a_date(value):
    assert parse_iso_partial(value) is None


@pytest.mark.parametrize("value, expected", [
    ("2025-09-10 and more", ("2025-09-10", "2025-09-10", "day")),
    ("2025.9.1", ("2025-09-01", "2025-09-01", "day")),
    ("2025/04/29", ("2025-04-29", "2025-04-29", "day")),
    ("20250429093000+01'00'", ("2025-04-29", "2025-04-29", "day")),  # a PDF date after its "D:"
    ("202504", ("2025-04-01", "2025-04-30", "month")),
    ("2025-09 (estimated)", ("2025-09-01", "2025-09-30", "month")),
    ("2026-Q3", ("2026-07-01", "2026-09-30", "quarter")),
])
def test_a_leading_date_is_read_when_asked_for(value, expected):
    assert parse_iso_partial(value) is None or value == "2026-Q3"
    period = parse_iso_partial(value, leading=True)
    assert (period.first.isoformat(), period.last.isoformat(), period.precision) == expected
    assert parse_iso_partial(period.label) == period


@pytest.mark.parametrize("value", ["undated", "0999", "2025-13", "2025-02-30", "D:2025"])
def test_a_leading_date_must_still_be_a_date(value):
    assert parse_iso_partial(value, leading=True) is None


@pytest.mark.parametrize("sentence", [
    "Due 1 January 2027.", "Due January 2027.", "Due in 2027.", "Due in Q3 2026.", "Due in H2 2026.", "Due next week.",
    "Due in spring 2026.", "Due in winter 2025/26.",
])
def test_labels_parse_back_to_their_span(sentence):
    mention = only(sentence, REF)
    assert parse_iso_partial(mention.label) == (mention.first, mention.last, mention.precision)


# --- dates that name a document ---------------------------------------------------------------------


@pytest.mark.parametrize("sentence, naming", [
    ("Building on its 2023 discussion paper, the FCA will consult in 2026.", {"2023"}),
    ("Following the 2022 consultation, the Treasury will legislate in 2025.", {"2022"}),
    ("The 2023 Act requires firms to register by 2027.", {"2023"}),  # a law's name, as "Act 2023" is
    ("The FCA’s March 2024 report found gaps; rules start in 2028.", {"March 2024"}),
    ("In its 2022 and 2023 annual reports the Bank said rules start in 2026.", {"2022", "2023"}),
    ("Firms’ 2023 reports showed gaps, and the regulators' 2022 roadmap sets 2026.", {"2023", "2022"}),
    ("A 2024 review of the rules will be published in 2025.", {"2024"}),
    ("This 2019 White Paper set the plan.", {"2019"}),
    # A date of its own, even beside a document's noun:
    ("In 2023 the FCA published a discussion paper.", set()),
    ("The paper, published in 2023, will be reviewed in 2026.", set()),
    ("The 2024 deadline was missed; firms must apply by the 2026 deadline.", set()),  # a deadline is no document
    ("The 2025 consultation period ends on 1 March 2025.", set()),  # a consultation's period is a time
    ("The 2026 reporting requirements apply from 2026.", set()),
    ("By 2026 the rules apply.", set()),
])
def test_a_date_naming_a_document_is_told_from_an_events_date(sentence, naming):
    from kb.dates import names_a_document

    assert {m.text for m in found(sentence) if names_a_document(sentence, m)} == naming


def labels(sentence, reference=None):
    return [mention.label for mention in found(sentence, reference)]


def test_a_year_after_an_acronym_is_part_of_a_short_title():
    assert labels("to amend the Payment Services Regulations 2017 (PSRs 2017) to bring payments in") == []
    assert labels("FSMA 2000 applies to these firms.") == []
    assert labels("THE DEADLINE IS BY 2025.") == ["2025"]  # upper-case text keeps its prepositions
    assert labels("The FCA in 2024 said so.") == ["2024"]


def test_a_relative_period_around_a_stated_date_is_not_a_second_date():
    reference = datetime.date(2025, 11, 12)
    assert labels("On 10 November, just earlier this week, the Bank launched a consultation.", reference) == ["2025-11-10"]
    assert labels("Next week, on 20 November, the Bank will publish.", reference) == ["2025-11-20"]
    assert labels("Later this year the Bank will consult.", reference) == ["2025 (later)"]


def test_a_year_said_after_a_range_of_months_is_the_year_of_each():
    # "between February and April last year", in a document of 2025: both months are of 2024.
    found = find_dates("The Bureau consulted between February and April last year on the gadget proposals.", REF)
    assert [m.label for m in found] == ["2024-02", "2024-04"] and all(m.relative for m in found)
