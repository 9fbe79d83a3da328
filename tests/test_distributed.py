"""`kb index --ray`: embedding on a Ray cluster gives the index a local build gives.

CI-sized: one local Ray instance (2 CPUs) for the module, the hash model, a few hundred texts.
The check with the real model runs only where the bundled model and its ONNX export are available.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from kb.testing import HashEmbedder
from kb.errors import ModelError

from conftest import FAKE_MODEL, write

# Ray Data's own DataContext sets deprecated fields of itself; nothing kb can act on.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data")


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    import logging

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False,
             ignore_reinit_error=True)
    yield ray
    ray.shutdown()


def varied_texts(count: int) -> list[str]:
    """Short and long, repeated and unique, punctuation-only and non-ASCII: the order must survive all."""
    words = ["widget", "licence", "Authority", "gateway", "fee", "sprocket", "Rule", "1.1", "Examplia", "crédit"]
    texts = []
    for i in range(count):
        length = (i * 7) % 23
        texts.append(" ".join(words[(i + j * 3) % len(words)] for j in range(length)) + f" item {i}")
    texts[5] = "?!"
    texts[17] = "widget"  # a duplicate of nothing else, and very short
    texts[18] = texts[19] = "the same text twice"
    texts[40] = "Zürich — Genève, 2031."
    return texts


def test_ray_embedder_returns_the_local_vectors_in_input_order(ray_session):
    from kb.distributed import RayEmbedder

    texts = varied_texts(301)
    embedder = RayEmbedder(FAKE_MODEL, batch_size=37, concurrency=2)  # 301 = 8 * 37 + 5
    done = []
    vectors = embedder.embed(texts, batch_size=10, progress=done.append)

    assert vectors.dtype == np.float32
    assert vectors.shape == (301, 64)
    np.testing.assert_array_equal(vectors, HashEmbedder(64).embed(texts))
    assert sum(done) == 301 and len(done) > 1  # progress arrives as batches finish, not once
    assert embedder.dimension == 64 and embedder.tokenizer.count(["a b."]) == [3]
    assert embedder.embed([]).shape == (0, 64)


def test_dimension_and_tokenizer_do_not_start_ray(monkeypatch):
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    from kb.distributed import RayEmbedder

    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("Ray was started"))
    embedder = RayEmbedder("hash:48")
    assert embedder.dimension == 48
    assert embedder.tokenizer.count(["Rule 1.1 applies."]) == [6]


def add_sprocket_rulebook(corpus: Path) -> Path:
    """The shared fixture corpus plus a long rulebook, so the Ray build spans many batches."""
    sections = "\n\n".join(f"## Rule {n}\n\nA sprocket firm must keep record type {n} for {n + 2} years, "
                           f"and report breaches of rule {n} to the Sprocket Board within {n * 3} days."
                           for n in range(1, 40))
    write(corpus / "sprockets.md", f"# Sprocket rulebook\n\n{sections}\n")
    return corpus


def test_build_with_ray_matches_a_local_build(ray_session, fixture_corpus, tmp_path):
    from kb.build import build_index
    from kb.config import Settings
    from kb.distributed import ray_embedder_factory
    from kb.index import IndexReader

    corpus = add_sprocket_rulebook(fixture_corpus)
    local = Settings(corpus=corpus, index=tmp_path / "local", model=FAKE_MODEL, chunk_tokens=40, overlap_tokens=8)
    distributed = Settings(corpus=corpus, index=tmp_path / "ray", model=FAKE_MODEL, chunk_tokens=40, overlap_tokens=8)

    build_index(local)
    report = build_index(distributed, embedder_factory=ray_embedder_factory())

    one, other = IndexReader.open(local.index), IndexReader.open(distributed.index)
    assert report.embedded == other.chunk_count == one.chunk_count > 40
    assert [c.text for c in other.chunks(range(other.chunk_count))] == [c.text for c in one.chunks(range(one.chunk_count))]
    np.testing.assert_array_equal(other.dense.vectors(), one.dense.vectors())
    assert other.manifest.model == one.manifest.model


def test_missing_ray_is_a_clear_model_error(monkeypatch):
    from kb import distributed

    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setitem(sys.modules, "ray.data", None)
    with pytest.raises(ModelError) as error:
        distributed.ray_embedder_factory()
    assert error.value.message == "Ray is not installed."
    assert "pip install 'kb[ray]'" in error.value.hint
    with pytest.raises(ModelError, match="Ray is not installed"):
        distributed.RayEmbedder(FAKE_MODEL)


def test_unknown_model_fails_before_any_cluster_work(monkeypatch, tmp_path):
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    from kb.distributed import RayEmbedder

    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("Ray was started"))
    with pytest.raises(ModelError, match="neither the bundled"):
        RayEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(ModelError, match="Unknown backend"):
        RayEmbedder(FAKE_MODEL, "cuda")


def test_unreachable_ray_address_fails_fast_with_a_hint(monkeypatch):
    import socket

    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    from kb.distributed import connect

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("ray.init would retry for minutes"))
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{port}")
    with pytest.raises(ModelError, match=f"Cannot reach the Ray cluster at 127.0.0.1:{port}") as error:
        connect()
    assert "RAY_ADDRESS" in error.value.hint


def test_worker_failure_is_reported_as_the_workers_own_error():
    from kb.distributed import _worker_error

    wrapped = RuntimeError(
        "The actor died because of an error raised in its creation task, ray::MapWorker(...)\n"
        '  File "/work/main/kb/embed.py", line 163, in __init__\n'
        "    raise ModelError(f\"Cannot load the model {name!r}: {exc}\") from None\n"
        "kb.errors.ModelError: Cannot load the model '/models/x': no weights\n"
    )
    error = _worker_error("/models/x", wrapped)
    assert isinstance(error, ModelError)
    assert error.message == "Embedding with '/models/x' on the Ray workers failed: Cannot load the model '/models/x': no weights"
    assert "every ray node" in error.hint.casefold()


@pytest.mark.slow
def test_real_model_on_ray_matches_the_local_model(ray_session):
    """ONNX batches pad differently on the workers, so equal up to float noise, not bit for bit."""
    from kb.embed import load_embedder, resolve_model_path

    try:
        resolve_model_path("all-MiniLM-L6-v2")
    except ModelError:
        pytest.skip("the bundled model is not installed")
    from kb.distributed import RayEmbedder

    texts = varied_texts(90)
    # The local model first: it makes the ONNX export once, so the two workers do not race to.
    local = load_embedder("all-MiniLM-L6-v2", "onnx").embed(texts, batch_size=32)
    remote = RayEmbedder("all-MiniLM-L6-v2", "onnx", batch_size=32, concurrency=2).embed(texts, batch_size=16)
    assert remote.shape == local.shape == (90, 384)
    np.testing.assert_allclose(remote, local, atol=1e-5)
    assert float((remote * local).sum(axis=1).min()) > 0.99999


def test_kb_index_dash_dash_ray_builds_an_index_that_answers(ray_session, cli_env):
    from typer.testing import CliRunner

    from kb.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["index", "--ray", "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert '"embedded"' in result.output
    assert ray_session.is_initialized()  # a session the caller started is left running
    answer = runner.invoke(app, ["ask", "What is the application fee for small firms?"], env=cli_env)
    assert answer.exit_code == 0 and "500 credits" in answer.output
