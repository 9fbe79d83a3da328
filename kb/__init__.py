"""kb: a regulatory-readiness knowledge base with cited, extractive answers.

The data flows through one module (or folder) a step:

    corpus files
      → ingest   ingest.py (walk, decode, front matter), formats.py (PDF, HTML, DOCX), metadata.py
      → chunk    chunk.py (verbatim slices within the model's limit, with heading path and lines)
      → embed    embed.py (ONNX or sentence-transformers)
      → index    build.py (incremental), index/ (layout, manifest, store, dense, lexical, reader, writer)
      → search   search.py (hybrid dense + BM25, filters inside the search)
      → answer   answer.py (the answering sentence, its date, the citations)
      → cli      cli/ (one module a command; render.py shows every result as text or JSON)

What passes between the steps is in models.py, what each command returns in results.py; every
error a user can fix is a kb.errors.KBError. Only cli/ prints or exits.
"""

__version__ = "0.1.0"
