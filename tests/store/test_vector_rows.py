"""Spaces and stored vectors: what to embed, and a lossless round trip of what was."""

from __future__ import annotations

import numpy as np
import pytest

from lore.documents.model import Chunk, Document
from lore.errors import EmbedderMismatchError
from lore.store.catalog import Catalog


def add_doc(catalog: Catalog, path: str, title: str, texts: list[str]) -> list[int]:
    doc = Document(path=path, doc_id=path, uid=None, title=title, doctype="Note",
                   metadata={"type": "Note", "title": title}, links=(), body=" ".join(texts),
                   content_hash=path, size=1, mtime_ns=1)
    chunks = [Chunk(i, ("Head",) if i else (), t, "section", 3) for i, t in enumerate(texts)]
    return catalog.replace_document(doc, chunks, "v1")


@pytest.fixture
def catalog() -> Catalog:
    catalog = Catalog.memory()
    catalog.register_space("s1", '{"model": "fake"}')
    return catalog


def test_register_space_is_idempotent(catalog: Catalog) -> None:
    catalog.register_space("s1", "other descriptor")
    catalog.register_space("s2", "second")
    assert catalog.spaces() == {"s1": '{"model": "fake"}', "s2": "second"}


def test_pending_chunks_give_context_text_until_stored(catalog: Catalog) -> None:
    ids = add_doc(catalog, "a.md", "Doc A", ["first text", "second text"])
    pending = catalog.pending_chunks("s1")
    expected = [Chunk(0, (), "first text", "section", 3).context_text("Doc A"),
                Chunk(1, ("Head",), "second text", "section", 3).context_text("Doc A")]
    assert pending == list(zip(ids, expected))
    assert catalog.pending_chunks("s1", limit=1) == pending[:1]
    assert catalog.store_vectors("s1", ids[:1], np.ones((1, 4), dtype=np.float32)) == 1
    assert [cid for cid, _ in catalog.pending_chunks("s1")] == ids[1:]
    assert len(catalog.pending_chunks("other-space")) == 2


def test_vectors_round_trip_exactly(catalog: Catalog) -> None:
    ids = add_doc(catalog, "a.md", "A", [f"text {i}" for i in range(7)])
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((7, 5)).astype(np.float32)
    catalog.store_vectors("s1", np.array(ids, dtype=np.int64), vectors)
    batches = list(catalog.iter_vectors("s1", batch_size=3))
    assert [len(keys) for keys, _ in batches] == [3, 3, 1]
    keys = np.concatenate([k for k, _ in batches])
    got = np.concatenate([v for _, v in batches])
    assert keys.tolist() == ids and np.array_equal(got, vectors)
    some_keys, some = catalog.vectors_for("s1", [ids[5], ids[1], 10_000])
    assert some_keys.tolist() == [ids[1], ids[5]]
    assert np.array_equal(some, vectors[[1, 5]])
    assert catalog.vector_count("s1") == 7


def test_empty_space_iterates_nothing(catalog: Catalog) -> None:
    assert list(catalog.iter_vectors("s1")) == []
    keys, vectors = catalog.vectors_for("s1", [1, 2])
    assert len(keys) == 0 and vectors.shape[0] == 0


def test_vectors_of_deleted_chunks_are_skipped(catalog: Catalog) -> None:
    ids = add_doc(catalog, "a.md", "A", ["x", "y"])
    catalog.delete_documents(["a.md"])
    assert catalog.store_vectors("s1", ids, np.ones((2, 3), dtype=np.float32)) == 0
    assert catalog.vector_count("s1") == 0


def test_mismatched_dimensions_and_unknown_space_are_refused(catalog: Catalog) -> None:
    ids = add_doc(catalog, "a.md", "A", ["x", "y"])
    catalog.store_vectors("s1", ids[:1], np.ones((1, 4), dtype=np.float32))
    with pytest.raises(EmbedderMismatchError, match="4-dimensional"):
        catalog.store_vectors("s1", ids[1:], np.ones((1, 8), dtype=np.float32))
    with pytest.raises(EmbedderMismatchError, match="register_space"):
        catalog.store_vectors("nope", ids, np.ones((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="2 vectors"):
        catalog.store_vectors("s1", ids, np.ones(4, dtype=np.float32))


def test_rewritten_document_needs_new_vectors(catalog: Catalog) -> None:
    ids = add_doc(catalog, "a.md", "A", ["x"])
    catalog.store_vectors("s1", ids, np.ones((1, 2), dtype=np.float32))
    new_ids = add_doc(catalog, "a.md", "A", ["changed"])
    assert catalog.vector_count("s1") == 0
    assert [cid for cid, _ in catalog.pending_chunks("s1")] == new_ids
