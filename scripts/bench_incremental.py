#!/usr/bin/env python
"""Benchmark incremental indexing: full build vs. re-index after one changed document, and a no-op re-index.

    .venv/bin/python scripts/bench_incremental.py                 # ObliQA passages + 2,000 Markdown files
    .venv/bin/python scripts/bench_incremental.py --quick         # 2,000-record ObliQA slice + 200 files
    .venv/bin/python scripts/bench_incremental.py --files 5000    # a larger many-files corpus
    .venv/bin/python scripts/bench_incremental.py --json          # one JSON object

Two corpora, each in its own temporary folder (removed afterwards), all in one process:

* ObliQA: a copy of ../shared/data/obliqa/passages.jsonl (one 7 MB file, 13,012 records). The change
  appends a sentence to one record, so the whole file is re-read but only that record's chunks
  should be re-embedded. Skipped with a message when the data is absent (it exists only in the
  development workspace).
* Many files: N Markdown files (default 2,000), about 6 ObliQA passages each under their own
  headings, or deterministic invented text when ObliQA is absent. The change edits one section of
  one file.

For each: a full build (`rebuild=True`), a no-op re-index (nothing changed: must write nothing and
not load the model; the embedder factory is wrapped to check that), then the one change and a
re-index. The chunks that should be re-embedded are counted independently, as the embed keys of the
new build that the previous build did not have.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from _obliqa import DATA, REPO, not_found

PASSAGES = DATA / "passages.jsonl"
ADDED_SENTENCE = " This sentence was added by the incremental indexing benchmark to change one document."
QUICK_RECORDS = 2000
QUICK_FILES = 200
PASSAGES_PER_FILE = 6
WORDS = (
    "authority firm licence capital requirement client money custody market conduct disclosure report "
    "annual audit governance board director risk liquidity exposure credit operational compliance officer "
    "breach notice period application approval exemption prudential category insurance fund manager "
    "investment asset transaction record retention sanction penalty supervision guidance rule section "
    "schedule person entity group parent subsidiary branch jurisdiction regulator filing deadline "
    "calendar days written consent material change control outsourcing arrangement contract termination"
).split()


@dataclass
class CountingFactory:
    """Wraps kb.embed.load_embedder: records each model load, its time, and the texts embedded."""

    backend: str
    loads: int = 0
    load_seconds: float = 0.0
    texts: int = 0
    names: list[str] = field(default_factory=list)

    def __call__(self, name: str):
        from kb.embed import load_embedder

        started = time.perf_counter()
        embedder = load_embedder(name, self.backend)
        self.load_seconds += time.perf_counter() - started
        self.loads += 1
        self.names.append(name)
        inner_embed = embedder.embed
        factory = self

        def embed(texts, *, batch_size=32, progress=None):
            factory.texts += len(texts)
            return inner_embed(texts, batch_size=batch_size, progress=progress)

        try:
            embedder.embed = embed  # instance attribute shadows the method
        except AttributeError:  # a slotted embedder: count nothing rather than fail
            pass
        return embedder

    def reset(self) -> None:
        self.loads, self.load_seconds, self.texts, self.names = 0, 0.0, 0, []


@dataclass
class Run:
    seconds: float
    written: bool
    chunks: int
    embedded: int
    reused: int
    model_loads: int
    model_load_seconds: float
    texts_embedded: int
    summary: str
    expected_embedded: int | None = None  # embed keys new in this build (the chunks whose input changed)

    def to_json(self) -> dict:
        data = {k: v for k, v in self.__dict__.items()}
        data["seconds"] = round(self.seconds, 3)
        data["model_load_seconds"] = round(self.model_load_seconds, 3)
        return data


def read_passages(limit: int | None = None) -> list[dict]:
    records = []
    with open(PASSAGES, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                records.append(json.loads(line))
                if limit is not None and len(records) >= limit:
                    break
    return records


def invented_passages(count: int, seed: int = 1234) -> list[dict]:
    """Deterministic stand-in for ObliQA: sentences drawn from a fixed word list with a seeded RNG."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        sentences = []
        for _ in range(rng.randint(1, 5)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(8, 24))]
            sentences.append(" ".join(words).capitalize() + ".")
        records.append({"id": f"gen:{i}", "title": f"Invented Rulebook {i // 500 + 1}", "passage_id": f"{i}.",
                        "text": " ".join(sentences)})
    return records


