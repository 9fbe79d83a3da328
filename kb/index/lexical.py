"""BM25 over chunks (bm25s for the scoring matrix), with a tokenizer made for regulatory text.

Words are case-folded, stemmed (Snowball English) and stripped of the few Lucene stop words.
References such as "3.2.1", "CP25/14" or "2023/1114" are kept whole as extra tokens as well as
split into their parts, so "Rule 3.2.1" matches that rule and not every rule with a 3 in it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from kb.glossary import phrase_table
from kb.models import Chunk

STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with".split()
)
_WORD = re.compile(r"[^\W_]+")
_REFERENCE = re.compile(r"(?<![\w.])[^\W_]*\d[^\W_]*(?:[./][^\W_]+)+(?![\w]|\.\w)")
# British and American spellings meet before stemming ("licences" must find "licensing").
_IZE_ROOTS = (
    "author|organ|recogn|minim|maxim|priorit|emphas|util|final|real|standard|summar|character|capital|"
    "categor|custom|digit|harmon|legitim|mobil|monet|normal|optim|penal|special|stabil|subsid|symbol|"
    "token|central|decentral|commercial|industrial|liberal|modern|national|privat|rational|regular|"
    "securit|collateral|synchron|item|memor|apolog|critic|global|local|visual|jeopard|scrutin|agon|"
    "sanit|revital|computer|dematerial|immobil|capitalis|equal|incentiv|internal|external|operational"
)
_IZE = re.compile(rf"\b({_IZE_ROOTS})is(e|ed|es|ing|ation|ations|er|ers|able)\b")
_SPELLINGS = {
    "licence": "license", "licences": "licenses", "licenced": "licensed", "defence": "defense",
    "offence": "offense", "offences": "offenses", "behaviour": "behavior", "behaviours": "behaviors",
    "centre": "center", "centres": "centers", "programme": "program", "programmes": "programs",
    "judgement": "judgment", "judgements": "judgments", "favour": "favor", "favourable": "favorable",
    "labour": "labor", "analyse": "analyze", "analysed": "analyzed", "catalogue": "catalog",
    "fulfil": "fulfill", "fulfilment": "fulfillment", "enrol": "enroll", "practise": "practice",
    "cancelled": "canceled", "modelling": "modeling", "counselling": "counseling",
}
_SPELLING = re.compile(r"\b(" + "|".join(_SPELLINGS) + r")\b")
K1, B = 1.2, 0.75  # Lucene defaults; see the eval notes in the README before changing them


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _fold_phrases(words: list[str]) -> list[str]:
    """Known multi-word names become one token ("financial conduct authority" → "fca")."""
    table = phrase_table()
    out: list[str] = []
    i, count = 0, len(words)
    while i < count:
        entries = table.get(words[i])
        if entries:
            for phrase, token in entries:
                if tuple(words[i : i + len(phrase)]) == phrase:
                    out.append(token)
                    i += len(phrase)
                    break
            else:
                out.append(words[i])
                i += 1
        else:
            out.append(words[i])
            i += 1
    return out


_NORMAL_CACHE: dict[str, str] = {}


def _normal_word(word: str) -> str:
    """Spelling-normalised, stemmed form of one case-folded word ("" for a stop word). Cached."""
    cached = _NORMAL_CACHE.get(word)
    if cached is None:
        if word in STOP_WORDS:
            cached = ""
        else:
            spelled = _SPELLING.sub(lambda m: _SPELLINGS[m.group(1)], _IZE.sub(r"\1iz\2", word))
            cached = _stemmer().stemWord(spelled)
        if len(_NORMAL_CACHE) < 2_000_000:
            _NORMAL_CACHE[word] = cached
    return cached


def tokenize(text: str) -> list[str]:
    """Word tokens of one text: folded, spelling-normalised, stemmed, without stop words."""
    folded = text.casefold() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()
    return [token for token in map(_normal_word, _fold_phrases(_WORD.findall(folded))) if token]


def index_tokens(text: str) -> list[str]:
    """What BM25 sees: word tokens, whole references ("3.2.1"), and adjacent-word pairs.

    Pairs ("technic_provis") reward passages that use the question's phrases, not just its words
    (+1.6 points MAP@10 on ObliQA dev, see README).
    """
    folded = text.casefold() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()
    words = tokenize(folded)
    pairs = [f"{a}_{b}" for a, b in zip(words, words[1:])]
    references = [match.group(0).rstrip(".") for match in _REFERENCE.finditer(folded)]
    return words + references + pairs


_QUESTION_WORDS = frozenset(
    "what when where which who whom whose why how do does did is are was were can could should would "
    "shall will may might must has have had tell me please about".split()
)


def content_terms(question: str) -> set[str]:
    """The word tokens of what a question asks about, without its question words."""
    words = " ".join(w for w in _WORD.findall(question) if w.casefold() not in _QUESTION_WORDS)
    return set(tokenize(words))


def tokenize_many(texts: Iterable[str]) -> list[list[str]]:
    return [index_tokens(text) for text in texts]


def lexical_text(chunk: Chunk) -> str:
    """What BM25 indexes for a chunk: its heading path and its text."""
    return "\n".join([*chunk.section, chunk.text])


class LexicalIndex:
    """BM25 scores of every chunk for a query, optionally restricted to a mask of chunks."""

    def __init__(self, model) -> None:
        self._model = model
        self.size = int(model.scores["num_docs"])

    @classmethod
    def build(cls, texts: Sequence[str]) -> "LexicalIndex":
        import bm25s

        model = bm25s.BM25(k1=K1, b=B, method="lucene")
        corpus_tokens = tokenize_many(texts)
        if not any(corpus_tokens):
            corpus_tokens = [tokens or [""] for tokens in corpus_tokens]
        model.index(corpus_tokens, show_progress=False)
        _sort_columns(model.scores)
        return cls(model)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._model.save(str(folder), show_progress=False)
        (folder / "kb-tokenizer.json").write_text(json.dumps({"stemmer": "snowball-english", "references": True,
                                                               "pairs": True}))

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        import bm25s

        return cls(bm25s.BM25.load(str(folder), mmap=True, show_progress=False))

    def check(self) -> None:
        """Raise ValueError unless the matrix is well formed: a flipped bit must be refused when the index
        is opened, not fail every question that meets the damaged column (a few ms at 15k chunks)."""
        scores = self._model.scores
        data, indices, indptr = scores["data"], scores["indices"], scores["indptr"]
        columns = len(indptr) - 1
        if columns < 0 or len(indices) != len(data) or (columns >= 0 and (indptr[0] != 0 or indptr[-1] != len(indices))):
            raise ValueError("the BM25 matrix's arrays do not fit together")
        if len(indptr) > 1 and not (np.diff(indptr) >= 0).all():
            raise ValueError("the BM25 matrix's column pointers are out of order")
        if len(indices) and (indices.min() < 0 or indices.max() >= self.size):
            raise ValueError(f"the BM25 matrix names chunks outside 0..{self.size - 1}")
        if len(data) and not (np.isfinite(data).all() and data.min() >= 0):
            raise ValueError("the BM25 matrix holds scores that are not finite or negative")
        ids = [column for token, column in self._model.vocab_dict.items() if token]  # bm25s adds "" past the last
        if ids and (min(ids) < 0 or max(ids) >= columns):
            raise ValueError("the BM25 vocabulary names columns the matrix does not have")

    def scores(self, query: str, mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every chunk; chunks outside `mask` (boolean) score 0."""
        vocab = self._model.vocab_dict
        ids = [vocab[token] for token in index_tokens(query) if token in vocab]
        if not ids or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        weights = None if mask is None else mask.astype(np.float32)
        return np.asarray(self._model.get_scores(ids, weight_mask=weights), dtype=np.float32)

    def idf(self, terms: Iterable[str]) -> dict[str, float]:
        """Inverse document frequency of word tokens; a term the corpus never uses gets the highest."""
        vocab, indptr = self._model.vocab_dict, self._model.scores["indptr"]
        result = {}
        for term in terms:
            frequency = int(indptr[vocab[term] + 1] - indptr[vocab[term]]) if term in vocab else 0
            result[term] = float(np.log(1 + (self.size - frequency + 0.5) / (frequency + 0.5)))
        return result

    def chunks_with(self, query: str) -> np.ndarray:
        """Ids of the chunks that hold every index token of `query` ("CP25/42", "covered stablecoins")."""
        vocab, indptr, indices = self._model.vocab_dict, self._model.scores["indptr"], self._model.scores["indices"]
        tokens = [t for t in index_tokens(query) if "_" not in t]
        if not tokens or any(t not in vocab for t in tokens):
            return np.zeros(0, dtype=np.int64)
        found = None
        for token in tokens:
            holders = indices[indptr[vocab[token]]:indptr[vocab[token] + 1]]
            found = holders if found is None else np.intersect1d(found, holders, assume_unique=True)
        return np.asarray(found, dtype=np.int64)

    def coverage(self, terms: Iterable[str], ids: np.ndarray) -> np.ndarray:
        """For each chunk in `ids`: the idf-weighted share of `terms` it contains (0..1).

        Read off the BM25 matrix (which chunks hold each term), so no chunk text is touched.
        """
        weights = self.idf(terms)
        total = sum(weights.values())
        result = np.zeros(len(ids), dtype=np.float32)
        if not total or not len(ids):
            return result
        vocab, indptr, indices = self._model.vocab_dict, self._model.scores["indptr"], self._model.scores["indices"]
        for term, weight in weights.items():
            if term in vocab:
                holders = indices[indptr[vocab[term]]:indptr[vocab[term] + 1]]  # sorted: see _sort_columns
                found = np.searchsorted(holders, ids)
                inside = found < len(holders)
                result[inside] += weight * (holders[found[inside]] == ids[inside])
        return result / total

    def top(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, scores) of the best `k` chunks with a positive score, best first."""
        scores = self.scores(query, mask)
        return top_k(scores, k)


def _sort_columns(scores: dict) -> None:
    """Chunk ids within each term's column in ascending order, so membership is a binary search."""
    indices, indptr = scores["indices"], scores["indptr"]
    if len(indices) < 2:
        return
    descending = np.flatnonzero(np.diff(indices) <= 0)
    column_starts = set((indptr[1:-1] - 1).tolist())
    if all(position in column_starts for position in descending.tolist()):
        return
    for column in range(len(indptr) - 1):
        start, end = indptr[column], indptr[column + 1]
        order = np.argsort(indices[start:end], kind="stable")
        indices[start:end] = indices[start:end][order]
        scores["data"][start:end] = scores["data"][start:end][order]


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the `k` largest positive scores, best first (ties: lower index first)."""
    positive = np.flatnonzero(scores > 0)
    if positive.size > k:
        part = np.argpartition(-scores[positive], k - 1)[:k]
        positive = positive[part]
    order = np.lexsort((positive, -scores[positive]))
    ids = positive[order]
    return ids.astype(np.int64), scores[ids]
