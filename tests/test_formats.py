"""PDF, HTML and DOCX extraction. Every fixture file is built here, in memory; all text is invented."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import zipfile

import pytest

from kb.errors import BadDocument
from kb.formats import Extracted, _clean_text, extract_docx, extract_html, extract_pdf

# --- PDF -----------------------------------------------------------------------------------------

PAGES = [
    "Part 1: Widget rules of the Fixture Authority.\nDealers register before trading.",
    "Part 2: Gadget fees are payable in advance.",
    "Part 3: Appeals go to the Fixture Tribunal.",
]


from conftest import make_pdf


def test_pdf_pages_text_and_offsets():
    result = extract_pdf(make_pdf(PAGES))
    assert isinstance(result, Extracted)
    assert len(result.page_starts) == 3
    assert result.page_starts[0] == 0
    for start, page in zip(result.page_starts, PAGES):
        assert result.text.startswith(page, start)
    # Pages are joined by exactly one blank line, and each page start is a line start.
    assert result.text == "\n\n".join(PAGES)
    assert all(result.text[start - 2:start] == "\n\n" for start in result.page_starts[1:])
    assert result.title == "Fixture widget rules"
    assert result.metadata == {"author": "Fixture Authority", "date": "2031-03-04"}
    assert result.warnings == ()


def test_pdf_empty_pages_are_warned_about_and_keep_their_offsets():
    result = extract_pdf(make_pdf([PAGES[0], "", "", PAGES[2], ""], title=None))
    assert len(result.page_starts) == 5
    assert result.text.startswith(PAGES[2], result.page_starts[3])
    assert result.text.strip() == PAGES[0] + "\n\n\n\n\n\n" + PAGES[2]
    assert result.warnings == (
        "pages 2-3 have no extractable text (scanned images?)",
        "page 5 has no extractable text (scanned image?)",
    )
    assert result.title is None


@pytest.mark.parametrize("title", ["Microsoft Word - widget_rules.docx", "Untitled", "   "])
def test_pdf_placeholder_titles_are_ignored(title):
    assert extract_pdf(make_pdf(PAGES[:1], title=title)).title is None


def test_pdf_without_any_text_is_a_bad_document():
    with pytest.raises(BadDocument, match=r"no extractable text \(scanned PDF\?\)"):
        extract_pdf(make_pdf(["", ""]))


def test_pdf_with_user_password_is_refused():
    raw = make_pdf(["Secret widget schedule."], owner_password="owner", user_password="fixture-secret")
    with pytest.raises(BadDocument, match="^encrypted PDF") as caught:
        extract_pdf(raw)
    assert "password required" in caught.value.message


@pytest.mark.parametrize("method", ["RC4", "AES_128", "AES_256"])
def test_pdf_encrypted_with_empty_user_password_opens(method):
    EncryptionMethod = pytest.importorskip("fpdf.enums").EncryptionMethod

    raw = make_pdf(["Widget schedule, restricted printing."], owner_password="owner",
                   encryption_method=getattr(EncryptionMethod, method))
    assert b"/Encrypt" in raw
    assert extract_pdf(raw).text == "Widget schedule, restricted printing."


@pytest.mark.parametrize("cut", [200, 0.5, -10])
def test_truncated_pdf_is_corrupt(cut):
    raw = make_pdf(PAGES)
    end = int(len(raw) * cut) if isinstance(cut, float) else cut
    with pytest.raises(BadDocument, match="^corrupt PDF: "):
        extract_pdf(raw[:end])


@pytest.mark.parametrize("raw", [
    b"",
    os.urandom(4096),
    b"%PDF-1.7\n" + os.urandom(4096),
    b"<html><body>not a pdf</body></html>",
], ids=["empty", "random", "pdf-header-then-junk", "html"])
def test_not_a_pdf_is_a_bad_document(raw):
    with pytest.raises(BadDocument, match="^corrupt PDF: ") as caught:
        extract_pdf(raw)
    assert len(caught.value.message) < 160  # a short reason, not a dump


def test_damaged_pdf_is_read_leniently_with_a_warning_and_prints_nothing(capfd):
    raw = make_pdf(PAGES[:1])
    damaged = re.sub(rb"startxref\s+(\d+)", lambda m: b"startxref\n" + str(int(m.group(1)) + 7).encode(), raw)
    assert damaged != raw
    result = extract_pdf(damaged)
    assert result.text == PAGES[0]
    assert len(result.warnings) == 1 and result.warnings[0].startswith("damaged PDF structure")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_pdf_text_is_cleaned(monkeypatch):
    """What pypdf returns goes through the same cleaning as every other format."""
    PageObject = pytest.importorskip("pypdf").PageObject

    monkeypatch.setattr(PageObject, "extract_text", lambda self, *a, **k: "Widget\x00 rule  \r\n\n\n\n\n\x0cNext\u2028line\t ")
    result = extract_pdf(make_pdf(["placeholder"]))
    assert result.text == "Widget rule\n\n\nNext\nline"


def test_a_page_that_fails_is_a_warning_not_an_error(monkeypatch):
    PageObject = pytest.importorskip("pypdf").PageObject

    original = PageObject.extract_text
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyError("/Widths")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", flaky)
    result = extract_pdf(make_pdf(PAGES))
    assert result.text == PAGES[0] + "\n\n\n\n" + PAGES[2]
    assert result.warnings == ("page 2: text could not be extracted (/Widths)",)


# --- text cleaning -------------------------------------------------------------------------------


def test_clean_text_keeps_lines_and_drops_controls():
    text = "a\x00b\x01\x1b\x7f\x9c c   \r\nd\re\u2028f\u2029g\x85h\n\n\n\n\n\ni\ufeff\tj"
    cleaned = _clean_text(text)
    assert cleaned == "ab c\nd\ne\nf\n\ng\nh\n\n\ni\tj"
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", cleaned)
    assert cleaned.splitlines() == cleaned.split("\n")  # no hidden line breaks for the chunker


def test_clean_text_is_linear_on_long_runs_of_spaces():
    text = "x" + " " * 200_000 + "y\n" + "z " * 100_000
    assert _clean_text(text).startswith("x" + " " * 200_000 + "y\nz")


# --- HTML ----------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>Widget rules 2031 | Fixture Authority</title>
<meta name="author" content="Fixture Authority">
<meta name="dcterms.issued" content="2031-03-04T10:00:00Z">
<style>body { font-family: sans-serif; } .widget-tracking { color: red }</style>
<script>window.widgetTracking = "tracking script text";</script>
</head>
<body>
<div id="cookie-banner" class="cookie-consent">We use cookies on this fixture site. <button>Accept all cookies</button></div>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header">
  <a href="/">Fixture Authority home</a>
  <nav><ul><li><a href="/news">News</a></li><li><a href="/rules">Rules</a></li><li><a href="/contact">Contact us</a></li></ul></nav>
</header>
<div class="breadcrumbs"><a href="/">Home</a> &gt; <a href="/rules">Rules</a></div>
<main id="main">
<article>
<h1>Widget   rules <em>2031</em></h1>
<p>The Fixture Authority sets out the rules that apply to <strong>widget dealers</strong>
   in Examplia from 1&nbsp;June 2031.</p>
<h2>Who must register</h2>
<p>Every firm that sells more than ten widgets a year must register.</p>
<ul>
  <li>Dealers of blue widgets</li>
  <li>Brokers arranging <a href="/swaps">widget swaps</a>
    <ul><li>including gadget swaps</li></ul>
  </li>
</ul>
<p hidden>A hidden paragraph.</p>
<div style="display: none">A display-none paragraph.</div>
<h3>Fees</h3>
<table>
<thead><tr><th>Firm size</th><th>Annual fee</th></tr></thead>
<tbody><tr><td>Small</td><td><p>100</p><p>florins</p></td></tr><tr><td>Large</td><td>900 florins</td></tr></tbody>
</table>
<p>Fixture Authority<br>1 Widget Street<br>Examplia</p>
<pre>rule   7
  indented</pre>
<div class="share">Share this page</div>
<footer>Article tags: widgets</footer>
</article>
<aside><h2>Related</h2><ul><li><a href="/x">Gadget rules</a></li></ul></aside>
</main>
<footer><p>&copy; 2031 Fixture Authority. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
<noscript>Enable JavaScript for widgets</noscript>
</body>
</html>
"""

