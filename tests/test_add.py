"""`kb add`: files and URLs into the corpus, against a real HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("pytest_httpserver")
from pytest_httpserver import HTTPServer  # noqa: E402
from werkzeug import Response  # noqa: E402

from kb.add import add_file, add_sources, add_url, readable_stem, write_atomic  # noqa: E402
from kb.build import build_index  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.errors import (CorpusError, FetchError, FetchTimeout, SourceError, SourceExists,  # noqa: E402
                       SourceTooLarge)
from kb.fetch import FetchLimits  # noqa: E402
from kb.index import IndexReader  # noqa: E402
from kb.ingest import scan_corpus  # noqa: E402
from kb.results import AddResult  # noqa: E402
from kb.sidecar import read_sidecar, sidecar_path  # noqa: E402

from conftest import FAKE_MODEL, make_pdf, write  # noqa: E402

NOISE = "Sign in to MyWidget portal"
PAGE = f"""<!doctype html>
<html><head><title>Widget licensing guidance | Widget Authority</title></head>
<body>
<header><nav><a href="/">Home</a> <a href="/login">{NOISE}</a></nav></header>
<div class="cookie-banner">We use cookies to improve your visit. Accept all cookies?</div>
<main>
<h1>Widget licensing guidance</h1>
<p>The Widget Authority expects widget licence applications to open on 1 March 2032.</p>
<p>Firms must keep their licence records for seven years.</p>
</main>
<footer>Copyright Widget Authority. {NOISE}.</footer>
</body></html>
"""
FAST = FetchLimits(connect_timeout=2, read_timeout=2, total_timeout=10)


@pytest.fixture(scope="module")
def running_server():
    """One threaded server for the module (stopping one takes 0.5 s); threaded, so a slow handler
    does not hold up the next test's requests."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(running_server):
    yield running_server
    running_server.clear()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    return folder


def entries(folder: Path) -> list[str]:
    """Every name in the folder, hidden ones included: nothing half-written may hide there."""
    return sorted(os.listdir(folder))


def serve_page(server: HTTPServer, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8",
               **headers: str) -> str:
    server.expect_request(path).respond_with_data(body, content_type=content_type, headers=headers)
    return server.url_for(path)


# --- fetching -------------------------------------------------------------------------------------


def test_fetched_page_is_stored_with_its_origin_and_indexed_without_navigation_noise(server, corpus, tmp_path):
    url = serve_page(server, "/guidance/widget-licensing", PAGE, ETag='"v1"')
    result = add_url(url, corpus, limits=FAST)
    assert result == AddResult(url, corpus / "127.0.0.1-widget-licensing.html", "added", len(PAGE.encode()),
                               "text/html; charset=utf-8", url)
    assert result.path.read_bytes() == PAGE.encode()  # the original page, byte for byte
    record = read_sidecar(result.path)
    assert record.url == record.final_url == url and record.etag == '"v1"' and record.size == len(PAGE.encode())
    assert record.retrieved.endswith("Z") and record.retrieved[:4].isdigit()
    # The record is kb's own metadata: the scan neither lists it as a document nor notes it as skipped.
    scan = scan_corpus(corpus)
    assert [f.rel for f in scan.files] == ["127.0.0.1-widget-licensing.html"] and scan.skipped == ()

    settings = Settings(corpus=corpus, index=tmp_path / "index", model=FAKE_MODEL)
    report = build_index(settings, strict=True)
    assert report.added == ("127.0.0.1-widget-licensing.html",) and not report.hidden
    reader = IndexReader.open(settings.index)
    (meta,) = reader.documents
    assert meta.extra["origin"] == url and meta.extra["retrieved"] == record.retrieved
    assert meta.title.startswith("Widget licensing guidance")
    text = " ".join(c.text for c in reader.chunks(range(reader.chunk_count)))
    assert "open on 1 March 2032" in text
    assert NOISE not in text and "cookies" not in text


