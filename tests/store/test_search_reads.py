"""Each backend's answers to the search's questions, checked against the hand-built MINI_DOCS."""

from __future__ import annotations

from lore.store.base import Restriction, Store
from lore.store.catalog import Catalog


def chunk_of(catalog: Store, path: str, ordinal: int = 0) -> int:
    record = catalog.get_document(path)
    assert record is not None
    return record.chunks[ordinal].id


def doc_of(catalog: Store, path: str) -> int:
    record = catalog.get_document(path)
    assert record is not None
    return record.id


TASK1, TASK2 = "items/KABSD-TSK-0001_cache.md", "items/KABSD-TSK-0002_store.md"
ADR, README = "decisions/ADR-0001_sqlite.md", "notes/README.md"


def test_owners_doctypes_and_hit_rows(mini_store: Store) -> None:
    second = chunk_of(mini_store, TASK1, 1)
    adr = chunk_of(mini_store, ADR)
    assert mini_store.chunk_owners([second, adr, 10**6]) == {
        second: doc_of(mini_store, TASK1), adr: doc_of(mini_store, ADR)}
    assert mini_store.doctypes({doc_of(mini_store, ADR)}) == {doc_of(mini_store, ADR): "ADR"}
    row = mini_store.hit_rows([second])[second]
    assert (row.ordinal, row.path, row.doc_id, row.title, row.doctype) == (
        1, TASK1, "KABSD-TSK-0001", "Embedding cache", "Task")
    assert row.heading_path == '["Worklog"]'


def test_restricted_chunk_sets_and_listing(mini_store: Store) -> None:
    tasks = Restriction({"type": ("task",)})
    allowed = mini_store.allowed_chunks(tasks)
    assert [owner for _, owner in allowed] == [doc_of(mini_store, TASK1)] * 2 + \
        [doc_of(mini_store, TASK2)] * 2
    assert [cid for cid, _ in allowed] == sorted(cid for cid, _ in allowed)
    # "-sidecar" removes the store task, whose first chunk mentions it.
    no_sidecar = Restriction({"type": ("task",)}, exclusion=('"sidecar"',))
    assert mini_store.listing(no_sidecar, limit=10) == [chunk_of(mini_store, TASK1)]
    assert mini_store.listing(tasks, limit=1) == [chunk_of(mini_store, TASK1)]


def test_document_dates_read_the_named_front_matter_keys(mini_store: Store) -> None:
    task = doc_of(mini_store, TASK1)
    assert mini_store.document_dates({task}, ("state", "missing")) == {
        task: (TASK1, ("Done", None))}


def test_texts_first_chunks_and_identities(mini_store: Store) -> None:
    assert mini_store.chunk_text_at(TASK2, 1) == "The cache is shared between indexes."
    assert mini_store.chunk_text_at(TASK2, 7) == ""
    first = mini_store.first_chunk(doc_of(mini_store, TASK2))
    assert first.text == "Store vectors in a sidecar index." and first.metadata["state"] == "Proposed"
    ids = {identity.path: identity.doc_id for identity in mini_store.document_identities()}
    assert ids == {TASK1: "KABSD-TSK-0001", TASK2: "KABSD-TSK-0002", ADR: "ADR-0001",
                   README: "notes/README.md"}
    assert mini_store.known_field_keys({"state", "tags", "nonsense"}) == {"state", "tags"}


def test_read_snapshot_holds_one_transaction(mini_catalog: Catalog) -> None:
    assert not mini_catalog.conn.in_transaction
    with mini_catalog.read_snapshot():
        assert mini_catalog.conn.in_transaction
        with mini_catalog.read_snapshot():     # nested: reuses the outer one
            assert mini_catalog.conn.in_transaction
    assert not mini_catalog.conn.in_transaction
