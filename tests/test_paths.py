"""Stored corpus paths: valid Unicode, readable, and one file's name only (kb.paths)."""

import itertools
import os

from kb.paths import path_key, path_name, readable


def test_a_name_that_is_not_utf8_is_stored_readably_and_losslessly():
    name = os.fsdecode(b"docs/caf\xe9.md")
    assert path_key(name) == "docs/caf\\xe9.md"
    assert path_name(path_key(name)) == name
    assert readable(name) == "docs/caf\\xe9.md"


def test_ordinary_names_are_stored_as_they_are():
    for name in ("rules.md", "ünï code file.md", "a\\b.md", "x41\\x41.md", "notes\\x.md"):
        assert path_key(name) == name and path_name(name) == name


def test_every_name_has_its_own_stored_form():
    # A literal "\xe9" in a name and the byte 0xE9 must not meet, whatever backslashes come before.
    pieces = ["a", "\\", "x", "e9", os.fsdecode(b"\xe9"), "\u00e9"]
    seen = {}
    for length in range(6):
        for parts in itertools.product(pieces, repeat=length):
            name = "".join(parts)
            key = path_key(name)
            key.encode("utf-8")  # storable
            assert path_name(key) == name
            assert seen.setdefault(key, name) == name
