"""When the in-memory copy answers keyword rankings, and that it is never stale.

A one-shot ``lore search`` never builds a copy (it must not pay for it); a
catalog that keeps searching starts one in the background; after any
write, FTS5 answers (with the written rows) until a new copy is ready; past
``MAX_TOKENS`` FTS5 always answers; and whichever path answers, the ranking
is FTS5's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lore.documents.model import Chunk, Document
from lore.store import bm25, keyword_memory
from lore.store.bm25_memory import QueryTokenizer, fingerprint_sql, load_copy, table_tokenizer
from lore.store.catalog import Catalog
from lore.store.connection import atomic

WEIGHTS = (3.0, 2.0, 1.0)
TERMS = ['"cache"', '"eviction"', '"backlog"']


def add(catalog: Catalog, i: int, title: str, text: str) -> None:
    doc = Document(path=f"d{i:03}.md", doc_id=f"d{i:03}", uid=None, title=title,
                   doctype="note", metadata={}, links=(), body=text,
                   content_hash=f"{i}-{text}", size=len(text), mtime_ns=0)
    catalog.replace_document(doc, [Chunk(0, (), text, "section", len(text.split()))], "test")


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    with Catalog.open(tmp_path) as catalog:
        add(catalog, 1, "Cache eviction", "The cache evicts old entries.")
        add(catalog, 2, "Backlog", "The backlog holds the cache work.")
        add(catalog, 3, "Other", "Nothing to see here.")
    yield tmp_path


def ranking(catalog: Catalog, terms: list[str] = TERMS) -> list[tuple[int, float]]:
    return catalog.keyword_ranking(terms, weights=WEIGHTS, limit=10, restriction=None,
                                   per_document=True)


def fts5(catalog: Catalog, terms: list[str] = TERMS) -> list[tuple[int, float]]:
    return [(h.chunk_id, h.score) for h in bm25.rank_documents(
        catalog._conn, terms, weights=WEIGHTS, share=0.5, limit=10)]


def wait_for_copy(catalog: Catalog) -> None:
    memory = catalog._keyword_memory
    assert memory is not None
    thread = memory._thread
    if thread is not None:
        thread.join(timeout=30)


def test_a_one_shot_search_builds_nothing(folder: Path) -> None:
    with Catalog.open(folder) as catalog:
        first = ranking(catalog)
        assert ranking(catalog) == first          # one search ranking twice (widening)
        memory = catalog._keyword_memory
        assert memory is not None and memory._thread is None and memory._copy is None
        assert catalog.keyword_paths == {"fts5": 2}


def test_a_search_a_while_after_the_first_starts_a_build(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyword_memory, "BUILD_AFTER_S", 0.05)
    with Catalog.open(folder) as catalog:
        first = ranking(catalog)
        time.sleep(0.06)
        assert ranking(catalog) == first          # FTS5 answers while the build runs
        wait_for_copy(catalog)
        assert ranking(catalog) == first == fts5(catalog)
        assert catalog.keyword_paths == {"fts5": 2, "memory": 1}


def test_a_write_is_seen_at_once_and_the_copy_catches_up(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyword_memory, "REBUILD_PAUSE", 0.0)
    with Catalog.open(folder) as catalog:
        assert catalog.prepare_keyword_memory()
        before = ranking(catalog)
        add(catalog, 4, "Cache cache", "cache eviction backlog")
        after = ranking(catalog)
        assert catalog.keyword_paths["fts5"] == 1
        assert after == fts5(catalog) != before
        assert len(after) == len(before) + 1
        wait_for_copy(catalog)                    # the stale copy asked for a new one
        assert ranking(catalog) == after
        assert catalog.keyword_paths["memory"] == 2


def test_rebuilds_wait_ten_build_times(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyword_memory, "REBUILD_PAUSE", 1e6)
    with Catalog.open(folder) as catalog:
        assert catalog.prepare_keyword_memory()
        add(catalog, 4, "Cache", "cache")
        for _ in range(3):
            assert ranking(catalog) == fts5(catalog)
        assert catalog._keyword_memory is not None and catalog._keyword_memory._thread is None
        assert catalog.keyword_paths == {"fts5": 3}


def test_another_connections_write_makes_the_copy_stale(folder: Path) -> None:
    with Catalog.open(folder) as reader, Catalog.open(folder) as writer:
        assert reader.prepare_keyword_memory()
        assert writer._keyword_memory is reader._keyword_memory   # one copy per file
        with atomic(writer._conn):
            writer._conn.execute("DELETE FROM documents WHERE path = 'd001.md'")
        got = ranking(reader)
        assert got == fts5(reader)
        assert reader.keyword_paths == {"fts5": 1}
        assert len(got) == 1


def test_a_new_catalog_on_the_file_uses_the_copy_at_once(folder: Path) -> None:
    with Catalog.open(folder) as first:
        assert first.prepare_keyword_memory()
        with Catalog.open(folder) as second:       # a server's next reader
            assert ranking(second) == fts5(second)
            assert second.keyword_paths == {"memory": 1}


def test_an_open_write_transaction_of_its_own_goes_to_fts5(folder: Path) -> None:
    with Catalog.open(folder) as catalog:
        assert catalog.prepare_keyword_memory()
        ranking(catalog)
        with atomic(catalog._conn):
            add(catalog, 5, "Eviction", "eviction eviction")
            inside = ranking(catalog)
            assert inside == fts5(catalog)
            assert any(score > 0 for _, score in inside)
            assert catalog.keyword_paths["fts5"] == 1
        with catalog.read_snapshot():             # a read transaction: nothing pending
            assert ranking(catalog) == fts5(catalog)


def test_a_pinned_reader_answers_from_the_copy(folder: Path) -> None:
    with Catalog.open(folder) as catalog:
        catalog.pin_snapshot()
        assert catalog.prepare_keyword_memory()
        assert ranking(catalog) == fts5(catalog)
        assert catalog.keyword_paths == {"memory": 1}


def test_past_the_cap_fts5_always_answers(folder: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyword_memory, "MAX_TOKENS", 10)
    with Catalog.open(folder) as catalog:
        assert not catalog.prepare_keyword_memory()
        for _ in range(3):
            assert ranking(catalog) == fts5(catalog)
        assert catalog.keyword_paths == {"fts5": 3}
        assert catalog._keyword_memory is not None and catalog._keyword_memory._thread is None


def test_a_query_it_cannot_answer_exactly_goes_to_fts5(folder: Path) -> None:
    with Catalog.open(folder) as catalog:
        assert catalog.prepare_keyword_memory()
        got = catalog.keyword_ranking(['"cache evicts"*'], weights=WEIGHTS, limit=10,
                                      restriction=None)
        assert got == bm25.rank(catalog._conn, bm25.CHUNKS, ['"cache evicts"*'],
                                weights=(*WEIGHTS, 1.0), limit=10)
        assert catalog.keyword_paths == {"fts5": 1}


def test_an_in_memory_catalog_never_copies() -> None:
    catalog = Catalog.memory()
    add(catalog, 1, "Cache", "cache")
    assert not catalog.prepare_keyword_memory()
    assert ranking(catalog) == ranking(catalog) == fts5(catalog)
    assert catalog.keyword_paths == {"fts5": 2}


def test_an_index_prepares_its_keyword_copy_and_searches_from_it(tmp_path: Path) -> None:
    from lore.index import open_index
    from lore.settings import EmbedSettings, Settings

    root = tmp_path / "notes"
    root.mkdir()
    (root / "cache.md").write_text("# Cache eviction\n\nThe cache evicts old entries.\n")
    (root / "plan.md").write_text("# Plan\n\nNothing about that.\n")
    settings = Settings(embed=EmbedSettings(enabled=False))
    with open_index(root, settings=settings, index_dir=tmp_path / "index") as index:
        index.sync()
        first = [h.path for h in index.search("cache", mode="keyword")]
        assert index.prepare_keyword_search()
        assert [h.path for h in index.search("cache", mode="keyword")] == first == ["cache.md"]
        assert index._store.keyword_paths == {"fts5": 1, "memory": 1}  # type: ignore[attr-defined]


def test_a_rebuild_keeps_the_query_tokenizer_and_its_cache(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyword_memory, "REBUILD_PAUSE", 0.0)
    with Catalog.open(folder) as catalog:
        assert catalog.prepare_keyword_memory()
        memory = catalog._keyword_memory
        assert memory is not None and memory._copy is not None
        old = memory._copy
        ranking(catalog)                          # the query words are tokenized and cached
        assert set(TERMS) <= set(old.tokenizer._cache)
        add(catalog, 4, "Cache cache", "cache eviction backlog")
        assert catalog.prepare_keyword_memory()
        new = memory._copy
        assert new is not old and new.fingerprint != old.fingerprint
        assert new.tokenizer is old.tokenizer
        assert ranking(catalog) == fts5(catalog)
        assert catalog.keyword_paths == {"memory": 2}


def test_a_copy_of_tables_with_another_tokenizer_gets_its_own(folder: Path) -> None:
    with Catalog.open(folder) as catalog:
        declared = table_tokenizer(catalog._conn)
        assert declared is not None and declared.startswith("porter")
        same = QueryTokenizer(declared)
        assert (copy := load_copy(catalog._conn, same)) is not None
        assert copy.tokenizer is same
        plain = QueryTokenizer("unicode61")       # no stemming: "evicts" stays "evicts"
        assert plain.phrase('"evicts"') == (["evicts"], False)
        assert (copy := load_copy(catalog._conn, plain)) is not None
        assert copy.tokenizer is not plain and copy.tokenizer.config == declared
        assert copy.tokenizer.phrase('"evicts"') == (["evict"], False)


def test_a_request_during_a_build_is_built_when_that_build_ends(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server's readers ask while an earlier build runs (its start-up sync wrote):
    the copy still ends up current, without another search asking."""
    monkeypatch.setattr(keyword_memory, "REBUILD_PAUSE", 0.0)
    with Catalog.open(folder) as catalog:
        memory = catalog._keyword_memory
        assert memory is not None
        started, release = threading.Event(), threading.Event()
        real_load = keyword_memory.load_copy

        def slow_load(*args: object) -> object:
            copy = real_load(*args)   # type: ignore[arg-type]
            started.set()             # copied: the write below comes after its snapshot
            assert release.wait(10)
            return copy

        monkeypatch.setattr(keyword_memory, "load_copy", slow_load)
        catalog.prepare_keyword_memory(wait=False)
        assert started.wait(10)
        add(catalog, 4, "Cache cache", "cache eviction backlog")
        assert not catalog.prepare_keyword_memory(wait=False)   # a build runs: kept for later
        release.set()
        deadline = time.monotonic() + 10
        while catalog.held_keyword_copy() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ranking(catalog) == fts5(catalog)
        assert catalog.keyword_paths == {"memory": 1}


