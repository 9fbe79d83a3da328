import json
import math

import numpy as np
import pytest

from kb.build import build_index
from kb.index.dense import DenseIndex
from kb.testing import HashEmbedder
from kb.errors import BadQuestion
from kb.index import IndexReader
from kb.index.lexical import B, K1, LexicalIndex, content_terms, index_tokens, tokenize, top_k
from kb.index.dense import choose_kind
from kb.cli.render import hit_json
from kb.search import Fusion, Searcher, clean_question, reciprocal_rank_fusion, shortness


def unit_vectors(count, dimension, seed):
    vectors = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_flat_faiss_search_equals_numpy_brute_force():
    vectors, queries = unit_vectors(500, 32, 1), unit_vectors(20, 32, 2)
    index = DenseIndex.build(vectors, "flat")
    for query in queries:
        ids, scores = index.search(query, 10)
        expected = np.argsort(-(vectors @ query), kind="stable")[:10]
        assert ids.tolist() == expected.tolist()
        assert np.allclose(scores, (vectors @ query)[expected], atol=1e-5)


def test_masked_faiss_search_equals_brute_force_over_the_mask():
    vectors, query = unit_vectors(300, 16, 3), unit_vectors(1, 16, 4)[0]
    mask = np.zeros(300, dtype=bool)
    mask[::7] = True
    ids, _ = DenseIndex.build(vectors, "flat").search(query, 10, mask)
    allowed = np.flatnonzero(mask)
    expected = allowed[np.argsort(-(vectors[allowed] @ query), kind="stable")[:10]]
    assert ids.tolist() == expected.tolist()
    assert len(ids) == 10  # a filter still fills k when enough chunks match


