"""The index on disk: one folder of complete builds, each a SQLite store, a dense (FAISS) and a
lexical (BM25) part and a manifest, read through `IndexReader`."""

from kb.index.layout import BuildParts, IndexLayout
from kb.index.manifest import FORMAT_VERSION, Manifest, read_manifest
from kb.index.reader import IndexReader

__all__ = ["FORMAT_VERSION", "BuildParts", "IndexLayout", "IndexReader", "Manifest", "read_manifest"]
