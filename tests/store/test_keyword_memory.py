"""When the in-memory copy answers keyword rankings, and that it is never stale.

A one-shot ``lore search`` never builds a copy (it must not pay for it); a
catalog that keeps searching starts one in the background; after any
write, FTS5 answers (with the written rows) until a new copy is ready; past
``MAX_TOKENS`` FTS5 always answers; and whichever path answers, the ranking
is FTS5's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lore.documents.model import Chunk, Document
from lore.store import bm25, keyword_memory
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
