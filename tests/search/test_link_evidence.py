"""Evidence from typed links: a linked candidate lifts an item, hubs lend nothing,
no links (or a relation question) leaves the ranking as it was, in both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lore.cli._hits_format import explain_line
from lore.documents.model import Chunk, Document, Link
from lore.search.engine import search_store
from lore.search.fusion import Fused
from lore.search.graph import LinkGraph, LinkResolver
from lore.search.hits import Hit
from lore.search.link_evidence import Lent, Neighbours, lend
from lore.settings import SearchSettings, Settings
from lore.store.base import Store

# (doc id, doctype, title, body, links). The query below matches the epic well and
# both tasks weakly, TSK-0002 a little better than TSK-0001; only TSK-0001 is a child
# of the epic. The index page links to TSK-0002 and the epic, as dashboards do.
LINKED_DOCS: list[tuple[str, str, str, str, tuple[Link, ...]]] = [
    ("EPIC-0001", "Epic", "Offline identifiers",
     "Identifiers are generated offline without collisions by every writer.", ()),
    ("TSK-0001", "Task", "Allocate numbers",
     "Pick the next free number for a new item; collisions are reported.",
     (Link("parent", "EPIC-0001"),)),
    ("TSK-0002", "Task", "Number printing",
     "Print the next number in reports; collisions in printing are rare collisions.", ()),
    ("IDX-0001", "Index", "Offline identifiers", "- [[TSK-0002]]\n- [[EPIC-0001]]",
     (Link("relates", "TSK-0002"), Link("relates", "EPIC-0001"))),
]
QUERY = "offline identifiers without collisions"


def fill(store: Store, docs: list[tuple[str, str, str, str, tuple[Link, ...]]]) -> None:
    """Write ``docs`` into ``store``, one chunk each (no parser, no files)."""
    for doc_id, doctype, title, body, links in docs:
        path = f"items/{doc_id}.md"
        store.replace_document(Document(
            path=path, doc_id=doc_id, uid=None, title=title, doctype=doctype,
            metadata={"id": doc_id, "type": doctype, "title": title}, links=links, body=body,
            content_hash=path, size=len(body), mtime_ns=0),
            [Chunk(0, (), body, "section", len(body.split()))], "test")


@pytest.fixture(params=["sqlite", "postgres"])
def linked_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """``LINKED_DOCS`` in each backend."""
    if request.param == "sqlite":
        from lore.store.catalog import Catalog

        catalog = Catalog.memory()
        fill(catalog, LINKED_DOCS)
        yield catalog
        catalog.close()
        return
    from tests.conftest import pg_store

    store = pg_store(request.getfixturevalue("pg_url"))
    fill(store, LINKED_DOCS)
    yield store
    store.drop_root()
    store.close()


def search(store: Store, query: str, weight: float | None = None, **kwargs: Any) -> list[Hit]:
    """Keyword-mode hits of ``query``, with link evidence ``weight`` (None: the default)."""
    search = SearchSettings() if weight is None else SearchSettings(link_evidence=weight)
    return list(search_store(store, query, settings=Settings(search=search), mode="keyword",
                             explain=True, **kwargs))


def test_a_linked_candidate_lifts_the_item_above_an_unlinked_one(linked_store: Store) -> None:
    without = [h.doc_id for h in search(linked_store, QUERY, weight=0.0)]
    assert without.index("TSK-0002") < without.index("TSK-0001")   # the fixture is fair
    hits = search(linked_store, QUERY)
    order = [h.doc_id for h in hits]
    assert order.index("TSK-0001") < order.index("TSK-0002")
    lifted = hits[order.index("TSK-0001")].explain
    assert lifted is not None and lifted["linked"]["lender"] == "EPIC-0001"
    assert lifted["boosts"]["links"] == pytest.approx(lifted["linked"]["amount"])
    amount = lifted["linked"]["amount"]
    assert f"links {amount:+.4f} from EPIC-0001" in explain_line(lifted)


def test_a_hub_neither_lends_nor_receives(linked_store: Store) -> None:
    found = search(linked_store, QUERY)
    assert [h.doc_id for h in found if h.hub] == ["IDX-0001"]
    hits = {h.doc_id: h.explain for h in found}
    for doc_id in ("TSK-0002", "IDX-0001"):   # linked only through the index page
        record = hits[doc_id]
        assert record is not None and "links" not in record["boosts"] and "linked" not in record


def test_a_relation_question_is_left_to_the_graph_leg(linked_store: Store) -> None:
    def ranked(weight: float) -> list[tuple[str, float]]:
        return [(h.doc_id, h.score) for h in search(linked_store, "children of EPIC-0001",
                                                    weight=weight)]

    assert ranked(0.0)[0][0] == "TSK-0001"
    assert ranked(0.0) == ranked(SearchSettings().link_evidence)


@pytest.mark.parametrize("query", ["cache", "vectors sidecar", "SQLite keyword search",
                                   "KABSD-TSK-0001", "cache -sidecar"])
def test_without_links_the_ranking_is_identical(mini_store: Store, query: str) -> None:
    assert not mini_store.stored_links()
    default = SearchSettings().link_evidence
    assert default > 0
    off = [(h.path, h.score, h.explain and h.explain["boosts"])
           for h in search(mini_store, query, weight=0.0)]
    on = [(h.path, h.score, h.explain and h.explain["boosts"])
          for h in search(mini_store, query, weight=default)]
    assert off and on == off


def test_lend_takes_the_best_unpinned_neighbour() -> None:
    resolver = LinkResolver([(1, "a.md", "A", None, "A", "Task"),
                             (2, "b.md", "B", None, "B", "Task"),
                             (3, "c.md", "C", None, "C", "Epic"),
                             (4, "d.md", "D", None, "D", "Task")])
    graph = LinkGraph(resolver, [(1, "parent", "C"), (2, "parent", "C"), (1, "relates", "B")])
    neighbours = Neighbours.from_graph(graph, hubs=set())
    fused = sorted([Fused(30, 0.9, pin=(0, 1)), Fused(20, 0.8), Fused(10, 0.5), Fused(11, 0.6),
                    Fused(40, 0.7)], key=Fused.sort_key)      # as the engine hands them over
    owners = {30: 3, 20: 2, 10: 1, 11: 1, 40: 4}
    lent = lend(fused, owners, neighbours, 0.5)
    # A's neighbours: C (pinned, lends nothing) and B (0.8); both of A's chunks gain
    assert lent[10] == lent[11] == Lent(0.5 * 0.8, "B")
    assert lent[20] == Lent(0.5 * 0.6, "A")   # B's best link is A's best chunk (C is pinned)
    assert lent[30] == Lent(0.5 * 0.8, "B")   # a pinned hit may still receive
    assert 40 not in lent                      # D is linked to nothing
    assert lend(fused, owners, neighbours, 0.0) == {}
    hubbed = Neighbours.from_graph(graph, hubs={2})
    assert 2 not in hubbed.linked and hubbed.linked[1] == frozenset({3})
    assert 10 not in lend(fused, owners, hubbed, 0.5)   # its only other neighbour is pinned
