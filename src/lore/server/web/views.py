"""What the page shows of one document: rendered body, typed links both ways, worklog, graph.

Built from ``Index``'s public methods only (``get`` and ``related``), so the
page shows exactly what ``lore show`` and ``lore related`` say.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lore.server.web.render import render_markdown

if TYPE_CHECKING:
    from lore.index import Index
    from lore.store.records import DocumentRecord

MAX_PICTURE_NODES = 40   # beyond this a picture is a hairball, not an answer
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_WORKLOG = re.compile(r"^work\s*-?\s*logs?\b", re.IGNORECASE)

# Edge kinds as a reader names them, in the order the page lists them.
EDGE_LABELS: dict[str, str] = {
    "parent": "parent", "child": "children", "blocks": "blocks", "blocked_by": "blocked by",
    "decision": "decisions", "decides": "decides", "relates": "relates to",
    "wiki": "links to", "markdown": "links to", "backlink": "linked from",
}


def _ref(doc: Any) -> dict[str, Any]:
    return {"rowid": doc.rowid, "doc_id": doc.doc_id, "path": doc.path, "title": doc.title,
            "doctype": doc.doctype}


def _worklog(record: DocumentRecord) -> list[dict[str, str]]:
    """The document's worklog, one entry per day (the chunker splits worklogs by day)."""
    days: dict[str, list[str]] = {}
    for chunk in record.chunks:
        if chunk.kind == "worklog" and chunk.heading_path:
            days.setdefault(chunk.heading_path[-1], []).append(chunk.text)
    return [{"day": day, "text": "\n".join(texts)} for day, texts in days.items()]


def _without_worklog(body: str) -> str:
    """``body`` less its worklog sections, which the page shows day by day instead."""
    kept: list[str] = []
    skipping_level = 0
    fence = False
    for line in body.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        heading = None if fence else _HEADING.match(line)
        if heading and skipping_level and len(heading.group(1)) <= skipping_level:
            skipping_level = 0
        if heading and not skipping_level and _WORKLOG.match(heading.group(2)):
            skipping_level = len(heading.group(1))
        if not skipping_level:
            kept.append(line)
    return "\n".join(kept)


def document_view(index: Index, record: DocumentRecord) -> dict[str, Any]:
    """A JSON-ready view of ``record``: metadata, safe HTML, links grouped by kind, worklog."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for neighbour in index.related(record.path, depth=1):
        for kind, _source in neighbour.via:
            entries = groups.setdefault(kind, [])
            if all(entry["rowid"] != neighbour.doc.rowid for entry in entries):
                entries.append(_ref(neighbour.doc))
    links = [{"kind": kind, "label": EDGE_LABELS.get(kind, kind), "docs": groups[kind]}
             for kind in EDGE_LABELS if kind in groups]
    worklog = _worklog(record)
    body = _without_worklog(record.body) if worklog else record.body
    return {
        "doc_id": record.doc_id, "uid": record.uid, "path": record.path, "title": record.title,
        "doctype": record.doctype, "metadata": record.metadata,
        "html": render_markdown(body, record.path),
        "links": links, "worklog": worklog,
    }


def link_picture(index: Index, record: DocumentRecord, depth: int) -> dict[str, Any]:
    """Nodes and typed edges of ``record``'s neighbourhood within ``depth`` hops."""
    neighbours = index.related(record.path, depth=depth)
    # Pages that merely link here (dashboards, indexes) link to everything else
    # too: walking on through them would bury the real neighbourhood.
    via_backlink = {n.doc.rowid for n in neighbours
                    if n.depth == 1 and all(kind == "backlink" for kind, _ in n.via)}
    kept = [n for n in neighbours
            if n.depth == 1 or any(source not in via_backlink for _, source in n.via)]
    kept = sorted(kept, key=lambda n: n.depth)[:MAX_PICTURE_NODES - 1]
    shown = {record.id} | {n.doc.rowid for n in kept}
    nodes = [{"rowid": record.id, "doc_id": record.doc_id, "path": record.path,
              "title": record.title, "doctype": record.doctype, "depth": 0}]
    edges: list[dict[str, Any]] = []
    for neighbour in kept:
        nodes.append({**_ref(neighbour.doc), "depth": neighbour.depth})
        edges += [{"source": source, "target": neighbour.doc.rowid, "kind": kind}
                  for kind, source in neighbour.via if source in shown]
    return {"nodes": nodes, "edges": edges}
