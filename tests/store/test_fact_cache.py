"""Cached catalog facts follow every write: another connection's, this one's, uncommitted ones."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import fill_mini

from lore.store.catalog import Catalog
from lore.store.fact_cache import FactCache, cached

TASK1, TASK2 = "items/KABSD-TSK-0001_cache.md", "items/KABSD-TSK-0002_store.md"


def ids(catalog: Catalog, path: str) -> tuple[int, list[int]]:
    record = catalog.get_document(path)
    assert record is not None
    return record.id, [chunk.id for chunk in record.chunks]


def facts(catalog: Catalog, doc: int, chunks: list[int]) -> tuple[object, ...]:
    """What a search reads, inside one snapshot (the cache's only users)."""
    with catalog.read_snapshot():
        return (catalog.chunk_owners(chunks), catalog.document_chunks([doc]),
                catalog.hub_documents({doc}), catalog.copy_groups({doc}),
                catalog.doctypes({doc}), catalog.document_dates({doc}, ("state",)),
                catalog.term_coverage(['"cache"', '"vectors"', '"hash"'], {doc}))


def retype(catalog: Catalog, conn: sqlite3.Connection | None = None) -> None:
    """Make TASK1 an Index page about something else: type, hub flag, state, words change."""
    (conn or catalog.conn).execute(
        "UPDATE documents SET doctype = 'Index', hub = 1, metadata = json_set(metadata,"
        " '$.state', 'Dropped') WHERE path = ?", (TASK1,))


@pytest.fixture
def on_disk(tmp_path: Path) -> Iterator[tuple[Catalog, Catalog]]:
    """Two connections to one catalog file: a searcher and a writer."""
    searcher = Catalog.open(tmp_path)
    fill_mini(searcher)
    writer = Catalog.open(tmp_path)
    yield searcher, writer
    writer.close()
    searcher.close()


def test_a_commit_by_another_connection_is_seen_by_the_next_snapshot(
        on_disk: tuple[Catalog, Catalog]) -> None:
    searcher, writer = on_disk
    doc, chunks = ids(searcher, TASK1)
    before = facts(searcher, doc, chunks)
    assert facts(searcher, doc, chunks) == before       # served from the cache: same answer
    with writer.transaction() as conn:
        retype(writer, conn)
    after = facts(searcher, doc, chunks)
    assert after[2:6] == ({doc}, {}, {doc: "Index"}, {doc: (TASK1, ("Dropped",))})
    writer.delete_documents([TASK1])
    gone = facts(searcher, doc, chunks)
    assert gone[:5] == ({}, [], set(), {}, {})
    assert gone[6] == {doc: 0.0}


def test_a_snapshot_open_before_the_commit_keeps_its_state(
        on_disk: tuple[Catalog, Catalog]) -> None:
    searcher, writer = on_disk
    doc, chunks = ids(searcher, TASK1)
    with searcher.read_snapshot():
        assert searcher.doctypes({doc}) == {doc: "Task"}
        writer.delete_documents([TASK1])
        assert searcher.doctypes({doc}) == {doc: "Task"}
        assert searcher.chunk_owners(chunks) == {c: doc for c in chunks}
    assert facts(searcher, doc, chunks)[0] == {}


def test_writes_of_the_same_connection_are_seen(mini_catalog: Catalog) -> None:
    doc, chunks = ids(mini_catalog, TASK1)
    other, _ = ids(mini_catalog, TASK2)
    assert facts(mini_catalog, doc, chunks)[4] == {doc: "Task"}
    retype(mini_catalog)         # committed by this connection: data_version does not move
    assert facts(mini_catalog, doc, chunks)[4] == {doc: "Index"}
    # The chunk count behind a term's weight changes with a new document.
    coverage = facts(mini_catalog, other, [])[6]
    mini_catalog.delete_documents([TASK1])
    assert facts(mini_catalog, other, [])[6] != coverage


def test_uncommitted_writes_inside_a_callers_transaction_are_read_not_cached(
        mini_catalog: Catalog) -> None:
    doc, chunks = ids(mini_catalog, TASK1)
    facts(mini_catalog, doc, chunks)
    with pytest.raises(RuntimeError), mini_catalog.transaction() as conn:
        with mini_catalog.read_snapshot():
            assert mini_catalog.doctypes({doc}) == {doc: "Task"}
            retype(mini_catalog, conn)
            assert mini_catalog.doctypes({doc}) == {doc: "Index"}
            assert mini_catalog.hub_documents({doc}) == {doc}
        raise RuntimeError("roll back")
    assert facts(mini_catalog, doc, chunks)[4] == {doc: "Task"}


def test_facts_are_read_from_sqlite_outside_a_snapshot() -> None:
    cache, reads = FactCache(), []
    conn = sqlite3.connect(":memory:")

    def fetch(keys: list[int]) -> dict[int, int]:
        reads.append(keys)
        return {k: k * 2 for k in keys if k != 3}

    assert cached(cache, conn, "t", [1, 2], fetch) == {1: 2, 2: 4}
    assert cached(cache, conn, "t", [1, 2], fetch) == {1: 2, 2: 4}
    assert reads == [[1, 2], [1, 2]]
    with cache.checked(conn):
        assert cached(cache, conn, "t", [1, 3], fetch) == {1: 2}
        assert cached(cache, conn, "t", [1, 2, 3], fetch) == {1: 2, 2: 4}
    assert reads[2:] == [[1, 3], [2]]      # seen keys, absent ones too, are not read again


def brute_coverage(catalog: Catalog, terms: list[str], docs: set[int]) -> dict[int, float]:
    """The coverage formula, one FTS5 query per term, owners from the chunks table."""
    conn = catalog.conn
    total = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
    owner = dict(conn.execute("SELECT id, document_id FROM chunks").fetchall())
    weights, holders = {}, {}
    for term in dict.fromkeys(terms):
        try:
            rows = [r for (r,) in conn.execute(
                "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?", (term,))]
        except sqlite3.OperationalError:
            continue
        weights[term] = math.log(1.0 + total / (1.0 + len(rows)))
        holders[term] = {owner[r] for r in rows}
    norm = sum(weights.values())
    return {d: sum(w for t, w in weights.items() if d in holders[t]) / norm if norm else 0.0
            for d in docs}


@pytest.mark.parametrize("terms", [
    ['"cache"', '"vectors"', '"hash"', '"cache"'],
    ['"sidecar"', '"model"', '"nothing-like-this"'],
    ['"cache"', 'AND', '"store"'],          # a term FTS5 cannot parse weighs nothing
    ['"invalidation happens"', '"project"'],
])
def test_term_coverage_matches_the_formula_for_one_and_many_documents(
        mini_catalog: Catalog, terms: list[str]) -> None:
    every = {doc for (doc,) in mini_catalog.conn.execute("SELECT id FROM documents")}
    for docs in [{min(every)}, {max(every)}, every]:
        expected = brute_coverage(mini_catalog, terms, docs)
        assert mini_catalog.term_coverage(terms, docs) == pytest.approx(expected, abs=1e-12)
        with mini_catalog.read_snapshot():      # cached counts give the same answer
            for _ in range(2):
                assert mini_catalog.term_coverage(terms, docs) == \
                    pytest.approx(expected, abs=1e-12)
    assert any(brute_coverage(mini_catalog, terms, every).values())


def test_term_coverage_from_the_in_memory_copy_matches_fts5_and_never_goes_stale(
        on_disk: tuple[Catalog, Catalog], monkeypatch: pytest.MonkeyPatch) -> None:
    searcher, writer = on_disk
    assert searcher.prepare_keyword_memory()
    every = {doc for (doc,) in searcher.conn.execute("SELECT id FROM documents")}
    terms = ['"cache"', '"vectors"', '"invalidation happens"', '"stor"*', '"cache"']
    expected = brute_coverage(searcher, terms, every)

    def no_fts5(*args: object) -> object:
        raise AssertionError("FTS5 asked while the copy is current")

    with monkeypatch.context() as patched:
        patched.setattr(searcher, "_term_counts", no_fts5)
        patched.setattr(searcher, "_term_holders", no_fts5)
        assert searcher.held_keyword_copy() is not None
        for docs in [{min(every)}, every]:
            assert searcher.term_coverage(terms, docs) == pytest.approx(
                {d: expected[d] for d in docs}, abs=1e-12)
    writer.delete_documents([TASK2])
    assert searcher.held_keyword_copy() is None          # stale: FTS5 answers
    left = every - {doc for doc in every if searcher.get_document(doc) is None}
    assert searcher.term_coverage(terms, left) == pytest.approx(
        brute_coverage(searcher, terms, left), abs=1e-12)
