"""`kb mcp` end to end: the server as a subprocess (python -m kb mcp), called through the MCP SDK's stdio client."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters  # noqa: E402

from kb.build import build_index  # noqa: E402
from kb.config import Settings  # noqa: E402

from conftest import FAKE_MODEL, REPO, write  # noqa: E402

URL = "https://gadgets.example/board/registration"


@pytest.fixture
def indexed(tmp_path, fixture_corpus):
    write(fixture_corpus / "gamma.md", f"""
        ---
        title: "Fixture: Gadget Board registration guide"
        date: 2031-05-06
        jurisdiction: Gadgetland
        regulator: Gadget Board
        type: guidance
        source: {URL}
        ---
        # Registration

        The Gadget Board will close the registration window on 30 June 2033.
        """)
    settings = Settings(corpus=fixture_corpus, index=tmp_path / "index", model=FAKE_MODEL)
    build_index(settings)
    return settings


def server(settings: Settings) -> StdioServerParameters:
    env = {**os.environ, "PYTHONPATH": str(REPO), "KB_MODEL": FAKE_MODEL, "KB_INDEX": str(settings.index),
           "KB_DEBUG": ""}
    return StdioServerParameters(command=sys.executable, args=["-m", "kb", "mcp"], env=env, cwd=str(REPO))


def call(client, tool: str, **arguments):
    return client.call_tool(tool, arguments)


def data(result) -> dict:
    assert not result.is_error, result.content
    assert json.loads(result.content[0].text) == result.structured_content  # the same JSON, as text and as data
    return result.structured_content


def test_every_tool_answers_from_the_index_and_bad_arguments_are_errors(indexed):
    async def session():
        async with Client(server(indexed), cache=None) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert sorted(tools) == ["ask", "search", "sources", "timeline"]
            assert all("Returns JSON (schema kb." in tool.description for tool in tools.values())
            assert "origin" in tools["ask"].description and "lines" in tools["search"].description

            answer = data(await call(client, "ask", question="What is the application fee for small firms?", top_k=2))
            assert answer["schema"] == "kb.ask/1" and answer["answerable"] is True
            assert "500 credits" in answer["answer"] and answer["answer_span"]["text"]
            cited = next(p for p in answer["passages"] if p["rank"] == answer["citation"])
            assert cited["source"] == "alpha.md" and cited["section"].endswith("Fees") and cited["date"] == "2031-03-04"
            assert cited["lines"][0] <= answer["answer_lines"][0] and "500 credits" in cited["text"]

            found = data(await call(client, "search", query="registration", jurisdiction=["Gadgetland"]))
            assert found["schema"] == "kb.search/1" and found["query"] == "registration"
            assert {p["source"] for p in found["passages"]} == {"gamma.md"}
            assert found["passages"][0]["origin"] == URL and "30 June 2033" in found["passages"][0]["text"]
            typed = data(await call(client, "search", query="registration", type=["guidance"], since="2031-04"))
            assert {p["source"] for p in typed["passages"]} == {"gamma.md"}

            events = data(await call(client, "timeline", as_of="2032-01-01", upcoming=True))
            assert events["schema"] == "kb.timeline/1" and events["as_of"] == "2032-01-01"
            assert {(e["date"], e["source"]) for e in events["events"]} >= {("2032", "alpha.md"),
                                                                             ("2033-06-30", "gamma.md")}
            listed = data(await call(client, "sources", regulator="Gadget Board"))  # one value, not a list
            assert listed["schema"] == "kb.sources/1" and listed["total"] == 1
            assert listed["documents"][0]["origin"] == URL

            for tool, arguments, message in [
                ("ask", {"question": "   "}, "The question is empty"),
                ("ask", {"question": "fees", "top_k": 0}, "top_k"),
                ("ask", {}, "question"),
                ("search", {"query": "fees", "since": "last week"}, "since needs a date"),
                ("search", {"query": "fees", "jurisdiction": ["Atlantis"]}, "No document matches the filters"),
                ("timeline", {"as_of": "soon"}, "as_of needs a date"),
                ("sources", {"limit": "many"}, "limit"),
            ]:
                result = await client.call_tool(tool, arguments)
                assert result.is_error and message in result.content[0].text, (tool, arguments, result.content)
            # ...and the server is still there.
            assert data(await call(client, "sources"))["total"] == 5

    asyncio.run(session())


def test_a_rebuilt_index_is_picked_up_without_a_restart(indexed):
    async def session():
        async with Client(server(indexed), cache=None) as client:
            before = data(await call(client, "search", query="sprocket dividend ledger", top_k=1))
            assert before["passages"][0]["source"] != "delta.md"
            write(indexed.corpus / "delta.md", "# Ledgers\n\nEvery sprocket dividend ledger is audited monthly.\n")
            build_index(indexed)  # another process would do the same: kb index swaps in a new build
            after = data(await call(client, "search", query="sprocket dividend ledger", top_k=1))
            assert after["passages"][0]["source"] == "delta.md"
            assert data(await call(client, "sources"))["total"] == 6

    asyncio.run(session())


def test_kb_mcp_without_an_index_says_so_on_the_terminal(tmp_path):
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(REPO), "KB_MODEL": FAKE_MODEL, "KB_INDEX": str(tmp_path / "none")}
    result = subprocess.run([sys.executable, "-m", "kb", "mcp"], capture_output=True, text=True, env=env,
                            stdin=subprocess.DEVNULL, timeout=60)
    assert result.returncode == 1 and result.stdout == ""
    assert "Error: No index at" in result.stderr and "Traceback" not in result.stderr


def test_the_live_index_loads_the_model_once_and_reopens_only_a_new_build(indexed, monkeypatch):
    import kb.session
    from kb.session import LiveIndex

    loads = []
    real = kb.session.load_embedder
    monkeypatch.setattr(kb.session, "load_embedder", lambda *a, **k: loads.append(a) or real(*a, **k))
    live = LiveIndex(indexed)
    assert live.ask("What is the application fee for small firms?", 3).answerable
    live.search("gadget registration", 3)
    live.timeline()
    live.sources()
    assert (live.opened, len(loads)) == (1, 1)
    write(indexed.corpus / "delta.md", "# Ledgers\n\nEvery sprocket dividend ledger is audited monthly.\n")
    build_index(indexed)
    assert live.search("sprocket dividend ledger", 1).hits[0].chunk.meta.source == "delta.md"
    assert (live.opened, len(loads)) == (2, 1)  # the new build opened, the model kept
    live.close()


def test_arguments_of_the_wrong_type_or_out_of_range_get_a_plain_message(indexed):
    """Not pydantic's text ("1 validation error for askArguments ... https://errors.pydantic.dev"): the argument,
    what it takes (from the tool's schema), and what it got, as the CLI says it."""
    from kb.cli.mcp_server import build_server

    async def session():
        async with Client(build_server(indexed), cache=None) as client:  # in-process: the same tools, faster
            for tool, arguments, message in [
                ("ask", {"question": "fees", "top_k": 0}, "top_k needs a whole number from 1 to 50, not 0."),
                ("search", {"query": "fees", "top_k": 500}, "top_k needs a whole number from 1 to 50, not 500."),
                ("ask", {"question": "fees", "top_k": "lots"}, 'top_k needs a whole number from 1 to 50, not "lots".'),
                ("ask", {}, "question is required (a string)."),
                ("sources", {"limit": "many"}, 'limit needs a whole number of 1 or more, not "many".'),
                ("search", {"query": "fees", "jurisdiction": ["UK", 5]},
                 'jurisdiction needs a list of strings or a string, not ["UK", 5].'),
                ("timeline", {"upcoming": "maybe"}, 'upcoming needs true or false, not "maybe".'),
                ("ask", {"question": 12, "top_k": -1},
                 "question needs a string, not 12. top_k needs a whole number from 1 to 50, not -1."),
            ]:
                result = await client.call_tool(tool, arguments)
                assert result.is_error and result.content[0].text == message, (tool, arguments, result.content)
            assert data(await call(client, "sources"))["total"] == 5

    asyncio.run(session())