def test_a_request_within_the_pause_waits_for_it(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyword_memory, "REBUILD_PAUSE", 1e6)
    with Catalog.open(folder) as catalog:
        assert catalog.prepare_keyword_memory()
        memory = catalog._keyword_memory
        assert memory is not None
        add(catalog, 4, "Cache", "cache")
        assert not catalog.prepare_keyword_memory(wait=False)
        timer = memory._timer
        assert memory._thread is None and timer is not None   # nothing built yet
        timer.cancel()
        memory._took = 0.0                        # as if the pause were over
        memory._pause_over()
        wait_for_copy(catalog)
        assert catalog.held_keyword_copy() is not None
        assert ranking(catalog) == fts5(catalog)


def test_inside_a_snapshot_the_fingerprint_is_read_once_per_catalog_state(folder: Path) -> None:
    """The ranking path takes the copy's fingerprint from the fact cache, and still
    sees another connection's commit at the next snapshot."""
    with Catalog.open(folder) as searcher, Catalog.open(folder) as writer:
        assert searcher.prepare_keyword_memory()
        statements: list[str] = []
        searcher._conn.set_trace_callback(statements.append)

        def search() -> tuple[list[tuple[int, float]], int]:
            statements.clear()
            with searcher.read_snapshot():
                found = ranking(searcher)
            return found, statements.count(fingerprint_sql())

        first, reads = search()
        assert reads == 1
        assert search() == (first, 0)             # same state: no statement for it
        assert searcher.keyword_paths == {"memory": 2}
        add(writer, 4, "Cache cache", "cache eviction backlog")   # another connection commits
        after, reads = search()
        assert reads == 1
        assert after == fts5(searcher) != first
        assert len(after) == len(first) + 1
        assert searcher.keyword_paths == {"memory": 2, "fts5": 1}


def test_a_never_written_catalog_is_copied_empty_and_the_copy_follows_the_first_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server over an empty folder copies FTS5 tables its sync never wrote to."""
    monkeypatch.setattr(keyword_memory, "REBUILD_PAUSE", 0.0)
    with Catalog.open(tmp_path) as catalog:
        assert catalog.prepare_keyword_memory()
        assert ranking(catalog) == []
        add(catalog, 1, "Cache eviction", "The cache evicts old entries.")
        assert catalog.prepare_keyword_memory()
        assert ranking(catalog) == fts5(catalog) != []
        assert catalog.keyword_paths == {"memory": 2}
