"""Metadata: normalisation, inference (marked as inferred), filters inside search, and kb sources."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from kb.build import build_index
from kb.cli import app
from kb.testing import HashEmbedder
from kb.errors import BadQuestion
from kb.dates import parse_iso_partial
from kb.filters import Filters, chunk_mask
from kb.index import IndexReader
from kb.metadata import complete, infer_regulator, normalise_type
from kb.models import Document, DocumentMeta
from kb.search import Searcher

from conftest import write

runner = CliRunner()


def document(text, title="Untitled fixture", **fields):
    return Document(meta=DocumentMeta(doc_id="d.md", source="d.md", title=title, kind="markdown", **fields), text=text)


def test_names_and_types_are_normalised():
    meta = complete(document("Text.", jurisdiction="United Kingdom", regulator="Financial Conduct Authority",
                             doc_type="policy-statement")).meta
    assert (meta.jurisdiction, meta.regulator, meta.doc_type) == ("UK", "FCA", "policy statement")
    assert meta.inferred == ()
    assert normalise_type("Consultation Paper") == "consultation" and normalise_type("Regulation") == "law"


def test_missing_fields_are_inferred_and_marked():
    text = ("Fixture notice on widget tokens.\n\nPublished 29 April 2031.\n\n"
            "The Financial Conduct Authority expects widget firms to apply. The FCA will publish rules.\n")
    meta = complete(document(text, title="Fixture consultation on widget tokens")).meta
    assert (meta.regulator, meta.jurisdiction, meta.doc_type, meta.date) == ("FCA", "UK", "consultation", "2031-04-29")
    assert set(meta.inferred) == {"regulator", "jurisdiction", "doc_type", "date"}


def test_inference_stays_silent_when_unsure():
    text = "The FCA and the SEC were both mentioned once.\n"
    meta = complete(document(text, title="Fixture comparison")).meta
    assert meta.regulator is None and meta.jurisdiction is None and meta.date is None and meta.inferred == ()
    assert infer_regulator("Fixture: ESMA statement", "") == "ESMA"


def test_date_periods():
    def period(value):
        found = parse_iso_partial(value, leading=True)
        return found and [found.first.isoformat(), found.last.isoformat()]

    assert period("2025-09") == ["2025-09-01", "2025-09-30"]
    assert period("2024") == ["2024-01-01", "2024-12-31"]
    assert period("2025-09 (estimated)") == ["2025-09-01", "2025-09-30"]
    assert period("undated") is None
    undated = DocumentMeta(doc_id="d.md", source="d.md", title="Undated", date=None)
    assert not Filters.from_options(since="2024").matches(undated)


@pytest.fixture
def regulatory_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    for n in range(4):
        write(corpus / f"uk{n}.md", f"""
            ---
            title: "Fixture UK widget note {n}"
            jurisdiction: United Kingdom
            regulator: Financial Conduct Authority
            type: guidance
            date: 2031-0{n + 1}-15
            ---
            # Widget note {n}

            Widget licence applications are reviewed by the fixture desk, note {n}.

            ## Fees {n}

            Widget licence fees are paid yearly, note {n}.
            """)
    write(corpus / "eu.md", """
        ---
        title: "Fixture EU widget regulation"
        jurisdiction: EU
        regulator: ESMA
        type: regulation
        date: 2030-06-01
        ---
        # Widget regulation

        Widget licence applications go to the competent authority.
        """)
    write(corpus / "undated.md", "# Undated fixture\n\nWidget licence rules without a date.\n")
    from kb.config import Settings

    settings = Settings(corpus=corpus, index=tmp_path / "index", model="hash:64")
    build_index(settings)
    return settings


def test_filters_apply_inside_search_and_still_fill_k(regulatory_corpus):
    reader = IndexReader.open(regulatory_corpus.index)
    searcher = Searcher(reader, HashEmbedder(64))
    mask = chunk_mask(reader.documents, reader.chunk_documents, Filters.from_options(jurisdictions=["UK"]))
    hits = searcher.search("widget licence applications competent authority", k=6, mask=mask)
    assert len(hits) == 6  # the EU document ranks first unfiltered, yet six UK passages come back
    assert all(h.chunk.meta.jurisdiction == "UK" for h in hits)
    unfiltered = searcher.search("widget licence applications competent authority", k=1)
    assert unfiltered[0].chunk.meta.jurisdiction == "EU"


@pytest.mark.parametrize("options, expected", [
    ({"regulators": ["esma"]}, {"eu.md"}),
    ({"types": ["law"]}, {"eu.md"}),
    ({"since": "2031-02", "until": "2031-03"}, {"uk1.md", "uk2.md"}),
    ({"since": "2031"}, {"uk0.md", "uk1.md", "uk2.md", "uk3.md"}),
    ({"jurisdictions": ["United Kingdom"], "until": "2031-01-31"}, {"uk0.md"}),
])
def test_each_filter_keeps_only_matching_documents(regulatory_corpus, options, expected):
    reader = IndexReader.open(regulatory_corpus.index)
    mask = chunk_mask(reader.documents, reader.chunk_documents, Filters.from_options(**options))
    sources = {reader.documents[d].source for d in np.unique(reader.chunk_documents[mask])}
    assert sources == expected


def test_filter_matching_nothing_is_a_clear_error(regulatory_corpus):
    reader = IndexReader.open(regulatory_corpus.index)
    with pytest.raises(BadQuestion, match="No document matches"):
        chunk_mask(reader.documents, reader.chunk_documents, Filters.from_options(jurisdictions=["US"]))
    with pytest.raises(BadQuestion, match="--since needs a date"):
        Filters.from_options(since="last tuesday")


def test_sources_and_ask_filters_through_the_cli(regulatory_corpus):
    env = {"KB_MODEL": "hash:64", "KB_INDEX": str(regulatory_corpus.index), "COLUMNS": "200"}
    data = json.loads(runner.invoke(app, ["sources", "--json", "-j", "UK", "--since", "2031-03"], env=env).output)
    assert [d["source"] for d in data["documents"]] == ["uk3.md", "uk2.md"]
    assert data["documents"][0]["regulator"] == "FCA" and data["documents"][0]["chunks"] == 2
    table = runner.invoke(app, ["sources"], env=env).output
    assert "Fixture EU widget regulation" in table and "undated" in table
    result = runner.invoke(app, ["ask", "widget licence applications", "--json", "-r", "ESMA"], env=env)
    assert {p["source"] for p in json.loads(result.output)["passages"]} == {"eu.md"}
    result = runner.invoke(app, ["ask", "widget", "-j", "Narnia"], env=env)
    assert result.exit_code == 1 and "No document matches the filters" in result.output
