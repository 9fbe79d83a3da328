"""An index opened for questions: its searcher and the filter mask, set up once for `kb ask` and `kb eval`."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from kb.answer import answer_question
from kb.config import Settings
from kb.embed import load_embedder
from kb.errors import IndexReplaced
from kb.filters import Filters, chunk_mask
from kb.index import IndexReader
from kb.models import Answer
from kb.search import Searcher


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

    def _open(self, embedder=None) -> None:
        reader = IndexReader.open(self.settings.index, model=self.settings.model)
        mask = chunk_mask(reader.documents, reader.chunk_documents, self.filters)
        self.searcher = Searcher(reader, embedder, embedder_factory=partial(load_embedder, backend=self.settings.backend))
        self.mask = mask

    @property
    def corpus(self) -> Path:
        return self.searcher.index.corpus

    def ask(self, question: str, k: int) -> Answer:
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
