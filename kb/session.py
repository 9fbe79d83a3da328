"""An index opened for questions: its searcher and the filter mask, set up once for `kb ask` and `kb eval`;
and `LiveIndex`, an index kept open by a long-running server (`kb mcp`) that follows rebuilds."""

from __future__ import annotations

import datetime as dt
import threading
from functools import partial
from pathlib import Path

import numpy as np

from kb.answer import answer_question
from kb.config import Settings
from kb.embed import Embedder, load_embedder
from kb.errors import BadQuestion, IndexReplaced
from kb.filters import Filters, chunk_mask
from kb.index import IndexReader
from kb.index.layout import IndexLayout
from kb.models import Answer
from kb.results import Passages, SourceList, Timeline
from kb.search import Searcher, clean_question
from kb.sources import sources_of
from kb.text import CONTROL_CHARACTERS
from kb.timeline import timeline_of


def check_words(question: str) -> None:
    """BadQuestion for a question that has characters but no letter or digit (emoji, punctuation): kb
    searches for words, so there is nothing to look for. A blank question is kb.search's to refuse."""
    if CONTROL_CHARACTERS.sub("", question or "").strip() and not any(char.isalnum() for char in question):
        raise BadQuestion("The question has no words kb can search for (only symbols, emoji or punctuation).")


class Session:
    """The live build, its searcher (which keeps the model loaded once asked) and the filter mask.

    A session outlives builds: when `kb index` has replaced and removed the build it reads (it keeps
    the last two, so that takes two rebuilds), the next question re-opens the live one, model kept.
    """

    __slots__ = ("settings", "filters", "searcher", "mask")

    def __init__(self, settings: Settings, filters: Filters = Filters()) -> None:
        self.settings = settings
        self.filters = filters
        self.searcher: Searcher
        self.mask: np.ndarray | None  # chunks of the documents that pass the filters; None: every chunk
        self._open()

    def _open(self, embedder: Embedder | None = None) -> None:
        reader = IndexReader.open(self.settings.index, model=self.settings.model)
        mask = chunk_mask(reader.documents, reader.chunk_documents, self.filters)
        self.searcher = Searcher(reader, embedder, embedder_factory=partial(load_embedder, backend=self.settings.backend))
        self.mask = mask

    @property
    def corpus(self) -> Path:
        return self.searcher.index.corpus

    def ask(self, question: str, k: int) -> Answer:
        check_words(question)
        try:
            return answer_question(self.searcher, question, k, mask=self.mask)
        except IndexReplaced:
            old = self.searcher
            self._open(old._embedder)
            old.index.close()
            return answer_question(self.searcher, question, k, mask=self.mask)


def open_session(settings: Settings, filters: Filters = Filters()) -> Session:
    """Open the index for `settings.model` (IndexMismatch for another) with the filters applied.

    Raises BadQuestion when no document passes the filters. The model loads on the first question.
    """
    return Session(settings, filters)


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

    def _retrying(self, use):
        """`use(searcher)` on the live build; once more on the new one if a rebuild removed it meanwhile."""
        with self._lock:
            try:
                return use(self._current())
            except IndexReplaced:
                if self._searcher is not None:
                    self._searcher.index.close()
                    self._searcher = None
                return use(self._current())

    def _model(self, name: str) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(name, backend=self.settings.backend)
        return self._embedder

    def ask(self, question: str, k: int, filters: Filters = Filters()) -> Answer:
        check_words(question)

        def use(searcher: Searcher) -> Answer:
            mask = chunk_mask(searcher.index.documents, searcher.index.chunk_documents, filters)
            return answer_question(searcher, question, k, mask=mask)

        return self._retrying(use)

    def search(self, query: str, k: int, filters: Filters = Filters()) -> Passages:
        check_words(query)

        def use(searcher: Searcher) -> Passages:
            mask = chunk_mask(searcher.index.documents, searcher.index.chunk_documents, filters)
            text = clean_question(query)
            return Passages(text, filters, tuple(searcher.search(text, k, mask=mask)), searcher.index.corpus)

        return self._retrying(use)

    def timeline(self, filters: Filters = Filters(), topic: str | None = None, as_of: dt.date | None = None, *,
                 upcoming: bool = False, since: dt.date | None = None, until: dt.date | None = None) -> Timeline:
        return self._retrying(lambda searcher: timeline_of(searcher.index, filters, topic, as_of, upcoming=upcoming,
                                                           since=since, until=until))

    def sources(self, filters: Filters = Filters(), limit: int | None = None) -> SourceList:
        return self._retrying(lambda searcher: sources_of(searcher.index, filters, limit))

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.index.close()
                self._searcher = None
