"""The vector leg over chunk and document vectors: mapping, de-duplication, filters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lore.index import Index, open_index
from lore.search.engine import plan_query
from lore.search.vector import VectorLeg, allowed_keys
from lore.settings import ChunkSettings, EmbedSettings, ProviderSettings, Settings
from lore.store.keys import document_ids, document_keys, is_document_key

QUERY = "glacier volcano coral"
SETTINGS = Settings(embed=EmbedSettings(primary=ProviderSettings(provider="hashing",
                                                                 dimensions=256)),
                    chunking=ChunkSettings(min_tokens=1, whole_document_tokens=1))


def write_doc(root: Path, name: str, kind: str, title: str, sections: dict[str, str]) -> None:
    body = "".join(f"## {heading}\n\n{text}\n\n" for heading, text in sections.items())
    (root / name).write_text(f"---\ntitle: {title}\ntype: {kind}\n---\n{body}",
                             encoding="utf-8")


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Index]:
    """``spread.md`` matches the query only as a whole (one query word per section)."""
    root = tmp_path / "notes"
    root.mkdir()
    write_doc(root, "spread.md", "ADR", "Trip",
              {"Ice": "A glacier.", "Fire": "A volcano.", "Sea": "Some coral."})
    write_doc(root, "glacier.md", "Task", "Glacier",
              {"Notes": "Walkers crossed the glacier slowly before noon."})
    write_doc(root, "volcano.md", "Task", "Volcano",
              {"Notes": "Farmers near the volcano planted barley after the long wet winter."})
    write_doc(root, "budget.md", "ADR", "Budget",
              {"Costs": "Travel costs rose sharply.", "Hiring": "Two engineers next spring."})
    write_doc(root, "plans.md", "ADR", "Plans",
              {"Roadmap": "Goals for the year.", "Risks": "Owners and dates.",
               "Questions": "Open issues remain."})
    with open_index(root, settings=SETTINGS) as opened:
        opened.sync()
        yield opened


def leg_of(index: Index, *, document_vectors: bool = True) -> VectorLeg:
    leg = index._vector_leg([])
    assert leg is not None
    return VectorLeg(leg.runner, leg.vectors, document_vectors=document_vectors)


def document_row(index: Index, path: str) -> int:
    (row,) = index._store.conn.execute("SELECT id FROM documents WHERE path = ?",
                                        (path,)).fetchone()
    return int(row)


def brute_force(index: Index, query: np.ndarray, *, documents: bool) -> list[tuple[int, float]]:
    """The leg's ranking computed from the catalog's vectors, independently of the sidecar."""
    owner = dict(index._store.conn.execute("SELECT id, document_id FROM chunks"))
    keys, vectors = next(index._store.iter_vectors(index._store.active_space().id))
    units = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = dict(zip(keys.tolist(), (units @ query).tolist()))
    if documents:
        for document in set(owner.values()):
            mine = [cid for cid in scores if owner[cid] == document]
            if len(mine) < 2:
                continue
            mean = units[np.isin(keys, mine)].mean(axis=0)
            best = max(mine, key=lambda cid: scores[cid])
            scores[best] = max(scores[best], float(mean @ query / np.linalg.norm(mean)))
    return sorted(scores.items(), key=lambda item: -item[1])


def test_whole_document_match_is_found_through_its_document_key(index: Index) -> None:
    leg = leg_of(index)
    query = leg.embed_query(QUERY)
    spread = document_row(index, "spread.md")
    keys, scores = leg.vectors.search(query, 1)
    assert keys.tolist() == document_keys(np.array([spread])).tolist()

    top_chunk, top_score = leg.run(index._store, QUERY, restriction=None,
                                   candidates=10).ranked[0]
    own = [cid for (cid,) in index._store.conn.execute(
        "SELECT id FROM chunks WHERE document_id = ?", (spread,))]
    assert top_chunk in own
    assert top_score == pytest.approx(float(scores[0]), abs=1e-5)
    assert top_score > float(np.max(leg.vectors.get(np.array(own)) @ query))

    chunks_only = leg_of(index, document_vectors=False)
    best_chunk, _ = chunks_only.run(index._store, QUERY, restriction=None,
                                    candidates=10).ranked[0]
    assert best_chunk not in own          # no single section wins without its document
    assert index.search(QUERY, mode="vector")[0].path == "spread.md"


@pytest.mark.parametrize("documents", [True, False])
def test_leg_matches_brute_force(index: Index, documents: bool) -> None:
    leg = leg_of(index, document_vectors=documents)
    expected = brute_force(index, leg.embed_query(QUERY), documents=documents)
    ranked = leg.run(index._store, QUERY, restriction=None, candidates=100).ranked
    assert [cid for cid, _ in ranked] == [cid for cid, _ in expected]
    np.testing.assert_allclose([s for _, s in ranked], [s for _, s in expected], atol=1e-5)


def test_leg_returns_each_chunk_once_and_fills_the_candidates(index: Index) -> None:
    leg = leg_of(index)
    chunks = len(index._store.conn.execute("SELECT id FROM chunks").fetchall())
    for candidates in (1, 3, chunks - 1, chunks, chunks + 5):
        ranked = leg.run(index._store, "roadmap risks costs", restriction=None,
                         candidates=candidates).ranked
        ids = [cid for cid, _ in ranked]
        assert len(ids) == len(set(ids)) == min(candidates, chunks)
        assert not is_document_key(np.array(ids, dtype=np.int64)).any()


def test_allowed_keys_add_the_filtered_multi_chunk_documents(index: Index) -> None:
    plan = plan_query(index._store, "anything type:ADR", None)
    assert plan.restriction is not None
    keys = allowed_keys(index._store, plan.restriction)
    adr_rows = {document_row(index, p) for p in ("spread.md", "budget.md", "plans.md")}
    on_documents = is_document_key(keys)
    assert set(document_ids(keys[on_documents]).tolist()) == adr_rows
    owners = dict(index._store.conn.execute("SELECT id, document_id FROM chunks"))
    assert {owners[c] for c in keys[~on_documents].tolist()} == adr_rows
    chunk_only = allowed_keys(index._store, plan.restriction, documents=False)
    np.testing.assert_array_equal(chunk_only, keys[~on_documents])


@pytest.mark.parametrize("limit", [1, 2, 50])
def test_filtered_vector_search_returns_min_of_limit_and_matches(index: Index,
                                                                 limit: int) -> None:
    adrs = {"spread.md", "budget.md", "plans.md"}
    hits = index.search(QUERY, mode="vector", limit=limit, filters={"type": ["ADR"]})
    assert len(hits) == min(limit, len(adrs))
    assert {h.path for h in hits} <= adrs
    chunk_hits = index.search(QUERY, mode="vector", limit=limit, chunks=True,
                              filters={"type": ["Task"]})
    assert len(chunk_hits) == min(limit, 2)
    assert {h.path for h in chunk_hits} <= {"glacier.md", "volcano.md"}
