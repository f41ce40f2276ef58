"""Evidence from linked candidates: a work item near its parent, blockers and decisions.

A paraphrase can miss a work item's own words and still find the items it is
typed-linked to: the epic it rolls up to, the task it blocks, the ADR that
decided it. When such a neighbour is itself a candidate of the ordinary
search, the item gains ``weight`` times that neighbour's fused score (the best
one when several are candidates), so the linked pair rises together and the
item is no longer left behind its own neighbourhood.

- **Which links count** (``EVIDENCE_KINDS``): the typed ones a backlog writes on
  purpose (``parent``, ``relates``, ``blocks``, ``blocked_by``, ``decision`` and
  their mirrors). Body links, wiki links and mentions were measured too and
  dilute the evidence (``docs/decisions/backlog-ranking.md``).
- **Hubs never count.** A dashboard or index links to everything, so it
  neither lends nor receives; the neighbour table leaves hubs out entirely.
- **Pinned hits do not lend**: an exact-id or relation answer is pinned for
  what it is, not for its text; lending its score would lift every neighbour
  of the item a user named.
- **Relation questions are left alone**: the engine calls this only when the
  graph leg did not answer.

The resolved neighbour table is a fact of the whole catalog, built once per
catalog state through the store (``SearchReads.catalog_fact``); a catalog with
no links (SciFact) gives an empty table and no boost at all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from lore.search.fusion import Fused
from lore.search.graph import LinkGraph
from lore.store.base import SearchReads

EVIDENCE_KINDS = frozenset({"parent", "child", "relates", "blocks", "blocked_by",
                            "decision", "decides"})


@dataclass(frozen=True)
class Neighbours:
    """Each linked, non-hub document's typed-link neighbours (non-hubs too).

    Attributes:
        linked: document id -> the documents it is linked to by ``EVIDENCE_KINDS``.
        names: document id -> its doc id (else path), for ``--explain``.
    """

    linked: Mapping[int, frozenset[int]]
    names: Mapping[int, str]

    @classmethod
    def from_graph(cls, graph: LinkGraph, hubs: Collection[int]) -> Neighbours:
        """The typed neighbours of every document of ``graph``, hubs left out."""
        linked: dict[int, frozenset[int]] = {}
        for doc in graph.resolver.docs:
            if doc in hubs:
                continue
            near = frozenset(edge.target for edge in graph.edges(doc)
                             if edge.kind in EVIDENCE_KINDS and edge.target not in hubs)
            if near:
                linked[doc] = near
        names = {doc: ref.doc_id or ref.path for doc, ref in graph.resolver.docs.items()
                 if doc in linked}
        return cls(linked, names)


@dataclass(frozen=True)
class Lent:
    """Evidence one chunk received: how much, and from which linked document."""

    amount: float
    lender: str


def link_neighbours(store: SearchReads) -> Neighbours:
    """The catalog's neighbour table, kept by the store while the catalog stands."""
    return store.catalog_fact("link_neighbours", lambda: Neighbours.from_graph(
        LinkGraph.of_catalog(store), store.all_hubs()))


def lend(fused: Sequence[Fused], owners: Mapping[int, int], neighbours: Neighbours,
         weight: float) -> dict[int, Lent]:
    """Chunk id -> the evidence its document's best linked candidate lends it.

    Args:
        fused: the fused candidates (scores with the boosts so far), best first.
        owners: chunk id -> document id.
        neighbours: the catalog's neighbour table.
        weight: the share of the neighbour's fused score lent (0: nothing).
    """
    linked = neighbours.linked
    if not weight or not linked:
        return {}
    best: dict[int, float] = {}     # fused is best first, so a document's first unpinned chunk
    for entry in fused:
        if not entry.pinned:
            doc = owners[entry.chunk_id]
            if doc in linked and doc not in best:
                best[doc] = entry.score
    per_document: dict[int, Lent | None] = {}
    lent: dict[int, Lent] = {}
    for entry in fused:
        doc = owners[entry.chunk_id]
        if doc not in per_document:
            near = linked.get(doc, frozenset()) & best.keys()
            lender = max(near, key=lambda n: (best[n], n), default=None)
            per_document[doc] = (Lent(weight * best[lender], neighbours.names[lender])
                                 if lender is not None and best[lender] > 0 else None)
        found = per_document[doc]
        if found is not None:
            lent[entry.chunk_id] = found
    return lent
