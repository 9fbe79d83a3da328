"""Exports: the timeline as iCalendar, CSV and a Markdown table; an answer as Markdown with footnotes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import sys

import pytest

from kb.build import build_index
from kb.config import Settings
from kb.export import (CSV_COLUMNS, answer_markdown, csv_cell, event_uid, md_escape, timeline_csv, timeline_ics,
                       timeline_markdown, where)
from kb.index import IndexReader
from kb.models import Answer, Chunk, DatedStatement, DocumentMeta, Hit
from kb.results import Event
from kb.timeline import build_timeline

from conftest import FAKE_MODEL, REPO, write

icalendar = pytest.importorskip("icalendar")
STAMP = dt.datetime(2031, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
URL = "https://widgets.example/notices/licensing"


def chunk(text: str = "Applications open on 1 March 2032.", *, source: str = "notice.md", lines=(12, 14),
          kind: str = "markdown", section=("Widget licensing", "Applications"), page=None, **meta) -> Chunk:
    fields = {"doc_id": source, "source": source, "title": "Widget licensing notice", "date": "2031-03-04",
              "jurisdiction": "Examplia", "regulator": "WA", "extra": {"origin": URL}, "kind": kind} | meta
    return Chunk(DocumentMeta(**fields), text, tuple(section), 0, len(text), lines[0], lines[1],
                 page_start=page, page_end=page)


def event(text: str = "Applications open on 1 March 2032.", first=dt.date(2032, 3, 1), last=None,
          precision: str = "day", label: str = "2032-03-01", lines=(13, 13), **chunk_fields) -> Event:
    return Event(first, last or first, precision, label, False, "upcoming", text, chunk(text, **chunk_fields), lines)


def events_of(ics: bytes) -> list:
    return list(icalendar.Calendar.from_ical(ics).walk("VEVENT"))


# --- iCalendar ------------------------------------------------------------------------------------


def test_a_real_timeline_round_trips_through_icalendar(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "notice.md", f"""
        ---
        title: "Widget licensing notice"
        date: 2031-03-04
        regulator: Widget Authority
        source: {URL}
        ---
        # Widget licensing

        The Widget Authority expects licence applications to open on 1 March 2032.

        The transitional period will end in 2033.
        """)
    settings = Settings(corpus=corpus, index=tmp_path / "index", model=FAKE_MODEL)
    build_index(settings)
    timeline = build_timeline(IndexReader.open(settings.index), as_of=dt.date(2031, 6, 1))
    assert [e.label for e in timeline] == ["2032-03-01", "2033"]
    parsed = events_of(timeline_ics(timeline, name="Widgets", stamp=STAMP))
    assert len(parsed) == 2
    day, year = parsed
    assert (day.decoded("dtstart"), day.decoded("dtend")) == (dt.date(2032, 3, 1), dt.date(2032, 3, 2))
    assert (year.decoded("dtstart"), year.decoded("dtend")) == (dt.date(2033, 1, 1), dt.date(2034, 1, 1))
    assert str(day["summary"]) == "The Widget Authority expects licence applications to open on 1 March 2032."
    description = str(day["description"])
    assert "Source: Widget licensing notice — notice.md:9 (§ Widget licensing, 2031-03-04)" in description
    assert f"Origin: {URL}" in description and str(day["url"]) == URL
    assert "Date: 2033 (year)" in str(year["description"])
    assert [str(e["uid"]) for e in parsed] == [event_uid(e) for e in timeline]
    # Exported again (another day): the same UIDs, so a calendar updates the events instead of doubling them.
    again = events_of(timeline_ics(timeline, stamp=STAMP + dt.timedelta(days=9)))
    assert [str(e["uid"]) for e in again] == [str(e["uid"]) for e in parsed]


def test_uids_depend_on_source_lines_and_date_only():
    base = event()
    assert event_uid(base) == event_uid(event(text="Reworded: applications open 1 March 2032."))
    assert len({event_uid(base), event_uid(event(lines=(20, 20))), event_uid(event(source="other.md")),
                event_uid(event(label="2032-03", precision="month"))}) == 4


def test_two_events_on_the_same_lines_with_the_same_date_are_both_kept():
    one_line = [event("Applications open on 1 March 2032."), event("Fees are due on 1 March 2032.")]
    uids = [str(e["uid"]) for e in events_of(timeline_ics(one_line, stamp=STAMP))]
    assert len(set(uids)) == 2 and uids[0] == event_uid(one_line[0])


def test_hostile_text_cannot_break_the_calendar():
    nasty = event("Opens 1 March 2032;\x07 END:VEVENT\r\nBEGIN:VEVENT\nSUMMARY:injected, really",
                  title="Title\x1b[31m, with; specials", extra={"origin": "javascript:alert(1)"})
    ics = timeline_ics([nasty], stamp=STAMP)
    assert b"\x07" not in ics and b"\x1b" not in ics
    (parsed,) = events_of(ics)
    assert str(parsed["summary"]) == "Opens 1 March 2032; END:VEVENT BEGIN:VEVENT SUMMARY:injected, really"
    assert "url" not in parsed and "Origin: javascript:alert(1)" in str(parsed["description"])


def test_a_long_event_is_summarised_in_whole_words():
    text = ("Crypto-asset service providers that provided their services in accordance with applicable national law "
            "before 30 December 2024, may continue to do so until 1 July 2026.")
    (parsed,) = events_of(timeline_ics([event(text, first=dt.date(2026, 7, 1), label="2026-07-01")], stamp=STAMP))
    summary = str(parsed["summary"])
    assert len(summary) <= 120 and summary.endswith("…") and text.startswith(summary[:-1])
    assert text[len(summary) - 1] in " ,"  # the cut ends a word: none was cut in two
    assert text in " ".join(str(parsed["description"]).split())  # the whole sentence is still there


def test_a_calendar_without_events_is_still_a_valid_calendar():
    """RFC 5545 (3.4, 3.6): a VCALENDAR holds at least one component; strict readers refuse an empty one."""
    ics = timeline_ics([], stamp=STAMP)
    calendar = icalendar.Calendar.from_ical(ics)
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n") and ics.endswith(b"END:VCALENDAR\r\n")
    assert (str(calendar["version"]), str(calendar["prodid"])) == ("2.0", "-//kb//regulatory timeline//EN")
    assert [c.name for c in calendar.subcomponents] == ["VTIMEZONE"] and not events_of(ics)
    (standard,) = calendar.subcomponents[0].subcomponents  # a complete time zone: 3.6.5 wants STANDARD or DAYLIGHT
    assert {"DTSTART", "TZOFFSETFROM", "TZOFFSETTO"} <= set(standard)
    assert b"VTIMEZONE" not in timeline_ics([event()], stamp=STAMP)  # all-day events need none


BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def test_no_bidirectional_override_reaches_a_calendar_a_spreadsheet_or_a_memo():
    """The terminal's guard (kb.text.TERMINAL_UNSAFE) holds for every export: "Trojan source" reordering
    (U+202A-U+202E, U+2066-U+2069) in text, title, section, regulator or origin is dropped, and a
    formula hidden behind one (U+202E then "=") is still defused."""
    rlo, lri, pdi = "\u202e", "\u2066", "\u2069"
    hostile = event(f"Fees {rlo}eunever{pdi} apply from 1 March 2032 {lri}to dealers{pdi}.",
                    title=f"Widget {rlo}eciton{pdi}", regulator=f"{lri}WA{pdi}", section=(f"Fees {rlo}x",),
                    extra={"origin": f"https://widgets.example/{rlo}fdp.exe"})
    formula = event(f"{rlo}=HYPERLINK(\"http://evil.example\") on 1 March 2032", title=f"\u202a@SUM(A1)")
    exports = {"ics": timeline_ics([hostile, formula], stamp=STAMP).decode("utf-8"),
               "csv": timeline_csv([hostile, formula]), "markdown": timeline_markdown([hostile, formula]),
               "answer": answer_markdown(answer(question=f"When {rlo}?", text=f"Fees {lri}apply{pdi}.",
                                                passages=(Hit(hostile.chunk, 1, 0.9),),
                                                notes=(f"{rlo}note",)))}
    for name, text in exports.items():
        assert not BIDI_CONTROLS.search(text), (name, text)
    (header, first, second) = list(csv.reader(io.StringIO(exports["csv"])))
    assert dict(zip(header, first))["event"] == "Fees eunever apply from 1 March 2032 to dealers."
    assert (dict(zip(header, second))["event"], dict(zip(header, second))["title"]) == \
        ('\'=HYPERLINK("http://evil.example") on 1 March 2032', "'@SUM(A1)")


# --- CSV and Markdown table -----------------------------------------------------------------------


def test_csv_has_a_header_and_one_row_per_event_with_its_citation():
    rows = list(csv.reader(io.StringIO(timeline_csv([event(), event(page=3, kind="pdf", source="rules.pdf")]))))
    assert rows[0] == list(CSV_COLUMNS)
    record = dict(zip(rows[0], rows[1]))
    assert record == {"date": "2032-03-01", "status": "upcoming", "event": "Applications open on 1 March 2032.",
                      "title": "Widget licensing notice", "source": "notice.md", "lines": "13-13", "pages": "",
                      "published": "2031-03-04", "jurisdiction": "Examplia", "regulator": "WA", "origin": URL}
    assert dict(zip(rows[0], rows[2]))["pages"] == "3" and len(rows) == 3


def test_csv_defuses_formulas_and_keeps_awkward_text_in_one_cell():
    hostile = event('=HYPERLINK("http://evil.example","click"), then "quoted"\nnext line',
                    title="@SUM(A1:A9)", regulator="-1+2", jurisdiction="+44")
    (header, row) = list(csv.reader(io.StringIO(timeline_csv([hostile]))))
    record = dict(zip(header, row))
    assert record["event"] == '\'=HYPERLINK("http://evil.example","click"), then "quoted" next line'
    assert (record["title"], record["regulator"], record["jurisdiction"]) == ("'@SUM(A1:A9)", "'-1+2", "'+44")
    assert csv_cell("2032-03-01") == "2032-03-01" and csv_cell("") == ""


def test_markdown_table_escapes_pipes_and_markup():
    hostile = event("Fees | <script>alert(1)</script> *now* [x](javascript:y)", title="A|B")
    table = timeline_markdown([event(), hostile])
    lines = table.splitlines()
    assert lines[:2] == ["| Date | Status | Event | Source | Published |", "|---|---|---|---|---|"]
    assert len(lines) == 4
    for line in lines[2:]:  # every row has exactly five cells: no pipe from the text splits one
        assert len(re.split(r"(?<!\\)\|", line)) == 7
    assert "<script>" not in table and "\\<script\\>" in table and "\\*now\\*" in table and "\\[x\\]" in table
    assert lines[2] == (f"| 2032-03-01 | upcoming | Applications open on 1 March 2032. | Widget licensing notice — "
                        f"notice.md:13 <{URL}> | 2031-03-04 |")


def test_md_escape():
    assert md_escape("a|b *c* _d_ `e` [f](g) <h> ~i~ \\ &amp; R&D") == \
        "a\\|b \\*c\\* \\_d\\_ \\`e\\` \\[f\\](g) \\<h\\> \\~i\\~ \\\\ \\&amp; R&D"
    assert md_escape("two\nlines \x00and\t spaces") == "two lines and spaces"


def test_where_cites_lines_pages_or_sections():
    assert where(chunk()) == "notice.md:12-14" and where(chunk(), (13, 13)) == "notice.md:13"
    assert where(chunk(kind="pdf", source="r.pdf", page=4)) == "r.pdf p. 4"
    assert where(chunk(kind="html", source="page.html")) == "page.html"


# --- answers --------------------------------------------------------------------------------------


TEXT = "Widget dealers need a licence.\nApplications open on 1 March 2032 for all dealers.\nFees apply."


def answer(**fields) -> Answer:
    hits = (Hit(chunk(TEXT, lines=(10, 12)), 1, 0.9), Hit(chunk("Other text.", source="b.md", lines=(3, 3),
                                                                 date=None, extra={}), 2, 0.5))
    start = TEXT.index("Applications")
    values = dict(question="When do applications open?", text="Applications open on 1 March 2032 for all dealers.",
                  answerable=True, passages=hits, citation=1, highlight=(start, TEXT.index("\nFees")),
                  dates=("2032-03-01",))
    return Answer(**(values | fields))


def test_answer_markdown_emphasises_the_sentence_and_cites_its_lines_in_a_footnote():
    text = answer_markdown(answer())
    assert text == (
        "**Question:** When do applications open?\n\n"
        "*Applications open on 1 March 2032 for all dealers.*[^1]\n\n"
        "Date: 2032-03-01\n\n"
        f"[^1]: Widget licensing notice — notice.md:11 (§ Applications, 2031-03-04) <{URL}>\n")


def test_answer_markdown_lists_disagreeing_sources_each_with_its_footnote():
    statements = (DatedStatement(1, "Applications open on 1 March 2032.", ("2032-03-01",), "2031-03-04"),
                  DatedStatement(2, "Applications | open *in* 2031.", ("2031",), None))
    text = answer_markdown(answer(date_statements=statements, notes=("Warning: [2] changed.",)))
    assert "- 2031, published undated: Applications \\| open \\*in\\* 2031.[^2]" in text
    assert "> Warning: \\[2\\] changed." in text
    footnotes = [line for line in text.splitlines() if line.startswith("[^")]
    assert footnotes == [f"[^1]: Widget licensing notice — notice.md:11 (§ Applications, 2031-03-04) <{URL}>",
                         "[^2]: Widget licensing notice — b.md:3 (§ Applications, undated)"]


def test_answer_markdown_finds_a_cited_passage_beyond_the_shown_ones_by_its_rank():
    """The answerer may cite passage 7 of 10 with --top-k 2: passages are (1, 2, 7), and [^7] is the third."""
    first, second = answer().passages
    cited = Hit(chunk(TEXT, source="far.md", lines=(40, 42)), 7, 0.3)
    text = answer_markdown(answer(passages=(first, second, cited), citation=7))
    assert "*Applications open on 1 March 2032 for all dealers.*[^7]" in text
    assert text.endswith(f"[^7]: Widget licensing notice — far.md:41 (§ Applications, 2031-03-04) <{URL}>\n")


def test_a_no_answer_says_so_and_lists_the_closest_passages_as_such():
    text = answer_markdown(answer(answerable=False, text=None, citation=None, highlight=None, dates=()))
    assert text.startswith("**Question:** When do applications open?\n\n*Not in the corpus: no passage answers this.*")
    assert "The closest passages, which do not answer it:" in text
    assert "1. Widget licensing notice — notice.md:10-12 (§ Applications, 2031-03-04) <" in text
    assert "“Widget dealers need a licence. Applications open on 1 March 2032 for all dealers. Fees apply.”" in text
    assert "2. Widget licensing notice — b.md:3" in text and "[^" not in text
    empty = answer_markdown(answer(answerable=False, text=None, citation=None, passages=()))
    assert "closest" not in empty and "Not in the corpus" in empty


def test_new_modules_import_no_network_or_calendar_library():
    """kb add and exports load httpx and icalendar only when they fetch or write a calendar."""
    code = ("import sys, kb.ingest, kb.sidecar, kb.fetch, kb.add, kb.export\n"
            "print([m for m in ('httpx', 'icalendar') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                            env={"PYTHONPATH": str(REPO)})
    assert result.stdout.strip() == "[]", result.stderr


# --- through the CLI ------------------------------------------------------------------------------


@pytest.fixture
def timeline_env(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "notice.md", f"""
        ---
        title: "Widget licensing notice"
        date: 2031-03-04
        source: {URL}
        ---
        # Widget licensing

        The Widget Authority expects licence applications to open on 1 March 2032.

        The transitional period will end in 2033.
        """)
    env = {"KB_MODEL": FAKE_MODEL, "KB_CORPUS": str(corpus), "KB_INDEX": str(tmp_path / "index"), "COLUMNS": "200",
           "NO_COLOR": "1", "KB_DEBUG": ""}
    assert kb(["index"], env).exit_code == 0
    return env


def kb(args, env):
    from typer.testing import CliRunner

    from kb.cli import app

    return CliRunner().invoke(app, args, env=env)


def test_kb_timeline_writes_a_calendar_file_or_its_bytes_to_stdout(timeline_env, tmp_path):
    target = tmp_path / "deadlines.ics"
    result = kb(["timeline", "--as-of", "2031-06-01", "--format", "ics", "--output", str(target)], timeline_env)
    assert result.exit_code == 0 and result.output == ""
    data = target.read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert [e.decoded("dtstart") for e in events_of(data)] == [dt.date(2032, 3, 1), dt.date(2033, 1, 1)]
    piped = kb(["timeline", "--as-of", "2031-06-01", "-f", "ics"], timeline_env).stdout_bytes
    stamp = re.compile(rb"DTSTAMP:\d{8}T\d{6}Z")
    assert stamp.sub(b"", piped) == stamp.sub(b"", data)  # the same bytes, CRLF and all, on stdout


def test_kb_timeline_csv_and_markdown(timeline_env, tmp_path):
    data = kb(["timeline", "-f", "csv", "--as-of", "2032-06-01"], timeline_env).stdout_bytes
    assert data.count(b"\r\n") == 3  # RFC 4180 row ends, not doubled into \r\r\n
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == list(CSV_COLUMNS) and len(rows) == 3
    assert rows[1][:2] == ["2032-03-01", "past"] and rows[2][:2] == ["2033", "upcoming"]
    assert rows[2][2].startswith("The transitional period") and rows[2][-1] == URL
    markdown = kb(["timeline", "-f", "markdown", "--as-of", "2031-06-01"], timeline_env).output.splitlines()
    assert markdown[:2] == ["| Date | Status | Event | Source | Published |", "|---|---|---|---|---|"]
    assert markdown[2].startswith("| 2032-03-01 | upcoming | The Widget Authority expects") and len(markdown) == 4
    table = tmp_path / "table.txt"
    assert kb(["timeline", "-o", str(table)], timeline_env).exit_code == 0
    assert "2 dated event(s)" in table.read_text() and "\x1b" not in table.read_text()


def test_output_dash_means_standard_output_not_a_file_called_dash(timeline_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stamp = re.compile(rb"DTSTAMP:\d{8}T\d{6}Z")
    for fmt in ("ics", "csv", "markdown"):
        dashed = kb(["timeline", "--as-of", "2031-06-01", "-f", fmt, "-o", "-"], timeline_env)
        plain = kb(["timeline", "--as-of", "2031-06-01", "-f", fmt], timeline_env)
        assert dashed.exit_code == 0 and dashed.stdout_bytes and not (tmp_path / "-").exists(), fmt
        assert stamp.sub(b"", dashed.stdout_bytes) == stamp.sub(b"", plain.stdout_bytes), fmt
    for args in (["--json"], []):  # the JSON and the table too, as without --output
        dashed = kb(["timeline", "--as-of", "2031-06-01", "--output", "-", *args], timeline_env)
        assert dashed.stdout == kb(["timeline", "--as-of", "2031-06-01", *args], timeline_env).stdout
    assert not (tmp_path / "-").exists()


def test_an_export_without_events_is_a_valid_empty_file_and_says_so(timeline_env):
    """Nothing upcoming: every format is its empty form (exit 0, so a re-exported feed empties), with a note
    on standard error, as the table says "0 dated event(s)"."""
    empty = {"ics": lambda data: [c.name for c in icalendar.Calendar.from_ical(data).subcomponents] == ["VTIMEZONE"],
             "csv": lambda data: data == (",".join(CSV_COLUMNS) + "\r\n").encode(),
             "markdown": lambda data: data == b"| Date | Status | Event | Source | Published |\n|---|---|---|---|---|\n"}
    for fmt, is_empty in empty.items():
        result = kb(["timeline", "--as-of", "2040-01-01", "--upcoming", "-f", fmt], timeline_env)
        assert result.exit_code == 0 and is_empty(result.stdout_bytes), (fmt, result.stdout)
        assert result.stderr.startswith("0 dated event(s), as of 2040-01-01: "), (fmt, result.stderr)
    full = kb(["timeline", "--as-of", "2031-06-01", "-f", "ics"], timeline_env)
    assert full.exit_code == 0 and full.stderr == ""


def test_a_csv_file_starts_with_a_utf8_bom_for_excel_and_standard_output_does_not(timeline_env, tmp_path):
    write(tmp_path / "corpus" / "café.md", "# Règles\n\nCafé owners must register by 1 March 2032 and pay 500 €.\n")
    assert kb(["index"], timeline_env).exit_code == 0
    target = tmp_path / "events.csv"
    assert kb(["timeline", "--as-of", "2031-06-01", "-f", "csv", "-o", str(target)], timeline_env).exit_code == 0
    data = target.read_bytes()
    piped = kb(["timeline", "--as-of", "2031-06-01", "-f", "csv"], timeline_env).stdout_bytes
    assert data.startswith(b"\xef\xbb\xbfdate,status,") and piped.startswith(b"date,status,")
    assert data[3:] == piped  # the BOM is the only difference
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert any(row["event"] == "Café owners must register by 1 March 2032 and pay 500 €." and row["source"] == "café.md" for row in rows)
    for fmt in ("ics", "markdown"):  # only CSV: a BOM would break a calendar, and Markdown needs none
        other = tmp_path / f"events.{fmt}"
        kb(["timeline", "--as-of", "2031-06-01", "-f", fmt, "-o", str(other)], timeline_env)
        assert not other.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "UTF-8 BOM" in kb(["timeline", "--help"], timeline_env).output


def test_kb_timeline_export_errors_are_one_line(timeline_env, tmp_path):
    both = kb(["timeline", "--json", "-f", "ics"], timeline_env)
    assert both.exit_code == 2 and "--json is a format of its own" in both.output
    unknown = kb(["timeline", "-f", "xml"], timeline_env)
    assert unknown.exit_code == 2 and "'xml' is not one of" in unknown.output
    nowhere = kb(["timeline", "-f", "ics", "-o", str(tmp_path / "no" / "such" / "x.ics")], timeline_env)
    assert nowhere.exit_code == 1 and "Error: Cannot write" in nowhere.output and "Traceback" not in nowhere.output
