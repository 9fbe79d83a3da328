"""`kb timeline`: the dated regulatory events a corpus mentions, in order, each cited.

An event is a sentence that carries a date and says something happens then (opens, closes, takes
effect, is published, expected...). A date that names a document ("its 2023 discussion paper", "the
2023 Act") is not an event's date (kb.dates.names_a_document). Relative dates are resolved against
the document's publication date. Past and upcoming are told apart relative to today, or to an
`as_of` date.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np

from kb.dates import PRECISION_RANK, DateMention, document_dates, names_a_document
from kb.errors import BadQuestion
from kb.filters import Filters, document_mask
from kb.index import IndexReader
from kb.index.reader import read_current
from kb.index.lexical import tokenize
from kb.models import Chunk
from kb.results import Event, Timeline
from kb.text import collapse_whitespace, for_terminal, normalise_for_dedup, split_sentences

EVENT_CUE = re.compile(
    r"\b(?:open(?:s|ed|ing)?|clos(?:e|es|ed|ing)|deadline|due|expect(?:s|ed)?|effective|take[sn]? effect|took effect|"
    r"issu(?:e|es|ed|ing)|rescind(?:s|ed|ing)?|rescission|revok(?:e|es|ed|ing)|revocation|withdr(?:aw|aws|awn|ew)|"
    r"supersed(?:e|es|ed)|"
    r"(?:come|comes|came|enter|enters|entered) into (?:force|effect)|entry into (?:force|application)|"
    r"appl(?:y|ies|ied|ication|ications)|commenc(?:e|es|ed|ement)|begin(?:s|ning)?|start(?:s|ed)?|launch(?:es|ed)?|"
    r"publish(?:es|ed)?|consult(?:s|ed|ing|ation)?|feedback|respond|submi(?:t|ssions?)|implement(?:s|ed|ation)?|"
    r"transitional|until|no later than|by (?:the )?end|intend(?:s|ed)? to|will|plan(?:s|ned)?|approved|enacted|"
    r"signed|adopted|laid|introduced|repeal(?:s|ed)?|expir(?:e|es|ed|y)|final rules|policy statements?|"
    r"gateway|authoris(?:e|ation)|authoriz(?:e|ation)|licen[cs](?:e|es|ing)|regist(?:er|ration)|regime|"
    r"must|shall|required?|complet(?:e|ed|ion)|fil(?:e|ed|ing)|report(?:ed|ing)?|comply|compliance)\b",
    re.IGNORECASE,
)
MAX_EVENT_CHARS = 240
EVENT_HEAD_CHARS = 80  # the first words of a long sentence kept before a date far into it


def _status(mention: DateMention, as_of: dt.date) -> str:
    if mention.last < as_of:
        return "past"
    if mention.first > as_of:
        return "upcoming"
    return "current"


def _shorten(sentence: str, start: int, end: int) -> str:
    """The sentence, or, when it is long, as much of it as fits around the date (`start`:`end`), cut
    between words and marked with "…".

    What happens is usually said by the sentence's start ("Crypto-asset service providers ... may continue
    ... until 1 July 2026"): it is kept whenever the date fits after it; a date too far in follows the
    sentence's first words and "…", with the words around it.
    """
    text = collapse_whitespace(sentence)
    if len(text) <= MAX_EVENT_CHARS:
        return text
    # The date's offsets in the collapsed text (collapsing a part of the sentence collapses it as the whole).
    start, end = len(_one_line(sentence[:start]).lstrip()), len(_one_line(sentence[:end]).lstrip())
    end = min(end, len(text))
    if end < MAX_EVENT_CHARS:
        return _cut_after(text, MAX_EVENT_CHARS - 1, end) + "…"
    head = _cut_after(text, EVENT_HEAD_CHARS, 0)
    room = MAX_EVENT_CHARS - len(head) - 4  # " … " between the two parts and "…" at the end
    # A third of the room before the date, the rest after it; all of it before when the sentence ends sooner.
    left = min(start - max(0, (room - (end - start)) // 3), len(text) - room)
    left = _word_start(text, max(len(head), left), start)
    middle = _cut_after(text[left:], room, end - left)
    return f"{head} … {middle}" + ("…" if left + len(middle) < len(text) else "")


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", for_terminal(text))


def _cut_after(text: str, limit: int, keep: int) -> str:
    """`text` up to `limit` characters, ending at a word's end (not before `keep`) and without a trailing
    comma or colon; a single word longer than that is cut where it must be."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", keep, limit + 1)
    cut = cut if cut > 0 else limit
    return text[:cut].rstrip(" ,;:")