def clustered_vectors(count, dimension, seed):
    """Unit vectors around 50 centres, like real embeddings (uniform noise is the worst case for IVF)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, dimension))
    vectors = centres[rng.integers(0, 50, count)] + 0.6 * rng.standard_normal((count, dimension))
    vectors = vectors.astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["hnsw", "ivf", "ivf-fp16"])
def test_approximate_indexes_reach_the_recall_goal_against_exact_search(kind):
    everything = clustered_vectors(20060, 32, 5)
    vectors, queries = everything[:20000], everything[20000:]
    exact, approximate = DenseIndex.build(vectors, "flat"), DenseIndex.build(vectors, kind)
    found = sum(len(set(exact.search(q, 10)[0]) & set(approximate.search(q, 10)[0])) for q in queries)
    assert found / (10 * len(queries)) >= 0.97  # tuned on its own probe queries to 0.98
    assert approximate.tuning.recall_at_10 >= 0.98


def test_ivf_masked_search_and_vectors_survive_a_reload(tmp_path):
    vectors = clustered_vectors(5000, 16, 9)
    index = DenseIndex.build(vectors, "ivf")
    index.save(tmp_path / "ivf.faiss")
    loaded = DenseIndex.load(tmp_path / "ivf.faiss", "ivf", index.tuning)
    assert np.allclose(loaded.vectors_of(np.array([0, 4999])), vectors[[0, 4999]])
    mask = np.zeros(5000, dtype=bool)
    mask[:100] = True
    ids, _ = loaded.search(vectors[3], 10, mask)
    assert ids[0] == 3 and all(i < 100 for i in ids)


def test_exact_search_up_to_the_flat_limit_then_ivf():
    from kb.index.dense import FLAT_LIMIT

    assert choose_kind(FLAT_LIMIT) == "flat" and choose_kind(FLAT_LIMIT + 1) == "ivf"
    assert choose_kind(10, "hnsw") == "hnsw"


def test_saved_dense_index_loads_the_same(tmp_path):
    vectors = unit_vectors(100, 8, 7)
    DenseIndex.build(vectors, "flat").save(tmp_path / "d.faiss")
    loaded = DenseIndex.load(tmp_path / "d.faiss", "flat")
    assert np.allclose(loaded.vectors(), vectors)


def reference_bm25(texts, query):
    """Lucene BM25 written out plainly (bm25s leaves out the constant (k1 + 1) factor, as here).

    A term repeated in the query counts each time, as in Lucene.
    """
    docs = [index_tokens(text) for text in texts]
    average = sum(map(len, docs)) / len(docs)
    scores = []
    for doc in docs:
        score = 0.0
        for term in index_tokens(query):
            df = sum(term in d for d in docs)
            if not df:
                continue
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            tf = doc.count(term)
            score += idf * tf / (tf + K1 * (1 - B + B * len(doc) / average))
        scores.append(score)
    return np.array(scores)


TEXTS = [
    "The FCA expects licensing applications to open in 2026.",
    "Stablecoin issuers must hold reserve assets.",
    "Licences for stablecoin issuers: the Financial Conduct Authority consults.",
    "Rule 3.2.1 applies to custody of client assets; see also rule 3.2.2.",
    "Custody rules for custodians and custody providers.",
]


@pytest.mark.parametrize("query", ["FCA licences", "stablecoin reserve assets", "Rule 3.2.1", "custody custody rules",
                                   "nothing matches zebra"])
def test_bm25_equals_a_plain_reference_scorer(query):
    index = LexicalIndex.build(TEXTS)
    assert np.allclose(index.scores(query), reference_bm25(TEXTS, query), atol=1e-5)


def test_bm25_mask_and_reload(tmp_path):
    index = LexicalIndex.build(TEXTS)
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    mask = np.array([False, True, True, True, True])
    ids, _ = loaded.top("FCA licences", 5, mask)
    assert ids.tolist() == [2]  # text 0 also matches but is outside the mask


def test_lexical_tokens_fold_names_spelling_and_keep_references():
    assert tokenize("Financial Conduct Authority") == tokenize("FCA")
    assert tokenize("licences authorisation") == tokenize("licenses authorization")
    assert "3.2.1" in index_tokens("see Rule 3.2.1.") and "cp25/14" in index_tokens("CP25/14")
    assert "technic_provis" in index_tokens("the technical provisions")


def test_top_k_orders_by_score_then_id():
    ids, scores = top_k(np.array([0.0, 2.0, 1.0, 2.0, -1.0]), 3)
    assert ids.tolist() == [1, 3, 2] and scores.tolist() == [2.0, 2.0, 1.0]


def reference_rrf(rankings, k=60):
    totals = {}
    for ranking in rankings:
        for position, item in enumerate(ranking):
            totals[item] = totals.get(item, 0) + 1 / (k + position + 1)
    return totals


def test_reciprocal_rank_fusion_equals_a_reference():
    rng = np.random.default_rng(8)
    for _ in range(20):
        rankings = [list(rng.permutation(30)[: rng.integers(1, 30)]) for _ in range(2)]
        fused = reciprocal_rank_fusion(rankings)
        expected = reference_rrf(rankings)
        assert {item: pytest.approx(score) for item, score in fused} == expected
        assert [s for _, s in fused] == sorted((s for _, s in fused), reverse=True)


def test_questions_are_cleaned_or_refused():
    assert clean_question("  When\tdo\x00 licences\n open? ") == "When do licences open?"
    with pytest.raises(BadQuestion, match="empty"):
        clean_question(" ?! ")
    with pytest.raises(BadQuestion, match="too long"):
        clean_question("why " * 5000)


def test_searcher_finds_the_fixture_passages(fake_settings):
    build_index(fake_settings)
    searcher = Searcher(IndexReader.open(fake_settings.index), HashEmbedder(64))
    hits = searcher.search("What is the application fee for small firms?", k=3)
    assert "500 credits" in hits[0].chunk.text
    assert [h.rank for h in hits] == [1, 2, 3]
    assert searcher.search_documents("compliance officer", k=2)[0] == "R-2"
    assert searcher.search("sprocket records", k=1, mode="lexical")[0].chunk.meta.doc_id == "R-1"


def reference_coverage(question, chunk_tokens):
    """Idf-weighted share of the question's content words in each chunk, computed plainly."""
    terms = content_terms(question)
    count = len(chunk_tokens)
    idf = {t: math.log(1 + (count - sum(t in c for c in chunk_tokens) + 0.5) / (sum(t in c for c in chunk_tokens) + 0.5))
           for t in terms}
    total = sum(idf.values())
    return [sum(w for t, w in idf.items() if t in c) / total if total else 0.0 for c in chunk_tokens]


