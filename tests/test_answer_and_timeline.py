"""Extractive answers (question types, dates, disagreements) and the dated timeline, on fixtures."""

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from kb.answer import answer_lines, answer_question
from kb.build import build_index
from kb.config import Settings
from kb.cli import app
from kb.testing import HashEmbedder
from kb.filters import Filters
from kb.index import IndexReader
from kb.search import Searcher
from kb.timeline import build_timeline

from conftest import write

runner = CliRunner()


@pytest.fixture
def dated_corpus(tmp_path):
    """Two fixture notices that disagree on when the widget gateway opens, published months apart."""
    corpus = tmp_path / "corpus"
    write(corpus / "older.md", """
        ---
        title: "Fixture notice A"
        date: 2030-01-10
        jurisdiction: UK
        regulator: FCA
        ---
        # Widget gateway

        The Fixture Authority regulates widget dealers.

        The widget gateway is expected to open in 2031 for widget dealers.
        """)
    write(corpus / "newer.md", """
        ---
        title: "Fixture notice B"
        date: 2030-06-20
        jurisdiction: UK
        regulator: FCA
        ---
        # Widget gateway update

        The widget gateway is now expected to open in March 2032 for widget dealers.

        Widget dealers met the Fixture Authority next week to discuss the gateway.
        """)
    write(corpus / "other.md", """
        ---
        title: "Fixture sprocket rules"
        date: 2029-02-01
        jurisdiction: EU
        ---
        # Sprockets

        Sprocket audits must be completed by 1 April 2029 and sprocket returns are filed yearly.
        """)
    from kb.config import Settings

    settings = Settings(corpus=corpus, index=tmp_path / "index", model="hash:64")
    build_index(settings)
    return settings


def test_when_answer_carries_its_date_and_shows_disagreeing_sources_newest_first(dated_corpus):
    searcher = Searcher(IndexReader.open(dated_corpus.index), HashEmbedder(64))
    answer = answer_question(searcher, "When is the widget gateway expected to open for widget dealers?", k=4)
    assert answer.answerable and answer.dates
    statements = answer.date_statements
    assert [s.published for s in statements] == ["2030-06-20", "2030-01-10"]
    assert [s.dates for s in statements] == [("2032-03",), ("2031",)]
    assert "March 2032" in statements[0].text and "in 2031" in statements[1].text


def test_answer_lines_point_at_the_sentence(dated_corpus):
    searcher = Searcher(IndexReader.open(dated_corpus.index), HashEmbedder(64))
    answer = answer_question(searcher, "When must sprocket audits be completed?", k=3)
    chunk = next(hit for hit in answer.passages if hit.rank == answer.citation).chunk
    start, end = answer_lines(answer)
    source = (dated_corpus.corpus / chunk.meta.source).read_text().splitlines()
    assert answer.text.split()[0] in source[start - 1] and "2029-04-01" in answer.dates


def test_terminal_answer_shows_the_date_and_the_disagreement(dated_corpus):
    env = {"KB_MODEL": "hash:64", "KB_INDEX": str(dated_corpus.index), "COLUMNS": "160"}
    output = runner.invoke(app, ["ask", "When is the widget gateway expected to open for widget dealers?"], env=env).output
    flat = " ".join(output.split())
    assert "Sources differ on the date (newest publication first):" in flat
    assert flat.index("published 2030-06-20") < flat.index("published 2030-01-10")
    data = json.loads(runner.invoke(app, ["ask", "When is the widget gateway expected to open for widget dealers?",
                                          "--json"], env=env).output)
    assert [s["published"] for s in data["date_statements"]] == ["2030-06-20", "2030-01-10"]


def test_timeline_is_ordered_deduplicated_cited_and_split_at_as_of(dated_corpus):
    reader = IndexReader.open(dated_corpus.index)
    events = build_timeline(reader, as_of=dt.date(2031, 6, 1))
    labels = [e.label for e in events]
    assert labels == sorted(labels, key=lambda label: [e.first for e in events if e.label == label][0].isoformat())
    assert "2029-04-01" in labels and "2031" in labels and "2032-03" in labels
    by_label = {e.label: e for e in events}
    assert by_label["2029-04-01"].status == "past" and by_label["2031"].status == "current"
    assert by_label["2032-03"].status == "upcoming"
    relative = [e for e in events if e.relative]
    assert relative and relative[0].first == dt.date(2030, 6, 24)  # "next week" of 20 June 2030: Monday 24th
    source = (dated_corpus.corpus / by_label["2032-03"].chunk.meta.source).read_text().splitlines()
    first, last = by_label["2032-03"].lines
    assert "March 2032" in "\n".join(source[first - 1:last])
    assert len({(e.text, e.label) for e in events}) == len(events)


