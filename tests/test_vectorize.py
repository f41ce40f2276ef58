"""Vectors after sync: incremental, reconciled, refused across spaces, rebuilt when damaged."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
import pytest

from lore.errors import EmbedderMismatchError, QueryError
from lore.index import Index, open_index
from lore.search.engine import search_store
from lore.search.vector import VectorLeg
from lore.settings import ChunkSettings, EmbedSettings, ProviderSettings, Settings
from lore.store.keys import document_ids, document_keys, is_document_key
from lore.store.sidecar import sidecar_path


def hashing(dimensions: int = 64, **extra: object) -> Settings:
    provider = ProviderSettings(provider="hashing", dimensions=dimensions, **extra)  # type: ignore[arg-type]
    return Settings(embed=EmbedSettings(primary=provider))


def write_notes(root: Path, count: int = 6) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        kind = "ADR" if i % 3 == 0 else "Task"
        (root / f"note-{i}.md").write_text(
            f"---\nid: N-{i}\ntype: {kind}\ntitle: Note {i}\n---\n# Note {i}\n\n"
            f"Topic {i}: embeddings, sidecars and caches number {i}.\n", encoding="utf-8")


def active_id(index: Index) -> str | None:
    space = index._store.active_space()
    return None if space is None else space.id


def chunk_ids(index: Index) -> set[int]:
    return {cid for (cid,) in index._store.conn.execute("SELECT id FROM chunks")}


def sidecar_keys(index: Index) -> set[int]:
    leg = index._vector_leg([])
    assert leg is not None
    return set(leg.vectors.keys().tolist())


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    write_notes(tmp_path / "notes")
    return tmp_path / "notes"


def test_sync_embeds_every_chunk_once(notes: Path) -> None:
    with open_index(notes, settings=hashing()) as index:
        first = index.sync()
        assert first.vectors is not None
        assert first.vectors["embedded"] == len(chunk_ids(index)) == first.vectors["total"]
        assert sidecar_keys(index) == chunk_ids(index)
        again = index.sync()
        assert again.vectors is not None and again.vectors["embedded"] == 0


def test_edit_and_delete_keep_sidecar_in_step(notes: Path) -> None:
    with open_index(notes, settings=hashing()) as index:
        index.sync()
        before = chunk_ids(index)
        (notes / "note-1.md").write_text("---\nid: N-1\n---\n# Changed\n\nNew words.\n")
        (notes / "note-2.md").unlink()
        report = index.sync()
        after = chunk_ids(index)
        assert report.vectors is not None
        assert report.vectors["embedded"] == len(after - before) == 1
        assert report.vectors["removed"] == len(before - after)
        assert sidecar_keys(index) == after


def test_other_space_is_refused_then_swapped_in(notes: Path) -> None:
    with open_index(notes, settings=hashing(64)) as index:
        index.sync()
        old = active_id(index)
    with open_index(notes, settings=hashing(32)) as index:
        with pytest.raises(EmbedderMismatchError, match=r"rebuild-vectors.*needs \d+ chunks embedded.*old space keeps serving"):
            index.sync()
        with pytest.raises(EmbedderMismatchError):
            index.search("embeddings", mode="hybrid")
        assert index.search("embeddings", mode="keyword")
        report = index.sync(rebuild_vectors=True)
        assert report.vectors is not None and report.vectors["swapped_from"] == old
        assert active_id(index) != old
        assert not sidecar_path(index.index_dir, old or "").exists()
        assert index.search("embeddings", mode="vector")


def test_force_searches_across_spaces(notes: Path) -> None:
    with open_index(notes, settings=hashing(64, query_prefix="")) as index:
        index.sync()
    with open_index(notes, settings=hashing(64, query_prefix="query: ")) as index:
        with pytest.raises(EmbedderMismatchError):
            index.search("caches", mode="vector")
        assert index.search("caches", mode="vector", force=True)


def test_damaged_sidecar_is_rebuilt_from_the_catalog(notes: Path) -> None:
    with open_index(notes, settings=hashing()) as index:
        index.sync()
        path = sidecar_path(index.index_dir, index._store.active_space().id)
        expected = [h.path for h in index.search("sidecars number 4", mode="vector")]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with open_index(notes, settings=hashing()) as index:
        assert [h.path for h in index.search("sidecars number 4", mode="vector")] == expected
        assert sidecar_keys(index) == chunk_ids(index)


def test_missing_sidecar_is_rebuilt(notes: Path) -> None:
    with open_index(notes, settings=hashing()) as index:
        index.sync()
        sidecar_path(index.index_dir, index._store.active_space().id).unlink()
    with open_index(notes, settings=hashing()) as index:
        report = index.sync()
        assert report.vectors is not None and report.vectors["rebuilt"]
        assert sidecar_keys(index) == chunk_ids(index)


def test_dead_endpoint_degrades_to_keyword(notes: Path) -> None:
    dead = ProviderSettings(provider="openai", model="m", dimensions=8,
                            base_url="http://127.0.0.1:9/v1", timeout_s=0.5)
    settings = Settings(embed=EmbedSettings(primary=dead))
    with open_index(notes, settings=settings) as index:
        report = index.sync()
        assert report.vectors is None and "keyword only" in report.notices[0]
        assert len(chunk_ids(index)) > 0                   # the catalog is complete anyway
        hits = index.search("embeddings", mode="hybrid")
        assert hits and "no vectors" in hits.notices[0]
        assert index.search("embeddings", mode="keyword").notices == ()   # per search, not sticky
        with pytest.raises(QueryError, match="vector mode needs embeddings"):
            index.search("embeddings", mode="vector")


def test_cache_makes_a_second_index_free(notes: Path, tmp_path: Path) -> None:
    with open_index(notes, settings=hashing()) as index:
        index.sync()
    with open_index(notes, settings=hashing(), index_dir=tmp_path / "other") as index:
        report = index.sync()
        assert report.vectors is not None
        assert report.vectors["cache_hits"] == report.vectors["embedded"] > 0
        assert index._runner().stats.provider_calls == 0


@pytest.mark.parametrize("limit", [1, 2, 50])
def test_filtered_hybrid_returns_min_of_limit_and_matches(notes: Path, limit: int) -> None:
    with open_index(notes, settings=hashing()) as index:
        index.sync()
        adrs = {p for (p,) in index._store.conn.execute(
            "SELECT path FROM documents WHERE doctype = 'ADR'")}
        for mode in ("vector", "hybrid"):
            hits = index.search("unrelated words entirely", mode=mode, limit=limit,
                                filters={"type": ["ADR"]})
            assert len(hits) == min(limit, len(adrs))
            assert {h.path for h in hits} <= adrs


def test_vector_leg_matches_brute_force(notes: Path) -> None:
    with open_index(notes, settings=hashing()) as index:
        index.sync()
        leg = index._vector_leg([])
        assert leg is not None
        query = leg.embed_query("caches number 3")
        keys, vectors = next(index._store.iter_vectors(index._store.active_space().id))
        order = keys[np.argsort(-(vectors @ query), kind="stable")]
        result = leg.run(index._store, "caches number 3", restriction=None, candidates=5)
        assert [cid for cid, _ in result.ranked] == order[:5].tolist()


# --- document vectors (granularity) -------------------------------------------------------

SECTIONED = Settings(embed=EmbedSettings(primary=ProviderSettings(provider="hashing",
                                                                  dimensions=64)),
                     chunking=ChunkSettings(min_tokens=1, whole_document_tokens=1))


def write_doc(root: Path, name: str, sections: list[str]) -> None:
    """A note with one ``##`` section per text (the sectioned settings chunk each alone)."""
    body = "".join(f"## Part {n}\n\n{text}\n\n" for n, text in enumerate(sections))
    (root / name).write_text(f"---\ntitle: {name}\n---\n{body}", encoding="utf-8")