def test_refresh_with_validators_is_a_conditional_request_and_writes_nothing(server, corpus):
    seen = []

    def handler(request):
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(PAGE, content_type="text/html", headers={"ETag": '"v1"'})

    server.expect_request("/page").respond_with_handler(handler)
    first = add_url(server.url_for("/page"), corpus, limits=FAST)
    before = (first.path.stat().st_mtime_ns, sidecar_path(first.path).stat().st_mtime_ns)
    again = add_url(server.url_for("/page"), corpus, limits=FAST)
    assert seen == [None, '"v1"']
    assert again.status == "unchanged" and again.path == first.path and again.size == first.size
    assert (first.path.stat().st_mtime_ns, sidecar_path(first.path).stat().st_mtime_ns) == before


def test_refresh_without_validators_compares_bytes(server, corpus, monkeypatch):
    """A server that sends no ETag/Last-Modified: same bytes leave the file alone, new ones replace only it."""
    times = iter(["2031-01-01T00:00:00Z", "2031-01-02T00:00:00Z", "2031-01-03T00:00:00Z"])
    monkeypatch.setattr("kb.add._now", lambda: next(times))
    bodies = [PAGE, PAGE, PAGE.replace("seven years", "ten years")]
    server.expect_request("/page").respond_with_handler(
        lambda request: Response(bodies.pop(0), content_type="text/html"))
    other = write(corpus / "notes.md", "# Notes\n\nUnrelated.\n")
    other_mtime = other.stat().st_mtime_ns
    first = add_url(server.url_for("/page"), corpus, limits=FAST)
    record = read_sidecar(first.path)
    stamp = first.path.stat().st_mtime_ns

    same = add_url(server.url_for("/page"), corpus, limits=FAST)
    assert same.status == "unchanged" and first.path.stat().st_mtime_ns == stamp
    assert read_sidecar(first.path) == record

    changed = add_url(server.url_for("/page"), corpus, limits=FAST)
    assert changed.status == "updated" and changed.path == first.path
    assert b"ten years" in first.path.read_bytes()
    new_record = read_sidecar(first.path)
    assert record.retrieved == "2031-01-01T00:00:00Z"  # the unchanged refresh kept the first retrieval date
    assert new_record.sha256 != record.sha256 and new_record.retrieved == "2031-01-02T00:00:00Z"
    assert other.stat().st_mtime_ns == other_mtime
    assert entries(corpus) == sorted(["notes.md", first.path.name, sidecar_path(first.path).name])


def test_refresh_reindexes_only_the_changed_page(server, corpus, tmp_path):
    pages = {"/a": PAGE, "/b": PAGE.replace("Widget", "Gadget")}
    server.expect_request("/a").respond_with_handler(lambda r: Response(pages["/a"], content_type="text/html"))
    server.expect_request("/b").respond_with_handler(lambda r: Response(pages["/b"], content_type="text/html"))
    settings = Settings(corpus=corpus, index=tmp_path / "index", model=FAKE_MODEL)
    report = add_sources([server.url_for("/a"), server.url_for("/b")], corpus, limits=FAST)
    assert [r.status for r in report.results] == ["added", "added"] and report.changed
    build_index(settings)
    pages["/b"] = pages["/b"].replace("seven years", "ten years")
    report = add_sources([server.url_for("/a"), server.url_for("/b")], corpus, limits=FAST)
    assert [r.status for r in report.results] == ["unchanged", "updated"]
    rebuilt = build_index(settings)
    assert rebuilt.updated == ("127.0.0.1-b.html",) and rebuilt.unchanged == 1 and not rebuilt.added


def test_pdf_is_stored_as_pdf_and_its_origin_is_the_url(server, corpus, tmp_path):
    pdf = make_pdf(["Rule 1: widget firms must file reports by 30 June 2032."])
    serve_page(server, "/docs/Widget Rules.pdf", pdf, "application/pdf")  # the server matches the decoded path
    url = server.url_for("/docs/Widget%20Rules.pdf")
    result = add_url(url, corpus, limits=FAST)
    assert result.path.name == "127.0.0.1-widget-rules.pdf" and result.path.read_bytes() == pdf
    build_index(Settings(corpus=corpus, index=tmp_path / "index", model=FAKE_MODEL))
    (meta,) = IndexReader.open(tmp_path / "index").documents
    assert meta.kind == "pdf" and meta.extra["origin"] == url