def _word_start(text: str, position: int, limit: int) -> int:
    """The start of the first whole word at or after `position` (not after `limit`)."""
    if position <= 0 or text[position - 1] == " ":
        return position
    found = text.find(" ", position, limit)
    return found + 1 if found >= 0 else position


def topic_terms(topic: str | None) -> set[str]:
    return set(tokenize(topic)) if topic else set()


def index_timeline(index: Path, filters: Filters = Filters(), topic: str | None = None,
                   as_of: dt.date | None = None, *, upcoming: bool = False, since: dt.date | None = None,
                   until: dt.date | None = None) -> Timeline:
    """`kb timeline`: the events of an index (see build_timeline); with `upcoming`, only those not past;
    with `since`/`until`, only events whose period reaches into that window."""
    return read_current(index, lambda reader: timeline_of(reader, filters, topic, as_of, upcoming=upcoming,
                                                          since=since, until=until))


def timeline_of(reader: IndexReader, filters: Filters = Filters(), topic: str | None = None,
                as_of: dt.date | None = None, *, upcoming: bool = False, since: dt.date | None = None,
                until: dt.date | None = None) -> Timeline:
    """The timeline of an open index (a server keeps one open); with `upcoming`, only events not past;
    with `since`/`until`, only events whose period reaches into that window."""
    as_of = as_of or dt.date.today()
    events = build_timeline(reader, filters, topic, as_of)
    if upcoming:
        events = [event for event in events if event.status != "past"]
    if since or until:
        events = [event for event in events
                  if (since is None or event.last >= since) and (until is None or event.first <= until)]
    return Timeline(as_of, reader.corpus, tuple(events))


def build_timeline(reader: IndexReader, filters: Filters = Filters(), topic: str | None = None,
                   as_of: dt.date | None = None) -> list[Event]:
    """Every dated event in the chunks that pass the filters (and mention the topic), oldest first."""
    as_of = as_of or dt.date.today()
    allowed = document_mask(reader.documents, filters)
    if not filters.is_empty and not allowed.any():
        raise BadQuestion(f"No document matches the filters ({filters.describe()}).",
                          "See what the corpus holds with `kb sources`.")
    chunk_ids = np.flatnonzero(allowed[reader.chunk_documents])
    terms = topic_terms(topic)
    events: list[Event] = []
    seen: set[tuple[str, str]] = set()
    for start in range(0, len(chunk_ids), 512):
        for chunk in reader.chunks(chunk_ids[start:start + 512].tolist()):
            context = f"{chunk.meta.title} {' '.join(chunk.section)} {chunk.text}"
            if terms and not terms <= set(tokenize(context)):
                continue
            events.extend(_events_of(chunk, as_of, seen))
    events.sort(key=lambda e: (e.first, PRECISION_RANK[e.precision], e.last, e.chunk.meta.source, e.lines))
    return events


def _events_of(chunk: Chunk, as_of: dt.date, seen: set[tuple[str, str]]) -> list[Event]:
    events = []
    for start, end in split_sentences(chunk.text):
        sentence = chunk.text[start:end]
        if not EVENT_CUE.search(sentence):
            continue
        for mention in document_dates(sentence, chunk.meta.date, chunk.meta.jurisdiction):
            if names_a_document(sentence, mention):  # "its 2023 discussion paper": which paper, not when
                continue
            key = (normalise_for_dedup(sentence), mention.label)
            if key in seen:  # the same statement about the same date, e.g. a repeated paragraph
                continue
            seen.add(key)
            events.append(Event(mention.first, mention.last, mention.precision, mention.label, mention.relative,
                                _status(mention, as_of), _shorten(sentence, mention.start, mention.end), chunk,
                                chunk.line_range(start, end)))
    return events
