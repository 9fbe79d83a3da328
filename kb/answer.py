"""Extractive answers: the part of a top passage that holds what the question asks for, or an honest no.

    question → kb.question.analyse: answer type (date, duration, amount, who, ...), focus terms, place
             → the top ANSWER_PASSAGES passages (whatever --top-k shows, so the answer never depends on it)
             → candidate units (kb.units: sentences, list items with their lead-in, whole lists)
             → typed spans (kb.spans): a typed question is answered only by a unit holding one
             → score: focus coverage, meaning (cosine), retrieval rank, what the date is of, precision
             → answer, or "not in the corpus" when no unit holds the asked-for type together with the
               question's focus, or only another jurisdiction's texts answer.

Weights and thresholds were set on the odd-numbered half of ../shared/data/regqa and checked on the
even half (README, "Answer quality"); `AnswerSettings` switches each part off for the ablation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from kb.abbreviations import defined_abbreviations, expand
from kb.glossary import TERMS
from kb.index.lexical import tokenize
from kb.models import Answer, AnswerSpan, Chunk, DatedStatement, DocumentMeta, Hit
from kb.paths import corpus_file
from kb.places import PLACES, canonical_place, named_places, places_fit
from kb.question import DATE_TYPES, AnswerType, Event, Question, analyse, seems_english
from kb.search import Searcher, clean_question
from kb.spans import SpanKind, TypedSpan, find_spans
from kb.text import collapse_whitespace, split_sentences
from kb.units import Unit, starts_with_item, units_of

ANSWER_PASSAGES = 10  # candidate answers come from this many top passages, whatever --top-k is
# The best units by the cheap signals are embedded and scored in full, each cut to its first
# EMBEDDED_CHARS characters: embedding is most of an answer's time (README, "Answer quality").
EMBEDDED_CANDIDATES = 10
LIST_CONTINUATIONS = 3  # passages read beyond the searched ones because a list runs on into them
EMBEDDED_CHARS = 300
WEIGHTS = {"cosine": 0.5, "focus": 0.68, "rank": 0.8, "event": 0.2, "unsure": 0.1, "precision": 0.15, "shape": 0.35,
           "length": 0.15, "anchor": 0.4, "phrase": 0.33, "main": 0.3,
           "contrary": 0.3, "subject": 0.15, "heading": 0.1}
MAIN_CLAUSE_WEIGHT = 2.0  # focus terms of the clause that asks, against those of a condition before it
# Answerable when the best unit fits the question (kb.answer._fits) and scores at least this.
ANSWERABLE_AT = 1.45
MIN_FOCUS = 0.2  # share (idf-weighted) of the question's focus a typed answer must mention, with its context
MIN_FOCUS_UNTYPED = 0.15  # ... and any other answer
MIN_COSINE = 0.2  # closeness in meaning below which a unit is about something else (short date lines aside)
MIN_COSINE_UNTYPED = 0.33  # ... for questions without a type, which nothing else holds to the topic
DISAGREEMENT_MARGIN = 0.3
AGREEMENT_MARGIN = 0.15  # a primary source stating the same value this close behind is cited instead
# A unit of the asked-for jurisdiction this far below another jurisdiction's best is not its answer.
ELSEWHERE_MARGIN = 0.5  # another source's dated statement this close to the best one is shown too
SAME_STATEMENT_COSINE = 0.7  # ... if it says the same thing (cosine between the two statements)
# Law and regulators' own publications, over news, speeches and commentary when both answer.
PRIMARY_TYPES = {"law", "regulation", "policy statement", "consultation", "guidance", "rule", "directive", "statute",
                 "order", "rulebook", "standard", "decision", "bulletin", "notice", "letter"}


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    """Each part of the answerer, switchable for the ablation in scripts/eval_answers.py."""

    question_types: bool = True  # analyse the question's type; off: every question is untyped
    typed_spans: bool = True  # a typed question needs a unit with a span of its type
    units: bool = True  # list items with their lead-ins, whole lists, fields; off: plain sentences
    focus: bool = True  # coverage of the question's focus terms
    cosine: bool = True  # closeness in meaning (the embedder)
    events: bool = True  # a date question's event (start, end, publication) against the sentence's
    jurisdiction: bool = True  # decline when only other jurisdictions' texts answer
    passages: int = ANSWER_PASSAGES


@dataclass(frozen=True, slots=True)
class Candidate:
    """One scored unit."""

    unit: Unit
    text: str  # what the answer line shows: lead-in and span
    spans: tuple[TypedSpan, ...]  # typed spans of the asked-for kinds, offsets within `text`
    focus: float  # idf-weighted share of the question's focus terms in the unit and its context
    prior: float  # retrieval: 1 for the top passage, falling with rank
    event: float  # +1 the date is of the asked-for event, -1 of another, 0 unknown
    shape: float  # fits the question's form: a list for "which activities", "means" for "what is"
    terms: frozenset[str] = frozenset()  # the unit's word tokens (synonyms folded)
    primary: bool = False  # from a law or a regulator's own publication (not news or commentary)
    anchor: float = 0.0  # share of the references and quoted terms of the question the unit (or its document) names
    phrase: float = 0.0  # share of the question's word pairs the unit has ("obliged entities")
    main: float = 0.0  # coverage of the clause that asks, when a condition comes first ("..., whose recommendation?")
    heading: float = 0.0  # list questions: the focus a list's lead-in states (what the list is of)
    contrary: bool = False  # says the opposite qualifier of the question's ("closed products" for "open products")
    subject: bool = True  # names what a date question asks the date of ("gateway"), in the unit or its headings
    dates: tuple[str, ...] = ()  # normalised dates in the span (date questions)
    cosine: float = 0.0
    score: float = 0.0

    @property
    def typed(self) -> bool:
        return bool(self.spans)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the answerer found: the analysed question, the passages read, and every scored candidate."""

    question: Question
    hits: tuple[Hit, ...]
    candidates: tuple[Candidate, ...]  # best first
    vectors: np.ndarray | None = None  # embedding of each of the first len(vectors) candidates
    missing_anchors: dict[str, frozenset[str]] | None = None  # doc_id → the question's anchors it never names
    neighbours: dict[int, tuple[Chunk | None, Chunk | None]] | None = None  # of each passage read
    named_in: dict[str, frozenset[str]] | None = None  # each proper name of the question → doc_ids that use it

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def answer_question(searcher: Searcher, question: str, k: int = 5, *, mask: np.ndarray | None = None,
                    settings: AnswerSettings = AnswerSettings()) -> Answer:
    """Answer a question from the index; `k` passages are shown (the answer may cite one beyond them)."""
    evidence = gather_evidence(searcher, question, k, mask=mask, settings=settings)
    return decide(evidence, k, settings)


def gather_evidence(searcher: Searcher, question: str, k: int = 5, *, mask: np.ndarray | None = None,
                    settings: AnswerSettings = AnswerSettings()) -> Evidence:
    text = clean_question(question)
    analysis = analyse(text) if settings.question_types else replace(analyse(text), type=AnswerType.OTHER)
    hits = searcher.search(text, max(k, settings.passages), mask=mask)
    read = hits[:settings.passages]
    neighbours = neighbour_chunks(searcher, read) if settings.units else {}
    # A passage read beyond the search → the rank its prior counts as: a list's rest ranks as its start.
    continued: dict[int, int] = {}
    if settings.units and len(hits) == len(read):  # (with -k beyond the passages read, ranks stay as searched)
        more = _list_continuations(read, neighbours)
        if more:
            continued = {len(read) + i: source for i, (source, _) in enumerate(more)}
            hits = read = [*hits, *(hit for _, hit in more)]
        if more:
            neighbours = neighbour_chunks(searcher, read)
    named_in = _named_in(searcher, analysis)
    candidates = [c for c in _candidates(searcher, analysis, read, settings, neighbours, continued)
                  if _fits(c, analysis, settings)]
    if settings.units and analysis.names and len(hits) == len(read) and not any(
            _source_names(analysis, read[c.unit.passage].chunk, named_in) for c in candidates):
        named = _named_passages(searcher, analysis, text, read, mask)
        if named:
            continued |= {len(read) + i: NAMED_RANK + i for i in range(len(named))}
            hits = read = [*read, *(replace(hit, rank=len(read) + i + 1) for i, hit in enumerate(named))]
            neighbours = neighbour_chunks(searcher, read)
            candidates = [c for c in _candidates(searcher, analysis, read, settings, neighbours, continued)
                          if _fits(c, analysis, settings)]
    candidates.sort(key=lambda c: -_cheap_score(c, analysis))
    shortlist = candidates[:EMBEDDED_CANDIDATES]
    vectors = None
    if shortlist:
        vectors = searcher.embedder.embed([_embedded_part(c) for c in shortlist])
        cosines = vectors @ searcher.embed_query(text) if settings.cosine else np.zeros(len(shortlist))
        shortlist = [replace(c, cosine=float(cos)) for c, cos in zip(shortlist, cosines.tolist())]
        shortlist = [replace(c, score=_score(c, analysis)) for c in shortlist]
        order = sorted(range(len(shortlist)), key=lambda i: -shortlist[i].score)
        shortlist = [shortlist[i] for i in order]
        vectors = vectors[order]
    return Evidence(analysis, tuple(hits), tuple(shortlist), vectors, _missing_anchors(searcher, analysis, shortlist, hits),
                    neighbours, named_in)