def test_a_vaguely_labelled_download_is_accepted_only_if_it_is_a_pdf(server, corpus):
    url = serve_page(server, "/download", make_pdf(["Some rules."]), "application/octet-stream")
    assert add_url(url, corpus, limits=FAST).path.suffix == ".pdf"
    fake = serve_page(server, "/fake.pdf", b"PK\x03\x04 a zip file", "application/octet-stream")
    with pytest.raises(SourceError, match="not a PDF"):
        add_url(fake, corpus, limits=FAST)
    liar = serve_page(server, "/liar.pdf", "<html>Access denied</html>", "application/pdf")
    with pytest.raises(SourceError, match="labelled a PDF, but its content is not a PDF"):
        add_url(liar, corpus, limits=FAST)


def test_redirect_is_followed_and_the_final_url_is_the_origin(server, corpus):
    final = serve_page(server, "/new/widget-guidance", PAGE)
    server.expect_request("/old").respond_with_response(Response(status=301, headers={"Location": final}))
    result = add_url(server.url_for("/old"), corpus, limits=FAST)
    assert result.url == server.url_for("/old") and result.path.name == "127.0.0.1-old.html"
    record = read_sidecar(result.path)
    assert record.url == server.url_for("/old") and record.final_url == final
    assert add_url(server.url_for("/old"), corpus, limits=FAST).path == result.path  # refreshed by the URL given


def test_a_url_that_turns_from_page_to_pdf_replaces_its_file(server, corpus):
    bodies = [(PAGE, "text/html"), (make_pdf(["Now a PDF."]), "application/pdf")]
    server.expect_request("/notice").respond_with_handler(
        lambda r: Response(bodies[0][0], content_type=bodies.pop(0)[1]))
    page = add_url(server.url_for("/notice"), corpus, limits=FAST)
    pdf = add_url(server.url_for("/notice"), corpus, limits=FAST)
    assert (page.path.name, pdf.path.name, pdf.status) == ("127.0.0.1-notice.html", "127.0.0.1-notice.pdf", "updated")
    assert entries(corpus) == [".127.0.0.1-notice.pdf.kb.json", "127.0.0.1-notice.pdf"]


def test_too_many_redirects_is_a_clear_error(server, corpus):
    server.expect_request("/loop").respond_with_response(Response(status=302, headers={"Location": "/loop"}))
    with pytest.raises(FetchError, match=r"Too many redirects .* \(more than 2\)") as caught:
        add_url(server.url_for("/loop"), corpus, limits=FetchLimits(max_redirects=2))
    assert caught.value.hint and entries(corpus) == []


@pytest.mark.parametrize(("status", "hint"), [(404, "not there"), (403, "save the page"), (503, "try again later")])
def test_http_errors_name_the_status_and_write_nothing(server, corpus, status, hint):
    server.expect_request("/gone").respond_with_data("nope", status=status, content_type="text/html")
    with pytest.raises(FetchError, match=f"HTTP {status}") as caught:
        add_url(server.url_for("/gone"), corpus, limits=FAST)
    assert hint in caught.value.hint and "\n" not in caught.value.message
    assert entries(corpus) == []


def test_slow_server_times_out_and_writes_nothing(server, corpus):
    def slow(request):
        time.sleep(1.5)
        return Response(PAGE, content_type="text/html")

    server.expect_request("/slow").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="Timed out fetching .*/slow"):
        add_url(server.url_for("/slow"), corpus, limits=FetchLimits(read_timeout=0.3))
    assert time.monotonic() - started < 1.2
    assert entries(corpus) == []


def test_a_dripping_body_is_cut_off_by_the_total_deadline(server, corpus):
    def drip():
        yield b"<html><body><main><p>"
        for _ in range(20):
            time.sleep(0.1)
            yield b"still coming "

    server.expect_request("/drip").respond_with_handler(lambda r: Response(drip(), content_type="text/html"))
    with pytest.raises(FetchTimeout, match="still downloading after 0.5 s"):
        add_url(server.url_for("/drip"), corpus, limits=FetchLimits(read_timeout=1, total_timeout=0.5))
    assert entries(corpus) == []


