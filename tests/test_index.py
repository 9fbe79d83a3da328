import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from kb.build import build_index
from kb.testing import HashEmbedder
from kb.errors import EmptyCorpus, IndexCorrupt, IndexLocked, IndexMismatch, IndexMissing
from kb.index import FORMAT_VERSION, IndexLayout, IndexReader
from kb.index.manifest import ModelInfo
from kb.search import Searcher
from kb.text import normalise_for_dedup

from conftest import FAKE_MODEL, shared_path, write


class CountingEmbedder(HashEmbedder):
    """The hash embedder, counting the texts it embeds."""

    def __init__(self):
        super().__init__(64)
        self.calls = 0

    def embed(self, texts, **options):
        self.calls += len(texts)
        return super().embed(texts, **options)


class CountingFactory:
    """An embedder factory that remembers how many texts were embedded."""

    def __init__(self):
        self.embedders = []

    def __call__(self, name):
        embedder = CountingEmbedder()
        self.embedders.append(embedder)
        return embedder

    @property
    def calls(self):
        return sum(e.calls for e in self.embedders)


def all_chunks(reader):
    return reader.chunks(range(reader.chunk_count))


def test_build_writes_a_complete_self_describing_index(fake_settings):
    report = build_index(fake_settings)
    assert report.written and report.full_reason == "first build"
    assert report.added == ("alpha.md", "beta.txt", "records.jsonl") and not report.skipped
    reader = IndexReader.open(fake_settings.index, model=FAKE_MODEL)
    manifest = reader.manifest
    assert manifest.format_version == FORMAT_VERSION
    assert manifest.model == ModelInfo(name=FAKE_MODEL, dimension=64)
    assert manifest.chunker.max_tokens == fake_settings.chunk_tokens
    assert manifest.counts.documents == 4 and manifest.counts.chunks == report.chunks
    on_disk = json.loads(reader.parts.manifest.read_text())
    assert on_disk == manifest.to_json() and list(on_disk) == [
        "format_version", "kb_version", "model", "chunker", "assembly", "dense", "lexical", "counts", "corpus",
        "built_at", "build_seconds", "integrity", "follow_symlinks"]
    assert reader.dense.size == reader.lexical.size == reader.chunk_count
    assert {d.doc_id for d in reader.documents} == {"alpha.md", "beta.txt", "R-1", "R-2"}


def test_every_chunk_is_verbatim_in_its_source_at_the_cited_lines(fake_settings):
    build_index(fake_settings)
    reader = IndexReader.open(fake_settings.index)
    assert reader.chunk_chars.tolist() == [len(c.text) for c in all_chunks(reader)]
    for chunk in all_chunks(reader):
        lines = (fake_settings.corpus / chunk.meta.source).read_text(encoding="utf-8").splitlines()
        cited = "\n".join(lines[chunk.line_start - 1:chunk.line_end])
        if chunk.meta.source.endswith(".jsonl"):
            cited = json.loads(cited)["text"]
        assert chunk.text in cited, (chunk.meta.source, chunk.line_start, chunk.text)


def test_repeated_body_is_indexed_once_and_returned_once(tmp_path):
    corpus = tmp_path / "corpus"
    body = ("Fixture news about widget dealers in Examplia today.\n\n"
            "The Widget Authority expects applications to open in 2032.\n\nDealers welcomed it.\n\n")
    write(corpus / "scraped.txt", body + body + "Source link\n")
    write(corpus / "copy.md", "# Copy\n\nThe  widget authority expects applications to open in 2032!\n")
    settings_ = _settings(tmp_path, corpus)
    build_index(settings_)
    reader = IndexReader.open(settings_.index)
    texts = [normalise_for_dedup(c.text) for c in all_chunks(reader)]
    assert len(texts) == len(set(texts))
    assert sum(t.count("open in 2032") for t in texts if "dealers" in t) == 1
    hits = Searcher(reader, HashEmbedder(64)).search("When do widget applications open?", k=5)
    found = [normalise_for_dedup(h.chunk.text) for h in hits]
    assert sum("expects applications to open in 2032" in t for t in found) == 1


def test_an_index_assembled_the_old_way_is_re_read_without_re_embedding(fake_settings):
    """Builds from before per-document repeats lack the "assembly" mark: every file is read again
    (an old build may lack chunks the new rules keep), but no vector is computed twice."""
    first = build_index(fake_settings)
    reader = IndexReader.open(fake_settings.index)
    manifest_path = reader.build / "manifest.json"
    reader.close()
    manifest = json.loads(manifest_path.read_text())
    del manifest["assembly"]
    manifest_path.write_text(json.dumps(manifest))
    factory = CountingFactory()
    report = build_index(fake_settings, embedder_factory=factory)
    assert report.written and report.full_reason.startswith("assembly changed")
    assert factory.calls == 0 and report.reused == first.chunks == report.chunks
    assert not build_index(fake_settings, embedder_factory=factory).written