NAMED_PASSAGES = 5  # passages read from the documents a question names when no unit read from them fits
NAMED_RANK = 2  # ... whose prior counts as ranked from here: found by name, not by the whole question


def _named_passages(searcher: Searcher, question: Question, text: str, read: list[Hit],
                    mask: np.ndarray | None) -> list[Hit]:
    """The best passages, not read yet, of the documents that name what the question names ("DORA"),
    when no unit read from one fits: "When does DORA apply to UK banks?" finds bank passages first,
    and DORA's own date, for the EU, is what the corpus has to say."""
    owner = searcher.index.chunk_documents
    wanted = {int(owner[i]) for _, variant in _name_variants(question)
              for i in searcher.index.lexical.chunks_with(variant).tolist()}
    if not wanted:
        return []
    within = np.isin(owner, np.fromiter(wanted, dtype=np.int64))
    if mask is not None:
        within &= mask
    within[[hit.chunk_id for hit in read]] = False
    return searcher.search(text, NAMED_PASSAGES, mask=within) if within.any() else []


def _named_in(searcher: Searcher, question: Question) -> dict[str, frozenset[str]]:
    owner, documents = searcher.index.chunk_documents, searcher.index.documents
    variants = [v for _, v in _name_variants(question)] + [n for c in question.jurisdictions for n in _place_names(c)]
    return {variant: frozenset(documents[owner[i]].doc_id for i in searcher.index.lexical.chunks_with(variant).tolist())
            for variant in variants}


def _missing_anchors(searcher: Searcher, question: Question, candidates: list[Candidate],
                     hits: list[Hit]) -> dict[str, frozenset[str]]:
    """For each document a candidate comes from: the question's quoted terms it never uses."""
    terms = [a for a in question.anchors if a not in _references(question)]  # references: see decide()
    if not terms:
        return {}
    owner, documents = searcher.index.chunk_documents, searcher.index.documents
    texts = _document_texts(hits)
    holders = {term: {documents[owner[i]].doc_id for i in searcher.index.lexical.chunks_with(term).tolist()}
               for term in terms}
    missing = {}
    for doc in {hits[c.unit.passage].chunk.meta.doc_id for c in candidates}:
        missing[doc] = frozenset(t for t in terms if doc not in holders[t] and _normal(t) not in texts.get(doc, ""))
    return missing


# --- candidates and their signals ------------------------------------------------------------------


def _candidates(searcher: Searcher, question: Question, hits: list[Hit], settings: AnswerSettings,
                neighbours: dict[int, tuple[Chunk | None, Chunk | None]],
                continued: dict[int, int] | None = None) -> list[Candidate]:
    texts = {p: tuple(c.text if c is not None else "" for c in pair) for p, pair in neighbours.items()}
    abbreviations = defined_abbreviations([*(b for b, _ in texts.values()), *(hit.chunk.text for hit in hits)])
    weights = _focus_weights(searcher, question, abbreviations) if settings.focus else {}
    kinds = question.required_spans
    looked_for = _kinds(question)  # with the dates that end a period, for "how long"
    documents = _document_texts(hits)
    pairs = _pairs(tokenize(question.text))
    main_weights = {t: w for t, w in weights.items() if t in _canonical(list(question.main_focus))} \
        if question.main_focus != question.focus else {}
    # A question is about a document itself when its title states most of the question's focus.
    about = {hit.chunk.meta.doc_id: _coverage(weights, _words(hit.chunk.meta.title), set()) >= ABOUT_DOCUMENT
             for hit in hits}
    candidates = []
    for passage, hit in enumerate(hits):
        chunk = hit.chunk
        context = expand(_words(" ".join((chunk.meta.title, *chunk.section, *_names(chunk.meta)))), abbreviations)
        units = (units_of(passage, chunk.text, *texts.get(passage, ("", ""))) if settings.units else
                 [Unit(passage, s, e) for s, e in split_sentences(chunk.text) if _readable(chunk.text, s, e)])
        previous = ""
        for unit in units:
            text = _clean_marker(unit.text(chunk.text))
            tokens = tokenize(text)
            words = expand(_canonical(tokens), abbreviations)
            spans: tuple[TypedSpan, ...] = ()
            if kinds:
                spans = tuple(s for s in find_spans(text, looked_for, published=chunk.meta.date,
                                                    jurisdiction=chunk.meta.jurisdiction)
                              if _answers(s, question) and (s.kind in kinds or _ends_period(text, s)))
            # (a publisher's question too: the document's own date line names who published it)
            mentions = _dates(text, chunk) if question.type in DATE_TYPES or question.event is Event.PUBLISH else []
            dates = tuple(label for label, _ in mentions)
            # The sentence before is context too: "three of those fronts: ..." follows what the fronts are.
            nearby = context | (_words(previous) if unit.kind == "sentence" else set())
            if unit.kind == "sentence":
                previous = text
            focus = _coverage(weights, words, nearby)
            if unit.lead:  # what the item adds to its lead-in: "(D) ... Federal qualified issuer, the Comptroller"
                lead_words = expand(_words(unit.lead), abbreviations)
                rest = {t: w for t, w in weights.items() if t not in lead_words}
                specific = _coverage(rest, words - lead_words, set()) if rest else 1.0
                focus = 0.6 * focus + 0.4 * specific
            candidates.append(Candidate(
                unit=unit, text=text, spans=spans, focus=focus,
                prior=1.0 - (continued or {}).get(passage, passage) / ANSWER_PASSAGES,
                event=_event_agreement(question, text, mentions, chunk.meta.date, about[chunk.meta.doc_id])
                if settings.events else 0.0,
                shape=_shape(question, unit, text, spans), terms=frozenset(words),
                heading=_coverage(weights, expand(_words(unit.lead), abbreviations), set())
                if question.type is AnswerType.LIST and unit.kind == "list" and unit.lead else 0.0,
                primary=(chunk.meta.doc_type or "") in PRIMARY_TYPES,
                anchor=_anchor_share(question, text, documents.get(chunk.meta.doc_id, ""), chunk.meta.title),
                phrase=len(pairs & _pairs(tokens)) / len(pairs) if pairs else 0.0,
                main=_coverage(main_weights, words, set()) if main_weights else 0.0,
                contrary=_contrary_at(question, text, spans, words),
                subject=not question.subject or bool(_words(question.subject) & (words | nearby)),
                dates=dates,
            ))
    if kinds and settings.units:
        candidates += _heading_candidates(searcher, question, hits, weights, abbreviations)
    return candidates


HEADING_PASSAGES = 5  # headings of this many top passages are candidates too
ABOUT_DOCUMENT = 0.4  # share of a question's focus a document's title must state for "when was it published"

