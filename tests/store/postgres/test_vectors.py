"""pgvector search: never short under filters, exact where it must be, document keys pooled."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict

import numpy as np
import pytest
from conftest import pg_store

from lore.documents.model import Chunk, Document
from lore.embed.base import EmbeddingSpace
from lore.store.keys import document_keys, is_document_key
from lore.store.postgres import PostgresStore
from lore.store.postgres import vectors as pg_vectors

DOCS, PER_DOC, DIMS = 20, 100, 16
SPACE = EmbeddingSpace(provider="test", model="random", revision="", dimensions=DIMS,
                       normalize=True)


def unit(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def filled(pg_url: str) -> Iterator[tuple[PostgresStore, dict[int, np.ndarray]]]:
    """2,000 chunks in 20 documents, each with a random unit vector, HNSW index built."""
    store = pg_store(pg_url)
    rng = np.random.default_rng(7)
    vectors: dict[int, np.ndarray] = {}
    store.register_space(SPACE.id, json.dumps(asdict(SPACE)))
    for d in range(DOCS):
        doc = Document(path=f"d{d:02}.md", doc_id=f"D-{d}", uid=None, title=f"Doc {d}",
                       doctype="Note", metadata={"group": str(d % 4)}, links=(), body="x",
                       content_hash=str(d), size=1, mtime_ns=0)
        ids = store.replace_document(doc, [Chunk(i, (), f"chunk {i}", "section", 2)
                                           for i in range(PER_DOC)], "v")
        matrix = unit(rng.normal(size=(PER_DOC, DIMS)))
        store.store_vectors(SPACE.id, ids, matrix)
        vectors.update(zip(ids, matrix))
    store.activate_space(SPACE.id)
    report = store.refresh_vector_index(SPACE)
    assert report.pooled == DOCS and report.total == DOCS * PER_DOC + DOCS
    yield store, vectors
    store.drop_root()
    store.close()


@pytest.mark.parametrize("selectivity", [0.001, 0.01, 0.1])
@pytest.mark.parametrize("exact_below", [0, 10**6], ids=["hnsw", "exact"])
def test_filtered_search_is_never_short(filled: tuple[PostgresStore, dict[int, np.ndarray]],
                                        selectivity: float, exact_below: int,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store, vectors = filled
    monkeypatch.setattr(pg_vectors, "EXACT_BELOW", exact_below)
    rng = np.random.default_rng(int(selectivity * 1000))
    keys = np.array(sorted(vectors), dtype=np.int64)
    allowed = np.sort(rng.choice(keys, size=max(1, int(len(keys) * selectivity)), replace=False))
    query = unit(rng.normal(size=(1, DIMS)))[0]
    found, scores = store.vector_index(SPACE).search(query, 10, allowed=allowed)
    assert len(found) == min(10, len(allowed))
    assert set(found.tolist()) <= set(allowed.tolist())
    best = sorted(allowed.tolist(), key=lambda k: -float(vectors[k] @ query))[:10]
    if exact_below:    # the exact path is the brute-force answer, in order
        assert found.tolist() == best
    np.testing.assert_allclose(scores, [vectors[k] @ query for k in found.tolist()], atol=1e-5)


def test_unfiltered_search_ranks_chunks_and_documents(
        filled: tuple[PostgresStore, dict[int, np.ndarray]]) -> None:
    store, vectors = filled
    index = store.vector_index(SPACE)
    some = next(iter(vectors))
    found, scores = index.search(vectors[some], 5)
    assert found[0] == some and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert len(index) == DOCS * PER_DOC + DOCS
    assert int(is_document_key(index.keys()).sum()) == DOCS


def test_document_vector_is_the_normalised_mean(
        filled: tuple[PostgresStore, dict[int, np.ndarray]]) -> None:
    store, vectors = filled
    record = store.get_document("d03.md")
    assert record is not None
    mean = np.mean([vectors[c.id] for c in record.chunks], axis=0)
    pooled = store.vector_index(SPACE).get(document_keys(np.array([record.id])))[0]
    np.testing.assert_allclose(pooled, mean / np.linalg.norm(mean), atol=1e-6)
    present = store.vector_index(SPACE).present(np.array([record.chunks[0].id, 10**12]))
    assert present.tolist() == [True, False]


def test_stored_vectors_come_back_bit_for_bit(
        filled: tuple[PostgresStore, dict[int, np.ndarray]]) -> None:
    store, vectors = filled
    keys, matrix = next(store.iter_vectors(SPACE.id, batch_size=50))
    for key, row in zip(keys.tolist(), matrix):
        assert row.tobytes() == vectors[key].tobytes()