PAGE_TEXT = """\
# Widget rules 2031

The Fixture Authority sets out the rules that apply to widget dealers in Examplia from 1 June 2031.

## Who must register

Every firm that sells more than ten widgets a year must register.

- Dealers of blue widgets
- Brokers arranging widget swaps
  - including gadget swaps

### Fees

Firm size | Annual fee
Small | 100 florins
Large | 900 florins

Fixture Authority
1 Widget Street
Examplia

rule   7
  indented"""


def test_html_main_text_only_as_markdown_like_text():
    result = extract_html(PAGE.encode("utf-8"))
    assert result.text == PAGE_TEXT
    for noise in ("cookies", "Skip to", "News", "Home", "tracking", "font-family", "hidden", "display-none",
                  "Share this", "Related", "Gadget rules", "rights reserved", "Privacy", "JavaScript", "Article tags"):
        assert noise not in result.text
    assert result.title == "Widget rules 2031 | Fixture Authority"
    assert result.metadata == {"author": "Fixture Authority", "date": "2031-03-04", "language": "en-GB"}
    assert result.page_starts == () and result.warnings == ()


def test_html_without_main_drops_layout_blocks_by_name():
    page = b"""<html><head><title>Gadget notice</title></head>
    <body class="cookies-accepted">
    <div id="header"><span>Regulating widgets since 2030</span></div>
    <div id="menu"><ul><li><a href="/">Home</a></li><li><a href="/a">About</a></li><li><a href="/b">Publications</a></li></ul></div>
    <div class="sidebar"><h3>Quick links</h3><ul><li><a href="/q">Pay a widget fee</a></li></ul></div>
    <div id="content">
      <h1>Gadget notice 7</h1>
      <p>Gadget makers report incidents to the Fixture Authority.</p>
      <ul><li><a href="/1">Part A</a></li><li><a href="/2">Part B</a></li><li><a href="/3">Part C</a></li></ul>
      <ul><li>Within five days</li><li>By letter</li><li>In <a href="/w">widget form W1</a> only</li></ul>
    </div>
    <div id="footer">Copyright Fixture Authority 2031 | <a href="/t">Terms</a></div>
    </body></html>"""
    result = extract_html(page)
    assert result.text == (
        "# Gadget notice 7\n\nGadget makers report incidents to the Fixture Authority.\n\n"
        "- Within five days\n- By letter\n- In widget form W1 only"
    )