def write_markdown_corpus(folder: Path, files: int, passages: list[dict]) -> list[Path]:
    """`files` Markdown files of ~PASSAGES_PER_FILE passages each, one `##` heading per passage."""
    needed = files * PASSAGES_PER_FILE
    if len(passages) < needed:  # not enough real passages: top up with invented ones
        passages = passages + invented_passages(needed - len(passages), seed=len(passages))
    paths = []
    for n in range(files):
        group = passages[n * PASSAGES_PER_FILE:(n + 1) * PASSAGES_PER_FILE]
        title = group[0].get("title") or "Rulebook"
        lines = [f"# {title} — part {n + 1}", ""]
        for record in group:
            heading = str(record.get("passage_id") or record.get("id"))
            lines += [f"## {heading}", "", record["text"].strip(), ""]
        path = folder / f"{n // 100:03d}" / f"part-{n:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines), encoding="utf-8")
        paths.append(path)
    return paths


def change_markdown(path: Path) -> str:
    """Append a sentence to the third section's text (a section in the middle of the file)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    headings = [i for i, line in enumerate(lines) if line.startswith("## ")]
    target = headings[min(2, len(headings) - 1)] + 2  # the heading, a blank line, then the text
    lines[target] = lines[target] + ADDED_SENTENCE
    path.write_text("\n".join(lines), encoding="utf-8")
    return f"{path.name}, section {lines[target - 2][3:]!r}"


def change_jsonl(path: Path, record: int) -> str:
    """Append a sentence to the text of record number `record` (0-based) and rewrite the file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    data = json.loads(lines[record])
    data["text"] = data["text"] + ADDED_SENTENCE
    lines[record] = json.dumps(data, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"record {record} (id {data['id']!r})"


def embed_keys(index: Path) -> set[str]:
    from kb.index import IndexReader

    reader = IndexReader.open(index)
    try:
        return set(reader.embed_texts())
    finally:
        reader.close()


def timed_build(settings, factory: CountingFactory, *, rebuild: bool = False) -> Run:
    from kb.build import build_index

    factory.reset()
    started = time.perf_counter()
    report = build_index(settings, rebuild=rebuild, embedder_factory=factory)
    seconds = time.perf_counter() - started
    return Run(seconds, report.written, report.chunks, report.embedded, report.reused, factory.loads,
               factory.load_seconds, factory.texts, report.summary_line())


def bench_corpus(name: str, settings, factory: CountingFactory, change, describe: str, log) -> dict:
    """Full build, no-op re-index, one change + re-index, on the corpus already in settings.corpus."""
    log(f"[{name}] full build of {describe} ...")
    full = timed_build(settings, factory, rebuild=True)
    log(f"[{name}]   {full.seconds:.1f} s, {full.chunks:,} chunks, {full.embedded:,} embedded")
    keys_before = embed_keys(settings.index)

    noop = timed_build(settings, factory)
    log(f"[{name}] no-op re-index: {noop.seconds:.3f} s, written={noop.written}, model loads={noop.model_loads}")

    changed = change()
    log(f"[{name}] changed {changed}; re-indexing ...")
    one = timed_build(settings, factory)
    one.expected_embedded = len(embed_keys(settings.index) - keys_before)
    log(f"[{name}]   {one.seconds:.2f} s, {one.embedded} embedded (expected {one.expected_embedded}), "
        f"model load {one.model_load_seconds:.2f} s; {one.summary}")

    problems = []
    if noop.written:
        problems.append("the no-op re-index wrote a new build")
    if noop.model_loads:
        problems.append(f"the no-op re-index loaded the model {noop.model_loads} time(s)")
    if noop.seconds >= 1.0:
        problems.append(f"the no-op re-index took {noop.seconds:.2f} s (must be well under 1 s)")
    if not one.written:
        problems.append("the one-change re-index wrote nothing")
    if one.embedded != one.expected_embedded:
        problems.append(f"the one-change re-index embedded {one.embedded} chunks; "
                        f"{one.expected_embedded} chunk(s) had a changed embedding input")
    if one.texts_embedded != one.embedded:
        problems.append(f"the embedder was given {one.texts_embedded} texts; the report says {one.embedded}")
    if full.embedded + full.reused != full.chunks or full.reused:
        problems.append(f"the full build embedded {full.embedded} and re-used {full.reused} of {full.chunks} chunks")
    return {
        "corpus": name,
        "description": describe,
        "changed": changed,
        "full": full.to_json(),
        "noop": noop.to_json(),
        "one_change": one.to_json(),
        "speedup_one_change": round(full.seconds / one.seconds, 1) if one.seconds else None,
        "speedup_noop": round(full.seconds / noop.seconds, 1) if noop.seconds else None,
        "problems": problems,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="embedding model (default: the settings' model)")
    parser.add_argument("--backend", default=None, help="auto, onnx or torch (default: the settings' backend)")
    parser.add_argument("--files", type=int, default=None,
                        help=f"Markdown files in the many-files corpus (default 2,000; {QUICK_FILES} with --quick)")
    parser.add_argument("--records", type=int, default=None,
                        help=f"only the first N ObliQA records (default all; {QUICK_RECORDS:,} with --quick)")
    parser.add_argument("--record", type=int, default=5000,
                        help="the ObliQA record to change (0-based; the middle one when the slice is shorter)")
    parser.add_argument("--corpus", choices=("all", "obliqa", "files"), default="all")
    parser.add_argument("--quick", action="store_true", help="a 2,000-record ObliQA slice and 200 files")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args()
    files = args.files if args.files is not None else (QUICK_FILES if args.quick else 2000)
    records = args.records if args.records is not None else (QUICK_RECORDS if args.quick else None)
    if files < 1:
        parser.error("--files must be at least 1")

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(REPO))
    from kb.config import load_settings
    from kb.errors import KBError

    base = load_settings({"model": args.model, "backend": args.backend}, cwd=REPO)
    factory = CountingFactory(base.backend)
    log = (lambda message: print(message, file=sys.stderr, flush=True))
    have_obliqa = PASSAGES.is_file()
    load_before = os.getloadavg()
    results = []
    notes = []
    try:
        with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
            tmp = Path(tmp)
            if args.corpus in ("all", "obliqa"):
                if not have_obliqa:
                    message = not_found("ObliQA data", DATA, "the ObliQA benchmark")
                    log(message)
                    notes.append(message)
                else:
                    corpus = tmp / "obliqa-corpus"
                    corpus.mkdir()
                    target = corpus / "passages.jsonl"
                    if records is None:
                        shutil.copyfile(PASSAGES, target)  # a copy, not a link: the benchmark edits it
                        count = sum(1 for line in open(target, encoding="utf-8") if line.strip())
                    else:
                        rows = read_passages(records)
                        target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                          encoding="utf-8")
                        count = len(rows)
                    record = args.record if args.record < count else count // 2
                    settings = replace(base, corpus=corpus, index=tmp / "obliqa-index")
                    describe = f"ObliQA passages.jsonl, 1 file, {count:,} records"
                    results.append(bench_corpus("ObliQA", settings, factory,
                                                lambda: change_jsonl(target, record), describe, log))
                    shutil.rmtree(corpus)
                    shutil.rmtree(tmp / "obliqa-index")
            if args.corpus in ("all", "files"):
                corpus = tmp / "files-corpus"
                corpus.mkdir()
                needed = files * PASSAGES_PER_FILE
                source = read_passages(needed) if have_obliqa else invented_passages(needed)
                origin = "ObliQA passages" if have_obliqa else "invented text"
                if have_obliqa and len(source) < needed:
                    origin += f" (+{needed - len(source):,} invented)"
                paths = write_markdown_corpus(corpus, files, source)
                victim = paths[len(paths) // 2]
                settings = replace(base, corpus=corpus, index=tmp / "files-index")
                describe = f"{files:,} Markdown files, ~{PASSAGES_PER_FILE} sections each ({origin})"
                results.append(bench_corpus("Many files", settings, factory,
                                            lambda: change_markdown(victim), describe, log))
    except KBError as exc:
        print(f"kb error: {exc}", file=sys.stderr)
        return 1
    load_after = os.getloadavg()

    cores = os.cpu_count()
    problems = [f"{r['corpus']}: {p}" for r in results for p in r["problems"]]
    if args.json:
        print(json.dumps({
            "model": base.model,
            "backend": base.backend,
            "cores": cores,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "quick": args.quick,
            "corpora": results,
            "notes": notes,
            "ok": not problems,
        }, indent=2, ensure_ascii=False))
        return 1 if problems else 0

    print(f"Incremental indexing, model {base.model} (backend {base.backend}); {cores} cores; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n")
    for note in notes:
        print(f"{note}\n")
    for r in results:
        full, noop, one = r["full"], r["noop"], r["one_change"]
        print(f"**{r['corpus']}**: {r['description']}; {full['chunks']:,} chunks. Changed: {r['changed']}.\n")
        print("| run | seconds | speed-up vs full | chunks embedded | vectors re-used | model loaded | written |")
        print("|---|---|---|---|---|---|---|")
        print(f"| full build (--rebuild) | {full['seconds']:.1f} | 1× | {full['embedded']:,} | {full['reused']:,} "
              f"| {full['model_loads']} ({full['model_load_seconds']:.2f} s) | {full['written']} |")
        print(f"| no-op re-index | {noop['seconds']:.3f} | {r['speedup_noop']:,}× | {noop['embedded']:,} "
              f"| – | {noop['model_loads']} | {noop['written']} |")
        print(f"| one changed document | {one['seconds']:.2f} | {r['speedup_one_change']:,}× | {one['embedded']:,} "
              f"(expected {one['expected_embedded']}) | {one['reused']:,} "
              f"| {one['model_loads']} ({one['model_load_seconds']:.2f} s) | {one['written']} |")
        print()
    if problems:
        print("Problems:")
        for problem in problems:
            print(f"- {problem}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
