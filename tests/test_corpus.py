"""The bundled corpus must be ours to distribute: every file names its licence as its publisher states it."""

import re

import yaml

from conftest import REPO

# Licences that allow redistribution, as publishers state them (matched as a phrase in the `licence` field).
ALLOWED = (
    r"^Public domain\b",  # US government works
    r"^Open Government Licence v3\.0$",  # legislation.gov.uk, GOV.UK
    r"^Open Parliament Licence v3\.0$",  # Hansard
    r"reuse under (?:Commission )?Decision 2011/833/EU$",  # EUR-Lex
    r"^CC BY(?:[- ]\d\.\d)?(?: International)?$",  # Creative Commons Attribution
)
# The seed news article is bundled as the demo document (see its front matter); it names no licence.
EXCEPTIONS = {"uk-crypto-lobby-tech-bridge-2025.md"}


def front_matter(path):
    text = path.read_text(encoding="utf-8")
    match = re.match(r"\A---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, f"{path.name} has no front matter"
    return yaml.safe_load(match.group(1))


def test_every_bundled_file_names_an_allowed_licence():
    files = sorted((REPO / "corpus").iterdir())
    assert files
    unlicensed = set()
    for path in files:
        licence = front_matter(path).get("licence")
        if licence is None:
            unlicensed.add(path.name)
            continue
        assert any(re.search(pattern, licence) for pattern in ALLOWED), f"{path.name}: {licence!r}"
    assert unlicensed == EXCEPTIONS


def test_no_fca_page_is_bundled():
    # The FCA's copyright notice allows extracts for personal or in-house use only, not distribution.
    for path in (REPO / "corpus").iterdir():
        meta = front_matter(path)
        assert "fca.org.uk" not in str(meta.get("source", "")), path.name
        assert not path.name.startswith("uk-fca-"), path.name