def test_html_class_names_on_inline_elements_do_not_remove_them():
    page = b'<main><h2><a class="header" href="#s1">Section one</a></h2><p>Widget <span class="nav">text</span>.</p></main>'
    assert extract_html(page).text == "## Section one\n\nWidget text."


def test_html_long_block_with_a_cookie_class_is_content():
    policy = "Widget dealers must ask before storing cookies. " * 60
    page = f'<main><div class="cookie-policy"><h1>Cookie rules</h1><p>{policy}</p></div></main>'.encode()
    assert extract_html(page).text == "# Cookie rules\n\n" + policy.strip()


def test_html_article_header_is_kept_but_its_footer_is_not():
    page = b"""<body><header>Site banner</header><article><header><h1>Widget order 3</h1><p>Issued by the
    Fixture Authority.</p></header><p>Widgets are sold by weight.</p><footer>Share: widgets</footer></article></body>"""
    assert extract_html(page).text == "# Widget order 3\n\nIssued by the Fixture Authority.\n\nWidgets are sold by weight."


def test_html_title_falls_back_to_first_h1():
    result = extract_html(b"<body><main><p>Intro.</p><h1>Widget <b>guide</b></h1><h1>Second</h1></main></body>")
    assert result.title == "Widget guide"
    assert result.metadata == {}