def reference_hybrid(dense, lexical, coverage, groups, k, lengths, weight=0.4, span=2, mask=None):
    """The fused, neighbour-boosted, length-weighted ranking over every chunk (or those in `mask`), computed plainly."""
    allowed = [True] * len(dense) if mask is None else list(mask)
    top = max(lexical) if max(lexical) > 0 else 1.0
    fused = [0.6 * d + 0.4 * (l / top if max(lexical) > 0 else 0.0) + 0.3 * c
             for d, l, c in zip(dense, lexical, coverage)]
    final = []
    for i, score in enumerate(fused):
        boosted = score
        for distance in range(1, span + 1):
            around = [j for j in (i - distance, i + distance)
                      if 0 <= j < len(fused) and groups[j] == groups[i] and allowed[j]]
            if around:
                boosted += weight / distance * max(0.0, max(fused[j] for j in around) - score)
        final.append(boosted - 0.05 * math.log((1 + 300) / (1 + min(lengths[i], 300))))
    order = sorted((i for i in range(len(final)) if allowed[i]), key=lambda i: (-final[i], i))[:k]
    return [(i, final[i]) for i in order]


def test_hybrid_ranking_equals_a_plain_reference(fake_settings):
    from kb.config import Settings
    from conftest import write

    for n in range(12):
        write(fake_settings.corpus / f"extra{n:02}.md",
              f"# Part {n}\n\nWidget rule {n} covers licence fees.\n\nSprocket rule {n} covers audits and records.\n")
    build_index(fake_settings)
    reader = IndexReader.open(fake_settings.index)
    embedder = HashEmbedder(64)
    searcher = Searcher(reader, embedder)
    vectors = reader.dense.vectors()
    files: dict[str, int] = {}  # neighbours must come from the same source file
    groups = np.array([files.setdefault(reader.documents[d].source, len(files)) for d in reader.chunk_documents])
    from kb.index.lexical import lexical_text

    chunks = reader.chunks(range(reader.chunk_count))
    chunk_tokens = [set(index_tokens(lexical_text(c))) for c in chunks]
    lengths = [len(c.text) for c in chunks]
    for question in ("widget licence fees", "sprocket audits and records", "compliance officer", "zebra"):
        dense = (vectors @ embedder.embed([question])[0]).tolist()
        lexical = reader.lexical.scores(question).tolist()
        coverage = reference_coverage(question, chunk_tokens)
        expected = reference_hybrid(dense, lexical, coverage, groups, 8, lengths)
        got = searcher.candidates(question, k=8, depth=reader.chunk_count)
        assert [c.chunk_id for c in got] == [i for i, _ in expected]
        assert [c.score for c in got] == pytest.approx([s for _, s in expected], abs=1e-5)
        # A filter (mask) keeps masked chunks out of the ranking and out of the neighbour boost.
        mask = (groups % 2 == 0)
        lexical = reader.lexical.scores(question, mask).tolist()
        expected = reference_hybrid(dense, lexical, coverage, groups, 8, lengths, mask=mask)
        got = searcher.candidates(question, k=8, depth=reader.chunk_count, mask=mask)
        assert [c.chunk_id for c in got] == [i for i, _ in expected]
        assert [c.score for c in got] == pytest.approx([s for _, s in expected], abs=1e-5)


