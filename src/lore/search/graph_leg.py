"""The graph leg: answer a relation question from the typed links.

When the query reads as a relation question (``search/relations.py``) whose
anchor names a document (``search/graph_answer.py``), this leg lists the
answers, then the anchor (then, for a direct parent question, the ancestors
above the parent), each represented by its first chunk that passes the
query's filters. The engine pins the leg above every other (the anchor
would otherwise take rank 1 through the exact-id pin, which is what made
"what blocks X" return X), so the rest of the ranking is the normal search
for the question's words. With no relation, or an anchor that names nothing,
the leg is absent and the query is an ordinary search (a claim that merely
reads like a relation question never pins a document). An anchor found with
no such links gives an empty leg, so the search stays an ordinary one but can
say why ("what blocks X" where nothing blocks X: ``GraphLeg.notice``).

The anchor text becomes documents through the exact-id leg itself
(``id_documents`` runs ``idmatch.id_leg``), so every id form a plain search
resolves (``KABSD-TSK-350``, ``tsk 350``, ``#350``, ``epic 1``) resolves the
same way as an anchor. An id naming several documents is answered for each of
them (``graph_answer``), and the notice names them all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lore.search.fusion import LegResult
from lore.search.graph import LinkGraph
from lore.search.graph_answer import GraphAnswer, above_parents, answer
from lore.search.idmatch import ambiguity_note, anchor_label, id_candidates, id_leg
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
        paths: document row id -> the walk from its anchor (doc ids and edge kinds)
            and that anchor's row id. Keyed by document, not by the leg's chunk:
            the hit may show another chunk of the document (the keyword leg's best).
        anchor_text: the anchor as the question wrote it, for the notice.
    """

    leg: LegResult
    answer: GraphAnswer
    paths: Mapping[int, tuple[tuple[str, ...], int]]
    anchor_text: str = ""

    def notice(self) -> str | None:
        """What the reader must know: the anchor was found but nothing is linked
        that way (the hits are then an ordinary search), or its id names several
        documents and the answers are for those of them with such links; else None."""
        found = self.answer
        if not found.answers:
            names = ", ".join(a.doc_id for a in found.anchors)
            return (f"no {found.relation} links found for {names}"
                    f" (front matter or body): these hits are an ordinary search")
        if not found.named:
            return None
        answered = ", ".join(a.doc_id for a in found.anchors)
        return ambiguity_note(self.anchor_text, [d.doc_id for d in found.named],
                              outcome=f"the {found.relation} answers of {answered}"
                                      " are listed in turn")

    def explain(self, document_id: int) -> dict[str, object] | None:
        """The relation and path that put the document in the leg, or None."""
        if document_id not in self.paths:
            return None
        path, start = self.paths[document_id]
        return {**self.answer.explain(start), "path": " ".join(_arrows(path))}

    def via(self, document_id: int) -> tuple[tuple[str, str], ...]:
        """(edge kind, doc id it came from) for the last step of the document's walk."""
        path = self.paths[document_id][0] if document_id in self.paths else ()
        return ((path[-2], path[-3]),) if len(path) >= 3 else ()


def relation_leg(store: SearchReads, text: str,
                 restriction: Restriction | None) -> GraphLeg | None:
    """The graph leg for ``text`` over ``store``, answers limited to ``restriction``."""
    return graph_leg(text, lambda: LinkGraph.of_catalog(store),
                     first_chunks=lambda docs: store.first_chunks(docs, restriction),
                     load_hubs=store.all_hubs,
                     find_ids=lambda anchor, doctype: id_documents(store, anchor, doctype))


def id_documents(store: SearchReads, anchor: str, doctype: str | None = None) -> list[int]:
    """Documents an anchor names as an id, found by the exact-id leg as a plain
    search of ``anchor`` would find them (``TSK-0244``, ``0083``, ``kabsd-tsk-244``,
    ``tsk 244``, ``#244``, ``ID@uid``, a uid prefix), in its order.

    Args:
        store: the index's store.
        anchor: the anchor text of a relation question.
        doctype: the type word the question gave the anchor ("children of *epic* 1"
            hands over "1" and Epic): a bare number is looked up as that type's.
    """
    found = id_leg(store, id_candidates(parse_query(anchor, set()), doctype=doctype))
    owners = store.chunk_owners([chunk for chunk, _ in found.ranked])
    return list(dict.fromkeys(owners[c] for c, _ in found.ranked if c in owners))


def graph_leg(text: str, load_graph: Callable[[], LinkGraph], *,
              first_chunks: Callable[[Sequence[int]], Mapping[int, int]],
              load_hubs: Callable[[], Collection[int]],
              find_ids: Callable[[str, str | None], Sequence[int]] = lambda *_: (),
              ) -> GraphLeg | None:
    """The graph leg for ``text``, or None when it is no relation question about a
    document (an empty leg when the anchor is found but has no such links).

    Args:
        text: the query text (inline filters removed).
        load_graph: returns the catalog's link graph (called only for relation questions).
        first_chunks: document ids -> their first chunk id, for documents passing
            the query's filters (others are absent).
        load_hubs: returns the ids of hub pages (called only for relation questions).
        find_ids: (anchor text, the type word's doctype) -> the documents it names
            as an id in any form (called only for relation questions).
    """
    question = parse_relation(text)
    if question is None:
        return None
    graph = load_graph()
    found = answer(graph, question, is_hub=set(load_hubs()).__contains__,
                   id_anchor=find_ids(question.anchor, question.type_hint))
    if found is None:
        return None
    label = anchor_label(question.anchor, question.type_hint)
    if not found.answers:   # nothing linked that way: an ordinary search, no pinned anchor
        return GraphLeg(LegResult(GRAPH_LEG, []), found, {}, label)
    walks = [(a.rowid, a.path, a.start) for a in found.answers]
    walks.extend((a.rowid, (a.doc_id,), a.rowid) for a in found.anchors)
    walks.extend((a.rowid, a.path, a.start) for a in above_parents(graph, question, found))
    chunks = first_chunks([rowid for rowid, _, _ in walks])
    ranked: list[tuple[int, float]] = []
    paths: dict[int, tuple[tuple[str, ...], int]] = {}
    for rowid, path, start in walks:
        chunk = chunks.get(rowid)
        if chunk is not None and rowid not in paths:
            paths[rowid] = (path, start)
            ranked.append((chunk, 1.0 / (1 + len(ranked))))
    return GraphLeg(LegResult(GRAPH_LEG, ranked), found, paths, label)


def _arrows(path: tuple[str, ...]) -> list[str]:
    """``(a, kind, b)`` as ``["a", "-kind->", "b"]``; a lone anchor as itself."""
    return [part if i % 2 == 0 else f"-{part}->" for i, part in enumerate(path)]