def test_html_meta_charset_windows_1252():
    body = "<p>Widget fee: 5 \u20ac \u2013 \u201cfixture\u201d na\u00efve caf\u00e9</p>"
    page = f'<html><head><meta charset="windows-1252"><title>Caf\u00e9 widgets</title></head><body>{body}</body></html>'
    raw = page.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    result = extract_html(raw)
    assert result.text == "Widget fee: 5 \u20ac \u2013 \u201cfixture\u201d na\u00efve caf\u00e9"
    assert result.title == "Caf\u00e9 widgets"
    assert result.warnings == ()


def test_html_http_equiv_latin1_label_is_read_as_windows_1252():
    page = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><p>Fee \u20ac10 \u2014 caf\u00e9</p>'
    assert extract_html(page.encode("cp1252")).text == "Fee \u20ac10 \u2014 caf\u00e9"


def test_html_bom_wins_over_meta():
    page = '<meta charset="windows-1252"><p>Widget \u2713 \u00e9</p>'
    assert extract_html(b"\xef\xbb\xbf" + page.encode("utf-8")).text == "Widget \u2713 \u00e9"
    assert extract_html(b"\xff\xfe" + page.encode("utf-16-le")).text == "Widget \u2713 \u00e9"


@pytest.mark.parametrize("head", [b"", b'<meta charset="no-such-charset">'])
def test_html_bad_bytes_are_replaced_with_a_warning(head):
    result = extract_html(head + b"<p>Widget \xff\xfe fee \xe9 due</p>")
    assert result.text == "Widget \ufffd\ufffd fee \ufffd due"
    assert len(result.warnings) == 1


def test_html_control_characters_are_stripped():
    result = extract_html(b"<p>Widget\x01 rule\x1b &#1;&#127;&#x81;seven\x0b</p><p>two\rlines</p>")
    assert result.text == "Widget rule seven\n\ntwo lines"


def test_html_with_nul_bytes_is_binary():
    with pytest.raises(BadDocument, match="binary"):
        extract_html(b"<p>Widget</p>\x00\x00\x00\x01\x02")


@pytest.mark.parametrize("page", [
    b"",
    b"<html><head><title>Widget</title></head><body></body></html>",
    b"<html><body>   \n\t  </body></html>",
    b"<body><nav><a href='/'>Home</a></nav><script>var widget = 1;</script><footer>Fixture</footer></body>",
], ids=["empty-file", "empty-body", "whitespace", "only-boilerplate"])
def test_html_without_main_text_is_a_bad_document(page):
    with pytest.raises(BadDocument, match=r"^no main text found in HTML$"):
        extract_html(page)


def test_html_deep_nesting_does_not_hit_the_recursion_limit():
    depth = 5000
    page = b"<body>" + b"<div>" * depth + b"<p>Deep widget.</p>" + b"</div>" * depth + b"</body>"
    assert extract_html(page).text == "Deep widget."


def test_html_separate_lists_and_tables_stay_separate_paragraphs():
    page = (b"<main><ul><li>a</li></ul><ol><li>b</li></ol><table><tr><td>c</td></tr></table>"
            b"<table><tr><td>d</td><td></td><td>e</td></tr></table></main>")
    assert extract_html(page).text == "- a\n\n- b\n\nc\n\nd | e"


# --- DOCX ----------------------------------------------------------------------------------------


def new_docx():
    return pytest.importorskip("docx").Document()


def docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_docx(core_title: str | None = "Fixture widget rules"):
    document = new_docx()
    document.add_paragraph("Widget rules 2031", style="Title")
    document.add_heading("Scope", level=1)
    document.add_paragraph("These fixture rules apply to widget dealers.")
    document.add_heading("Registration", level=2)
    document.add_paragraph("Dealers must register.\nLate registration costs extra.")
    document.add_paragraph("Blue widgets", style="List Bullet")
    document.add_paragraph("Red widgets", style="List Bullet")
    document.add_paragraph("Nested gadget", style="List Bullet 2")
    document.add_paragraph("")
    document.add_paragraph("Pay the fee", style="List Number")
    table = document.add_table(rows=3, cols=2)
    for i, row in enumerate([("Size", "Fee"), ("Small", "100 florins"), ("Large", "900 florins")]):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    document.add_heading("Appeals", level=3)
    document.add_paragraph("Appeals go to the Fixture Tribunal.")
    core = document.core_properties
    core.title = core_title or ""
    core.author = "Fixture Authority"
    core.created = dt.datetime(2031, 3, 4, 10, 0)
    return document


DOCX_TEXT = """\
# Widget rules 2031

# Scope

These fixture rules apply to widget dealers.

## Registration

Dealers must register.
Late registration costs extra.

- Blue widgets
- Red widgets
  - Nested gadget

- Pay the fee

Size | Fee
Small | 100 florins
Large | 900 florins

### Appeals

Appeals go to the Fixture Tribunal."""


def test_docx_structure_as_markdown_like_text():
    result = extract_docx(docx_bytes(make_docx()))
    assert result.text == DOCX_TEXT
    assert result.title == "Fixture widget rules"
    assert result.metadata == {"author": "Fixture Authority", "date": "2031-03-04"}
    assert result.page_starts == () and result.warnings == ()


def test_docx_title_falls_back_to_first_level_one_heading():
    assert extract_docx(docx_bytes(make_docx(core_title=None))).title == "Widget rules 2031"


def test_docx_custom_heading_style_and_tracked_insertions():
    document = new_docx()
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    custom = document.styles.add_style("Widget Heading", WD_STYLE_TYPE.PARAGRAPH)
    custom.base_style = document.styles["Heading 2"]
    document.add_paragraph("Custom widget heading", style="Widget Heading")
    paragraph = document.add_paragraph("Dealers must ")
    insertion = OxmlElement("w:ins")
    insertion.set(qn("w:id"), "1")
    insertion.set(qn("w:author"), "Fixture Editor")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "always "
    run.append(text)
    insertion.append(run)
    paragraph._p.append(insertion)
    paragraph.add_run("register.")
    assert paragraph.text == "Dealers must register."  # python-docx alone drops the insertion
    assert extract_docx(docx_bytes(document)).text == "## Custom widget heading\n\nDealers must always register."


def test_docx_merged_cells_count_once():
    document = new_docx()
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "Widget class"
    table.cell(0, 2).text = "Fee"
    table.cell(1, 0).text = "A"
    table.cell(1, 1).text = "B"
    table.cell(0, 2).merge(table.cell(1, 2))
    assert [cell.text for cell in table.rows[1].cells] == ["A", "B", "Fee"]  # python-docx repeats merged cells
    assert extract_docx(docx_bytes(document)).text == "Widget class | Fee\nA | B"


def test_docx_content_controls_nested_tables_and_switched_off_numbering():
    document = new_docx()
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document.add_paragraph("Before the control.")
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    inner = document.add_paragraph("Inside a widget content control.")._p
    content.append(inner)  # moves the paragraph into the control
    sdt.append(content)
    document.element.body.insert(1, sdt)
    outer = document.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "Outer widget"
    nested = outer.cell(0, 1).add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "inner a"
    nested.cell(0, 1).text = "inner b"
    plain = document.add_paragraph("Not a list item", style="List Bullet")
    numbering = OxmlElement("w:numPr")
    num_id = OxmlElement("w:numId")
    num_id.set(qn("w:val"), "0")
    numbering.append(num_id)
    plain._p.get_or_add_pPr().append(numbering)
    assert extract_docx(docx_bytes(document)).text == (
        "Before the control.\n\nInside a widget content control.\n\nOuter widget | inner a inner b\n\nNot a list item"
    )