def test_oversized_bodies_are_refused_declared_or_streamed(server, corpus):
    limits = FetchLimits(max_bytes=1000)
    declared = serve_page(server, "/big", "<p>" + "x" * 5000 + "</p>")
    with pytest.raises(SourceTooLarge, match=r"is 5,007 bytes, over the 1,000 bytes limit"):
        add_url(declared, corpus, limits=limits)
    sent = []

    def endless():  # no Content-Length: the client must count and stop (50 MB if it did not)
        for _ in range(100_000):
            sent.append(1)
            yield b"<p>" + b"y" * 500 + b"</p>"

    server.expect_request("/stream").respond_with_handler(lambda r: Response(endless(), content_type="text/html"))
    with pytest.raises(SourceTooLarge, match="download stopped"):
        add_url(server.url_for("/stream"), corpus, limits=limits)
    # Socket buffers take some pieces beyond the limit before the client hangs up, never all of them.
    assert len(sent) < 100_000 and entries(corpus) == []


def test_other_content_types_are_refused_with_what_is_supported(server, corpus):
    url = serve_page(server, "/data.json", '{"a": 1}', "application/json")
    with pytest.raises(SourceError, match=r"is application/json, not an HTML page or a PDF") as caught:
        add_url(url, corpus, limits=FAST)
    assert ".docx" in caught.value.hint and entries(corpus) == []


@pytest.mark.parametrize("url", ["ftp://example.org/file.pdf", "file:///etc/passwd", "https:///no-host"])
def test_only_http_urls_are_fetched(corpus, url):
    with pytest.raises(SourceError) as caught:
        add_url(url, corpus)
    assert not isinstance(caught.value, FetchError) and caught.value.hint


def test_connection_refused_is_a_clear_error(corpus):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match=f"Cannot connect to 127.0.0.1:{port}") as caught:
        add_url(f"http://127.0.0.1:{port}/page", corpus, limits=FAST)
    assert "network" in caught.value.hint and entries(corpus) == []


def test_a_charset_only_the_header_gives_is_written_into_the_page(server, corpus):
    from kb.formats import extract_html

    body = "<html><body><main><p>Caf\u00e9 fees: \u20ac500.</p></main></body></html>".encode("cp1252")
    url = serve_page(server, "/fees", b"<!DOCTYPE html>" + body, "text/html; charset=windows-1252")
    stored = add_url(url, corpus, limits=FAST).path.read_bytes()
    assert stored == b'<!DOCTYPE html><meta charset="windows-1252">' + body
    assert "Caf\u00e9 fees: \u20ac500." in extract_html(stored).text


def test_two_urls_with_the_same_name_get_two_files(server, corpus):
    first = add_url(serve_page(server, "/a/guidance", PAGE), corpus, limits=FAST)
    second = add_url(serve_page(server, "/b/guidance", PAGE.replace("seven", "nine")), corpus, limits=FAST)
    assert (first.path.name, second.path.name) == ("127.0.0.1-guidance.html", "127.0.0.1-guidance-2.html")
    assert add_url(server.url_for("/b/guidance"), corpus, limits=FAST).path == second.path


def test_readable_names_come_from_the_address_or_the_title():
    assert readable_stem("https://www.fca.org.uk/publications/cp25-14-stablecoins") == "fca.org.uk-cp25-14-stablecoins"
    assert readable_stem("https://example.org/rules/index.html") == "example.org-rules"
    assert readable_stem("https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32023R1114") == \
        "eur-lex.europa.eu-txt-celex-32023r1114"
    assert readable_stem("https://example.org/", b"<title>R\xc3\xa8gles &amp; Fees</title>") == "example.org-regles-fees"
    assert readable_stem("https://example.org/") == "example.org"
    assert len(readable_stem("https://example.org/" + "long-" * 50)) <= 96


WINDOWS_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\[\]]')


