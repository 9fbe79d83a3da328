"""An index opened for questions: its searcher and the filter mask, set up once for `kb ask` and `kb eval`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from kb.answer import answer_question
from kb.config import Settings
from kb.embed import load_embedder
from kb.filters import Filters, chunk_mask
from kb.index import IndexReader
from kb.models import Answer
from kb.search import Searcher


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
