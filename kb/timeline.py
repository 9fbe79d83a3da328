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
from kb.text import collapse_whitespace, normalise_for_dedup, split_sentences

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


def _status(mention: DateMention, as_of: dt.date) -> str:
    if mention.last < as_of:
        return "past"
    if mention.first > as_of:
        return "upcoming"
    return "current"


def _shorten(sentence: str, start: int, end: int) -> str:
    """The sentence, or a window of it around the date when it is long."""
    if len(sentence) <= MAX_EVENT_CHARS:
        return collapse_whitespace(sentence)
    half = (MAX_EVENT_CHARS - (end - start)) // 2
    left, right = max(0, start - half), min(len(sentence), end + half)
    return ("…" if left else "") + collapse_whitespace(sentence[left:right]) + ("…" if right < len(sentence) else "")


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