def test_timeline_filters_and_topic(dated_corpus):
    reader = IndexReader.open(dated_corpus.index)
    eu = build_timeline(reader, Filters.from_options(jurisdictions=["EU"]), as_of=dt.date(2031, 1, 1))
    assert {e.chunk.meta.source for e in eu} == {"other.md"}
    gateway = build_timeline(reader, topic="gateway", as_of=dt.date(2031, 1, 1))
    assert gateway and all("gateway" in (e.text + " ".join(e.chunk.section)).lower() for e in gateway)


def test_a_reference_to_an_earlier_document_is_not_an_event(tmp_path):
    """"its 2023 discussion paper" says which paper, not that something happens in 2023 (the bundled
    Hansard record says so of the Bank of England's paper); the sentence's own date stays an event."""
    corpus = tmp_path / "corpus"
    write(corpus / "update.md", """
        ---
        title: Fixture widget token update
        date: 2031-06-01
        ---
        # Update

        The Widget Bank launched a consultation on 10 November 2031, building on its 2029 discussion paper.

        Following the 2028 consultation, the Treasury will legislate for the regime in 2032.

        The 2030 Act requires firms to register by 2033.

        In 2029 the Widget Bank published a discussion paper on widget tokens.
        """)
    settings = Settings(corpus=corpus, index=tmp_path / "index", model="hash:64")
    build_index(settings)
    events = build_timeline(IndexReader.open(settings.index), as_of=dt.date(2031, 6, 1))
    assert [(e.label, e.text.split()[1]) for e in events] == [
        ("2029", "2029"),  # "In 2029 the Widget Bank published": an event
        ("2031-11-10", "Widget"), ("2032", "the"), ("2033", "2030")]


def test_a_long_event_sentence_keeps_its_subject_and_whole_words(tmp_path):
    """A sentence over the event length is cut between words, marked "…", and keeps its start: who is
    concerned is said before the date ("Widget service providers ... may continue ... until 1 July 2032")."""
    corpus = tmp_path / "corpus"
    near = ("Widget service providers that provided their services in accordance with applicable law before "
            "30 December 2030, may continue to do so until 1 July 2032 or until they are granted or refused an "
            "authorisation pursuant to Article 63 of this Regulation, whichever is sooner.")
    far = ("Gizmo exchange operators that held a registration under the national regimes of the Member States, "
           "including those whose registration was suspended, amended, renewed or transferred to another group "
           "company during the preceding period of supervisory review and consultation, must apply for "
           "authorisation by 1 March 2034 at the latest, using the forms published by the authority for that purpose.")
    write(corpus / "rules.md", f"# Transitional measures\n\n{near}\n\n{far}\n")
    settings = Settings(corpus=corpus, index=tmp_path / "index", model="hash:64")
    build_index(settings)
    events = {e.label: e.text for e in build_timeline(IndexReader.open(settings.index), as_of=dt.date(2031, 6, 1))}
    for label, sentence, date in (("2032-07-01", near, "1 July 2032"), ("2034-03-01", far, "1 March 2034")):
        text = events[label]
        assert len(text) <= 240 and date in text, text
        words = set(sentence.replace(",", " ").split())
        assert all(word in words for word in text.replace("…", " ").replace(",", " ").split()), text  # no part-words
    near_text, far_text = events["2032-07-01"], events["2034-03-01"]
    assert near_text.startswith("Widget service providers that provided their services") and near_text.endswith("…")
    # The date is too far in for the start and the date to fit together: the first words, "…", the date's words.
    assert far_text.startswith("Gizmo exchange operators that held a registration") and " … " in far_text
    assert far_text.endswith("the authority for that purpose.") and len(far_text) > 200  # the room is used


def test_timeline_through_the_cli(dated_corpus):
    env = {"KB_MODEL": "hash:64", "KB_INDEX": str(dated_corpus.index), "COLUMNS": "160"}
    data = json.loads(runner.invoke(app, ["timeline", "--json", "--as-of", "2031-06-01", "--upcoming"], env=env).output)
    assert [(e["date"], e["status"]) for e in data["events"]] == [("2031", "current"), ("2032-03", "upcoming")]
    assert data["events"][1]["source"] == "newer.md" and data["events"][1]["published"] == "2030-06-20"
    table = runner.invoke(app, ["timeline", "--as-of", "2031-06-01"], env=env).output
    assert "upcoming" in table and "past" in table and "newer.md:" in table
    assert "Fixture notice B" in table  # which document an event is of, not only its file


def test_timeline_since_and_until_choose_events_by_their_own_dates(dated_corpus):
    env = {"KB_MODEL": "hash:64", "KB_INDEX": str(dated_corpus.index), "COLUMNS": "160"}
    data = json.loads(runner.invoke(app, ["timeline", "--json", "--since", "2031", "--until", "2031-12"],
                                    env=env).output)
    assert [e["date"] for e in data["events"]] == ["2031"]  # not 2029-04-01, not 2032-03
