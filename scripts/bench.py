#!/usr/bin/env python
"""kb's performance, measured on this machine: every goal as a ratio against a baseline run in the
same process (or the same shell), so the numbers travel between machines.

    .venv/bin/python scripts/bench.py                 # everything, a table per part (about 20 minutes)
    .venv/bin/python scripts/bench.py --parts query   # one part: throughput, query, ray, batch, cold
    .venv/bin/python scripts/bench.py --json > b.json # one JSON object; --render b.json prints its tables

Parts:
  throughput  chunks/s of a full `kb index` vs bare encoding of the same chunk texts with the same
              batch size (the ONNX session kb uses, and sentence-transformers' model.encode), all warm
  query       warm `kb ask` search latency (query embedding, dense + BM25, fusion, neighbour boost,
              chunk loading) at 10k, 100k and 1M chunks, made by replicating real chunk vectors
              with noise; recall@10 of the approximate index; RAM and disk per chunk
  ray         chunks/s of `kb index --ray` on a local Ray instance (one model per core) vs a local
              `kb index` of the same corpus: the basis of the 10M-chunk estimate in the README
  batch       texts/s of kb's embedder at batch sizes 4, 8, 16 and 32 on the same random sample of
              ObliQA passages (the basis of the default batch_size; texts are sorted by length first)
  cold        `kb ask` end to end in a new process vs `python -c` loading the model with
              sentence-transformers and encoding one sentence; `kb --help` and `kb status`
Uses ../shared/data/obliqa/ when present (the ObliQA passages and dev questions), otherwise
generated text; says which.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _obliqa import DATA as OBLIQA, DEFAULT_INDEX  # noqa: E402
from kb.build import build_index, embed_text  # noqa: E402
from kb.config import load_settings  # noqa: E402
from kb.embed import load_embedder, resolve_model_path  # noqa: E402
from kb.index import IndexLayout, IndexReader  # noqa: E402
from kb.index.writer import write_build  # noqa: E402
from kb.search import Searcher  # noqa: E402
from kb.index.store import FileRecord, FileStatus  # noqa: E402

WORDS = ("authority firm licence application capital reserve stablecoin custody client asset rule guidance "
         "regulated activity market abuse disclosure report audit record compliance officer deadline consultation "
         "policy statement approval permission transitional period supervision prudential requirement").split()


def percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def synthetic_markdown(folder: Path, files: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for n in range(files):
        sections = []
        for s in range(4):
            paragraphs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 110))).capitalize() + "."
                          for _ in range(rng.randint(1, 3))]
            sections.append(f"## Section {s + 1}\n\n" + "\n\n".join(paragraphs))
        (folder / f"doc{n:04}.md").write_text(f"# Synthetic document {n}\n\n" + "\n\n".join(sections) + "\n")


def obliqa_slice(folder: Path, count: int) -> bool:
    source = OBLIQA / "passages.jsonl"
    if not source.is_file():
        return False
    with open(source, encoding="utf-8") as handle, open(folder / "passages.jsonl", "w", encoding="utf-8") as out:
        for n, line in enumerate(handle):
            if n >= count:
                break
            out.write(line)
    return True


# --- batch size -------------------------------------------------------------------------------------


def batch_sizes(embedder, count: int = 2000, sizes=(4, 8, 16, 32), seed: int = 1) -> list[dict]:
    source = OBLIQA / "passages.jsonl"
    if source.is_file():
        texts = [json.loads(line)["text"] for line in source.open(encoding="utf-8")]
        texts, sample = random.Random(seed).sample(texts, min(count, len(texts))), "random ObliQA passages"
    else:
        rng = random.Random(seed)
        texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 200))) for _ in range(count)]
        sample = "generated texts of 5-200 words"
    embedder.embed(texts[:200])  # warm up: the first batches pay for memory allocation
    results = []
    for size in sizes:
        started = time.perf_counter()
        embedder.embed(texts, batch_size=size)
        results.append({"batch_size": size, "texts": len(texts), "sample": sample, "texts_per_s": round(len(texts) / (time.perf_counter() - started), 1)})
    largest = next(r["texts_per_s"] for r in results if r["batch_size"] == max(sizes))
    for r in results:
        r["ratio_vs_largest"] = round(r["texts_per_s"] / largest, 3)
    return results


# --- throughput -------------------------------------------------------------------------------------


def throughput(settings, embedder, passages: int, files: int) -> list[dict]:
    results = []
    work = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    corpora = []
    obliqa = work / "obliqa"
    obliqa.mkdir()
    if obliqa_slice(obliqa, passages):
        corpora.append((f"ObliQA passages (first {passages:,})", obliqa))
    synthetic = work / "synthetic"
    synthetic.mkdir()
    synthetic_markdown(synthetic, files)
    corpora.append((f"synthetic markdown ({files:,} files)", synthetic))
    for name, corpus in corpora:
        local = replace(settings, corpus=corpus, index=work / f"index-{corpus.name}")
        # Untimed first build: ONNX Runtime's first pass over new input shapes is about 7% slower,
        # and the runs compared below must all be warm.
        build_index(local, rebuild=True, embedder_factory=lambda _: embedder)
        started = time.perf_counter()
        report = build_index(local, rebuild=True, embedder_factory=lambda _: embedder)
        kb_seconds = time.perf_counter() - started
        reader = IndexReader.open(local.index)
        chunks = reader.chunks(range(reader.chunk_count))
        counts = embedder.tokenizer.count([c.text for c in chunks])
        texts = [embed_text(c, n, embedder.tokenizer) for c, n in zip(chunks, counts)]
        started = time.perf_counter()
        embedder.embed(texts, batch_size=settings.batch_size)
        onnx_seconds = time.perf_counter() - started
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(resolve_model_path(settings.model)), device="cpu")
        started = time.perf_counter()
        model.encode(texts, batch_size=settings.batch_size, normalize_embeddings=True, show_progress_bar=False)
        torch_seconds = time.perf_counter() - started
        rate = report.chunks / kb_seconds
        results.append({
            "corpus": name, "chunks": report.chunks, "kb_index_s": round(kb_seconds, 1),
            "kb_chunks_per_s": round(rate, 1),
            "bare_backend_chunks_per_s": round(len(texts) / onnx_seconds, 1),
            "bare_st_encode_chunks_per_s": round(len(texts) / torch_seconds, 1),
            "ratio_vs_backend": round(rate / (len(texts) / onnx_seconds), 3),
            "ratio_vs_st_encode": round(rate / (len(texts) / torch_seconds), 3),
        })
        reader.close()
    shutil.rmtree(work, ignore_errors=True)
    return results


def ray_throughput(settings, embedder, passages: int) -> dict | None:
    try:
        from kb.distributed import ray_embedder_factory

        factory = ray_embedder_factory(settings.backend)
    except Exception as exc:  # the extra is optional
        return {"skipped": str(exc)}
    work = Path(tempfile.mkdtemp(prefix="kb-bench-ray-"))
    corpus = work / "corpus"
    corpus.mkdir()
    if not obliqa_slice(corpus, passages):
        synthetic_markdown(corpus, passages // 10)
    result = {"chunks": 0}
    for name, make in (("local", lambda _: embedder), ("ray", None)):
        local = replace(settings, corpus=corpus, index=work / f"index-{name}")
        started = time.perf_counter()
        report = build_index(local, rebuild=True, embedder_factory=make or factory)  # closes the Ray embedder
        seconds = time.perf_counter() - started
        result[f"{name}_s"], result[f"{name}_chunks_per_s"] = round(seconds, 1), round(report.chunks / seconds, 1)
        result["chunks"] = report.chunks
    result["ratio_ray_vs_local"] = round(result["ray_chunks_per_s"] / result["local_chunks_per_s"], 3)
    shutil.rmtree(work, ignore_errors=True)
    return result


# --- query latency ----------------------------------------------------------------------------------


def base_material(settings, embedder) -> tuple[IndexReader, list[str], str]:
    """A real index to replicate: the ObliQA one when built (scripts/eval_obliqa.py), else a synthetic one."""
    try:
        reader = IndexReader.open(DEFAULT_INDEX, model=settings.model)
        return reader, _questions(), f"the ObliQA index ({reader.chunk_count:,} chunks)"
    except Exception:
        pass
    work = Path(tempfile.mkdtemp(prefix="kb-bench-base-"))
    (work / "corpus").mkdir()
    synthetic_markdown(work / "corpus", 600)
    local = replace(settings, corpus=work / "corpus", index=work / "index")
    build_index(local, embedder_factory=lambda _: embedder)
    reader = IndexReader.open(local.index)
    return reader, _questions(), f"a synthetic index ({reader.chunk_count:,} chunks)"


def _questions() -> list[str]:
    path = OBLIQA / "dev.jsonl"
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()[:300]
        return [json.loads(line)["question"] for line in lines]
    rng = random.Random(3)
    return [f"What does the {rng.choice(WORDS)} {rng.choice(WORDS)} require?" for _ in range(300)]


def synthetic_index(folder: Path, settings, base: IndexReader, size: int) -> Path:
    """`size` chunks: copies of real chunks, their vectors moved by noise so that no two are identical."""
    chunks = base.chunks(range(base.chunk_count))
    vectors = np.asarray(base.dense.vectors())
    rng = np.random.default_rng(11)
    copies = -(-size // len(chunks))
    metas, rows, blocks = [], [], []
    documents: dict[tuple[str, int], int] = {}
    for copy in range(copies):
        take = min(len(chunks), size - copy * len(chunks))
        for chunk in chunks[:take]:
            key = (chunk.meta.doc_id, copy)
            if key not in documents:
                documents[key] = len(metas)
                metas.append(replace(chunk.meta, doc_id=f"{chunk.meta.doc_id}#{copy}"))
            rows.append((documents[key], chunk, f"{len(rows)}"))
        noisy = vectors[:take] + rng.normal(scale=0.35 / np.sqrt(vectors.shape[1]), size=(take, vectors.shape[1]))
        blocks.append((noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32))
    records = [FileRecord(source, 0, 0, "", FileStatus.INDEXED) for source in sorted({m.source for m in metas})]
    write_build(IndexLayout(folder), settings, folder, metas, rows, np.vstack(blocks), records)
    return folder


def query_latency(settings, embedder, sizes: list[int]) -> tuple[list[dict], str]:
    base, questions, origin = base_material(settings, embedder)
    results = []
    for size in sizes:
        folder = Path(tempfile.mkdtemp(prefix=f"kb-bench-{size}-"))
        started = time.perf_counter()
        synthetic_index(folder, settings, base, size)
        build_seconds = time.perf_counter() - started
        before = rss_mb()
        reader = IndexReader.open(folder)
        searcher = Searcher(reader, embedder)
        for question in questions[:5]:  # warm: index parts loaded, caches filled
            searcher.search(question, k=5)
        searcher._query_vectors.clear()
        embed_times, total_times = [], []
        for question in questions[5:]:
            started = time.perf_counter()
            embedder.embed([question])
            embed_times.append((time.perf_counter() - started) * 1000)
            searcher._query_vectors.clear()
            started = time.perf_counter()
            searcher.search(question, k=5)
            total_times.append((time.perf_counter() - started) * 1000)
        manifest = reader.manifest
        p50, p95 = percentiles(total_times)
        build = IndexLayout(folder).current_build()
        results.append({
            "chunks": size, "dense": manifest.dense.kind, "nprobe": manifest.dense.nprobe,
            "faiss_recall_at_10": manifest.dense.recall_at_10 or 1.0,
            "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
            "query_embedding_p50_ms": round(percentiles(embed_times)[0], 1),
            "ram_bytes_per_chunk": round((rss_mb() - before) * 1e6 / size),
            "disk_bytes_per_chunk": round(folder_mb(build) * 1e6 / size),
            "synthetic_build_s": round(build_seconds, 1),
        })
        reader.close()
        shutil.rmtree(folder, ignore_errors=True)  # the 1M-chunk index takes gigabytes
    return results, origin


# --- cold start -------------------------------------------------------------------------------------


def timed(command: list[str], runs: int = 3, env: dict | None = None) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env, cwd=REPO)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cold_start(settings) -> dict:
    kb = [sys.executable, "-m", "kb"]
    index = REPO / "indexes" / "default"
    subprocess.run([*kb, "index", "--index", str(index), "--if-missing"], check=True, capture_output=True, cwd=REPO)
    ask = timed([*kb, "ask", "When do FCA licences open?", "--index", str(index)])
    bare = timed([sys.executable, "-c",
                  "from sentence_transformers import SentenceTransformer as S; "
                  f"S({str(resolve_model_path(settings.model))!r}, device='cpu').encode(['When do FCA licences open?'])"])
    return {
        "kb_ask_s": round(ask, 2), "bare_model_load_and_encode_s": round(bare, 2), "ratio": round(ask / bare, 2),
        "kb_help_s": round(timed([*kb, "--help"], runs=5), 3),
        "kb_status_s": round(timed([*kb, "status", "--index", str(index)], runs=5), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="throughput,query,ray,batch,cold")
    parser.add_argument("--passages", type=int, default=4000, help="ObliQA passages for the throughput part")
    parser.add_argument("--files", type=int, default=300, help="synthetic markdown files for the throughput part")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="chunk counts for the query part")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--render", type=Path, metavar="FILE", help="print the tables of a saved --json run")
    args = parser.parse_args()
    if args.render:
        render(json.loads(args.render.read_text(encoding="utf-8")))
        return 0
    parts = set(args.parts.split(","))
    settings = load_settings({})
    embedder = load_embedder(settings.model, settings.backend)
    out: dict = {"cores": os.cpu_count(), "backend": type(embedder).__name__, "model": settings.model,
                 "obliqa": (OBLIQA / "passages.jsonl").is_file()}
    runs = {
        "throughput": lambda: {"throughput": throughput(settings, embedder, args.passages, args.files)},
        "query": lambda: dict(zip(("query", "query_base"),
                                  query_latency(settings, embedder, [int(s) for s in args.sizes.split(",")]))),
        "ray": lambda: {"ray": ray_throughput(settings, embedder, args.passages // 4)},
        "batch": lambda: {"batch": batch_sizes(embedder)},
        "cold": lambda: {"cold": cold_start(settings)},
    }
    failed = []
    for name, run in runs.items():
        if name not in parts:
            continue
        # A part that fails costs only its own numbers: the others may have taken many minutes.
        try:
            out.update(run())
        except Exception as exc:
            traceback.print_exc()
            print(f"bench.py: the {name} part failed ({type(exc).__name__}); the other parts go on.", file=sys.stderr)
            out[name] = {"failed": f"{type(exc).__name__}: {exc}"}
            failed.append(name)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        render(out)
    return 1 if failed else 0


def render(out: dict) -> None:
    """The Markdown tables of the README from bench.py's JSON (`render(json.load(...))` re-prints a saved run)."""
    print(f"{out['cores']} cores; model {out['model']} via {out['backend']}\n")
    for name in ("throughput", "query", "ray", "batch", "cold"):
        if isinstance(out.get(name), dict) and "failed" in out[name]:
            print(f"{name}: failed ({out[name]['failed']})\n")
            out = {key: value for key, value in out.items() if key != name}
    if "throughput" in out:
        print("| corpus | chunks | kb index s | kb chunks/s | bare ONNX chunks/s | bare ST encode chunks/s "
              "| kb / bare ONNX | kb / ST encode |\n|---|---|---|---|---|---|---|---|")
        for r in out["throughput"]:
            print(f"| {r['corpus']} | {r['chunks']:,} | {r['kb_index_s']} | {r['kb_chunks_per_s']} "
                  f"| {r['bare_backend_chunks_per_s']} | {r['bare_st_encode_chunks_per_s']} "
                  f"| {r['ratio_vs_backend']} | {r['ratio_vs_st_encode']} |")
        print()
    if "query" in out:
        print(f"Query latency, warm, k = 5, from {out['query_base']}:\n")
        print("| chunks | dense index | FAISS recall@10 | p50 ms | p95 ms | of which query embedding p50 ms "
              "| RAM B/chunk | disk B/chunk |\n|---|---|---|---|---|---|---|---|")
        for r in out["query"]:
            kind = r["dense"] + (f" (nprobe {r['nprobe']})" if r["nprobe"] else "")
            print(f"| {r['chunks']:,} | {kind} | {r['faiss_recall_at_10']} | {r['p50_ms']} | {r['p95_ms']} "
                  f"| {r['query_embedding_p50_ms']} | {r['ram_bytes_per_chunk']:,} | {r['disk_bytes_per_chunk']:,} |")
        print()
    if "ray" in out:
        r = out["ray"]
        if "skipped" in r:
            print(f"Ray: skipped ({r['skipped']})\n")
        else:
            print("| embedding | chunks | seconds | chunks/s |\n|---|---|---|---|")
            print(f"| local `kb index` | {r['chunks']:,} | {r['local_s']} | {r['local_chunks_per_s']} |")
            print(f"| `kb index --ray`, local Ray, one model per core | {r['chunks']:,} | {r['ray_s']} "
                  f"| {r['ray_chunks_per_s']} |\n| ratio ray / local | | | {r['ratio_ray_vs_local']} |\n")
    if "batch" in out:
        rows = out["batch"]
        print(f"Embedding batch size ({rows[0]['texts']:,} {rows[0]['sample']}, sorted by length):\n")
        print("| batch size | texts/s | ratio to the largest |\n|---|---|---|")
        for r in rows:
            print(f"| {r['batch_size']} | {r['texts_per_s']} | {r['ratio_vs_largest']} |")
        print()
    if "cold" in out:
        c = out["cold"]
        print("| cold start | seconds |\n|---|---|")
        print(f"| kb ask (new process, bundled corpus) | {c['kb_ask_s']} |")
        print(f"| bare python: load model with sentence-transformers, encode one sentence | "
              f"{c['bare_model_load_and_encode_s']} |")
        print(f"| ratio kb ask / bare | {c['ratio']} |")
        print(f"| kb --help | {c['kb_help_s']} |\n| kb status | {c['kb_status_s']} |")


if __name__ == "__main__":
    raise SystemExit(main())
