"""End to end with the real model on the bundled corpus (about 20 s: the model loads once)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kb.cli import app
from kb.text import normalise_for_dedup

from conftest import REPO

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def real_env(tmp_path_factory):
    index = tmp_path_factory.mktemp("real") / "index"
    env = {"KB_CORPUS": str(REPO / "corpus"), "KB_INDEX": str(index), "KB_MODEL": "all-MiniLM-L6-v2",
           "COLUMNS": "120", "NO_COLOR": "1", "KB_DEBUG": ""}
    result = runner.invoke(app, ["index"], env=env)
    assert result.exit_code == 0, result.output
    return env


def ask(env, question, *extra):
    result = runner.invoke(app, ["ask", question, "--json", *extra], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_fca_licences_question_is_answered_from_the_seed_article(real_env):
    data = ask(real_env, "When do FCA licences open?")
    assert data["passages"][0]["source"] == "uk-crypto-lobby-tech-bridge-2025.md"
    assert data["answerable"] is True
    assert "2026" in data["answer"]
    assert "licensing applications expected to open in 2026" in data["answer"]


def test_no_two_passages_share_text(real_env):
    for question in ("When do FCA licences open?", "What did the lobby groups ask for?", "stablecoin reserve assets"):
        passages = ask(real_env, question, "--top-k", "8")["passages"]
        texts = [normalise_for_dedup(p["text"]) for p in passages]
        assert len(set(texts)) == len(texts)
        for i, a in enumerate(texts):
            for b in texts[i + 1:]:
                assert a not in b and b not in a


def test_cited_passages_are_verbatim_at_the_cited_lines(real_env):
    for question in ("When do FCA licences open?", "Who can issue payment stablecoins in the United States?"):
        for passage in ask(real_env, question, "--top-k", "6")["passages"]:
            lines = (REPO / "corpus" / passage["source"]).read_text(encoding="utf-8").splitlines()
            start, end = passage["lines"]
            assert passage["text"] in "\n".join(lines[start - 1:end])


def test_unrelated_question_is_not_in_the_corpus(real_env):
    data = ask(real_env, "What is the capital of France?")
    assert data["answerable"] is False and data["answer"] is None
    result = runner.invoke(app, ["ask", "What is the capital of France?"], env=real_env)
    assert "No passage in the corpus answers this." in result.output


def test_terminal_answer_cites_file_lines_section_and_date(real_env):
    result = runner.invoke(app, ["ask", "When do FCA licences open?"], env=real_env)
    assert result.exit_code == 0
    assert "uk-crypto-lobby-tech-bridge-2025.md:" in result.output
    assert "§ The Regulatory Landscape, 2025-09" in result.output


def test_onnx_backend_reproduces_the_model():
    import numpy as np

    from kb.embed import OnnxEmbedder, SentenceTransformerEmbedder, load_embedder

    onnx = load_embedder("all-MiniLM-L6-v2", "onnx")
    torch_model = load_embedder("all-MiniLM-L6-v2", "torch")
    assert isinstance(onnx, OnnxEmbedder) and isinstance(torch_model, SentenceTransformerEmbedder)
    texts = ["When do FCA licences open?", "Stablecoin issuers must hold reserve assets.", "A" * 900,
             (REPO / "corpus" / "uk-crypto-lobby-tech-bridge-2025.md").read_text(encoding="utf-8")[:1500]]
    cosines = (onnx.embed(texts, batch_size=2) * torch_model.embed(texts, batch_size=3)).sum(axis=1)
    assert cosines.min() >= 0.9999


def test_timeline_of_the_bundled_corpus_lists_the_fca_licensing_opening_in_2026(real_env):
    result = runner.invoke(app, ["timeline", "--jurisdiction", "UK", "--as-of", "2025-10-01", "--json"], env=real_env)
    assert result.exit_code == 0, result.output
    events = json.loads(result.output)["events"]
    opening = [e for e in events if "licensing applications expected to open in 2026" in e["event"]]
    assert len(opening) == 1
    event = opening[0]
    assert event["date"] == "2026" and event["precision"] == "year" and event["status"] == "upcoming"
    assert event["source"] == "uk-crypto-lobby-tech-bridge-2025.md" and event["lines"] == [48, 49]
    dates = [e["first"] for e in events]
    assert dates == sorted(dates)  # chronological