# Words a question and a text use for the same thing in regulatory English (stems, as kb.index.lexical makes them).
SYNONYMS = (
    ("rescind", "revok", "withdraw", "withdrew", "repeal", "cancel"),
    ("fine", "penalti", "sanction"),
    ("fee", "charg"),
    ("publish", "issu", "releas"),
    ("start", "commenc", "begin", "began"),
    ("deliv", "given", "gave"),
    ("find", "determin"),
    ("submit", "file", "lodg"),
    ("establish", "creat", "introduc", "impos"),
    ("consid", "count", "regard", "deem"),  # "which firms count as …", "are considered …", "shall be deemed …"
)
# The noun and the verb of one act, where the stemmer leaves them apart: "render a decision on the
# application" answers "how long does the regulator have to decide"; "submission" is "submit".
NOMINALISATIONS = {"decis": "decid", "submiss": "submit", "admiss": "admit", "permiss": "permit", "omiss": "omit",
                   "transmiss": "transmit", "conclus": "conclud", "exclus": "exclud", "inclus": "includ",
                   "suspens": "suspend", "extens": "extend", "notif": "notifi", "registr": "regist",
                   "denial": "deni", "disclosur": "disclos", "revoc": "revok",
                   "acquisit": "acquir", "retent": "retain", "descript": "describ", "redempt": "redeem",
                   "expiri": "expir", "relianc": "reli", "intervent": "interven"}
_CANONICAL = {word: group[0] for group in SYNONYMS for word in group}
_CANONICAL |= {noun: _CANONICAL.get(verb, verb) for noun, verb in NOMINALISATIONS.items()}


def _canonical(tokens: list[str]) -> set[str]:
    return {_CANONICAL.get(token, token) for token in tokens}


def _words(text: str) -> set[str]:
    return _canonical(tokenize(text))


def _pairs(tokens: list[str]) -> set[tuple[str, str]]:
    canonical = [_CANONICAL.get(t, t) for t in tokens]
    return set(zip(canonical, canonical[1:]))


def _normal(text: str) -> str:
    """Case, quotes, spacing and the dots of abbreviations ("S.I." = "SI") left out, for comparing names."""
    text = re.sub(r"(?<=\b[A-Za-z])\.(?=[A-Za-z]\b|\s|$)", "", text)
    return " ".join(re.sub(r"[“”\"‘’']", " ", text).casefold().split())


def _document_texts(hits: list[Hit]) -> dict[str, str]:
    """What the passages read say of each document, title included: where a question's references are."""
    texts: dict[str, list[str]] = {}
    for hit in hits:
        texts.setdefault(hit.chunk.meta.doc_id, [hit.chunk.meta.title, *hit.chunk.section]).append(hit.chunk.text)
    return {doc: _normal(" ".join(parts)) for doc, parts in texts.items()}


def _anchor_share(question: Question, text: str, document: str, title: str = "") -> float:
    """How the unit meets the question's anchors (references, quoted and defined terms), averaged:
    1 when it defines or states the anchor, 1/2 when only its document does; a unit that defines
    some other term ("'medium-sized enterprise' means" for "'small enterprise'") scores 0."""
    anchors = question.anchors + ((question.definiendum,) if question.definiendum else ())
    if not anchors:
        return 0.0
    unit = _normal(text)
    title = _normal(title)
    defined = _defined_terms(text)
    total = 0.0
    for anchor in anchors:
        wanted = _normal(anchor)
        if wanted in title or wanted in defined or (wanted in unit and not defined):
            total += 1.0  # in the title, the anchor names the document: every passage of it is about it
        elif wanted in unit or (wanted in document and not defined):
            total += 0.5
    return total / len(anchors)


_DEFINED_TERM = re.compile(r"[“\"‘']([^”\"’']{2,80})[”\"’'],?\s+(?:\([^)]{0,80}\)\s+)?(?:[^.;:]{0,80}?\s)?"
                           r"(?:means|shall\s+mean|is\s+defined|refers\s+to|has\s+the\s+meaning|includes|shall\s+comprise)\b"
                           r"|\b([a-z][a-z -]{2,60}?)\s+(?:means|shall\s+mean|shall\s+comprise|is\s+defined\s+as)\b"
                           # a quoted term that "is any ..." is being defined: 'a “qualifying cryptoasset” is any cryptoasset which is—'
                           r"|[“\"]([^”\"]{2,80})[”\"],?\s+(?:is|are)\s+(?:a|an|any|every)\b", re.I)


def _defined_terms(text: str) -> set[str]:
    """Terms the unit defines: "“digital asset” means", "inside information shall comprise"."""
    found = set()
    for match in _DEFINED_TERM.finditer(text):
        term = next(group for group in match.groups() if group)
        words = _normal(term).split()
        found.update(" ".join(words[i:]) for i in range(len(words)))  # "the term digital asset" ⊇ "digital asset"
    return found


def _heading_candidates(searcher: Searcher, question: Question, hits: list[Hit], weights: dict[str, float],
                        abbreviations: dict[str, frozenset[str]]) -> list[Candidate]:
    """A heading that holds the asked-for value ("OCC Bulletin 2025-2 | March 7, 2025") answers too.

    Headings are not part of any passage's text, so the heading's own line is looked up in the
    source file (text formats only, and only while the file is as indexed).
    """
    found: list[Candidate] = []
    seen: set[tuple[str, str]] = set()
    lines_of: dict[str, list[str] | None] = {}
    documents = _document_texts(hits)
    for passage, hit in enumerate(hits[:HEADING_PASSAGES]):
        chunk = hit.chunk
        if chunk.stale or chunk.meta.kind not in ("markdown", "text"):
            continue
        for heading in chunk.section:
            key = (chunk.meta.source, heading)
            if key in seen:
                continue
            seen.add(key)
            spans = tuple(s for s in find_spans(heading, question.required_spans, published=chunk.meta.date,
                                                jurisdiction=chunk.meta.jurisdiction) if _answers(s, question))
            if not spans:
                continue
            if chunk.meta.source not in lines_of:
                lines_of[chunk.meta.source] = _source_lines(searcher, chunk.meta.source)
            line = _heading_line(lines_of[chunk.meta.source], heading, chunk.line_start)
            if line is None:
                continue
            mentions = _dates(heading, chunk) if question.type in DATE_TYPES else []
            words = expand(_words(heading), abbreviations)
            context = expand(_words(chunk.meta.title), abbreviations)
            found.append(Candidate(
                unit=Unit(passage, 0, 0, kind="heading", display=heading, line=line), text=heading, spans=spans,
                focus=_coverage(weights, words, context), prior=1.0 - passage / ANSWER_PASSAGES,
                event=_event_agreement(question, heading, mentions, chunk.meta.date,
                                       _coverage(weights, _words(chunk.meta.title), set()) >= ABOUT_DOCUMENT), shape=0.5,
                anchor=_anchor_share(question, heading, documents.get(chunk.meta.doc_id, "")),
                subject=not question.subject or bool(_words(question.subject) & (words | context)),
                dates=tuple(label for label, _ in mentions)))
    return found


def _source_lines(searcher: Searcher, source: str) -> list[str] | None:
    try:
        return corpus_file(searcher.index.corpus, source).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None


_HEADING_MARK = re.compile(r"^\s{0,3}#{1,6}\s+|[*_`]+|\s+#+\s*$")


def _heading_line(lines: list[str] | None, heading: str, before: int) -> int | None:
    """1-based line of the heading above line `before` (the nearest one with that text)."""
    if not lines:
        return None
    wanted = " ".join(heading.split())
    for number in range(min(before, len(lines)), 0, -1):
        if " ".join(_HEADING_MARK.sub("", lines[number - 1]).split()) == wanted:
            return number
    return None


def _names(meta) -> list[str]:
    """The document's jurisdiction and regulator, short and long ("UK", "United Kingdom"): what it is about
    even where its text does not say so."""
    names = []
    for value in (meta.jurisdiction, meta.regulator):
        if value:
            names.append(value)
            names.extend(name for term in TERMS if term.short == value for name in term.names[:1])
    place = canonical_place(meta.jurisdiction)
    names.extend(name for name in PLACES.get(place or "", ()) if len(name) > 3)  # "Hong Kong" for HK
    return names


def _readable(text: str, start: int, end: int) -> bool:
    return 0 < end - start <= 700 and any(c.isalpha() for c in text[start:end])


_BULLET = re.compile(r"^[-*+•]\s+|(?<=\s)[-*+•]\s+(?=\(\w{1,5}\)\s)")


def _clean_marker(text: str) -> str:
    """Markdown bullets ("- (a) ...") are layout, not words of the answer."""
    return _BULLET.sub("", text).strip()


