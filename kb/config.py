"""Settings, resolved once: defaults < kb.toml or [tool.kb] in pyproject.toml < KB_* env < flags.

Relative paths in a config file are relative to that file's folder, so `kb` works from any
sub-folder of a project; without a config file they are relative to the working directory.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from kb.errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("auto", "onnx", "torch")


@dataclass(frozen=True, slots=True)
class Settings:
    corpus: Path = Path("corpus")
    index: Path = Path("indexes/default")
    model: str = DEFAULT_MODEL
    backend: str = "auto"  # "onnx" (exact export, no torch at query time), "torch", or "auto": onnx if it works
    chunk_tokens: int = 200  # per chunk; the model's limit also has to hold the title/section prefix
    overlap_tokens: int = 32  # carried over when a paragraph is split between chunks
    # Small batches pad less: texts are sorted by length, but a batch still pads to its longest text
    # (2,000 ObliQA passages on 2 cores: 54 texts/s at 8, 43 at 32; `scripts/bench.py --parts batch`).
    batch_size: int = 8
    top_k: int = 5
    max_file_mb: int = 25  # larger files are skipped with a note, not read (a 50 MB dump would take hours to embed)
    follow_symlinks: bool = False  # index files that symlinks inside the corpus lead to outside it
    config_file: Path | None = None
    # The corpus was chosen (argument, KB_CORPUS, or a config file for its own index), not left at a
    # default: otherwise an existing index is updated from its own corpus, never silently rebuilt from
    # "./corpus" or from the corpus a config file names for another index.
    corpus_given: bool = True


_PATH_FIELDS = {"corpus", "index"}
_INT_FIELDS = {"chunk_tokens", "overlap_tokens", "batch_size", "top_k", "max_file_mb"}
_BOOL_FIELDS = {"follow_symlinks"}
_FIELDS = {f.name for f in dataclasses.fields(Settings)} - {"config_file", "corpus_given"}


def find_config_file(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest kb.toml, or pyproject.toml with a [tool.kb] table, from `start` upwards."""
    for folder in (start, *start.parents):
        kb_toml = folder / "kb.toml"
        if kb_toml.is_file():
            return kb_toml, _read_toml(kb_toml)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            table = _read_toml(pyproject).get("tool", {}).get("kb")
            if isinstance(table, dict):
                return pyproject, table
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}") from None


def _coerce(name: str, value: Any, base: Path, origin: str) -> Any:
    if name not in _FIELDS:
        raise ConfigError(f"Unknown setting {name!r} in {origin}.", f"Known settings: {', '.join(sorted(_FIELDS))}.")
    if name in _PATH_FIELDS:
        path = Path(os.path.expanduser(str(value)))
        return path if path.is_absolute() else base / path
    if name in _INT_FIELDS:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"Setting {name!r} in {origin} must be a whole number, not {value!r}.") from None
        if number < (0 if name == "overlap_tokens" else 1):
            raise ConfigError(f"Setting {name!r} in {origin} is out of range: {number}.")
        return number
    if name in _BOOL_FIELDS:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"Setting {name!r} in {origin} must be true or false, not {value!r}.")
    if name == "backend" and str(value) not in BACKENDS:
        raise ConfigError(f"Setting 'backend' in {origin} must be one of {', '.join(BACKENDS)}, not {value!r}.")
    return str(value)


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings from every layer. `overrides` are command-line flags; None values are ignored."""
    cwd = (cwd or Path.cwd()).resolve()
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {"corpus": cwd / "corpus", "index": cwd / "indexes" / "default"}
    config_file = None
    found = find_config_file(cwd)
    if found:
        config_file, table = found
        for name, value in table.items():
            values[name] = _coerce(name, value, config_file.parent, str(config_file))
    for name in _FIELDS:
        env_value = environ.get(f"KB_{name.upper()}")
        if env_value:
            values[name] = _coerce(name, env_value, cwd, f"KB_{name.upper()}")
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = _coerce(name, value, cwd, f"--{name.replace('_', '-')}")
    # A config file's corpus goes with the config file's index: for an index named by --index or
    # KB_INDEX it is no more than the default, and that index's own recorded corpus comes first.
    index_named = (overrides or {}).get("index") is not None or bool(environ.get("KB_INDEX"))
    given = (bool(found) and "corpus" in found[1] and not index_named) or bool(environ.get("KB_CORPUS")) \
        or (overrides or {}).get("corpus") is not None
    settings = Settings(**values, config_file=config_file, corpus_given=given)
    if settings.overlap_tokens >= settings.chunk_tokens:
        raise ConfigError(
            f"overlap_tokens ({settings.overlap_tokens}) must be smaller than chunk_tokens ({settings.chunk_tokens})."
        )
    return settings
