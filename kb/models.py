"""Plain, immutable data passed between the steps of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    """What citations, filters and listings need to know about a document."""

    doc_id: str  # the .jsonl record id, else the path relative to the corpus folder
    source: str  # path of the file relative to the corpus folder, with "/" separators
    title: str
    date: str | None = None  # ISO 8601, possibly partial: "2025", "2025-09", "2025-09-10"
    jurisdiction: str | None = None
    regulator: str | None = None
    doc_type: str | None = None
    inferred: tuple[str, ...] = ()  # which of the fields above were inferred from the text
    extra: Mapping[str, Any] = field(default_factory=dict)  # every other front-matter / record field
    kind: str = "text"  # format read: markdown, text, jsonl, pdf, html, docx (html/docx cite sections, not lines)


@dataclass(frozen=True, slots=True)
class FileNote:
    """Something to say about one corpus file: why it was skipped, or a problem reading it."""

    path: str  # relative to the corpus folder, "/"-separated
    message: str


@dataclass(frozen=True, slots=True)
class Document:
    """A readable unit of the corpus: a file, or one record of a .jsonl file."""

    meta: DocumentMeta
    text: str  # the body, exactly as in the source (front matter removed); its format is meta.kind
    first_line: int = 1  # 1-based line of the source file where `text` starts
    record_line: int | None = None  # .jsonl: the line of the record; every chunk cites it
    page_starts: tuple[int, ...] = ()  # paged formats: offset in `text` where each page begins


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable passage: a verbatim slice `text[char_start:char_end]` of its document."""

    meta: DocumentMeta
    text: str
    section: tuple[str, ...]  # heading path, outermost first
    char_start: int
    char_end: int
    line_start: int
    line_end: int
    page_start: int | None = None
    page_end: int | None = None
    ordinal: int = 0  # position of the chunk within its document
    stale: str | None = None  # why its source no longer matches the index ("changed", "vanished", ...)

    def line_range(self, start: int, end: int) -> tuple[int, int]:
        """Lines of the source file that hold `text[start:end]`, e.g. one sentence of the chunk."""
        if self.line_start == self.line_end:  # one line, or a .jsonl record cited by its line
            return self.line_start, self.line_end
        first = self.line_start + self.text.count("\n", 0, start)
        return first, first + self.text.count("\n", start, end)


@dataclass(frozen=True, slots=True)
class Hit:
    """A chunk returned by a search, with how it scored."""

    chunk: Chunk
    rank: int  # 1-based
    score: float  # fused score used for ranking
    dense_score: float | None = None  # cosine similarity to the question
    lexical_score: float | None = None  # BM25 score
    chunk_id: int = -1
    also_in: tuple[Chunk, ...] = ()  # the same text in other documents, returned once (here)


@dataclass(frozen=True, slots=True)
class DatedStatement:
    """What one source says about "when", and when that source was published."""

    citation: int  # rank of the passage it is taken from
    text: str
    dates: tuple[str, ...]  # normalised dates in the sentence (see kb.dates)
    published: str | None


@dataclass(frozen=True, slots=True)
class AnswerSpan:
    """The typed value inside an answer ("17 January 2025", "$100,000 for each day"): `answer[start:end]`."""

    text: str
    start: int
    end: int
    kind: str  # kb.spans.SpanKind: date, duration, amount, organisation, reference, place


@dataclass(frozen=True, slots=True)
class Answer:
    """An extractive answer: a sentence of a cited passage, or an honest no-answer."""

    question: str
    text: str | None  # the answering sentence(s); None when the corpus does not answer
    answerable: bool
    passages: tuple[Hit, ...]
    citation: int | None = None  # rank of the passage the answer is taken from (may be beyond --top-k)
    highlight: tuple[int, int] | None = None  # span of the answer inside that passage's text
    confidence: float = 0.0
    dates: tuple[str, ...] = ()  # dates found in the answer, normalised (see kb.dates)
    notes: tuple[str, ...] = ()  # warnings, e.g. a cited source changed since indexing
    # When sources disagree on a date: every source's statement, newest publication first.
    date_statements: tuple[DatedStatement, ...] = ()
    span: AnswerSpan | None = None  # the asked-for value inside `text`, for typed questions
    lines: tuple[int, int] | None = None  # set when the answer is not inside the passage text (a heading)
    answer_type: str | None = None  # what the question asked for (kb.question.AnswerType)