def _embedded_part(candidate: Candidate) -> str:
    """What of a unit the embedder reads: EMBEDDED_CHARS around its first typed span (the part that
    answers), else its start."""
    text = candidate.text
    if len(text) <= EMBEDDED_CHARS or not candidate.spans:
        return text[:EMBEDDED_CHARS]
    span = candidate.spans[0]
    start = max(0, min(span.start - EMBEDDED_CHARS // 2, len(text) - EMBEDDED_CHARS))
    return text[start:start + EMBEDDED_CHARS]


def _list_continuations(hits: list[Hit], neighbours: dict[int, tuple[Chunk | None, Chunk | None]]
                        ) -> list[tuple[int, Hit]]:
    """Passages that go on with a list a read passage was cut in: the last limbs of a definition
    ("(D) with respect to a Federal qualified payment stablecoin issuer, the Comptroller.") are in the
    passage after the lead-in, which the search need not have returned. Read after the others."""
    seen = {hit.chunk_id for hit in hits}
    found: list[tuple[int, Hit]] = []  # (the passage continued, the passage after it)
    for passage, hit in enumerate(hits):
        after = neighbours.get(passage, (None, None))[1]
        if after is None or hit.chunk_id + 1 in seen or not starts_with_item(after.text):
            continue
        seen.add(hit.chunk_id + 1)
        found.append((passage, Hit(after, rank=len(hits) + len(found) + 1, score=hit.score, chunk_id=hit.chunk_id + 1)))
        if len(found) == LIST_CONTINUATIONS:
            break
    return found


def neighbour_chunks(searcher: Searcher, hits: list[Hit]) -> dict[int, tuple[Chunk | None, Chunk | None]]:
    """The chunks just before and after each hit in the same document and section: where a cut
    list's lead-in and its last items are (a heading lies between a chunk and another section's)."""
    owner, count = searcher.index.chunk_documents, len(searcher.index.chunk_documents)
    wanted: dict[int, tuple[int | None, int | None]] = {}
    for passage, hit in enumerate(hits):
        i = hit.chunk_id
        before = i - 1 if i > 0 and owner[i - 1] == owner[i] else None
        after = i + 1 if i + 1 < count and owner[i + 1] == owner[i] else None
        wanted[passage] = (before, after)
    ids = sorted({i for pair in wanted.values() for i in pair if i is not None})
    chunks = dict(zip(ids, searcher.index.chunks(ids)))

    def same_section(i: int | None, passage: int) -> Chunk | None:
        return chunks[i] if i is not None and chunks[i].section == hits[passage].chunk.section else None

    return {passage: (same_section(b, passage), same_section(a, passage)) for passage, (b, a) in wanted.items()}


def _unit_lines(chunk: Chunk, neighbours: tuple[Chunk | None, Chunk | None], unit: Unit) -> tuple[int, int]:
    """Lines of the source the answer shows: the unit, and its lead-in and list items in the passages
    next to it."""
    before, after = neighbours
    first, last = chunk.line_range(unit.start, unit.end)
    if unit.shown_start is not None:
        if unit.shown_start >= 0:
            first = min(first, chunk.line_range(unit.shown_start, unit.shown_start + 1)[0])
        elif before is not None:
            at = max(0, len(before.text) + 1 + unit.shown_start)
            first = min(first, before.line_range(at, at + 1)[0])
    if unit.shown_end is not None:
        if unit.shown_end <= len(chunk.text):
            last = max(last, chunk.line_range(max(unit.shown_end - 1, 0), unit.shown_end)[1])
        elif after is not None:
            at = min(len(after.text), unit.shown_end - len(chunk.text) - 1)
            last = max(last, after.line_range(max(at - 1, 0), at)[1])
    return first, last


# Qualifiers that pick one of two kinds of the same thing (stems, as kb.index.lexical makes them).
OPPOSITES = (("open", "close"), ("initi", "final"), ("first", "last"), ("minimum", "maximum"), ("small", "larg"),
             ("new", "exist"), ("domest", "foreign"), ("feder", "state"), ("retail", "wholesal"),
             ("befor", "after"), ("public", "privat"), ("direct", "indirect"), ("individu", "corpor"))
_OPPOSITE = {a: b for pair in OPPOSITES for a, b in (pair, pair[::-1])}


def _contrary(question: Question, words: set[str]) -> bool:
    """The unit says the opposite qualifier and not the asked one ("closed products" for "open products")."""
    return any(term in _OPPOSITE and _OPPOSITE[term] in words and term not in words for term in question.focus)


def _contrary_at(question: Question, text: str, spans: tuple[TypedSpan, ...], words: set[str]) -> bool:
    """`_contrary` where the unit gives its value: "the 31 July 2024 deadline for closed products (… open
    products …)" gives the date of the closed ones, whatever else the unit mentions."""
    if not spans or not any(term in _OPPOSITE for term in question.focus):
        return _contrary(question, words)  # (False at once when the question has no opposite to say)
    return all(_contrary(question, _words(text[max(0, span.start - 60):span.end + 40])) for span in spans)


def _focus_weights(searcher: Searcher, question: Question, abbreviations: dict[str, frozenset[str]]) -> dict[str, float]:
    """idf of each focus term; the clause that asks weighs more than a condition before it."""
    if not question.focus:
        return {}
    weights = searcher.index.lexical.idf(question.focus)
    weighted: dict[str, float] = {}
    for term, weight in weights.items():
        main = term in question.main_focus and question.main_focus != question.focus
        key = _CANONICAL.get(term, term)
        weighted[key] = max(weighted.get(key, 0.0), weight * (MAIN_CLAUSE_WEIGHT if main else 1.0))
    return weighted


def _coverage(weights: dict[str, float], words: set[str], context: set[str]) -> float:
    """Share of the focus (by idf) the unit states; a term only in its title or headings counts half."""
    total = sum(weights.values())
    if not total:
        return 0.0
    found = sum(w if term in words else 0.5 * w if term in context else 0.0 for term, w in weights.items())
    return found / total


_START_WORDS = re.compile(r"\b(?:appl(?:y|ies|ied)\s+(?:from|as\s+from|to)|shall\s+apply|take[sn]?\s+effect|took\s+effect|"
                          r"effective|in(?:to)?\s+force|commenc\w*|start\w*|begin\w*|began|open(?:s|ed|ing)?|"
                          r"go(?:es)?\s+live|entry\s+into|from\s+\d|as\s+from)\b", re.I)
_END_WORDS = re.compile(r"\b(?:until|till|deadline|no\s+later\s+than|not\s+later\s+than|clos(?:e|es|ed|ing)|ends?\s+(?:on|in|at)|"
                        r"expir\w*|due|last\s+day|(?:by|before)\s+(?:the\s+end|end|\d+|[a-z]+\s+\d+)|within\s+(?:\w+[\s-]+){1,2}"
                        r"(?:working\s+|business\s+|calendar\s+)?(?:hours?|days?|weeks?|months?|years?))\b", re.I)
_PUBLISH_WORDS = re.compile(r"\b(?:publish\w*|issu\w*|releas\w*|announc\w*|launch\w*|dated|today|deliver\w*|"
                            r"made|signed|adopted|enacted|laid)\b", re.I)
_EVENT_WORDS = {Event.START: _START_WORDS, Event.END: _END_WORDS, Event.PUBLISH: _PUBLISH_WORDS}


def _event_agreement(question: Question, text: str, dates: list[tuple[str, bool]], published: str | None,
                     about_document: bool = True) -> float:
    """+1 when the sentence says the asked-for event happens then, -1 when it speaks only of others.

    A publication question is answered best by the document's own date line ("Issued: May 9, 2019").
    """
    if question.event is None:
        return 0.0
    if question.event is Event.PUBLISH and about_document and published and any(
            label[:10] == published[:10] and not relative for label, relative in dates):
        return 3.0  # asked when this document came out, and the line that gives its own date
    if _EVENT_WORDS[question.event].search(text):
        return 1.0
    if question.event is Event.END and _START_WORDS.search(text):
        return 0.5  # "the deadline for applying the Duty": the date it comes into force
    return -1.0 if any(p.search(text) for e, p in _EVENT_WORDS.items() if e is not question.event) else 0.0


_DEFINING = re.compile(r"\bmeans\b|\bshall\s+comprise\b|\bcomprises?\b|\bconsists?\s+of\b|\bis\s+defined\s+as\b|\brefers?\s+to\b|\bshall\s+mean\b|\bhas\s+the\s+meaning\b|"
                       r"\bis\s+(?:a|an|any)\b|\bincludes?\b|\bare\s+(?:called|known\s+as)\b|\bas\s+[\"“]|\(\s*[\"“]", re.I)
_NEGATION = re.compile(r"\b(?:shall\s+not|must\s+not|may\s+not|does\s+not|do\s+not|is\s+not|are\s+not|will\s+not|"
                       r"should\s+not|cannot|can\s+not|not\s+(?:be|bound|required|permitted|allowed|apply|applicable)|"
                       r"no\s+\w+\s+(?:shall|may|is)|neither|nor)\b", re.I)
_MODAL = re.compile(r"\b(?:shall|must|may|should|can|applies|apply|only|unless|except|exempt\w*|required?|"
                    r"prohibit\w*|permit\w*|allow\w*|entitled|bound)\b", re.I)
# What kind of rule a yes/no question asks about, and the words that state such a rule.
_PERMISSION = re.compile(r"\b(?:may|can|permitted|allowed|entitled|authori[sz]ed)\b", re.I)
_OBLIGATION = re.compile(r"\b(?:shall|must|required|obliged|need|has\s+to|have\s+to)\b", re.I)
_MODALITIES = {"can": _PERMISSION, "could": _PERMISSION, "may": _PERMISSION, "might": _PERMISSION,
               "must": _OBLIGATION, "should": _OBLIGATION, "need": _OBLIGATION, "have": _OBLIGATION, "has": _OBLIGATION}
_ASKED_MODALITY = re.compile(r"\b(can|could|may|might|must|should|need|have|has)\b(?=\s+(?:\w+\s+){0,3}?\w+)", re.I)
_CLASSIFYING = re.compile(r"\b(?:count|counts|qualify|qualifies|amount|amounts)\s+(?:as|to)\b|\bbe\s+(?:considered|treated|"
                          r"regarded|deemed|classed|classified)\b|\bconstitute\b", re.I)
_CLASSIFIED = re.compile(r"\b(?:considered|treated\s+as|regarded\s+as|deemed|classed|classified|constitutes?|"
                         r"amounts?\s+to|qualif(?:y|ies)\s+as|counts?\s+as)\b", re.I)
_CONDITION_FIRST = re.compile(r"^\W*(?:\(?\w{1,4}[.)]\s+)?(?:where|if|when|unless|in\s+case|provided\s+that)\b[^,;]{0,200},", re.I)
_QUOTED_NAME = re.compile(r"[“\"][A-Z][^”\"]{3,120}[”\"]")
_OPEN = re.compile(r"(?:[:—–]|\s-|\bmeans)\s*$")
_ADDRESSED = re.compile(r"\b(?:address(?:ed)?|sent|directed|written|aimed)\s+to\b|\bto\s+whom\b|\bintended\s+for\b", re.I)


def _shape(question: Question, unit: Unit, text: str, spans: tuple[TypedSpan, ...] = ()) -> float:
    """How well the unit's form fits the question's: a list for "which activities", "means" for
    "what is", a ruling ("may refuse", "does not") for a yes/no question, a labelled line ("To")
    for "who is it addressed to". A lead-in on its own ("... means—") says nothing yet."""
    kind = question.type
    if _OPEN.search(text) and unit.kind != "list" and not (question.is_typed and spans):
        return -0.5
    if unit.kind == "field" and _field_fits(question, unit.lead):
        return 3.0  # "who is it addressed to" and a "To" line: the document says so in as many words
    if question.plural and unit.kind == "list":
        return 1.0
    if kind is AnswerType.LIST:
        if unit.kind == "list":
            shape = 1.0 if question.count is None or unit.members >= question.count else 0.5
        elif unit.kind != "item" and (_enumerated(text) >= 3 or len(_QUOTED_NAME.findall(text)) >= 2):
            shape = 1.0  # "to operating a CATP, staking, arranging deals and ..."; "the “Joint Statement ...” and the “...”"
        else:
            shape = 0.2 if unit.kind == "item" else 0.0
        if question.count is not None and _mentions_count(text, question.count):
            shape += 0.3
        return shape
    if kind is AnswerType.DEFINITION:
        terms = question.anchors + ((question.definiendum,) if question.definiendum else ())
        if any(_defines(text, term) for term in terms):
            if unit.kind not in ("item", "list"):
                return 1.5
            # Defined in the lead-in ("“X” is any Y which is—"): the whole list over one of its limbs.
            # Defined by an item ("In this chapter: … (3) The term “Board” means ..."): that item over the list.
            in_lead = any(_defines(unit.lead, term) for term in terms)
            return (1.5 if in_lead else 0.6) if unit.kind == "list" else (1.0 if in_lead else 1.5)
        return 0.6 if _DEFINING.search(text) else 0.0
    if kind is AnswerType.YES_NO:
        ruling = _CONDITION_FIRST.sub("", text)  # "Where X is not complete, ... shall set": the rule, not the condition
        if _NEGATION.search(ruling):
            return 1.2
        asked = _ASKED_MODALITY.search(question.text)
        if asked and _MODALITIES[asked.group(1).casefold()].search(ruling):
            return 1.2  # "can the authority ...?" and "the authority may ...": the same kind of rule
        if _CLASSIFYING.search(question.text) and _CLASSIFIED.search(ruling):
            return 1.2  # "would that count as insider dealing?" and "shall be considered to be insider dealing"
        return 0.8 if _MODAL.search(text) else 0.0
    if kind is AnswerType.REFERENCE and _NUMBER_ASKED.search(question.text) and _IDENTIFIER.search(text):
        return 1.5
    if _defines_asked(text, question):
        return 1.0  # "who is the primary regulator of ..." and "“primary regulator” means— ... (D) ..."
    if kind is AnswerType.ORGANISATION and not question.plural:
        if unit.kind == "list":
            return 0.3  # one body is asked for: a list names several, mostly not the one asked about
        if any(_proper(s) for s in spans):
            return 0.8  # a named body ("the Comptroller", "ESMA") over a role ("the institution")
    return 0.5


def _proper(span: TypedSpan) -> bool:
    return span.kind is SpanKind.ORGANISATION and span.text.lstrip("the ").strip()[:1].isupper()


def _defines_asked(text: str, question: Question) -> bool:
    """The unit defines a term of two or more words that the question uses."""
    asked = set(tokenize(question.text))
    return any(len(words) >= 2 and words <= asked for words in (set(tokenize(t)) for t in _defined_terms(text)))


# "What's the reference number" asks for a code: "FIN-2019-G001", "CP25/41", "PS6/21", "No. 2024/1624".
_NUMBER_ASKED = re.compile(r"\b(?:number|reference|ref)\b", re.I)
_IDENTIFIER = re.compile(r"\b(?=[A-Z0-9/-]*\d)(?=[A-Z0-9/-]*[A-Z])[A-Z0-9]+(?:[/-][A-Z0-9]+)+\b|\bNo\.?\s*\d[\d/]*")


def _enumerated(text: str) -> int:
    """How many short items a sentence enumerates in a row ("to operating a CATP, staking, arranging
    deals and dealing as agent"; "three fronts: the G20 roadmap ...; the Digital Pound ...; and ..."):
    a real enumeration, not a sentence that happens to have commas."""
    if ":" in text:
        tail = text.split(":", 1)[1]
        if tail.count(";") >= 2:
            return tail.count(";") + 1
    best = run = 0
    for part in re.split(r",|\band\b|\bor\b", text):
        words = part.split()
        if 0 < len(words) <= 6:
            run += 1
            best = max(best, run)
        else:
            run = 0
    return best


_NUMBER_NAMES = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}


def _mentions_count(text: str, count: int) -> bool:
    return bool(re.search(rf"\b(?:{count}|{_NUMBER_NAMES.get(count, count)})\b", text, re.I))


def _defines(text: str, term: str) -> bool:
    """"“digital asset” means", "inside information shall comprise": the unit defines the term."""
    return _normal(term) in _defined_terms(text)


def _field_fits(question: Question, label: str) -> bool:
    """A labelled line ("To", "Issued:") answers a question about what the label names."""
    if label.casefold() == "to":
        return bool(_ADDRESSED.search(question.text))
    return bool(set(tokenize(label)) & question.focus)


def _dates(text: str, chunk) -> list[tuple[str, bool]]:
    """(normalised label, resolved from a relative expression) of each date in the text."""
    from kb.dates import document_dates

    return [(m.label, m.relative) for m in document_dates(text, chunk.meta.date, chunk.meta.jurisdiction)]


_SPAN_STOP = frozenset("the a an of and or for in on to at by s".split())


def _new_words(text: str, question: Question) -> set[str]:
    """Words of a span that the question does not already say (compared by stem; the full names of
    the regulators it names count as said)."""
    said = set(tokenize(question.text))
    for term in TERMS:
        if term.short in question.regulators:
            said.update(t for name in term.names for t in tokenize(name))
    return set(tokenize(text)) - said


# "How long can firms keep going?" — "until 1 July 2026": a period stated by the date it ends.
_UNTIL = re.compile(r"\b(?:until|till|up\s+to|through|ending\s+on)\s+(?:the\s+end\s+of\s+)?$", re.I)


def _kinds(question: Question) -> frozenset[SpanKind]:
    """The spans to look for: the required ones, and for a duration asked without a unit, the dates
    that end a period."""
    kinds = question.required_spans
    if question.type is AnswerType.DURATION and question.time_unit is None and _HOW_LONG.search(question.text):
        kinds |= {SpanKind.DATE}
    return kinds


_HOW_LONG = re.compile(r"\bhow\s+long\b|\bfor\s+how\s+long\b", re.I)


def _ends_period(text: str, span: TypedSpan) -> bool:
    return span.kind is SpanKind.DATE and bool(_UNTIL.search(text, max(0, span.start - 30), span.start))


def _answers(span: TypedSpan, question: Question) -> bool:
    """A span can be the answer: not an echo of the question ("12%" of "a '12% controller'"), and a
    reference asked for is a numbered one ("CP25/41", "section 15(2)"), not any capitalised name."""
    if not _new_words(span.text, question):
        return False
    if span.kind is SpanKind.DURATION and question.time_unit and question.time_unit not in span.text.casefold():
        return False  # "within how many hours" is not answered by "five working days"
    return span.kind is not SpanKind.REFERENCE or any(c.isdigit() for c in span.text)


def _cheap_score(candidate: Candidate, question: Question) -> float:
    """The score without meaning (cosine): ranks units before the embedder sees any."""
    return _score(candidate, question)


def _score(candidate: Candidate, question: Question) -> float:
    precision = 0.0
    dated = [s.precision for s in candidate.spans if s.kind is SpanKind.DATE]
    if dated and question.type in DATE_TYPES:
        precision = 1.0 - min(dated) / 6  # a day over a month over a year; a duration not at all
    length = max(0.0, len(candidate.text) - 350) / 1000
    if question.type is AnswerType.LIST and candidate.unit.kind == "list":
        length = 0.0  # a list is as long as it is
    unsure = question.event in (Event.START, Event.END) and candidate.event == 0
    w = WEIGHTS
    return (w["cosine"] * candidate.cosine + w["focus"] * candidate.focus + w["rank"] * candidate.prior
            + w["event"] * candidate.event - w["unsure"] * unsure + w["precision"] * precision
            + w["shape"] * candidate.shape - w["length"] * length + w["anchor"] * candidate.anchor
            + w["phrase"] * candidate.phrase + w["main"] * candidate.main - w["contrary"] * candidate.contrary
            - w["subject"] * (not candidate.subject)  # "when does the gateway open?": not a consultation's opening
            + w["heading"] * candidate.heading)  # "which businesses count as obliged entities": a list of them


# --- the decision --------------------------------------------------------------------------------


def decide(evidence: Evidence, k: int, settings: AnswerSettings = AnswerSettings(), *,
           threshold: float = ANSWERABLE_AT) -> Answer:
    """The answer from the evidence, or "not in the corpus"; `threshold` for calibration only."""
    question, hits = evidence.question, evidence.hits
    shown = hits[:k]
    eligible = list(evidence.candidates)  # gather_evidence kept only the units that fit the question
    best = eligible[0] if eligible else None
    if best is not None:
        # The answer must be about what the question names: its quoted terms (somewhere in the
        # document), its references ("CP25/15": in the unit or its title, not a passing mention),
        # and one of its proper names ("DORA", "Hong Kong": anywhere in the document or its metadata).
        about = [c for c in eligible if not _unnamed(c, question, evidence)]
        if not about:
            missing = sorted(_unnamed(best, question, evidence))
            return _no_answer(evidence, shown, _unnamed_note(question, missing), best)
        eligible = about
        best = eligible[0]
    if best is not None and settings.jurisdiction and question.jurisdictions:
        local = [c for c in eligible if _jurisdiction_fits(question, hits[c.unit.passage], evidence.named_in or {})]
        if not local or _confidence(local[0], question) < max(threshold, best.score - ELSEWHERE_MARGIN):
            elsewhere = best if _confidence(best, question) >= threshold else None
            return _no_answer(evidence, shown, _elsewhere_note(question, hits, elsewhere))
        best = local[0]
    if best is not None and not best.primary:
        best = _primary_that_agrees(best, eligible)
    if best is None or _confidence(best, question) < threshold or not _on_topic(best, question, settings):
        return _no_answer(evidence, shown, None, best)
    cited = hits[best.unit.passage]
    passages = tuple(shown) if cited.rank <= k else (*shown, cited)
    statements = disagreeing_dates(evidence, best) if question.type in DATE_TYPES else ()
    for statement in statements:
        if all(p.rank != statement.citation for p in passages):
            passages = (*passages, hits[statement.citation - 1])
    notes = (f"Warning: the source of [{cited.rank}] no longer matches the index ({cited.chunk.stale}); "
             "check it before quoting.",) if cited.chunk.stale else ()
    text, span = best.text, _answer_span(best, question)
    if question.type in DATE_TYPES:
        text, span = _with_resolved_date(best, hits, text, span)
    return Answer(
        question=question.text,
        text=text,
        answerable=True,
        passages=passages,
        citation=cited.rank,
        highlight=None if best.unit.kind == "heading" else (best.unit.start, best.unit.end),
        lines=(best.unit.line, best.unit.line) if best.unit.kind == "heading" else
        _unit_lines(cited.chunk, (evidence.neighbours or {}).get(best.unit.passage, (None, None)), best.unit),
        confidence=round(_confidence(best, question), 4),
        dates=best.dates,
        notes=notes,
        date_statements=statements,
        span=span,
        answer_type=question.type.value,
    )


def _primary_that_agrees(best: Candidate, eligible: list[Candidate]) -> Candidate:
    """A law's or regulator's own statement of the same value, close behind a news item or a speech,
    is the better citation: "the FCA expects to open the gateway in 2026" over a report of it."""
    values = {_normal(s.text) for s in best.spans} | set(best.dates)
    if not values:
        return best
    for candidate in eligible:
        if best.score - candidate.score > AGREEMENT_MARGIN:
            break
        if candidate.primary and values & ({_normal(s.text) for s in candidate.spans} | set(candidate.dates)):
            return candidate
    return best


def _on_topic(candidate: Candidate, question: Question, settings: AnswerSettings) -> bool:
    """The unit is about what was asked: close in meaning and stating enough of the question's focus.
    ("What is the capital of France?" finds units on capital requirements: cosine 0.1, focus 0.)"""
    anchored = candidate.event >= 3 or candidate.shape >= 1.5 or _value_line(candidate)
    if settings.cosine and not anchored and candidate.cosine < (MIN_COSINE if question.is_typed else MIN_COSINE_UNTYPED):
        return False
    return not settings.focus or candidate.focus >= (MIN_FOCUS if question.is_typed else MIN_FOCUS_UNTYPED)


def _value_line(candidate: Candidate) -> bool:
    """A short line that is mostly the asked-for value ("Issued: May 9, 2019", "FIN-2019-G001", "Given at
    the ... Conference"): a document's own metadata, which the embedder finds far from any question."""
    if not candidate.spans or len(candidate.text) > 120:
        return False
    covered = set()
    for span in candidate.spans:
        covered.update(range(span.start, span.end))
    return len(covered) >= len(candidate.text) / 2


def _defines_something_else(text: str, question: Question) -> bool:
    terms = [_normal(t) for t in (*question.anchors, question.definiendum) if t and not any(c.isdigit() for c in t)]
    defined = _defined_terms(text)
    return bool(terms and defined and not any(t in d or d in t for d in defined for t in terms))


def _names_reference(text: str, reference: str) -> bool:
    """The text cites the reference by its number ("Interpretive Letter 1183" for "IL 1183", "S.I.
    2022/860" for "SI 2022/860"); "CP25/42" does not cite "CP25/15"."""
    numbers = re.findall(r"\d[\w./()-]*\w|\d", _normal(reference))
    return all(re.search(rf"(?<![\d./]){re.escape(n)}(?![\w/]|\.\d)", text) for n in numbers)


def _unnamed(candidate: Candidate, question: Question, evidence: Evidence) -> set[str]:
    """What the question names that the candidate's source does not: quoted terms, references, names."""
    chunk = evidence.hits[candidate.unit.passage].chunk
    missing = {f"“{a}”" for a in (evidence.missing_anchors or {}).get(chunk.meta.doc_id, frozenset())}
    own = _normal(" ".join((candidate.text, chunk.meta.title, *chunk.section)))
    missing |= {f"“{a}”" for a in _references(question) if not _names_reference(own, a)}
    if question.names and not _source_names(question, chunk, evidence.named_in or {}):
        missing.add(" or ".join(question.names))
    elif (governing := _governing_names(question)) and _is_law(chunk.meta) \
            and not _source_names(question, chunk, {}) and not _says_names(set(tokenize(candidate.text)), governing, question):
        # "under MiCA": another law that mentions MiCA answers for itself ("'microenterprise' means …"
        # in DORA defines DORA's term), unless the unit itself speaks of MiCA.
        missing.add(" or ".join(governing))
    elif (match := _ROLE_OF.search(question.text)) and question.names:
        # "Who is the chair of the SEC?": the answer itself must be about the SEC, not a chair elsewhere
        # in a document that mentions the SEC.
        owner = [name for name in question.names if name in (match.group(2) or match.group(3))]
        words = set(tokenize(own))
        if owner and not _says_names(words, owner, question):
            missing.add(" or ".join(owner))
        elif match.group(1) and not set(tokenize(match.group(1))) <= words:
            missing.add(f"“{match.group(1).strip()}”")  # the role itself: a chair, a lead regulator
    return missing


_GIVES = {AnswerType.DATE: "a date", AnswerType.START: "a date", AnswerType.DEADLINE: "a date or a period",
          AnswerType.DURATION: "a period", AnswerType.AMOUNT: "an amount", AnswerType.ORGANISATION: "a body",
          AnswerType.PLACE: "a place", AnswerType.REFERENCE: "a reference"}


def _unnamed_note(question: Question, missing: list[str]) -> str:
    """Why the units that fit were not taken. For a typed question the passages shown may well name
    what it asks about ("FinCEN") without giving the value: the note speaks of those that give one."""
    names = " or ".join(missing)
    if question.type in _GIVES:
        # (a passage may name it in one sentence and give another thing's date in the next)
        return f"Where the passages read give {_GIVES[question.type]}, it is not about {names}."
    return f"The passages that come closest are not about {names}."


_UNDER = re.compile(r"\b(?:under|according\s+to|for\s+the\s+purposes\s+of|as\s+defined\s+(?:in|by))\s+(?:the\s+)?"
                    r"([^?,;]{1,60})", re.I)
_LAW_TYPES = frozenset({"law", "act", "statute", "regulation", "directive", "statutory instrument"})
_LAW_TITLE = re.compile(r"\b(?:Act|Regulations?|Directive|Statute|Law)\b")


def _governing_names(question: Question) -> tuple[str, ...]:
    """The names of the law a question asks under ("… under MiCA?", "according to the PSRs")."""
    return tuple(name for match in _UNDER.finditer(question.text) for name in question.names
                 if match.group(1).startswith(name))


def _is_law(meta: DocumentMeta) -> bool:
    return (meta.doc_type or "").casefold() in _LAW_TYPES or bool(_LAW_TITLE.search(meta.title))


def _says_names(words: set[str], names: Sequence[str], question: Question) -> bool:
    """`words` (a text's tokens) hold one of `names` by one of its variants ("SEC", "Securities and
    Exchange Commission"); a one-letter variant proves nothing."""
    return any(set(tokenize(variant)) <= words for name, variant in _name_variants(question)
               if name in names and len(variant) > 1)


# "Who is the chair of the SEC?", "who heads the FCA?": a role held at a named body.
_ROLE_OF = re.compile(r"\bwho\s+(?:is|was|are|were|will\s+be)\s+(?:the\s+)?((?:[\w-]+\s+){1,3}?)(?:of|at|for)\s+(.+)$"
                      r"|\bwho\s+(?:heads|leads|chairs|runs)\s+(.+)$", re.I)


def _source_names(question: Question, chunk: Chunk, named_in: dict[str, frozenset[str]]) -> bool:
    """The answer's document names one of the question's proper names: in its text, title, headings or
    metadata, or as the initials of words of its title ("DTSP" for "Digital Token Service Providers").
    A note that some other regime "begins on 5 May 2027" does not answer "when does the DORA regime begin?"."""
    context = " ".join((chunk.meta.title, *chunk.section, *_names(chunk.meta)))
    words = set(tokenize(context))
    for name, variant in _name_variants(question):
        if chunk.meta.doc_id in named_in.get(variant, frozenset()) or set(tokenize(variant)) <= words:
            return True
        if name.isupper() and 2 <= len(name) <= 8 and _initials_in(name, context):
            return True
    return False


def _name_variants(question: Question) -> list[tuple[str, str]]:
    """(name, a way to find it): each word of a name ("UK MLR": "UK", "MLR"), and a regulator's long
    names ("OCC": "Comptroller of the Currency")."""
    variants = []
    for name in question.names:
        variants += [(name, name)] + [(word, word) for word in name.split() if len(name.split()) > 1]
        for term in TERMS:
            if term.short in name.split() and term.kind == "regulator":
                variants += [(name, long) for long in term.names if not long.startswith("the ")]
    return variants


def _initials_in(acronym: str, text: str) -> bool:
    words = re.findall(r"[A-Za-z][\w'-]*", text)
    letters = acronym.casefold()
    return any("".join(w[0].casefold() for w in words[i:i + len(letters)]) == letters
               for i in range(len(words) - len(letters) + 1))


def _references(question: Question) -> tuple[str, ...]:
    """The question's anchors that are references (they hold a digit: "CP25/42", "section 5902")."""
    return tuple(a for a in question.anchors if any(c.isdigit() for c in a))


def _fits(candidate: Candidate, question: Question, settings: AnswerSettings) -> bool:
    """Whether a unit can answer at all: holds the asked-for type of value, in the form asked for."""
    kind = question.type
    if question.is_typed and settings.typed_spans and not candidate.typed:
        return False
    if not settings.question_types:
        return True
    if kind is AnswerType.LIST and candidate.shape < 0.8:
        return False  # "which activities" wants a list
    if kind is AnswerType.LIST and question.count and not _mentions_count(candidate.text, question.count) and \
            max(candidate.unit.members, _enumerated(candidate.text)) < question.count:
        return False  # "the four outcomes": four of them, or a text that says there are four
    if kind is AnswerType.YES_NO and candidate.shape < 0.8:
        return False  # a yes or no rests on a rule: "shall", "may", "does not"
    if kind is AnswerType.DEFINITION and candidate.shape < 0.6:
        return False  # a definition says "means", "comprise", "is a ...", or names the thing
    if kind is AnswerType.DEFINITION and _defines_something_else(candidate.text, question):
        return False  # "'medium-sized enterprise' means ..." does not define a "small enterprise"
    if settings.events and kind is AnswerType.START and candidate.event < 1:
        return False  # "when does it apply" is not answered by a date of something else
    if settings.events and kind is AnswerType.DEADLINE and candidate.event < 0.5:
        return False
    return not question.required_terms or bool(_canonical(list(question.required_terms)) & candidate.terms)


def _confidence(candidate: Candidate, question: Question) -> float:
    return candidate.score


def _answer_span(candidate: Candidate, question: Question) -> AnswerSpan | None:
    """The span that answers, of those the unit holds: in the item rather than its lead-in, a date
    before a duration and the more precise date, after "until"/"by" for a deadline, and nearest to
    what the question asks about ("rescinds OCC Interpretive Letter 1179" for "which letter did the
    OCC rescind", not the letter it issued)."""
    if not candidate.spans:
        return None
    text = candidate.text
    body = len(candidate.unit.lead) if candidate.unit.lead else 0
    places = [m.start() for m in re.finditer(r"[^\W_]+", text) if set(tokenize(m.group(0))) & question.main_focus]

    def rank(span: TypedSpan) -> tuple:
        dated = span.kind is SpanKind.DATE
        deadline = question.type is AnswerType.DEADLINE and bool(_DEADLINE_BEFORE.search(text, 0, span.start))
        distance = min((abs(p - span.start) for p in places), default=0)
        return (span.start < body, question.type in DATE_TYPES and not dated, span.precision if dated else 0,
                not deadline, span.kind is SpanKind.ORGANISATION and not _proper(span),
                span.kind is SpanKind.ORGANISATION and _asked_about(span.text, question.text), distance, span.start)

    chosen = min(candidate.spans, key=rank)
    return AnswerSpan(chosen.text, chosen.start, chosen.end, chosen.kind.value)


def _asked_about(name: str, question: str) -> bool:
    """The question names it already, in full or by the initials of its words ("DA" in "who regulates
    digital asset dealing?"): what it asks about, not who answers it."""
    if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", question, re.I):
        return True
    if not (name.isupper() and name.isalpha() and 2 <= len(name) <= 5):
        return False
    initials = "".join(word[0] for word in re.findall(r"[^\W\d_]+", question)).upper()
    return name in initials


_DEADLINE_BEFORE = re.compile(r"\b(?:until|till|by|no\s+later\s+than|not\s+later\s+than|before|within)\s+(?:the\s+)?$",
                              re.I)


def _with_resolved_date(best: Candidate, hits: tuple[Hit, ...], text: str,
                        span: AnswerSpan | None) -> tuple[str, AnswerSpan | None]:
    """"... today announced ..." says when only with the document's date: write it in, as the
    document itself gives it where it can ("today [December 04, 2025]")."""
    relative = next((s for s in best.spans if s.kind is SpanKind.DATE and s.relative), None)
    if relative is None or any(s.kind is SpanKind.DATE and not s.relative for s in best.spans):
        return text, span
    meta = hits[best.unit.passage].chunk.meta
    stated = _dateline(hits, meta.doc_id, meta.date) if meta.date else None
    if stated is None:
        return text, span
    insert = f" [{stated}]"  # square brackets: an editor's insertion into a quotation, not the source's words
    resolved = text[:relative.end] + insert + text[relative.end:]
    start = relative.end + 2
    return resolved, AnswerSpan(stated, start, start + len(stated), SpanKind.DATE.value)


def _dateline(hits: tuple[Hit, ...], doc_id: str, published: str) -> str | None:
    """How the document writes its own date on a line of its own ("December 04, 2025", "Published on
    29 March 2021"), or None when no passage read has such a line."""
    from kb.dates import document_dates

    for hit in hits:
        if hit.chunk.meta.doc_id != doc_id:
            continue
        for line in hit.chunk.text.splitlines():
            if len(line.strip()) > 60:
                continue
            for mention in document_dates(line, published, hit.chunk.meta.jurisdiction):
                if not mention.relative and mention.label == published[:10]:
                    return mention.text
    return None


def _jurisdiction_fits(question: Question, hit: Hit, named_in: dict[str, frozenset[str]]) -> bool:
    """The document is of an asked-for jurisdiction. One whose jurisdiction is not known fits when it
    names an asked one; or when its passage names no place at all and the corpus does name the asked
    one elsewhere: a rulebook's passages seldom say where they apply (the corpus is about that place),
    and a passage about somewhere else usually says so."""
    place = canonical_place(hit.chunk.meta.jurisdiction)
    if place is None:
        raw = " ".join((hit.chunk.meta.title, *hit.chunk.section, hit.chunk.text))
        context = _normal(raw)
        names = [name for code in question.jurisdictions for name in _place_names(code)]
        if any(hit.chunk.meta.doc_id in named_in.get(name, frozenset()) or _normal(name) in context for name in names):
            return True
        return any(named_in.get(name) for name in names) and not named_places(raw)
    return places_fit(question.jurisdictions, place)


def _place_names(code: str) -> tuple[str, ...]:
    return tuple(name for name in PLACES.get(code, (code,)) if len(name) > 2) or (code,)


def _elsewhere_note(question: Question, hits: tuple[Hit, ...], best: Candidate | None) -> str | None:
    if best is None:
        return None
    meta = hits[best.unit.passage].chunk.meta
    asked = " or ".join(sorted(question.jurisdictions))
    place = canonical_place(meta.jurisdiction) or " or ".join(sorted(named_places(" ".join(
        (meta.title, *hits[best.unit.passage].chunk.section, hits[best.unit.passage].chunk.text))))) or "another place"
    return f"The corpus has this for {place} ({meta.title}), not for {asked}."


LANGUAGE_NOTE = "kb reads questions in English, and this one seems to be in another language: ask it in English."


def _no_answer(evidence: Evidence, shown: list[Hit], note: str | None, best: Candidate | None = None) -> Answer:
    confidence = round(best.score, 4) if best is not None else 0.0
    notes = (note,) if note else ()
    if not seems_english(evidence.question.text):
        notes += (LANGUAGE_NOTE,)
    return Answer(evidence.question.text, None, False, tuple(shown), confidence=confidence,
                  notes=notes, answer_type=evidence.question.type.value)


def disagreeing_dates(evidence: Evidence, best: Candidate) -> tuple[DatedStatement, ...]:
    """When other documents answer the same "when" with other dates: every source's statement,
    newest publication first (the corpus speaks as of its documents' dates). Empty when they agree."""
    if not best.dates or evidence.vectors is None:
        return ()
    hits = evidence.hits
    answer_document = hits[best.unit.passage].chunk.meta.doc_id
    position = {id(c): i for i, c in enumerate(evidence.candidates[:len(evidence.vectors)])}
    best_vector = evidence.vectors[position[id(best)]]
    per_document: dict[str, Candidate] = {}
    for candidate in evidence.candidates[:len(evidence.vectors)]:
        document = hits[candidate.unit.passage].chunk.meta.doc_id
        if (document == answer_document or document in per_document or not candidate.dates
                or best.score - candidate.score > DISAGREEMENT_MARGIN or candidate.focus < best.focus):
            continue
        if float(evidence.vectors[position[id(candidate)]] @ best_vector) < SAME_STATEMENT_COSINE:
            continue
        per_document[document] = candidate
    others = [c for c in per_document.values() if not set(c.dates) & set(best.dates)]
    if not others:
        return ()
    statements = [DatedStatement(hits[c.unit.passage].rank, c.text, c.dates, hits[c.unit.passage].chunk.meta.date)
                  for c in [best, *others]]
    return tuple(sorted(statements, key=lambda s: s.published or "", reverse=True))


def answer_citations(answer: Answer) -> tuple[int, ...]:
    """The passages the answer is read from: the cited one, and the shown passages of the same file that
    hold the rest of its lines (a list whose last limb is in the next passage: "[1, 2]")."""
    if answer.citation is None:
        return ()
    cited = next((h for h in answer.passages if h.rank == answer.citation), None)
    lines = answer_lines(answer)
    if cited is None or lines is None or cited.chunk.line_end is None or lines[1] <= cited.chunk.line_end:
        return (answer.citation,)
    rest = [h.rank for h in answer.passages if h.rank != answer.citation and h.chunk.meta.source == cited.chunk.meta.source
            and h.chunk.line_start is not None and h.chunk.line_end is not None
            and h.chunk.line_start <= lines[1] and h.chunk.line_end > cited.chunk.line_end]
    return (answer.citation, *sorted(rest))


def answer_lines(answer: Answer) -> tuple[int, int] | None:
    """Line range of the answer sentence itself in its source file."""
    if answer.lines is not None:
        return answer.lines
    if answer.citation is None or answer.highlight is None:
        return None
    hit = next((h for h in answer.passages if h.rank == answer.citation), None)
    return None if hit is None else hit.chunk.line_range(*answer.highlight)