@pytest.mark.parametrize("url, stem", [
    ("http://[::1]:8000/page", "ipv6-1"),  # "page" is generic: the host alone
    ("http://[::1]:8000/Lords/debates/Crypto.html", "ipv6-1-crypto"),
    ("https://[2001:db8::7]/rules?id=12", "ipv6-2001-db8-7-rules-12"),
    ("http://[fe80::1%25eth0]/notes", "ipv6-fe80-1-eth0-notes"),
    ("http://[::ffff:127.0.0.1]/x", "ipv6-ffff-127-0-0-1-x"),
    ("http://192.0.2.1:8080/guide", "192.0.2.1-guide"),
    ("https://bücher.example/regeln", "bücher.example-regeln"),  # readable: the host's own letters
    ("http://aux/", "aux_"), ("http://con.local/", "con_.local"), ("http://lpt1/x", "lpt1-x"),
])
def test_names_made_from_urls_are_portable_and_readable(url, stem):
    """No ":" or brackets from an IPv6 host, nothing Windows forbids, no Windows device name (AUX.html)."""
    made = readable_stem(url)
    assert made == stem
    assert not WINDOWS_FORBIDDEN.search(made) and made[-1] not in ". "


def test_a_page_from_an_ipv6_host_gets_a_portable_file_name(corpus):
    try:
        server = HTTPServer(host="::1", port=0)
        server.start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        url = serve_page(server, "/Lords/2025-11-12/debates/CryptoRegulation.html", PAGE)
        result = add_url(url, corpus, limits=FAST)
    finally:
        server.stop()
    assert url.startswith("http://[::1]:") and result.status == "added"
    assert entries(corpus) == [".ipv6-1-cryptoregulation.html.kb.json", "ipv6-1-cryptoregulation.html"]
    assert read_sidecar(result.path).url == url


# --- local files ----------------------------------------------------------------------------------


def test_adding_a_file_copies_it_once(corpus, tmp_path):
    source = write(tmp_path / "in" / "rules.md", "# Rules\n\nRule 1.\n")
    added = add_file(source, corpus)
    assert added == AddResult(str(source), corpus / "rules.md", "added", source.stat().st_size, "text/markdown")
    assert (corpus / "rules.md").read_bytes() == source.read_bytes()
    stamp = (corpus / "rules.md").stat().st_mtime_ns
    assert add_file(source, corpus).status == "unchanged"
    assert (corpus / "rules.md").stat().st_mtime_ns == stamp
    assert entries(corpus) == ["rules.md"]


def test_a_different_file_of_the_same_name_is_kept_unless_overwrite(corpus, tmp_path):
    write(corpus / "rules.md", "# Old rules\n")
    source = write(tmp_path / "rules.md", "# New rules\n")
    with pytest.raises(SourceExists, match="already exists with other content") as caught:
        add_file(source, corpus)
    assert "--overwrite" in caught.value.hint and (corpus / "rules.md").read_text() == "# Old rules\n"
    assert add_file(source, corpus, overwrite=True).status == "updated"
    assert (corpus / "rules.md").read_text() == "# New rules\n"


def test_overwriting_a_fetched_file_drops_its_url(server, corpus, tmp_path):
    fetched = add_url(serve_page(server, "/rules", PAGE), corpus, limits=FAST)
    local = write(tmp_path / fetched.path.name, "<html><body><p>My own copy.</p></body></html>")
    add_file(local, corpus, overwrite=True)
    assert read_sidecar(fetched.path) is None


def test_a_file_already_in_the_corpus_is_not_copied_again(corpus):
    inside = write(corpus / "sub" / "rules.md", "# Rules\n")
    result = add_file(inside, corpus)
    assert result.status == "unchanged" and result.path == inside and entries(corpus) == ["sub"]


@pytest.mark.parametrize(("name", "message", "hint"), [
    ("tool.exe", "Unsupported file type .exe", ".pdf"),
    ("README", r"Unsupported file type \(no extension\)", ".docx"),
    (".hidden.md", "hidden name", "leading dot"),
])
def test_unusable_files_are_refused(corpus, tmp_path, name, message, hint):
    source = write(tmp_path / name, "x\n")
    with pytest.raises(SourceError, match=message) as caught:
        add_file(source, corpus)
    assert hint in caught.value.hint and entries(corpus) == []


def test_missing_files_and_folders_are_refused(corpus, tmp_path):
    with pytest.raises(SourceError, match="No such file") as caught:
        add_file("www.fca.org.uk/page", corpus)
    assert "https://" in caught.value.hint
    with pytest.raises(SourceError, match="is a folder"):
        add_file(tmp_path, corpus)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(SourceTooLarge):
        add_file(big, corpus, max_bytes=1000)


