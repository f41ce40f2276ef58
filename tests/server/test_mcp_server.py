"""MCP tools through the official SDK client, over streamable HTTP and over stdio.

The same scenario runs on both transports: every tool is called, and every
capped answer is paged to the end with the cursor it hands out, checking
that no page exceeds the cap and that the pages add up to the whole.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from lore.server.service import IndexService

mcp = pytest.importorskip("mcp")
from mcp import Client
from mcp.client.stdio import StdioServerParameters

LiveServer = Callable[..., str]
CAP = 1_000
TOOLS = {"search", "get_document", "related", "context", "index_status", "reindex"}
SRC = Path(__file__).resolve().parents[2] / "src"


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    text = result.content[0].text
    if "max_bytes" in arguments:
        assert len(text.encode("utf-8")) <= arguments["max_bytes"], (tool, len(text))
    answer: dict[str, Any] = json.loads(text)
    return answer


async def pages(client: Client, tool: str, key: str, **arguments: Any) -> list[Any]:
    """Every item of a paged answer, following next_cursor; at least two pages."""
    items: list[Any] = []
    cursor = None
    count = 0
    while True:
        answer = await call(client, tool, **arguments, **({"cursor": cursor} if cursor else {}))
        items += answer[key]
        count += 1
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert count >= 2, f"{tool} fit in one page; the cap was not exercised"
    return items


async def scenario(client: Client, root: Path) -> None:
    listed = await client.list_tools()
    assert {tool.name for tool in listed.tools} == TOOLS
    for tool in listed.tools:
        assert tool.description and "Use" in tool.description, tool.name

    hits = await pages(client, "search", "hits", query="work part", limit=40,
                       mode="keyword", max_bytes=CAP)
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert len({h["path"] for h in hits}) == len(hits) > 5
    whole = await call(client, "search", query="work part", limit=40, mode="keyword",
                       max_bytes=64_000)
    assert [h["path"] for h in whole["hits"]] == [h["path"] for h in hits]

    lines: list[str] = []
    start = 1
    while start is not None:
        part = await call(client, "get_document", id_or_path="long.md", start_line=start,
                          max_bytes=CAP)
        assert part["start_line"] == start
        lines += part["text"].split("\n")
        start = part["next_start_line"]
    assert lines == (root / "long.md").read_text().rstrip("\n").split("\n")
    section = await call(client, "get_document", id_or_path="T-3", max_lines=1)
    assert section["text"] == "# Task 3" and section["next_start_line"] == 2

    neighbours = await pages(client, "related", "neighbours", id_or_path="F-1", max_bytes=CAP)
    assert {n["doc_id"] for n in neighbours} == {f"T-{i}" for i in range(1, 13)} | {"ADR-0001"}

    passages = await pages(client, "context", "passages", query="task vector cache", budget=3000,
                           max_bytes=CAP)
    assert passages and all(p["text"] for p in passages)

    status = await call(client, "index_status")
    assert status["documents"] == 15

    (root / "tasks" / "T-99.md").write_text("---\nid: T-99\n---\n# Platypus\n\nplatypus eggs\n")
    report = await call(client, "reindex")
    assert report["added"] == 1 and report["changes"] == ["added: tasks/T-99.md"]
    found = await call(client, "search", query="platypus", mode="keyword")
    assert [h["doc_id"] for h in found["hits"]] == ["T-99"]

    failed = await client.call_tool("get_document", {"id_or_path": "NOPE-404"})
    assert failed.is_error and "search" in failed.content[0].text


def test_every_tool_over_streamable_http(service: IndexService,
                                         live_server: LiveServer) -> None:
    url = live_server(service)

    async def main() -> None:
        async with Client(f"{url}/mcp") as client:
            await scenario(client, service.root)

    anyio.run(main)


def test_every_tool_over_stdio(backlog: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key.startswith("LORE_")}
    env["PYTHONPATH"] = str(SRC)
    params = StdioServerParameters(
        command=sys.executable, args=["-c", "from lore.cli import main; main()", "mcp",
                                      str(backlog)], env=env)

    async def main() -> None:
        async with Client(params, read_timeout_seconds=120) as client:
            await scenario(client, backlog)

    anyio.run(main)


def test_a_bad_cursor_is_an_error_the_agent_can_read(service: IndexService,
                                                     live_server: LiveServer) -> None:
    url = live_server(service)

    async def main() -> None:
        async with Client(f"{url}/mcp") as client:
            result = await client.call_tool("search", {"query": "x", "cursor": "abc"})
            assert result.is_error and "next_cursor" in result.content[0].text

    anyio.run(main)
