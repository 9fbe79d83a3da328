"""An index opened for questions: its searcher and the filter mask, set up once for `kb ask` and `kb eval`;
and `LiveIndex`, an index kept open by a long-running server (`kb mcp`) that follows rebuilds."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from kb.answer import answer_question
from kb.config import Settings
from kb.embed import Embedder, load_embedder
from kb.filters import Filters, chunk_mask
from kb.index import IndexReader
from kb.index.layout import IndexLayout
from kb.models import Answer
from kb.results import Passages, SourceList, Timeline
from kb.search import Searcher, clean_question
from kb.sources import sources_of
from kb.timeline import timeline_of


@dataclass(frozen=True, slots=True)
class Session:
    searcher: Searcher  # keeps the index and, once asked, the model loaded
    mask: np.ndarray | None  # chunks of the documents that pass the filters; None: every chunk

    @property
    def corpus(self) -> Path:
        return self.searcher.index.corpus

    def ask(self, question: str, k: int) -> Answer:
        return answer_question(self.searcher, question, k, mask=self.mask)


def open_session(settings: Settings, filters: Filters = Filters()) -> Session:
    """Open the index for `settings.model` (IndexMismatch for another) with the filters applied.

    Raises BadQuestion when no document passes the filters. The model loads on the first question.
    """
    reader = IndexReader.open(settings.index, model=settings.model)
    mask = chunk_mask(reader.documents, reader.chunk_documents, filters)
    return Session(Searcher(reader, embedder_factory=partial(load_embedder, backend=settings.backend)), mask)


class LiveIndex:
    """The configured index for a server that answers many requests: opened once, and opened again
    when `kb index` (or `kb add`) has swapped in a new build since the last request. The model is
    loaded on the first question and kept across builds. Requests are served one at a time.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._layout = IndexLayout(Path(settings.index))
        self._searcher: Searcher | None = None
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()
        self.opened = 0  # builds opened so far (the first one included)

    def _current(self) -> Searcher:
        """The searcher of the live build: the open one while CURRENT still names it, else a new one."""
        build = self._layout.current_build()
        if self._searcher is None or build != self._searcher.index.build:
            reader = IndexReader.open(self.settings.index, model=self.settings.model)
            previous, self._searcher = self._searcher, Searcher(reader, embedder_factory=self._model)
            self.opened += 1
            if previous is not None:
                previous.index.close()
        return self._searcher

    def _model(self, name: str) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(name, backend=self.settings.backend)
        return self._embedder

    def ask(self, question: str, k: int, filters: Filters = Filters()) -> Answer:
        with self._lock:
            searcher = self._current()
            mask = chunk_mask(searcher.index.documents, searcher.index.chunk_documents, filters)
            return answer_question(searcher, question, k, mask=mask)

    def search(self, query: str, k: int, filters: Filters = Filters()) -> Passages:
        with self._lock:
            searcher = self._current()
            mask = chunk_mask(searcher.index.documents, searcher.index.chunk_documents, filters)
            text = clean_question(query)
            return Passages(text, filters, tuple(searcher.search(text, k, mask=mask)), searcher.index.corpus)

    def timeline(self, filters: Filters = Filters(), topic: str | None = None, as_of: dt.date | None = None, *,
                 upcoming: bool = False, since: dt.date | None = None, until: dt.date | None = None) -> Timeline:
        with self._lock:
            return timeline_of(self._current().index, filters, topic, as_of, upcoming=upcoming, since=since,
                               until=until)

    def sources(self, filters: Filters = Filters(), limit: int | None = None) -> SourceList:
        with self._lock:
            return sources_of(self._current().index, filters, limit)

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.index.close()
                self._searcher = None