def reference_vectors(index: Index) -> dict[int, np.ndarray]:
    """Every key the sidecar should hold and its vector, computed from the catalog alone."""
    space = index._store.active_space().id
    owner = dict(index._store.conn.execute("SELECT id, document_id FROM chunks"))
    expected: dict[int, np.ndarray] = {}
    by_document: dict[int, list[np.ndarray]] = {}
    for keys, vectors in index._store.iter_vectors(space):
        for key, vector in zip(keys.tolist(), vectors):
            unit = vector / np.linalg.norm(vector)
            expected[key] = unit
            by_document.setdefault(owner[key], []).append(unit)
    for document, units in by_document.items():
        if len(units) > 1:
            mean = np.mean(units, axis=0)
            expected[int(document_keys(np.array([document]))[0])] = mean / np.linalg.norm(mean)
    return expected


def assert_in_step(index: Index) -> None:
    leg = index._vector_leg([])
    assert leg is not None
    expected = reference_vectors(index)
    assert set(leg.vectors.keys().tolist()) == set(expected)
    keys = np.array(sorted(expected), dtype=np.int64)
    np.testing.assert_allclose(leg.vectors.get(keys), np.stack([expected[k] for k in keys]),
                               atol=1e-5)


def document_key_of(index: Index, path: str) -> int:
    (row,) = index._store.conn.execute("SELECT id FROM documents WHERE path = ?",
                                        (path,)).fetchone()
    return int(document_keys(np.array([row]))[0])