def test_docx_without_text_is_a_bad_document():
    with pytest.raises(BadDocument, match="no text"):
        extract_docx(docx_bytes(new_docx()))


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("raw", [
    b"",
    b"this is not a word document",
    os.urandom(2048),
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048),
    zip_bytes({"hello.txt": b"widget"}),
    zip_bytes({"[Content_Types].xml": b"<not-xml"}),
], ids=["empty", "text", "random", "ole", "zip-without-docx", "zip-broken-xml"])
def test_not_a_docx_is_corrupt(raw):
    with pytest.raises(BadDocument, match="^corrupt DOCX: ") as caught:
        extract_docx(raw)
    assert len(caught.value.message) < 160


def test_truncated_docx_is_corrupt():
    raw = docx_bytes(make_docx())
    with pytest.raises(BadDocument, match="^corrupt DOCX: "):
        extract_docx(raw[: len(raw) // 2])


def test_docx_output_has_no_control_characters():
    document = new_docx()
    paragraph = document.add_paragraph("Widget")
    paragraph.add_run().add_break()  # a line break inside the paragraph
    paragraph.add_run("rule\tseven")
    result = extract_docx(docx_bytes(document))
    assert result.text == "Widget\nrule\tseven"
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", result.text)


def minimal_docx(paragraphs: str) -> bytes:
    """A DOCX as small generators write it: the document part and its relations, no styles.xml."""
    return zip_bytes({
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                               b'package.relationships+xml"/><Override PartName="/word/document.xml" ContentType="'
                               b'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                               b'</Types>',
        "_rels/.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                       b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
                       b'2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml": ('<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                              'wordprocessingml/2006/main"><w:body>' + paragraphs + "</w:body></w:document>").encode(),
    })


def paragraph(text: str, properties: str = "") -> str:
    return f"<w:p><w:pPr>{properties}</w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"


@pytest.mark.parametrize("heading", ['<w:pStyle w:val="Heading1"/>', '<w:pStyle w:val="Title"/>',
                                     '<w:outlineLvl w:val="0"/>'], ids=["style id", "title", "outline level"])
def test_a_docx_heading_is_a_section_heading_not_text_joined_to_the_answer(tmp_path, heading):
    from typer.testing import CliRunner

    from kb.cli import app

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "thing.docx").write_bytes(minimal_docx(
        paragraph("Thingamajig Rules", heading)
        + paragraph("The Thingamajig Office licenses thingamajig dealers from 1 June 2031.")
        + paragraph("Dealers must renew their licence every year.", '<w:pStyle w:val="ListBullet"/>')))
    env = {"KB_MODEL": "hash:64", "KB_CORPUS": str(corpus), "KB_INDEX": str(tmp_path / "index"), "COLUMNS": "200",
           "NO_COLOR": "1"}
    runner = CliRunner()
    assert runner.invoke(app, ["index", "--strict"], env=env).exit_code == 0
    result = runner.invoke(app, ["ask", "Who licenses thingamajig dealers?", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answer"] == "The Thingamajig Office licenses thingamajig dealers from 1 June 2031."
    cited = data["passages"][0]
    assert cited["title"] == "Thingamajig Rules" and cited["section"] == "Thingamajig Rules"
    assert extract_docx((corpus / "thing.docx").read_bytes()).text.endswith("\n\n- Dealers must renew their licence "
                                                                              "every year.")


def test_a_body_text_outline_level_makes_a_heading_style_paragraph_plain_text():
    raw = minimal_docx(paragraph("Not a heading", '<w:pStyle w:val="Heading2"/><w:outlineLvl w:val="9"/>')
                       + paragraph("A heading", '<w:pStyle w:val="Heading2"/>'))
    assert extract_docx(raw).text == "Not a heading\n\n## A heading"
