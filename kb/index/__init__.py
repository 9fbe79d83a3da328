"""The index on disk, one module a part:

    layout.py    where every file of an index lives, and publishing a finished build
    manifest.py  what a build holds and how it was made (manifest.json)
    store.py     documents, chunks and corpus files (SQLite)
    dense.py     the vectors (FAISS)
    lexical.py   BM25, with the tokenizer that search and answers share
    writer.py    a new build, part by part
    reader.py    a complete build, each part loaded on first use
"""

from kb.index.layout import BuildParts, IndexLayout
from kb.index.manifest import FORMAT_VERSION, Manifest, read_manifest
from kb.index.reader import IndexReader

__all__ = ["FORMAT_VERSION", "BuildParts", "IndexLayout", "IndexReader", "Manifest", "read_manifest"]