@pytest.fixture
def sectioned(tmp_path: Path) -> Path:
    root = tmp_path / "sectioned"
    root.mkdir()
    write_doc(root, "three.md", ["Glaciers carve valleys.", "Rivers carry silt.",
                                 "Deltas grow at the coast."])
    write_doc(root, "two.md", ["Sidecars hold vectors.", "Catalogs hold rows."])
    write_doc(root, "one.md", ["A single short section."])
    return root


def test_document_vectors_exist_exactly_for_multi_chunk_documents(sectioned: Path) -> None:
    with open_index(sectioned, settings=SECTIONED) as index:
        report = index.sync()
        multi = {p for (p,) in index._store.conn.execute(
            "SELECT d.path FROM documents d JOIN chunks c ON c.document_id = d.id "
            "GROUP BY d.id HAVING count(*) > 1")}
        assert multi == {"three.md", "two.md"}
        keys = sidecar_keys(index)
        assert keys - chunk_ids(index) == {document_key_of(index, p) for p in multi}
        assert report.vectors is not None
        assert report.vectors["pooled"] == len(multi)
        assert report.vectors["total"] == len(chunk_ids(index)) + len(multi)
        assert_in_step(index)


def test_edit_delete_rename_keep_document_vectors_in_step(sectioned: Path) -> None:
    with open_index(sectioned, settings=SECTIONED) as index:
        index.sync()
        leg = index._vector_leg([])
        assert leg is not None
        two = document_key_of(index, "two.md")
        before = leg.vectors.get(np.array([two]))
        write_doc(sectioned, "two.md", ["Sidecars hold vectors.", "Catalogs hold other rows."])
        write_doc(sectioned, "one.md", ["Now it grows.", "A second section appears."])
        write_doc(sectioned, "three.md", ["Only one section is left."])
        report = index.sync()
        assert report.vectors is not None and report.vectors["pooled"] == 2   # two.md, one.md
        assert_in_step(index)
        leg = index._vector_leg([])
        assert leg is not None
        assert not np.allclose(leg.vectors.get(np.array([two])), before)
        assert document_key_of(index, "three.md") not in sidecar_keys(index)

        (sectioned / "two.md").rename(sectioned / "moved.md")
        assert index.sync().renamed == [("two.md", "moved.md")]
        assert document_key_of(index, "moved.md") == two
        assert_in_step(index)

        (sectioned / "moved.md").unlink()
        index.sync()
        assert two not in sidecar_keys(index)
        assert_in_step(index)


def test_deleted_document_row_reused_by_a_new_one(sectioned: Path) -> None:
    with open_index(sectioned, settings=SECTIONED) as index:
        index.sync()
        last = index._store.conn.execute("SELECT max(id) FROM documents").fetchone()[0]
        (path,) = index._store.conn.execute("SELECT path FROM documents WHERE id = ?",
                                             (last,)).fetchone()
        (sectioned / path).unlink()
        write_doc(sectioned, "zz-new.md", ["Brand new words here.", "And more of them."])
        index.sync()
        assert_in_step(index)