def test_rules_that_differ_only_in_a_number_are_both_returned(tmp_path):
    from kb.config import Settings
    from conftest import write

    corpus = tmp_path / "corpus"
    write(corpus / "rules.md", "# Rules\n\nA sprocket firm must file its widget return within 30 days of the quarter end.\n\n"
          "## Next\n\nA sprocket firm must file its widget return within 60 days of the quarter end.\n")
    settings = Settings(corpus=corpus, index=tmp_path / "index", model="hash:64")
    build_index(settings)
    hits = Searcher(IndexReader.open(settings.index), HashEmbedder(64)).search("widget return days", k=5)
    assert len(hits) == 2


def test_a_bare_heading_ranks_below_a_rule_it_barely_outscores(tmp_path):
    from kb.config import Settings
    from conftest import write

    rule = ("Sprocket firms keep audit records for six years, in a form the Fixture Board can read, and produce "
            "them within ten days of a request from the Board or from its appointed auditors; records of every "
            "sprocket sale are kept with them.")
    corpus = tmp_path / "corpus"
    write(corpus / "records.jsonl", "\n".join(json.dumps(r) for r in (
        {"id": "H", "text": "Audit records"}, {"id": "X", "text": "Widgets are blue."}, {"id": "R", "text": rule})) + "\n")
    settings = Settings(corpus=corpus, index=tmp_path / "index", model="hash:64")
    build_index(settings)
    reader = IndexReader.open(settings.index)
    plain = Searcher(reader, HashEmbedder(64), fusion=Fusion(length_weight=0.0))
    weighted = Searcher(reader, HashEmbedder(64))
    question = "sprocket audit records"
    assert plain.search_documents(question, k=2) == ["H", "R"]
    assert weighted.search_documents(question, k=2) == ["R", "H"]
    # The prior is applied after the neighbour boost: every score drops by exactly its own shortness.
    before = {c.chunk_id: c.score for c in plain.candidates(question, k=3)}
    after = {c.chunk_id: c.score for c in weighted.candidates(question, k=3)}
    lengths = reader.chunk_chars
    assert after == pytest.approx({i: s - 0.05 * math.log(301 / (1 + min(lengths[i], 300))) for i, s in before.items()})
    assert shortness(np.array([0, 150, 300, 5000])).tolist() == pytest.approx(
        [math.log(301), math.log(301 / 151), 0.0, 0.0])


def test_the_same_text_in_two_documents_is_returned_once_naming_both(tmp_path):
    from kb.config import Settings
    from conftest import write

    corpus = tmp_path / "corpus"
    paragraph = "Sprocket firms must file an annual sprocket return with the Fixture Board."
    write(corpus / "a.md", f"# A\n\n{paragraph}\n")
    write(corpus / "b.md", f"# B\n\n{paragraph.upper()}\n")
    settings = Settings(corpus=corpus, index=tmp_path / "index", model="hash:64")
    report = build_index(settings)
    assert report.duplicates == 0 and report.chunks == 2  # each document keeps its citation
    hits = Searcher(IndexReader.open(settings.index), HashEmbedder(64)).search("annual sprocket return", k=5)
    assert len(hits) == 1
    assert {hits[0].chunk.meta.source, *(c.meta.source for c in hits[0].also_in)} == {"a.md", "b.md"}
    assert hit_json(hits[0])["also_in"][0]["lines"] == [3, 3]


def test_a_passage_inside_another_documents_is_not_its_copy_when_their_numbers_differ(tmp_path):
    from kb.config import Settings
    from conftest import write

    corpus = tmp_path / "corpus"
    write(corpus / "a.txt", "Providers may continue to operate until 1 July 2026.\n")
    write(corpus / "b.txt", "Providers may continue to operate until 1 July 2027.\n")
    write(corpus / "c.txt", "Providers may continue to operate until 1 July.\n")
    settings = Settings(corpus=corpus, index=tmp_path / "index", model="hash:64")
    build_index(settings)
    hits = Searcher(IndexReader.open(settings.index), HashEmbedder(64)).search("until when may providers operate", k=4)
    assert sorted(hit.chunk.meta.source for hit in hits) == ["a.txt", "b.txt", "c.txt"]  # no year hidden under another
    assert all(not hit.also_in for hit in hits)
