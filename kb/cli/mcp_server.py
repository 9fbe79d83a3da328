"""`kb mcp`: the index as an MCP server over stdio, for AI assistants (Claude Desktop, IDEs, agents).

Four tools, each a library call whose result goes out in the JSON form `kb ... --json` prints
(kb/cli/render.py's `to_json`, with its "schema" key): `ask` (kb.ask/1), `search` (kb.search/1),
`timeline` (kb.timeline/1) and `sources` (kb.sources/1). The index stays open and the model loaded
between calls (kb.session.LiveIndex); a build swapped in by `kb index` or `kb add` is picked up at
the next call. A user error (empty question, unknown filter value, bad date, no index) becomes a
tool error with kb's message and hint, never a crash of the server; so does an argument of the wrong
type or out of range, in kb's words ("top_k needs a whole number from 1 to 50, not 0."), not pydantic's.

Imported only by `kb mcp`: the MCP SDK (and pydantic under it) costs every other command nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Callable

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from pydantic import Field, ValidationError

from kb import __version__
from kb.cli.render import to_json
from kb.config import Settings
from kb.errors import KBError
from kb.filters import Filters, parse_date_option
from kb.session import LiveIndex

INSTRUCTIONS = """\
kb answers questions from a local corpus of regulatory texts (laws, consultations, guidance), offline and
extractively: every answer is a sentence of a source, with numbered citations. Cite a passage by its
`source` file and `lines` (or `pages` for a PDF), its `section` and `date`, and give its `origin` when
it is a URL. `answerable: false` means the corpus does not answer the question: say so rather than
answering from the closest passages."""

# A list, or one value as a string: assistants send either.
Places = Annotated[list[str] | str | None, Field(
    description="Only documents of these jurisdictions, e.g. [\"UK\", \"EU\"] or \"UK\".")]
Regulators = Annotated[list[str] | str | None, Field(
    description="Only documents of these regulators, e.g. [\"FCA\"] or \"FCA\".")]
Types = Annotated[list[str] | str | None, Field(
    description="Only documents of these types: law, consultation, policy statement, guidance, news.")]
Since = Annotated[str | None, Field(description="Only documents dated on or after this: 2025, 2025-09 or 2025-09-10.")]
Until = Annotated[str | None, Field(description="Only documents dated on or before this: 2025, 2025-09 or 2025-09-10.")]

CITATION_FIELDS = ("each passage has rank, title, source (the file, relative to the corpus folder), lines "
                   "(1-based, of the source file; of the extracted text for HTML/DOCX, see lines_of) and pages for "
                   "a PDF, section, date, jurisdiction, regulator, type, origin (where the document came from: the URL "
                   "kb add fetched it from, or the source its front matter names; null when unknown) and text (the "
                   "passage itself)")

ASK = f"""Answer a question from the corpus, extractively, with citations.

Returns JSON (schema kb.ask/1): `answer` (the answering sentence, quoted from a source, or null),
`answerable` (false: the corpus does not answer it), `answer_span` (the asked-for value inside the answer:
a date, amount, body...; text, start, end, kind), `citation` (the rank of the passage the answer is from),
`answer_lines` (its lines in the source file), `dates`, `notes` (warnings, e.g. a source changed since
indexing), `date_statements` (what each source says when sources disagree on a date) and `passages`:
{CITATION_FIELDS}. The cited passage may rank beyond top_k: find it by `rank == citation`."""

SEARCH = f"""Search the corpus without answering: the best passages for a query, best first.

Returns JSON (schema kb.search/1): `query`, `filters` and `passages`: {CITATION_FIELDS}. Use it to read
around a topic, or with filters to see what one regulator or period says."""

TIMELINE = """Dated regulatory events in the corpus (consultations opening and closing, rules taking effect,
deadlines), oldest first, each with its citation.