def test_rebuild_from_the_catalog_reproduces_document_vectors(sectioned: Path) -> None:
    with open_index(sectioned, settings=SECTIONED) as index:
        index.sync()
        leg = index._vector_leg([])
        assert leg is not None
        keys = leg.vectors.keys()
        vectors = leg.vectors.get(keys)
        path = sidecar_path(index.index_dir, index._store.active_space().id)
    path.unlink()
    with open_index(sectioned, settings=SECTIONED) as index:
        leg = index._vector_leg([])
        assert leg is not None
        np.testing.assert_array_equal(leg.vectors.keys(), keys)
        np.testing.assert_allclose(leg.vectors.get(keys), vectors, atol=1e-6)
        assert_in_step(index)


def test_key_scheme_round_trips() -> None:
    rows = np.array([1, 7, 2**40], dtype=np.int64)
    keys = document_keys(rows)
    assert is_document_key(keys).all() and not is_document_key(rows).any()
    np.testing.assert_array_equal(document_ids(keys), rows)


def test_vector_precision_setting_is_what_the_sidecar_stores(notes: Path) -> None:
    # The catalog keeps fp32 vectors, so a change of [index] vector_precision is a rebuild
    # from the catalog, never a refusal or a re-embedding.
    from dataclasses import replace

    int8 = hashing()
    int8 = replace(int8, index=replace(int8.index, vector_precision="int8"))
    with open_index(notes, settings=int8) as index:
        index.sync()
        leg = index._vector_leg([])
        assert leg is not None and leg.vectors.options.precision == "int8"  # type: ignore[attr-defined]
    with open_index(notes, settings=hashing()) as index:
        report = index.sync()
        assert report.vectors is not None
        assert report.vectors["rebuilt"] and report.vectors["embedded"] == 0
        leg = index._vector_leg([])
        assert leg is not None and leg.vectors.options.precision == "fp32"  # type: ignore[attr-defined]
        assert sidecar_keys(index) == chunk_ids(index)


@pytest.mark.slow
def test_int8_sidecar_begun_small_is_rebuilt_once_it_can_fit_its_ranges(tmp_path: Path) -> None:
    from dataclasses import replace

    from lore.store.vectors import LocalVectorIndex

    root = tmp_path / "notes"
    write_notes(root, 4)
    settings = hashing()
    settings = replace(settings, index=replace(settings.index, vector_precision="int8"))
    with open_index(root, settings=settings) as index:
        index.sync()
        leg = index._vector_leg([])
        assert isinstance(leg.vectors, LocalVectorIndex) and leg.vectors.needs_rebuild is False
        for i in range(1100):
            (root / f"more-{i}.md").write_text(f"# More {i}\n\nword{i} text {i % 7}\n")
        report = index.sync()
        assert report.vectors is not None and report.vectors["rebuilt"]
        leg = index._vector_leg([])
        assert isinstance(leg.vectors, LocalVectorIndex) and not leg.vectors.needs_rebuild
        assert len(leg.vectors) >= 1100


def test_search_says_how_many_chunks_still_lack_vectors(notes: Path) -> None:
    from dataclasses import replace

    with open_index(notes, settings=hashing()) as index:
        index.sync()
    write_notes(notes, 9)  # three more notes, synced without embedding
    keyword_only = hashing()
    keyword_only = replace(keyword_only, embed=replace(keyword_only.embed, enabled=False))
    with open_index(notes, settings=keyword_only) as index:
        index.sync()
    with open_index(notes, settings=hashing()) as index:
        result = index.search("embeddings", mode="hybrid")
        assert result
        assert any(n.startswith("3 chunks have no vector yet") for n in result.notices)


def test_embedding_progress_states_the_plan_first_and_ends_complete(notes: Path) -> None:
    calls: list[tuple[int, int]] = []
    with open_index(notes, settings=hashing()) as index:
        index.sync(embed_progress=lambda done, total: calls.append((done, total)))
        total = len(chunk_ids(index))
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def record_embeds(leg: VectorLeg) -> list[tuple[str, str]]:
    """(thread name, text) of every text ``leg`` embeds from now on, as it embeds it."""
    seen: list[tuple[str, str]] = []
    embed = leg.runner.embed

    def recording(texts: list[str], kind: str) -> np.ndarray:
        seen.extend((threading.current_thread().name, text) for text in texts)
        return embed(texts, kind)  # type: ignore[arg-type]

    leg.runner.embed = recording  # type: ignore[method-assign]
    return seen


