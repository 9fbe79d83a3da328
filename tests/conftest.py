"""Shared fixtures. Fast tests use the deterministic hash embedder (model name "hash:64")."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The verified ONNX export of the model is cached here across test runs (not in the user's ~/.cache).
os.environ.setdefault("KB_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".kb-test-cache"))

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FAKE_MODEL = "hash:64"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def fixture_corpus(tmp_path: Path) -> Path:
    """A small invented corpus (fixtures, not real regulatory facts)."""
    corpus = tmp_path / "corpus"
    write(corpus / "alpha.md", """
        ---
        title: "Fixture: Widget Authority licensing notice"
        date: 2031-03-04
        jurisdiction: Examplia
        type: guidance
        ---

        # Widget licensing

        The Widget Authority regulates widget dealers in Examplia.

        ## Applications

        The Widget Authority expects widget licence applications to open in 2032.
        Firms should prepare their documents before the gateway opens.

        ## Fees

        The application fee is 500 credits for small firms and 900 credits for large firms.
        """)
    write(corpus / "beta.txt", """
        Gadget oversight report

        Gadget makers must register with the Gadget Board before selling gadgets.

        Registration takes twelve weeks from a complete application.
        """)
    write(corpus / "records.jsonl", """
        {"id": "R-1", "title": "Fixture rulebook", "text": "Rule 1.1: A sprocket firm must keep records for seven years."}
        {"id": "R-2", "title": "Fixture rulebook", "text": "Rule 1.2: A sprocket firm must appoint a compliance officer."}
        """)
    return corpus


@pytest.fixture
def fake_settings(tmp_path: Path, fixture_corpus: Path):
    from kb.config import Settings

    return Settings(corpus=fixture_corpus, index=tmp_path / "index", model=FAKE_MODEL)


@pytest.fixture
def cli_env(tmp_path: Path, fixture_corpus: Path) -> dict[str, str]:
    """Environment for CliRunner: fake model, fixture corpus, stable width, no config file lookup surprises."""
    return {
        "KB_MODEL": FAKE_MODEL,
        "KB_CORPUS": str(fixture_corpus),
        "KB_INDEX": str(tmp_path / "index"),
        "COLUMNS": "120",
        "NO_COLOR": "1",
        "KB_DEBUG": "",
        "KB_HISTORY": str(tmp_path / "history"),  # the prompt's history: never the user's own file
    }


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared/ is only present in the development workspace)")
    return path


def make_pdf(pages: list[str], *, title: str | None = "Fixture widget rules", created=None, **encryption) -> bytes:
    """A real PDF with one page per text (fpdf2, a test-only dependency; tests skip without it)."""
    import datetime as dt

    pdf = pytest.importorskip("fpdf", reason="fpdf2 builds the PDF fixtures").FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_author("Fixture Authority")
    pdf.set_creation_date(created or dt.datetime(2031, 3, 4, 9, 30, tzinfo=dt.timezone.utc))
    for text in pages:
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        if text:
            pdf.multi_cell(0, 8, text)
    if encryption:
        pdf.set_encryption(**encryption)
    return bytes(pdf.output())


def make_docx(blocks: list[tuple[str, str]]) -> bytes:
    """A DOCX from (style, text) pairs, e.g. ("Heading 1", "Fees"), ("Normal", "...")."""
    import io

    docx = pytest.importorskip("docx", reason="python-docx builds the DOCX fixtures")
    document = docx.Document()
    for style, text in blocks:
        document.add_paragraph(text, style=style)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
