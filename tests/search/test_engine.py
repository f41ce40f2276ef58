"""search_store end to end: ids pinned first, exact filters, grouping, exclusions, explain.

The hand-built ``mini_store`` checks exact behaviour; the real kano corpus
(``kano_index``) checks it on 770 real backlog files.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from lore.documents.model import Chunk, Document
from lore.errors import QueryError
from lore.index import Index
from lore.search.engine import search_store
from lore.search.fts import match_terms
from lore.search.hits import Hit
from lore.search.query import parse_query
from lore.settings import SearchSettings, Settings
from lore.store import bm25
from lore.store.base import Store
from lore.store.catalog import Catalog

TSK_0350 = "KABSD-TSK-0350"


def run(catalog: Store, query: str, *, search: SearchSettings | None = None,
        **kwargs: Any) -> list[Hit]:
    settings = Settings(search=search or SearchSettings())
    return search_store(catalog, query, settings=settings, **kwargs)


def all_of(index: Index, query: str, **kwargs: Any) -> list[Hit]:
    """Every hit (no leg truncation, no limit) for ``query`` on the kano index."""
    search = dataclasses.replace(index.settings.search, candidates=100_000)
    return run(index._store, query, search=search, limit=100_000, **kwargs)


def metadata_scan(conn: sqlite3.Connection, filters: Mapping[str, Sequence[str]]) -> set[str]:
    """Paths whose metadata passes ``filters``, computed in Python from the raw JSON."""
    def values(meta: dict[str, object], dotted: str) -> list[str]:
        node: object = meta
        for part in dotted.split("."):
            if not isinstance(node, dict):
                return []
            node = {k.lower(): v for k, v in node.items()}.get(part)
        items = node if isinstance(node, list) else [node]
        return [str(v).lower() for v in items if v is not None]

    return {path for path, raw in conn.execute("SELECT path, metadata FROM documents")
            if all(set(values(json.loads(raw), key)) & {v.lower() for v in wanted}
                   for key, wanted in filters.items())}


def fts_documents(conn: sqlite3.Connection, expr: str) -> set[str]:
    """Paths of documents with a chunk matching the raw FTS5 expression ``expr``."""
    return {r[0] for r in conn.execute(
        "SELECT DISTINCT d.path FROM chunks_fts f JOIN chunks c ON c.id = f.rowid "
        "JOIN documents d ON d.id = c.document_id WHERE chunks_fts MATCH ?", (expr,))}


# --- hand-built catalog -------------------------------------------------------------------

def test_id_match_is_pinned_first(mini_store: Store) -> None:
    # "cache" alone ranks the cache task first; the id must still win.
    hits = run(mini_store, "cache KABSD-TSK-0002", explain=True)
    assert hits[0].doc_id == "KABSD-TSK-0002"
    assert hits[0].explain is not None and hits[0].explain["pinned"]
    assert not any(h.explain and h.explain["pinned"] for h in hits[1:])


def test_id_leg_credits_the_chunk_that_matched(mini_store: Store) -> None:
    # KABSD-TSK-0002's second chunk mentions "cache": the id and keyword legs
    # should land on that one chunk, not split across two.
    hit = run(mini_store, "KABSD-TSK-0002 cache", explain=True)[0]
    assert hit.chunk.ordinal == 1
    assert hit.explain is not None and set(hit.explain["legs"]) == {"id", "keyword"}


@pytest.mark.parametrize("query", ["kabsd-tsk-0001", "019C18D9-0000-7000-8000-000000000001",
                                   "README", "notes/README.md"])
def test_ids_uids_stems_and_paths_find_their_document(mini_store: Store, query: str) -> None:
    hits = run(mini_store, query, explain=True)
    expected = "notes/README.md" if "readme" in query.lower() else "items/KABSD-TSK-0001_cache.md"
    assert hits[0].path == expected
    assert hits[0].explain is not None and "id" in hits[0].explain["legs"]


def test_id_match_respects_filters(mini_store: Store) -> None:
    # KABSD-TSK-0002 is Proposed; the Done task that mentions it may still match as text.
    hits = run(mini_store, "KABSD-TSK-0002", filters={"state": ["done"]}, explain=True)
    assert [h.doc_id for h in hits] == ["KABSD-TSK-0001"]
    assert hits[0].explain is not None and set(hits[0].explain["legs"]) == {"keyword"}


def test_nested_key_filter(mini_store: Store) -> None:
    hits = run(mini_store, "links.blocks:kabsd-tsk-0001 cache")
    assert [h.doc_id for h in hits] == ["KABSD-TSK-0002"]


def test_filter_only_query_lists_by_path(mini_store: Store) -> None:
    hits = run(mini_store, "type:task")
    assert [h.path for h in hits] == ["items/KABSD-TSK-0001_cache.md",
                                      "items/KABSD-TSK-0002_store.md"]


@pytest.mark.parametrize("query", ["", "   ", "!!!", "😀", '"', "-cache", "-", "type:"])
def test_nothing_to_search_gives_no_hits(mini_store: Store, query: str) -> None:
    assert run(mini_store, query) == []


def test_exclusion_removes_whole_documents(mini_store: Store) -> None:
    # KABSD-TSK-0002 mentions "sidecar" in one chunk and "cache" in another.
    with_it = {h.path for h in run(mini_store, "cache")}
    without = {h.path for h in run(mini_store, "cache -sidecar")}
    assert "items/KABSD-TSK-0002_store.md" in with_it
    assert without == with_it - {"items/KABSD-TSK-0002_store.md"}


def test_doctype_boost_is_applied_and_explained(mini_store: Store) -> None:
    plain = run(mini_store, "cache", explain=True)
    boosted = run(mini_store, "cache", explain=True,
                  search=SearchSettings(doctype_boosts={"adr": 1.0}))
    assert plain[0].doctype != "ADR"
    assert boosted[0].doctype == "ADR"
    assert boosted[0].explain is not None and boosted[0].explain["boosts"] == {"doctype": 1.0}


def test_chunks_mode_returns_each_matching_chunk(mini_store: Store) -> None:
    per_doc = run(mini_store, "cache", limit=50)
    per_chunk = run(mini_store, "cache", limit=50, chunks=True)
    assert len({h.path for h in per_doc}) == len(per_doc)
    assert len(per_chunk) > len(per_doc)
    assert {h.path for h in per_chunk} == {h.path for h in per_doc}
    assert len({(h.path, h.chunk.ordinal) for h in per_chunk}) == len(per_chunk)


def test_hit_json_shape(mini_store: Store) -> None:
    hit = run(mini_store, "sidecar", explain=True)[0]
    data = hit.to_json()
    assert set(data) == {"path", "doc_id", "title", "doctype", "score", "snippet", "highlights",
                         "metadata", "chunk", "explain", "via", "also_at", "vector_only",
                         "hub"}
    assert set(data["chunk"]) == {"ordinal", "heading_path", "kind"}
    assert data["metadata"]["state"] == "Proposed"
    json.dumps(data)  # serialisable as is
    start, end = data["highlights"][0]
    assert data["snippet"][start:end] == "sidecar"
    assert hit.marked_snippet() == "Store vectors in a [sidecar] index."


def test_explain_is_off_by_default(mini_store: Store) -> None:
    assert all(h.explain is None for h in run(mini_store, "cache"))


@pytest.mark.parametrize("kwargs", [{"mode": "vector"}, {"mode": "nonsense"}, {"limit": 0}])
def test_bad_requests_raise_query_error(mini_store: Store, kwargs: dict[str, Any]) -> None:
    with pytest.raises(QueryError):
        run(mini_store, "cache", **kwargs)


# --- the real kano corpus ---------------------------------------------------------------

def test_kano_id_query_returns_that_file_first(kano_index: Index) -> None:
    for query in (TSK_0350, TSK_0350.lower(), f"{TSK_0350} sqlite schema migration"):
        hits = kano_index.search(query)
        assert TSK_0350 in hits[0].path, query


def test_kano_uid_finds_its_document(kano_index: Index) -> None:
    uid = kano_index._store.conn.execute(
        "SELECT uid FROM documents WHERE doc_id = ?", (TSK_0350,)).fetchone()[0]
    assert TSK_0350 in kano_index.search(uid)[0].path


@pytest.mark.parametrize("filters", [{"state": ["Done"]}, {"type": ["Task"], "state": ["Done"]},
                                     {"type": ["ADR", "Bug"]}, {"parent": ["KABSD-FTR-0042"]}])
def test_kano_filters_are_exact(kano_index: Index, filters: dict[str, list[str]]) -> None:
    conn = kano_index._store.conn
    expected = metadata_scan(conn, filters)
    assert expected, "the filter should match something in the corpus"
    # Filter-only: exactly the documents that pass (copies folded into "also at").
    listed = all_of(kano_index, "", filters=filters)
    assert {p for h in listed for p in (h.path, *h.also_at)} == expected
    # With text: exactly the passing documents that contain a term.
    hits = all_of(kano_index, "embedding provider", filters=filters)
    assert {p for h in hits for p in (h.path, *h.also_at)} == \
        expected & fts_documents(conn, '"embedding" OR "provider"')


@pytest.mark.parametrize(("asked", "meant"), [
    ({"type": ["Story"]}, {"type": ["UserStory"]}),
    ({"type": ["decision"], "status": ["accept"]}, {"type": ["ADR"], "status": ["Accepted"]}),
    ({"state": ["in progress"]}, {"state": ["InProgress"]}),
    ({"state": ["Doen"]}, {"state": ["Done"]}),
])
def test_kano_near_filter_values_match_what_they_mean(kano_index: Index,
                                                      asked: dict[str, list[str]],
                                                      meant: dict[str, list[str]]) -> None:
    expected = metadata_scan(kano_index._store.conn, meant)
    assert expected, "the meant filter should match something in the corpus"
    found = kano_index.search("", filters=asked, limit=10_000)
    assert {p for h in found for p in (h.path, *h.also_at)} == expected
    matched = [n for n in found.notices if "matched it to" in n]
    assert len(matched) == len(asked)
    assert not any("matched it to" in n
                   for n in kano_index.search("", filters=meant, limit=10_000).notices)


def test_kano_inline_filter_equals_filter_argument(kano_index: Index) -> None:
    inline = all_of(kano_index, "type:ADR sqlite index")
    argument = all_of(kano_index, "sqlite index", filters={"type": ["adr"]})
    assert inline and [h.path for h in inline] == [h.path for h in argument]
    assert all(h.doctype == "ADR" and h.metadata["type"] == "ADR" for h in inline)


def test_kano_adr_found_by_title_words(kano_index: Index) -> None:
    conn = kano_index._store.conn
    path, title = conn.execute(
        "SELECT path, title FROM documents WHERE doc_id = 'ADR-0009'").fetchone()
    words = [w for w in title.split() if len(w) > 3][-3:]  # e.g. "Search Strategic Evaluation"
    assert kano_index.search(" ".join(words))[0].path == path
    shared = conn.execute("SELECT path, title FROM documents WHERE doc_id = 'ADR-0008'").fetchone()
    assert shared[0] in [h.path for h in kano_index.search(shared[1].lower(), limit=3)]


def test_kano_grouping_versus_chunks(kano_index: Index) -> None:
    per_doc = kano_index.search("embedding provider", limit=50)
    per_chunk = kano_index.search("embedding provider", limit=50, chunks=True)
    assert len(per_doc) == 50 and len({h.path for h in per_doc}) == 50
    assert len({h.path for h in per_chunk}) < len(per_chunk)
    assert per_chunk[0].path == per_doc[0].path


@pytest.mark.parametrize("query", ["Backlog Structure and MOC", "kano skill release checklist",
                                   "item state transitions", "rebuild the index"])
def test_kano_common_term_pruning_keeps_the_top_hits(kano_index: Index, query: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = kano_index._store
    terms = match_terms(parse_query(query, ()))
    monkeypatch.setattr(bm25, "COMMON_MIN_ROWS", 0)     # prune wherever a term is common
    assert bm25._common_terms(store._conn, bm25.DOCUMENTS, terms)[0], "the query should mix terms"
    pruned = [(h.path, round(h.score, 9)) for h in kano_index.search(query, limit=30)]
    monkeypatch.setattr(bm25, "COMMON_MIN_ROWS", 10**9)  # exact OR over every row
    assert bm25._common_terms(store._conn, bm25.DOCUMENTS, terms)[0] == set()
    assert [(h.path, round(h.score, 9)) for h in kano_index.search(query, limit=30)] == pruned


def test_kano_exclusion(kano_index: Index) -> None:
    conn = kano_index._store.conn
    hits = all_of(kano_index, "embedding -sqlite")
    assert hits
    assert not {h.path for h in hits} & fts_documents(conn, '"sqlite"')


def test_query_words_written_side_by_side_rank_first() -> None:
    catalog = Catalog.memory()
    try:
        for i, body in enumerate(["plum mango kiwi", "kiwi plum mango"]):   # same words
            doc = Document(path=f"d{i}.md", doc_id=f"d{i}", uid=None, title="fruit",
                           doctype="note", metadata={}, links=(), body=body,
                           content_hash=str(i), size=len(body), mtime_ns=0)
            catalog.replace_document(doc, [Chunk(0, (), body, "section", 3)], "test")
        near = run(catalog, "kiwi plum", mode="keyword")
        apart = run(catalog, "kiwi plum", mode="keyword",
                    search=SearchSettings(proximity_weight=0.0))
        assert [h.path for h in near] == ["d1.md", "d0.md"]     # "kiwi plum" in order
        assert [h.path for h in apart] == ["d0.md", "d1.md"]    # a tie, by row order
    finally:
        catalog.close()


def test_kano_signed_number_is_searched_not_excluded(kano_index: Index) -> None:
    # "-2" read as an exclusion removed every document holding the number 2.
    conn = kano_index._store.conn
    with_two = fts_documents(conn, '"2"')
    hits = {h.path for h in all_of(kano_index, "embedding model -2")}
    assert hits & with_two
    assert not {h.path for h in all_of(kano_index, "embedding model -sqlite")} \
        & fts_documents(conn, '"sqlite"')