Returns JSON (schema kb.timeline/1): `as_of` and `events`, each with date (as the source gives it: "2026",
"2026-02-12", "2025-09 (approx.)"), first and last (the ISO dates the period spans), status (past, current
or upcoming relative to as_of), event (the sentence, in the source's words), title, source, lines, pages,
published (the document's date), jurisdiction and regulator."""

SOURCES = """The documents in the index, newest first: what the corpus holds, to choose filters or cite a document.

Returns JSON (schema kb.sources/1): `total` and `documents`, each with doc_id, source (the file), title, date,
jurisdiction, regulator, type, inferred (the fields guessed from the text rather than given), chunks and
origin (the URL it was fetched from, or the source its front matter names; null when unknown)."""


class KBServer(MCPServer):
    """An MCP server whose argument errors read like kb's own: the argument, what it takes, what it got."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            # The SDK reports arguments that fail the tool's schema as pydantic's text (several lines, a
            # link to pydantic's site); a crash or a failed output conversion (UnexpectedToolError) is not
            # the caller's mistake and keeps the SDK's message.
            if isinstance(exc, UnexpectedToolError) or not isinstance(exc.__cause__, ValidationError):
                raise
            schema = next((tool.input_schema for tool in await self.list_tools() if tool.name == name), {})
            raise ToolError(argument_errors(exc.__cause__, schema, arguments)) from exc.__cause__


def argument_errors(error: ValidationError, schema: dict[str, Any], arguments: dict[str, Any]) -> str:
    """One plain sentence per rejected argument, from the tool's input schema: "top_k needs a whole number
    from 1 to 50, not 0.", "question is required (a string)." Several errors about one argument (each
    branch of "a string or a list of strings") make one sentence."""
    properties = schema.get("properties", {})
    sentences: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        if name in sentences:
            continue
        allowed = describe_schema(properties.get(name, {}))
        if not name:
            sentences[name] = "The arguments must be an object of named arguments."
        elif item["type"] == "missing":
            sentences[name] = f"{name} is required ({allowed})."
        else:
            sentences[name] = f"{name} needs {allowed}, not {_shown_value(arguments.get(name))}."
    return " ".join(sentences.values()) or "The arguments do not match the tool's input schema."


def describe_schema(schema: dict[str, Any]) -> str:
    """What a JSON schema allows, in words: "a whole number from 1 to 50", "a string or a list of strings"."""
    kinds = [_describe_one(option) for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
    return " or ".join(dict.fromkeys(kinds)) or "a valid value"


def _describe_one(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(value) for value in schema["enum"])
    if kind in ("integer", "number"):
        words = "a whole number" if kind == "integer" else "a number"
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            return f"{words} from {low} to {high}"
        if low is not None:
            return f"{words} of {low} or more"
        if high is not None:
            return f"{words} of {high} or less"
        return words
    if kind == "array":
        items = _describe_one(schema.get("items", {}))
        return "a list of " + (items[2:] + "s" if items.startswith("a ") else "values")
    return {"string": "a string", "boolean": "true or false", "object": "an object"}.get(kind, "a valid value")


def _shown_value(value: Any, limit: int = 40) -> str:
    """The rejected argument as the caller sent it (JSON; the whole list, not the one bad item), cut short."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def build_server(settings: Settings, live: LiveIndex | None = None) -> MCPServer:
    """The MCP server for the index of `settings`, its four tools registered."""
    live = live or LiveIndex(settings)
    server = KBServer("kb", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")

    @server.tool(name="ask", description=ASK)
    def ask(
        question: Annotated[str, Field(description="The question, in words, e.g. \"When do FCA licences open?\"")],
        top_k: Annotated[int, Field(ge=1, le=50, description="Passages to return (the answer may cite one more).")] = 5,
        jurisdiction: Places = None, regulator: Regulators = None, type: Types = None,
        since: Since = None, until: Until = None,
    ) -> dict[str, Any]:
        return _call(lambda: live.ask(question, top_k, _filters(jurisdiction, regulator, type, since, until)))

    @server.tool(name="search", description=SEARCH)
    def search(
        query: Annotated[str, Field(description="What to look for, in words.")],
        top_k: Annotated[int, Field(ge=1, le=50, description="Passages to return.")] = 10,
        jurisdiction: Places = None, regulator: Regulators = None, type: Types = None,
        since: Since = None, until: Until = None,
    ) -> dict[str, Any]:
        return _call(lambda: live.search(query, top_k, _filters(jurisdiction, regulator, type, since, until)))

    @server.tool(name="timeline", description=TIMELINE)
    def timeline(
        jurisdiction: Places = None, regulator: Regulators = None, type: Types = None,
        topic: Annotated[str | None, Field(description="Only passages that mention this, e.g. \"stablecoin\".")] = None,
        as_of: Annotated[str | None, Field(description="Tell past from upcoming relative to this date "
                                                       "(default: today), e.g. 2026-01-31.")] = None,
        upcoming: Annotated[bool, Field(description="Only events that have not passed.")] = False,
        since: Annotated[str | None, Field(description="Only events on or after this date, e.g. 2026-01.")] = None,
        until: Annotated[str | None, Field(description="Only events on or before this date, e.g. 2026-12-31.")] = None,
    ) -> dict[str, Any]:
        return _call(lambda: live.timeline(_filters(jurisdiction, regulator, type), topic, _date(as_of, "as_of"),
                                           upcoming=upcoming, since=_date(since, "since"),
                                           until=_date(until, "until", last=True)))

    @server.tool(name="sources", description=SOURCES)
    def sources(
        jurisdiction: Places = None, regulator: Regulators = None, type: Types = None,
        since: Since = None, until: Until = None,
        limit: Annotated[int | None, Field(ge=1, description="At most this many documents.")] = None,
    ) -> dict[str, Any]:
        return _call(lambda: live.sources(_filters(jurisdiction, regulator, type, since, until), limit))

    return server


def serve(settings: Settings) -> None:
    """Run the server on stdin/stdout until the client closes it. Raises KBError when there is no index."""
    live = LiveIndex(settings)
    live.sources()  # open the index now: a wrong --index fails here, on the terminal, not at the first call
    build_server(settings, live).run("stdio")


def _call(work: Callable[[], Any]) -> dict[str, Any]:
    """The result's JSON form; a user error becomes a tool error the assistant can read and act on."""
    try:
        return to_json(work())
    except KBError as exc:
        raise ToolError(f"{exc.message} {exc.hint}".strip()) from None


def _filters(jurisdiction: list[str] | str | None, regulator: list[str] | str | None, types: list[str] | str | None,
             since: str | None = None, until: str | None = None) -> Filters:
    def values(given: list[str] | str | None) -> list[str]:
        return [given] if isinstance(given, str) else list(given or ())

    try:
        return Filters.from_options(values(jurisdiction), values(regulator), values(types), since, until)
    except KBError as exc:  # its hint shows the command line; the message names the argument
        raise ToolError(exc.message.replace("--", "")) from None


def _date(value: str | None, name: str, *, last: bool = False) -> dt.date | None:
    """The first day of the period a date names ("2026-03": 1 March), or with `last` its last day."""
    if not value:
        return None
    try:
        return parse_date_option(value, name)[1 if last else 0]
    except KBError as exc:
        raise ToolError(exc.message.replace("--", "")) from None
