"""Typed spans: the values an answer of each type must hold."""

import pytest

from kb.spans import SpanKind as K
from kb.spans import find_spans


@pytest.mark.parametrize("text, kind, expected", [
    ("The authority shall decide within 25 working days of receipt.", K.DURATION, ["25 working days"]),
    ("Firms shall carry out testing at least every 3 years.", K.DURATION, ["every 3 years"]),
    ("It shall notify the authority without undue delay.", K.DURATION, ["without undue delay"]),
    ("The change takes effect 21 days after the day on which it is made.", K.DURATION, ["21 days"]),
    ("Reports are due quarterly.", K.DURATION, ["quarterly"]),
    ("The fine is $100,000 for each day of the violation.", K.AMOUNT, ["$100,000"]),
    ("Firms with a turnover above EUR 50 million are excluded.", K.AMOUNT, ["EUR 50 million"]),
    ("A holder of at least 12% but less than 20% of the shares.", K.AMOUNT, ["at least 12% but less than 20%"]),
    ("The committee acts by ⅔ vote of its members.", K.AMOUNT, ["⅔ vote"]),
    ("It employs fewer than 250 persons.", K.AMOUNT, ["fewer than 250 persons"]),
    ("Supervision by more than one national authority.", K.AMOUNT, []),  # "more than one" is no amount
    ("See Article 2026 of the Act and section 5(2).", K.AMOUNT, []),  # numbers of references are not amounts
    ("Published in 2024, the rule sets a fee of £500.", K.AMOUNT, ["£500"]),  # years are not amounts
    ("The proposals are in CP25/41 and PS6/21.", K.REFERENCE, ["CP25/41", "PS6/21"]),
    ("This guidance is FIN-2019-G001.", K.REFERENCE, ["FIN-2019-G001"]),
    ("It is issued under section 15(2) of the Regulations.", K.REFERENCE, ["section 15(2)"]),
    ("Regulation (EU) 2024/1624 applies.", K.REFERENCE, ["Regulation (EU) 2024/1624"]),
    ("Send it to 12 Endeavour Square, London.", K.PLACE, ["12 Endeavour Square"]),
    ("File the application with the home Member State.", K.PLACE, ["home Member State"]),
])
def test_find_spans(text, kind, expected):
    assert sorted(s.text for s in find_spans(text, {kind})) == sorted(expected)


def test_organisations_acronyms_roles_and_bodies():
    text = "The Widget Supervisory Authority and the FCA appoint a compliance manager; the Chair of the Board decides."
    found = {s.text for s in find_spans(text, {K.ORGANISATION})}
    assert {"The Widget Supervisory Authority", "FCA", "compliance manager"} <= found


def test_dates_carry_precision_and_whether_they_were_resolved():
    spans = find_spans("Published on 20 October 2023; the next review is in 2025 and today we act.", {K.DATE},
                       published="2023-10-26")
    by_text = {s.text: s for s in spans}
    assert by_text["20 October 2023"].precision < by_text["2025"].precision
    assert by_text["today"].relative and not by_text["20 October 2023"].relative
