"""lore's MCP tools (official ``mcp`` SDK 2.x), over the same ``IndexService`` as REST.

``build_mcp_server(service)`` returns an ``MCPServer`` that ``lore mcp`` runs
over stdio and ``lore serve`` mounts at ``/mcp`` (streamable HTTP). Each tool
validates, calls one ``Index`` method and shapes a compact JSON answer within
a hard byte cap, with a cursor to page past it (``lore.server.paging``). The
descriptions are written for the agent choosing a tool: when to use it, what
comes back, and how to ask for more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from lore._optional import require
from lore.errors import LoreError, QueryError
from lore.server.paging import clamp_cap, cut_text, dumps, page, parse_cursor, size

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from lore.search.hits import Hit
    from lore.server.service import IndexService
    from lore.types import SearchMode

MAX_RESULTS = 200     # how deep paging may go into one ranking
SNIPPET_CHARS = 300

INSTRUCTIONS = (
    "lore searches one folder of Markdown notes, backlog items (tasks, features, epics) and "
    "ADRs. Start with `search` (or `context` when you want passages to read), open a hit "
    "with `get_document`, follow links with `related`. Answers are capped in size; when one "
    "has next_cursor, call the tool again with cursor=<next_cursor> for more.")

SEARCH_DOC = """Find documents in the indexed notes/backlog/ADRs by meaning and keywords.

Use this first for any question about the project's tasks, decisions, designs or notes,
or to find a document whose id you do not know. The query is free text; inside it,
type:ADR / state:Done filter on front matter, "quoted words" match a phrase, -word
excludes, and an exact id (KABSD-TSK-0350, ADR-0009) puts that document first.
Returns ranked hits (doc_id, title, path, type, a snippet with [matched] terms, the
heading of the best passage). Open one with get_document(doc_id). If next_cursor is
set, call again with the same query and cursor=next_cursor for the following hits."""

GET_DOC = """Read one document (or a range of its lines) by doc id, uid or path.

Use after search/related to read the text itself. Returns metadata, outgoing links and
the body from start_line, cut at a line boundary to fit max_bytes; when
next_start_line is set, call again with start_line=next_start_line to continue.
Prefer a small max_lines when you only need one section."""

RELATED_DOC = """List the documents linked to one document: parent, children, blockers,
decisions (ADRs), related items and wiki/Markdown links, followed both ways.

Use to walk a backlog hierarchy (feature -> tasks), find the ADRs behind an item, or
see what blocks it. depth>1 follows links further. Returns neighbours with the link
kind that reached them; page with cursor=next_cursor."""

CONTEXT_DOC = """Build a ready-to-read context pack for a question: the best matching
passages plus their parent items and decision records, within a token budget.

