"""Corpus paths as kb stores and shows them: valid Unicode, and back to the file on disk.

A POSIX file name is bytes. One that is not UTF-8 ("caf\\xe9.md", Latin-1) comes from Python with each
undecodable byte as a lone surrogate, which SQLite, JSON and terminals cannot take. Its stored form
writes such a byte as `\\xe9` instead: readable, and lossless, so the file is found again from what
the index holds. A backslash run before a literal "x80" to "xff" is doubled to keep the two apart; every name
without either (nearly all) is stored as it is, so existing indexes keep their paths.
"""

from __future__ import annotations

import re
from pathlib import Path

# Only bytes 0x80-0xff can be undecodable (ASCII always decodes), so only "\\x80" to "\\xff" are escapes.
_ENCODE = re.compile(r"(\\*)(?:(x[89a-fA-F][0-9a-fA-F])|([\udc80-\udcff]))")
_DECODE = re.compile(r"(\\+)x([89a-fA-F][0-9a-fA-F])")
_BYTE = re.compile(r"[\udc80-\udcff]")


def path_key(name: str) -> str:
    """`name` (a "/"-separated path from the file system, surrogate-escaped) as kb stores and shows it."""

    def escape(match: re.Match[str]) -> str:
        run, literal, byte = match.groups()
        if literal is not None:
            return run * 2 + literal if run else literal
        return run * 2 + f"\\x{ord(byte) - 0xDC00:02x}"

    return _ENCODE.sub(escape, name) if "\\" in name or not name.isascii() else name


def path_name(key: str) -> str:
    """The file system's name (surrogate-escaped) for a stored path: the inverse of `path_key`."""
    if "\\" not in key:
        return key

    def unescape(match: re.Match[str]) -> str:
        run, byte = match.group(1), match.group(2)
        if len(run) % 2 == 0:  # doubled by path_key: a literal backslash run before a literal "xHH"
            return "\\" * (len(run) // 2) + "x" + byte
        return "\\" * (len(run) // 2) + chr(0xDC00 + int(byte, 16))

    return _DECODE.sub(unescape, key)


def corpus_file(corpus: Path, key: str) -> Path:
    """The file on disk that the stored path `key` names in `corpus`."""
    return Path(corpus) / path_name(key)


def readable(text: str) -> str:
    """`text` with each undecodable byte of a file name (a lone surrogate) written as `\\xe9`: shown, not
    dropped, and encodable. For messages and paths on their way out; not reversible (see path_key)."""
    return _BYTE.sub(lambda match: f"\\x{ord(match.group()) - 0xDC00:02x}", text) if not text.isascii() else text
