"""Put the link graph to work on search results: expansion and context packs.

``expand_hits`` adds the documents linked to the top hits (their parent
epic, the ADR that decided them, what blocks them) after the hits, each
saying which edge reached it. ``pack_context`` builds what a coding agent
wants in its prompt: the best passages plus the parents and decisions they
hang off, cut to a token budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lore.documents.chunking import estimate_tokens
from lore.search.graph import DEFAULT_EDGE_WEIGHTS, LinkGraph, Neighbour
from lore.search.hits import ChunkInfo, Hit
from lore.settings import GraphSettings
from lore.store.base import SearchReads

# Edges whose far end gives a hit its context: what it belongs to and why.
CONTEXT_EDGES = ("parent", "decision", "blocked_by")
SUMMARY_CHARS = 300


def edge_weights(settings: GraphSettings) -> dict[str, float]:
    """The default per-edge weights with the configured overrides applied."""
    return {**DEFAULT_EDGE_WEIGHTS, **settings.edge_weights}


def expand_hits(store: SearchReads, hits: Sequence[Hit], graph: LinkGraph,
                settings: GraphSettings) -> list[Hit]:
    """The hits, then up to ``settings.max_added`` documents linked to the top ``settings.seeds``.

    Hub hits (dashboards, indexes) seed nothing: they link to everything. A
    linked document already among the hits is not repeated. Added documents
    are ordered by the score that flowed to them (``hit score x edge weight x
    decay per extra hop``, scaled by ``settings.weight``).

    Args:
        store: the index's store.
        hits: ranked search hits.
        graph: the index's link graph.
        settings: hops, decay, seeds, weights.
    """
    rowids = {hit.path: graph.resolver.resolve(hit.path) for hit in hits}
    seeds = {rowid: hit.score for hit in hits[:settings.seeds]
             if not hit.hub and (rowid := rowids[hit.path]) is not None}
    present = {rowid for rowid in rowids.values() if rowid is not None}
    gained = graph.expand(seeds, hops=settings.hops, decay=settings.decay,
                          weights=edge_weights(settings))
    added = sorted((n for rowid, n in gained.items() if rowid not in present),
                   key=lambda n: (-n.score, n.doc.path))
    return [*hits, *(_neighbour_hit(store, n, settings.weight)
                     for n in added[:settings.max_added])]


def _neighbour_hit(store: SearchReads, n: Neighbour, weight: float) -> Hit:
    metadata, text, kind = store.first_chunk(n.doc.rowid)
    via = tuple((kind_, source.doc_id) for kind_, source in n.via)
    return Hit(path=n.doc.path, doc_id=n.doc.doc_id, title=n.doc.title, score=n.score * weight,
               snippet=_summary(text), highlights=(), metadata=metadata, doctype=n.doc.doctype,
               chunk=ChunkInfo(0, (), kind), via=via)


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[:SUMMARY_CHARS].rsplit(" ", 1)[0] + " …"


@dataclass
class ContextItem:
    """One passage of a context pack."""

    role: str            # "hit", or the edge kind that brought it in ("parent", "decision", ...)
    doc_id: str
    path: str
    title: str
    text: str
    tokens: int
    via: str | None = None   # doc id of the hit it belongs to


@dataclass
class ContextPack:
    """Hits plus their parents and decisions, within a token budget."""

    budget: int
    used: int = 0
    items: list[ContextItem] = field(default_factory=list)
    omitted: int = 0     # passages that did not fit
    notices: list[str] = field(default_factory=list)   # why the search behind it ran degraded

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``lore search --context --json``)."""
        return {"budget": self.budget, "used_tokens": self.used, "omitted": self.omitted,
                "items": [vars(item) for item in self.items], "notices": self.notices}

    def to_markdown(self) -> str:
        """The pack as Markdown, ready to paste into a prompt."""
        parts = []
        for item in self.items:
            origin = f" ({item.role} of {item.via})" if item.via else ""
            parts.append(f"## {item.title} [{item.doc_id}]{origin}\n`{item.path}`\n\n{item.text}")
        return "\n\n".join(parts)


def pack_context(store: SearchReads, hits: Sequence[Hit], graph: LinkGraph,
                 budget: int) -> ContextPack:
    """The hits' best chunks, each followed by its parents/decisions, until ``budget`` tokens.

    A passage that does not fit is skipped (and counted in ``omitted``), so a
    long one does not starve the shorter ones after it; a document appears once.
    Hub hits (dashboards, indexes) are left out: they list links, not content,
    and the documents they "decide" or link are not their context.

    Args:
        store: the index's store.
        hits: ranked search hits (their chunk is the passage used).
        graph: the index's link graph.
        budget: token budget (lore's estimate, see ``estimate_tokens``).
    """
    pack = ContextPack(budget)
    seen: set[str] = set()

    def offer(item: ContextItem) -> None:
        if item.path in seen:
            return
        if pack.used + item.tokens > budget:
            pack.omitted += 1
            return
        seen.add(item.path)
        pack.items.append(item)
        pack.used += item.tokens

    for hit in hits:
        if hit.hub:
            continue
        text = store.chunk_text_at(hit.path, hit.chunk.ordinal)
        offer(ContextItem("hit", hit.doc_id, hit.path, hit.title, text, estimate_tokens(text)))
        rowid = graph.resolver.resolve(hit.path)
        if rowid is None:
            continue
        for n in graph.neighbourhood(rowid, depth=1, kinds=CONTEXT_EDGES):
            first = store.first_chunk(n.doc.rowid).text
            offer(ContextItem(n.via[0][0], n.doc.doc_id, n.doc.path, n.doc.title, first,
                              estimate_tokens(first), via=hit.doc_id))
    return pack
