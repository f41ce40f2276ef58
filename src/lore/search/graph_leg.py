"""The graph leg: answer a relation question from the typed links.

When the query reads as a relation question (``search/relations.py``) whose
anchor names a document (``search/graph_answer.py``), this leg lists the
answers, then the anchor, each represented by its first chunk that passes
the query's filters. The engine pins the leg above every other (the anchor
would otherwise take rank 1 through the exact-id pin, which is what made
"what blocks X" return X), so the rest of the ranking is the normal search
for the question's words. With no relation, or an anchor that names nothing,
the leg is absent and the query is an ordinary search (a claim that merely
reads like a relation question never pins a document). An anchor found with
no such links gives an empty leg, so the search stays an ordinary one but can
say why ("what blocks X" where nothing blocks X: ``GraphLeg.notice``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lore.search.fusion import LegResult
from lore.search.graph import LinkGraph
from lore.search.graph_answer import GraphAnswer, answer
from lore.search.idmatch import id_candidates, lookup
from lore.search.query import parse_query
from lore.search.relations import parse_relation

if TYPE_CHECKING:
    from lore.store.base import Restriction, SearchReads

GRAPH_LEG = "graph"


@dataclass(frozen=True)
class GraphLeg:
    """The leg's ranking plus what ``--explain`` says about each of its chunks.

    Attributes:
        leg: answers then the anchor, as (chunk id, score) with scores falling by rank.
        answer: the relation, anchor and walks behind the leg.
        paths: document row id -> the walk from the anchor (doc ids and edge kinds),
            by document because a hit may show another chunk of the document.
    """

    leg: LegResult
    answer: GraphAnswer
    paths: Mapping[int, tuple[str, ...]]

    def notice(self) -> str | None:
        """What the reader must know when the anchor was found but nothing is linked
        that way (the hits are then an ordinary search), else None."""
        if self.answer.answers:
            return None
        return (f"no {self.answer.relation} links found for {self.answer.anchor.doc_id}"
                f" (front matter or body): these hits are an ordinary search")

    def explain(self, document: int) -> dict[str, object] | None:
        """The relation and path that put ``document`` in the leg, or None."""
        path = self.paths.get(document)
        if path is None:
            return None
        return {**self.answer.explain(), "path": " ".join(_arrows(path))}

    def via(self, document: int) -> tuple[tuple[str, str], ...]:
        """(edge kind, doc id it came from) for the last step of the document's walk."""
        path = self.paths.get(document, ())
        return ((path[-2], path[-3]),) if len(path) >= 3 else ()


def relation_leg(store: SearchReads, text: str,
                 restriction: Restriction | None) -> GraphLeg | None:
    """The graph leg for ``text`` over ``store``, answers limited to ``restriction``."""
    return graph_leg(text, lambda: LinkGraph.of_catalog(store),
                     first_chunks=lambda docs: store.first_chunks(docs, restriction),
                     load_hubs=store.all_hubs,
                     find_ids=lambda anchor: id_documents(store, anchor))


def id_documents(store: SearchReads, anchor: str) -> list[int]:
    """Documents an anchor names as an id in any form the exact-id leg accepts
    (``TSK-0244``, ``0083``, ``kabsd-tsk-0244``, ``ID@uid``, a uid prefix), by path."""
    chunks: list[int] = []
    for candidate in id_candidates(parse_query(anchor, set())):
        chunks.extend(chunk for chunk, _ in lookup(store, candidate, restriction=None)[1])
    owners = store.chunk_owners(chunks)
    return list(dict.fromkeys(owners[c] for c in chunks if c in owners))


def graph_leg(text: str, load_graph: Callable[[], LinkGraph], *,
              first_chunks: Callable[[Sequence[int]], Mapping[int, int]],
              load_hubs: Callable[[], Collection[int]],
              find_ids: Callable[[str], Sequence[int]] = lambda _: ()) -> GraphLeg | None:
    """The graph leg for ``text``, or None when it is no relation question about a
    document (an empty leg when the anchor is found but has no such links).

    Args:
        text: the query text (inline filters removed).
        load_graph: returns the catalog's link graph (called only for relation questions).
        first_chunks: document ids -> their first chunk id, for documents passing
            the query's filters (others are absent).
        load_hubs: returns the ids of hub pages (called only for relation questions).
        find_ids: anchor text -> the documents it names as an id in any form
            (called only for relation questions).
    """
    question = parse_relation(text)
    if question is None:
        return None
    graph = load_graph()
    found = answer(graph, question, is_hub=set(load_hubs()).__contains__,
                   id_anchor=find_ids(question.anchor))
    if found is None:
        return None
    if not found.answers:   # nothing linked that way: an ordinary search, no pinned anchor
        return GraphLeg(LegResult(GRAPH_LEG, []), found, {})
    anchor_path = (found.anchor.doc_id,)
    walks = [(a.rowid, a.path) for a in found.answers]
    walks.append((found.anchor.rowid, anchor_path))
    chunks = first_chunks([rowid for rowid, _ in walks])
    ranked: list[tuple[int, float]] = []
    paths: dict[int, tuple[str, ...]] = {}
    for rowid, path in walks:
        chunk = chunks.get(rowid)
        if chunk is not None and rowid not in paths:
            paths[rowid] = path
            ranked.append((chunk, 1.0 / (1 + len(ranked))))
    return GraphLeg(LegResult(GRAPH_LEG, ranked), found, paths)


def _arrows(path: tuple[str, ...]) -> list[str]:
    """``(a, kind, b)`` as ``["a", "-kind->", "b"]``; a lone anchor as itself."""
    return [part if i % 2 == 0 else f"-{part}->" for i, part in enumerate(path)]