def test_an_index_whose_metadata_was_inferred_by_older_rules_is_re_read_without_re_embedding(tmp_path, monkeypatch):
    """New inference rules (kb.metadata) reach an existing index at the next kb index, not only after
    --rebuild: a Hansard record an older kb typed "law" becomes a parliamentary debate, no vector recomputed."""
    import kb.metadata

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lords.md").write_text("# Widget tokens: US Regulation\n\nHansard, Lords Chamber.\n\n"
                                     "My Lords, the Government are legislating this year.\n", encoding="utf-8")
    settings_ = _settings(tmp_path, corpus)
    with monkeypatch.context() as old_rules:  # the title's "Regulation" made it a law
        old_rules.setattr(kb.metadata, "infer_type", lambda title, head="": "law")
        first = build_index(settings_)
    reader = IndexReader.open(settings_.index)
    assert [d.doc_type for d in reader.documents] == ["law"]
    manifest_path = reader.build / "manifest.json"
    reader.close()
    manifest = json.loads(manifest_path.read_text())
    assert manifest["assembly"]["metadata"] >= 2
    manifest["assembly"] = {"repeats": "per-document"}  # as the kb before the metadata version wrote it
    manifest_path.write_text(json.dumps(manifest))
    factory = CountingFactory()
    report = build_index(settings_, embedder_factory=factory)
    assert report.written and report.full_reason.startswith("assembly changed")
    assert factory.calls == 0 and report.reused == first.chunks == report.chunks
    assert [d.doc_type for d in IndexReader.open(settings_.index).documents] == ["parliamentary debate"]
    assert not build_index(settings_, embedder_factory=factory).written


def test_the_seed_article_is_not_returned_twice(tmp_path):
    seed = shared_path("seeds", "000_9758b4fa44d2aefc.txt")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "seed.txt").write_bytes(seed.read_bytes())
    settings_ = _settings(tmp_path, corpus)
    build_index(settings_)
    reader = IndexReader.open(settings_.index)
    hits = Searcher(reader, HashEmbedder(64)).search("FCA licensing applications expected to open", k=10)
    texts = [normalise_for_dedup(h.chunk.text) for h in hits]
    assert len(texts) == len(set(texts))
    assert sum("licensing applications expected to open in 2026" in t for t in texts) == 1


def _settings(tmp_path, corpus):
    from kb.config import Settings

    return Settings(corpus=corpus, index=tmp_path / "index", model=FAKE_MODEL)


def test_round_trip_keeps_chunk_metadata(fake_settings):
    build_index(fake_settings)
    reader = IndexReader.open(fake_settings.index)
    fees = [c for c in all_chunks(reader) if "application fee" in c.text]
    assert len(fees) == 1
    chunk = fees[0]
    assert chunk.section == ("Widget licensing", "Fees")
    assert chunk.meta.title == "Fixture: Widget Authority licensing notice"
    assert chunk.meta.date == "2031-03-04" and chunk.meta.doc_type == "guidance"
    record = [c for c in all_chunks(reader) if c.meta.doc_id == "R-2"][0]
    assert (record.meta.source, record.line_start, record.line_end) == ("records.jsonl", 2, 2)


def test_missing_index_and_mismatched_model_are_clear_errors(fake_settings):
    with pytest.raises(IndexMissing):
        IndexReader.open(fake_settings.index)
    build_index(fake_settings)
    with pytest.raises(IndexMismatch, match="built with the model 'hash:64'") as info:
        IndexReader.open(fake_settings.index, model="all-MiniLM-L6-v2")
    assert "kb index --rebuild" in info.value.hint


def test_other_format_version_is_refused(fake_settings):
    build_index(fake_settings)
    build = IndexLayout(fake_settings.index).current_build()
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (build / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="format version"):
        IndexReader.open(fake_settings.index)


def test_doctor_names_the_format_version_it_found(fake_settings):
    from kb.doctor import diagnose

    build_index(fake_settings)
    path = IndexLayout(fake_settings.index).current_build() / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "format_version": 1}))
    check = [c for c in diagnose(fake_settings.index).checks if c.name == "manifest"][0]
    assert not check.ok and check.detail == f"format version 1, this kb reads {FORMAT_VERSION}"
    del manifest["counts"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="malformed: it lacks"):
        IndexReader.open(fake_settings.index)
    check = [c for c in diagnose(fake_settings.index).checks if c.name == "manifest"][0]
    assert not check.ok and "malformed" in check.detail