def test_prepared_query_embedding_runs_off_the_caller_thread_and_gives_the_same_vector(
        notes: Path) -> None:
    with open_index(notes, settings=hashing()) as index:
        index.sync()
        leg = index._vector_leg([])
        assert leg is not None
        seen = record_embeds(leg)
        leg.prepare("caches number 3")
        prepared = leg.embed_query("caches number 3")
        direct = leg.embed_query("caches number 4")   # nothing prepared: the caller's thread
        assert np.array_equal(prepared, leg.runner.embedder.embed(["caches number 3"], "query")[0])
        assert not np.array_equal(prepared, direct)
        threads = [thread for thread, _ in seen]
        assert threads[0] != threading.current_thread().name
        assert threads[1] == threading.current_thread().name


def test_a_prepared_query_that_is_never_asked_for_is_dropped_by_the_next(notes: Path) -> None:
    with open_index(notes, settings=hashing()) as index:
        index.sync()
        leg = index._vector_leg([])
        assert leg is not None
        for n in range(5):      # searches that failed before their vector leg ran
            leg.prepare(f"caches number {n}")
        assert list(leg._pending) == ["caches number 4"]
        assert np.array_equal(leg.embed_query("caches number 4"),
                              leg.embed_query("caches number 4"))
        leg.embed_query("caches number 5")
        assert list(leg._pending) == ["caches number 5"]


def test_a_search_that_widens_its_candidates_embeds_the_query_once(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    root.mkdir()
    for i in range(3):     # 3 documents, 30 chunks: 20 candidate chunks fold into < 10 documents
        sections = "".join(f"## Part {j}\n\nCaches number {i}.{j} hold embeddings.\n\n"
                           for j in range(10))
        (root / f"note-{i}.md").write_text(f"# Note {i}\n\n{sections}", encoding="utf-8")
    few = dataclasses.replace(SECTIONED, search=dataclasses.replace(SECTIONED.search,
                                                                    candidates=1))
    with open_index(root, settings=few) as index:
        index.sync()
        leg = index._vector_leg([])
        assert leg is not None
        embedded = record_embeds(leg)
        rounds: list[int] = []
        run = leg.run

        def counted(*args: object, **kwargs: object) -> object:
            rounds.append(1)
            return run(*args, **kwargs)  # type: ignore[arg-type]

        leg.run = counted  # type: ignore[method-assign]
        result = search_store(index._store, "caches embeddings", settings=index.settings,
                              limit=10, mode="hybrid", vector_leg=leg)
        assert len(result) == 3
        assert len(rounds) >= 2 and [text for _, text in embedded] == ["caches embeddings"]


def test_the_query_vector_embeds_only_what_the_query_asks_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "okapi.md").write_text("# Okapi\n\nokapis live in the forest\n", encoding="utf-8")
    # "containerd" is not the excluded word (so the keyword exclusion keeps it), but
    # it shares most of its character n-grams with "containers".
    (root / "runtime.md").write_text("# Runtime\n\nforest containerd containerd containerd\n",
                                     encoding="utf-8")
    embedded: list[str] = []
    embed = VectorLeg._embed

    def recording(leg: VectorLeg, text: str) -> np.ndarray:
        embedded.append(text)
        return embed(leg, text)

    monkeypatch.setattr(VectorLeg, "_embed", recording)
    with open_index(root, settings=hashing(256)) as index:
        index.sync()
        hits = index.search('okapis -containers "forest" fores*', mode="hybrid")
        assert embedded[-1] == "okapis forest fores"
        # An excluded word would steer the vector to the runtime note.
        hits = index.search("forest -containers", mode="vector", limit=2)
        assert embedded[-1] == "forest"
        assert [hit.path for hit in hits] == ["okapi.md", "runtime.md"]