Use when you need to understand or answer something from the notes in one call, rather
than picking documents yourself. Returns passages (title, doc_id, path, text, why it
was included). Raise budget for more; page with cursor=next_cursor if the pack exceeds
max_bytes."""

STATUS_DOC = """Report what the index holds and how fresh it is: document and chunk counts,
last sync time and age, whether a sync is running. Use to check that the index covers
the files you expect, or before deciding to call reindex."""

REINDEX_DOC = """Bring the index up to date with the files now (incremental: only changed
files are read and embedded). Use after you created, edited, moved or deleted files and
need searches to reflect them at once (a server started with --watch does this by
itself). Returns counts and the changed paths."""


def build_mcp_server(service: IndexService) -> MCPServer:
    """An ``MCPServer`` whose tools answer from ``service``.

    Raises:
        MissingDependencyError: the ``mcp`` package (extra ``serve``) is not installed.
    """
    mcpserver = require("mcp.server.mcpserver", extra="serve", package="mcp",
                        purpose="lore's MCP server")
    types = require("mcp_types", extra="serve", package="mcp")
    server: MCPServer = mcpserver.MCPServer("lore", instructions=INSTRUCTIONS,
                                            version=server_version(),
                                            log_level="WARNING")
    tool_error = require("mcp.server.mcpserver.exceptions", extra="serve",
                         package="mcp").ToolError
    read_only = types.ToolAnnotations(read_only_hint=True, open_world_hint=False)

    def run(fn: Any, *args: Any, **kwargs: Any) -> str:
        try:
            return dumps(fn(*args, **kwargs))
        except LoreError as exc:
            raise tool_error(str(exc)) from exc

    tools = _Tools(service)

    @server.tool(description=SEARCH_DOC, annotations=read_only, structured_output=False)
    def search(query: Annotated[str, Field(min_length=1, max_length=2000)],
               mode: Literal["hybrid", "keyword", "vector"] | None = None,
               filters: Annotated[dict[str, list[str]] | None, Field(
                   description="front matter field -> accepted values, e.g. "
                               "{\"type\": [\"ADR\"], \"state\": [\"Done\"]}")] = None,
               limit: Annotated[int, Field(ge=1, le=50)] = 10,
               cursor: str | None = None,
               max_bytes: Annotated[int | None, Field(ge=1000, le=64000)] = None) -> str:
        return run(tools.search, query, mode, filters, limit, cursor, max_bytes)

    @server.tool(description=GET_DOC, annotations=read_only, structured_output=False)
    def get_document(id_or_path: Annotated[str, Field(min_length=1, max_length=1000)],
                     start_line: Annotated[int, Field(ge=1)] = 1,
                     max_lines: Annotated[int | None, Field(ge=1)] = None,
                     max_bytes: Annotated[int | None, Field(ge=1000, le=64000)] = None) -> str:
        return run(tools.get_document, id_or_path, start_line, max_lines, max_bytes)

    @server.tool(description=RELATED_DOC, annotations=read_only, structured_output=False)
    def related(id_or_path: Annotated[str, Field(min_length=1, max_length=1000)],
                depth: Annotated[int, Field(ge=1, le=5)] = 1,
                kinds: list[Literal["parent", "child", "blocks", "blocked_by", "relates",
                                    "decision", "decides", "wiki", "markdown",
                                    "backlink"]] | None = None,
                cursor: str | None = None,
                max_bytes: Annotated[int | None, Field(ge=1000, le=64000)] = None) -> str:
        return run(tools.related, id_or_path, depth, kinds, cursor, max_bytes)

    @server.tool(description=CONTEXT_DOC, annotations=read_only, structured_output=False)
    def context(query: Annotated[str, Field(min_length=1, max_length=2000)],
                budget: Annotated[int, Field(ge=100, le=20000)] = 2000,
                filters: dict[str, list[str]] | None = None,
                mode: Literal["hybrid", "keyword", "vector"] | None = None,
                cursor: str | None = None,
                max_bytes: Annotated[int | None, Field(ge=1000, le=64000)] = None) -> str:
        return run(tools.context, query, budget, filters, mode, cursor, max_bytes)

    @server.tool(description=STATUS_DOC, annotations=read_only, structured_output=False)
    def index_status() -> str:
        return run(service.status)

    @server.tool(description=REINDEX_DOC, structured_output=False,
                 annotations=types.ToolAnnotations(read_only_hint=False, destructive_hint=False,
                                                   idempotent_hint=True,
                                                   open_world_hint=False))
    def reindex(max_bytes: Annotated[int | None, Field(ge=1000, le=64000)] = None) -> str:
        return run(tools.reindex, max_bytes)

    return server


class _Tools:
    """The tools' bodies: call the service, shape and cap the answer."""

    def __init__(self, service: IndexService) -> None:
        self.service = service

    def search(self, query: str, mode: SearchMode | None, filters: dict[str, list[str]] | None,
               limit: int, cursor: str | None, max_bytes: int | None) -> dict[str, Any]:
        offset = parse_cursor(cursor)
        wanted = min(offset + limit, MAX_RESULTS)
        with self.service.reader() as idx:
            hits = idx.search(query, limit=wanted, filters=filters, mode=mode)
        notices = list(hits.notices)
        rows = [_hit_row(offset + i + 1, hit) for i, hit in enumerate(hits[offset:wanted])]
        chosen, next_cursor = page(rows, 0, clamp_cap(max_bytes),
                                   more_after=len(hits) == wanted and wanted < MAX_RESULTS)
        if next_cursor is not None:
            next_cursor = str(offset + int(next_cursor))
        return {"hits": chosen, "next_cursor": next_cursor, "notices": notices}

    def get_document(self, id_or_path: str, start_line: int, max_lines: int | None,
                     max_bytes: int | None) -> dict[str, Any]:
        with self.service.reader() as idx:
            record = idx.get(id_or_path)
        if record is None:
            raise QueryError(f"No indexed document has the id, uid or path {id_or_path!r}; "
                            "find it with the search tool.")
        cap = clamp_cap(max_bytes)
        head = {"doc_id": record.doc_id, "path": record.path, "title": record.title,
                "doctype": record.doctype,
                "metadata": _capped(record.metadata, cap // 4),
                "links": [{"kind": link.kind, "target": link.target}
                          for link in record.links[:50]]}
        lines = record.body.splitlines()
        last = len(lines) if max_lines is None else min(len(lines), start_line - 1 + max_lines)
        budget = cap - size(head) - 300
        taken: list[str] = []
        used = 0
        for line in lines[start_line - 1:last]:
            cost = len(line.encode("utf-8")) + 1
            if used + cost > budget:
                if not taken:   # one line longer than the cap: show its start, move on
                    taken.append(cut_text(line, max(budget, 200)))
                break
            taken.append(line)
            used += cost
        end = start_line - 1 + len(taken)
        return {**head, "total_lines": len(lines), "start_line": start_line, "end_line": end,
                "text": "\n".join(taken),
                "next_start_line": end + 1 if end < len(lines) else None}

    def related(self, id_or_path: str, depth: int, kinds: list[str] | None, cursor: str | None,
                max_bytes: int | None) -> dict[str, Any]:
        offset = parse_cursor(cursor)
        with self.service.reader() as idx:
            rows = [n.to_json() for n in idx.related(id_or_path, depth=depth, kinds=kinds)]
        chosen, next_cursor = page(rows, offset, clamp_cap(max_bytes))
        return {"id": id_or_path, "total": len(rows), "neighbours": chosen,
                "next_cursor": next_cursor}

    def context(self, query: str, budget: int, filters: dict[str, list[str]] | None,
                mode: SearchMode | None, cursor: str | None,
                max_bytes: int | None) -> dict[str, Any]:
        offset = parse_cursor(cursor)
        cap = clamp_cap(max_bytes)
        with self.service.reader() as idx:
            pack = idx.context(query, budget=budget, filters=filters, mode=mode)
        notices = list(pack.notices)
        items = [{**vars(item), "text": cut_text(item.text, cap - 1_000)} for item in pack.items]
        chosen, next_cursor = page(items, offset, cap)
        return {"budget": pack.budget, "used_tokens": pack.used, "omitted": pack.omitted,
                "passages": chosen, "next_cursor": next_cursor, "notices": notices}

    def reindex(self, max_bytes: int | None) -> dict[str, Any]:
        report = self.service.sync().to_dict()
        cap = clamp_cap(max_bytes)
        summary = {key: len(report[key]) for key in ("added", "updated", "removed", "renamed",
                                                     "skipped", "warnings")}
        summary.update(unchanged=report["unchanged"], new_chunks=report["new_chunks"],
                       duration_s=report["duration_s"], notices=report["notices"])
        paths = [f"{kind}: {path}" for kind in ("added", "updated", "removed")
                 for path in report[kind]]
        paths += [f"renamed: {r['from']} -> {r['to']}" for r in report["renamed"]]
        shown, rest = page(paths, 0, cap - size(summary))
        return {**summary, "changes": shown,
                "more_changes": len(paths) - len(shown) if rest else 0}


def _hit_row(rank: int, hit: Hit) -> dict[str, Any]:
    return {"rank": rank, "doc_id": hit.doc_id, "title": hit.title, "path": hit.path,
            "type": hit.doctype, "score": round(hit.score, 4),
            "section": " › ".join(hit.chunk.heading_path) or None,
            "snippet": cut_text(hit.marked_snippet(), SNIPPET_CHARS),
            **({"linked_from": [f"{k} of {s}" for k, s in hit.via]} if hit.via else {})}


def _capped(metadata: dict[str, Any], cap: int) -> dict[str, Any]:
    """Front matter, with long values shortened so the whole fits in ``cap`` bytes."""
    if size(metadata) <= cap:
        return metadata
    return {key: cut_text(dumps(value), 200) for key, value in list(metadata.items())[:40]}


def server_version() -> str:
    """lore's installed version ("0" when running from a source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lore")
    except PackageNotFoundError:
        return "0"