def test_empty_corpus_is_refused_and_keeps_the_old_index(fake_settings, tmp_path):
    build_index(fake_settings)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(EmptyCorpus):
        build_index(replace(fake_settings, corpus=empty))
    assert IndexReader.open(fake_settings.index).chunk_count > 0


def test_a_failed_build_leaves_the_previous_index_live(fake_settings, monkeypatch):
    build_index(fake_settings)
    before = IndexLayout(fake_settings.index).current_build()
    write(fake_settings.corpus / "new.md", "# New\n\nA new fixture paragraph about sprockets.\n")

    from kb.index import lexical

    def explode(cls, texts):
        raise RuntimeError("simulated crash while writing")

    monkeypatch.setattr(lexical.LexicalIndex, "build", classmethod(explode))
    with pytest.raises(RuntimeError):
        build_index(fake_settings)
    assert IndexLayout(fake_settings.index).current_build() == before
    reader = IndexReader.open(fake_settings.index)
    assert "new.md" not in {d.source for d in reader.documents}
    assert Searcher(reader, HashEmbedder(64)).search("widget licence", k=2)
    monkeypatch.undo()
    report = build_index(fake_settings)  # recovers without manual clean-up
    assert report.added == ("new.md",)
    leftovers = [p.name for p in IndexLayout(fake_settings.index).builds.iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def test_unchanged_corpus_does_not_load_the_model(fake_settings):
    build_index(fake_settings)

    def no_model(name):
        raise AssertionError("the model must not be loaded")

    report = build_index(fake_settings, embedder_factory=no_model)
    assert not report.written and report.unchanged == 3
    assert report.summary_line() == "0 new, 0 updated, 3 unchanged, 0 removed, 0 skipped"


def test_incremental_build_re_embeds_only_changed_chunks_and_matches_a_full_build(fake_settings, tmp_path):
    factory = CountingFactory()
    first = build_index(fake_settings, embedder_factory=factory)
    assert factory.calls == first.chunks
    alpha = fake_settings.corpus / "alpha.md"
    alpha.write_text(alpha.read_text().replace("500 credits", "550 credits"))
    (fake_settings.corpus / "beta.txt").unlink()
    write(fake_settings.corpus / "gamma.md", "# Gamma\n\nGamma fixture text about sprocket audits.\n")
    factory = CountingFactory()
    report = build_index(fake_settings, embedder_factory=factory)
    assert (report.added, report.updated, report.removed) == (("gamma.md",), ("alpha.md",), ("beta.txt",))
    assert factory.calls == 2  # the edited chunk and the new file's chunk
    assert report.embedded == 2 and report.reused == report.chunks - 2

    full = replace(fake_settings, index=tmp_path / "full")
    build_index(full)
    incremental_reader, full_reader = IndexReader.open(fake_settings.index), IndexReader.open(full.index)
    assert [c.text for c in all_chunks(incremental_reader)] == [c.text for c in all_chunks(full_reader)]
    for question in ("application fee", "sprocket audits", "compliance officer", "licence applications 2032"):
        a = Searcher(incremental_reader, HashEmbedder(64)).search(question, k=4)
        b = Searcher(full_reader, HashEmbedder(64)).search(question, k=4)
        assert [(h.chunk.meta.doc_id, h.chunk.text, round(h.score, 6)) for h in a] == \
               [(h.chunk.meta.doc_id, h.chunk.text, round(h.score, 6)) for h in b]


def test_the_builder_closes_the_embedders_it_opened_and_if_missing_leaves_an_index_alone(fake_settings):
    closed = []

    class ClosingEmbedder(CountingEmbedder):
        def close(self):
            closed.append(self.calls)

    report = build_index(fake_settings, embedder_factory=lambda name: ClosingEmbedder())
    assert closed == [report.chunks]
    assert build_index(fake_settings, if_missing=True, embedder_factory=lambda name: ClosingEmbedder()) is None
    assert closed == [report.chunks]


def test_touched_file_is_not_re_embedded(fake_settings):
    build_index(fake_settings)
    alpha = fake_settings.corpus / "alpha.md"
    os.utime(alpha, ns=(alpha.stat().st_atime_ns, alpha.stat().st_mtime_ns + 5_000_000_000))
    factory = CountingFactory()
    report = build_index(fake_settings, embedder_factory=factory)
    assert factory.calls == 0 and report.unchanged == 3


def test_second_concurrent_build_gets_a_clear_error(fake_settings):
    from filelock import FileLock

    fake_settings.index.mkdir(parents=True)
    with FileLock(str(IndexLayout(fake_settings.index).lock_file)):
        with pytest.raises(IndexLocked, match="already building"):
            build_index(fake_settings, wait=0.1)