def test_add_sources_adds_what_it_can_and_reports_the_rest(server, corpus, tmp_path):
    good = write(tmp_path / "good.txt", "Good text.\n")
    report = add_sources([str(good), server.url_for("/missing"), str(tmp_path / "nope.md")], corpus, limits=FAST)
    assert [r.path.name for r in report.results] == ["good.txt"] and report.changed
    assert [(s, type(e).__name__) for s, e in report.failures] == [
        (server.url_for("/missing"), "FetchError"), (str(tmp_path / "nope.md"), "SourceError")]
    assert not add_sources([str(good)], corpus).changed


def test_the_corpus_folder_is_made_but_not_its_parents(tmp_path):
    source = write(tmp_path / "a.md", "# A\n")
    assert add_file(source, tmp_path / "new-corpus").path == tmp_path / "new-corpus" / "a.md"
    with pytest.raises(CorpusError, match="nor its parent"):
        add_file(source, tmp_path / "typo" / "corpus")


# --- atomic writes --------------------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_file_and_no_temporary(corpus, monkeypatch):
    target = write(corpus / "rules.md", "# Old\n")

    def failing_fsync(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(CorpusError, match="No space left on device"):
        write_atomic(target, b"# New\n")
    assert target.read_text() == "# Old\n" and entries(corpus) == ["rules.md"]


# --- kb add through the CLI -------------------------------------------------------------------------


def kb(args: list[str], corpus: Path, tmp_path: Path, **env: str):
    from typer.testing import CliRunner

    from kb.cli import app

    environment = {"KB_MODEL": FAKE_MODEL, "KB_CORPUS": str(corpus), "KB_INDEX": str(tmp_path / "index"),
                   "COLUMNS": "250", "NO_COLOR": "1", "KB_DEBUG": "", **env}
    return CliRunner().invoke(app, args, env=environment)


def test_kb_add_fetches_a_page_copies_a_file_indexes_both_and_cites_the_url(server, corpus, tmp_path):
    url = serve_page(server, "/guidance/widget-licensing", PAGE)
    memo = write(tmp_path / "memo.md", "# Gadget memo\n\nGadget makers must register with the Gadget Board.\n")
    result = kb(["add", url, str(memo)], corpus, tmp_path)
    assert result.exit_code == 0, result.output
    assert f"added     corpus/127.0.0.1-widget-licensing.html ← {url}" in result.output.replace(str(tmp_path) + "/", "")
    assert "added     " in result.output and "memo.md" in result.output
    assert "2 new, 0 updated, 0 unchanged, 0 removed, 0 skipped — full build (first build)" in result.output

    answer = kb(["ask", "When do widget licence applications open?"], corpus, tmp_path)
    assert "1 March 2032" in answer.output
    assert f"127.0.0.1-widget-licensing.html (§ Widget licensing guidance, undated)\n    {url}\n" in answer.output
    listed = kb(["sources", "--json"], corpus, tmp_path)
    origins = {d["source"]: d["origin"] for d in json.loads(listed.output)["documents"]}
    assert origins == {"127.0.0.1-widget-licensing.html": url, "memo.md": None}
    table = kb(["sources"], corpus, tmp_path).output
    assert url in table and table.index("127.0.0.1-widget-licensing.html") < table.index(url)


def test_kb_add_url_again_refreshes_and_reindexes_only_a_change(server, corpus, tmp_path):
    url = serve_page(server, "/notice", PAGE)
    assert kb(["add", url], corpus, tmp_path).exit_code == 0
    again = kb(["add", url, "--json"], corpus, tmp_path)
    data = json.loads(again.output)
    assert data["schema"] == "kb.add/1" and data["ok"] is True and data["failed"] == []
    assert [s["status"] for s in data["sources"]] == ["unchanged"] and data["sources"][0]["url"] == url
    assert data["index"]["written"] is False and data["index"]["embedded"] == 0
    assert "the index is up to date" in kb(["add", url], corpus, tmp_path).output
    server.clear()
    serve_page(server, "/notice", PAGE.replace("1 March 2032", "1 April 2032"))
    changed = json.loads(kb(["add", url, "--json"], corpus, tmp_path).output)
    assert changed["sources"][0]["status"] == "updated"
    assert changed["index"]["updated"] == ["127.0.0.1-notice.html"] and changed["index"]["written"] is True


def test_kb_add_reports_each_failure_on_one_red_line_adds_the_rest_and_exits_non_zero(server, corpus, tmp_path):
    def slow(request):
        time.sleep(1.5)
        return Response(PAGE, content_type="text/html")

    server.expect_request("/slow").respond_with_handler(slow)
    server.expect_request("/missing").respond_with_data("Not here", status=404)
    serve_page(server, "/logo.png", b"\x89PNG\r\n", "image/png")
    serve_page(server, "/huge", "<p>" + "x" * (1024 * 1024 + 10) + "</p>")
    good = serve_page(server, "/good", PAGE)
    sources = [server.url_for("/missing"), server.url_for("/slow"), server.url_for("/logo.png"),
               server.url_for("/huge"), "ftp://example.org/a.pdf", str(tmp_path / "no such file.md"), good]
    result = kb(["add", *sources, "--timeout", "0.5"], corpus, tmp_path, KB_MAX_FILE_MB="1")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 6, result.output
    for expected in ("HTTP 404", "Timed out fetching", "is image/png, not an HTML page or a PDF",
                     "over the 1.0 MB limit", "Unsupported URL scheme ftp:", "No such file"):
        assert sum(expected in line for line in errors) == 1, (expected, errors)
    assert "Traceback" not in result.output
    assert "added     " in result.output and "1 new, 0 updated" in result.output  # the good page still went in
    assert sorted(p.name for p in corpus.iterdir() if not p.name.startswith(".")) == ["127.0.0.1-good.html"]

    data = json.loads(kb(["add", server.url_for("/missing"), "--json", "--no-index"], corpus, tmp_path).output)
    assert data["ok"] is False and data["sources"] == [] and data["index"] is None
    (failure,) = data["failed"]
    assert failure["source"] == server.url_for("/missing") and "HTTP 404 NOT FOUND" in failure["error"]
    assert "The page is not there" in failure["hint"]


def test_kb_add_to_a_corpus_given_by_flag_and_only_files_when_asked(corpus, tmp_path):
    other = tmp_path / "elsewhere"
    note = write(tmp_path / "note.txt", "Sprocket firms file returns yearly.\n")
    result = kb(["add", str(note), "--corpus", str(other), "--no-index"], corpus, tmp_path)
    assert result.exit_code == 0, result.output
    assert (other / "note.txt").read_text() == note.read_text() and "Not indexed" in result.output
    assert not (tmp_path / "index").exists()
    missing = kb(["add", str(note), "--corpus", str(tmp_path / "no" / "such")], corpus, tmp_path)
    assert missing.exit_code == 1 and "Corpus folder not found" in missing.output


def test_a_url_with_a_password_is_refused_without_repeating_it(corpus):
    with pytest.raises(SourceError, match="holds a user name or password") as caught:
        add_url("https://ann:s3cret@example.org/rules", corpus)
    assert "s3cret" not in caught.value.message and "ann" not in caught.value.message and entries(corpus) == []


def test_an_empty_page_is_refused(server, corpus):
    url = serve_page(server, "/blank", "  \n")
    with pytest.raises(SourceError, match="sent an empty page"):
        add_url(url, corpus, limits=FAST)
    assert entries(corpus) == []


def test_a_file_name_with_a_line_break_is_refused(corpus, tmp_path):
    odd = write(tmp_path / "two\nlines.md", "# Odd\n")
    with pytest.raises(SourceError, match="line break or control character"):
        add_file(odd, corpus)


def test_kb_add_names_the_files_the_index_skipped_and_why(corpus, tmp_path):
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n")  # put there by hand, not by kb add
    empty = tmp_path / "empty.md"
    empty.write_text("")
    good = write(tmp_path / "good.md", "# Good\n\nGood widget text.\n")
    result = kb(["add", str(empty), str(good)], corpus, tmp_path)
    assert result.exit_code == 1  # one source failed
    assert "empty.md was not added: empty file" in " ".join(result.output.split())
    assert not (corpus / "empty.md").exists() and (corpus / "good.md").is_file()
    assert "Files with problems" in result.output and "broken.pdf" in result.output and "skipped" in result.output


def test_kb_add_while_another_build_runs_keeps_the_file_and_says_the_index_was_not_updated(corpus, tmp_path):
    from filelock import FileLock

    from kb.index.layout import IndexLayout

    note = write(tmp_path / "note.md", "# Note\n\nSprocket firms file returns yearly.\n")
    (tmp_path / "index").mkdir()
    lock = FileLock(str(IndexLayout(tmp_path / "index").lock_file))  # as a running `kb index` holds it
    with lock:
        result = kb(["add", str(note), "--wait", "0.2"], corpus, tmp_path)
    assert result.exit_code == 1 and (corpus / "note.md").is_file()
    assert "added     " in result.output and "Error: the index was not updated: Another `kb index`" in result.output
    again = kb(["add", str(note), "--json"], corpus, tmp_path)
    data = json.loads(again.output)
    assert data["ok"] is True and data["index"]["added"] == ["note.md"]  # the next run finishes the job


def test_a_file_name_of_255_bytes_is_added_without_a_crash(tmp_path):
    from kb.add import add_file

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = tmp_path / ("w" * 252 + ".md")
    source.write_text("# Widgets\n\nWidget rules apply from 2031.\n")
    result = add_file(source, corpus)
    assert result.status == "added" and (corpus / source.name).read_text().startswith("# Widgets")
    assert [p.name for p in corpus.iterdir()] == [source.name]  # no temporary file left


def test_an_unreadable_document_is_refused_and_never_replaces_a_good_copy(tmp_path):
    from kb.add import add_file
    from kb.errors import SourceError

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    fake = tmp_path / "rules.pdf"
    fake.write_bytes(b"%PDF-1.7\n")
    with pytest.raises(SourceError, match="was not added"):
        add_file(fake, corpus)
    assert not list(corpus.iterdir())
    good = tmp_path / "notes.md"
    good.write_text("# Notes\n\nThe gateway opens in 2031.\n")
    add_file(good, corpus)
    good.write_text("")
    with pytest.raises(SourceError, match="empty"):
        add_file(good, corpus, overwrite=True)
    assert (corpus / "notes.md").read_text().startswith("# Notes")


def serve_without_content_type(server: HTTPServer, path: str, body: bytes) -> str:
    """A response with no Content-Type header at all (werkzeug adds one unless it is taken out)."""
    def handler(request):
        response = Response(body)
        del response.headers["Content-Type"]
        return response

    server.expect_request(path).respond_with_handler(handler)
    return server.url_for(path)


@pytest.mark.parametrize("path, body, suffix", [
    ("/guidance", b"\xef\xbb\xbf\n  " + PAGE.encode(), ".html"),  # a BOM and white space before the doctype
    ("/guidance", b"<html><body><p>The widget gateway opens in 2032.</p></body></html>", ".html"),
    ("/page.html", b"The widget gateway opens in 2032. <b>Apply early.</b>", ".html"),  # by the extension
    ("/download", None, ".pdf"),
])
def test_kb_add_reads_a_page_served_without_a_content_type_as_a_browser_does(server, corpus, tmp_path, path, body,
                                                                             suffix):
    url = serve_without_content_type(server, path, body or make_pdf(["The widget gateway opens in 2032."]))
    with httpx.stream("GET", url) as response:
        assert "content-type" not in response.headers  # the case being tested
    result = kb(["add", url, "--json"], corpus, tmp_path)
    assert result.exit_code == 0, result.output
    (added,) = json.loads(result.stdout)["sources"]
    assert added["status"] == "added" and added["path"].endswith(suffix) and added["content_type"] == ""
    answer = kb(["ask", "When does the widget gateway open?"], corpus, tmp_path)
    assert answer.exit_code == 0 and "2032" in answer.output


def test_kb_add_refuses_content_without_a_content_type_that_is_neither_html_nor_pdf(server, corpus, tmp_path):
    url = serve_without_content_type(server, "/data", b"PK\x03\x04 a zip file")
    result = kb(["add", url], corpus, tmp_path)
    assert result.exit_code == 1
    assert "has no Content-Type, and its content is neither an HTML page nor a PDF" in " ".join(result.output.split())
    assert entries(corpus) == []
