"""The vector sidecar: exactness, filtered counts, deletes, compaction, persistence, crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from lore.errors import (
    ConfigError,
    EmbedderMismatchError,
    IndexCorruptError,
    IndexNotFoundError,
    MissingDependencyError,
)
from lore.store import _ann_file
from lore.store.vectors import LocalVectorIndex, VectorIndex, VectorIndexOptions, rebuild

# Forces every search through the HNSW graph (and its exact fallback).
ANN_ONLY = VectorIndexOptions(exact_below=0, ann_cost=0.0, expansion_add=48)
FAST = VectorIndexOptions(expansion_add=48)


def unit_vectors(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Unit vectors like sentence embeddings: clustered, of low intrinsic dimension.

    The mixture depends only on ``d``, so vectors drawn with another ``seed``
    (queries) come from the same clusters as the indexed ones.
    """
    shape = np.random.default_rng(d)
    latent = min(d, 32)
    project = shape.standard_normal((latent, d))
    centres = shape.standard_normal((64, latent))
    rng = np.random.default_rng([d, seed])
    z = centres[rng.integers(0, len(centres), n)] + 0.8 * rng.standard_normal((n, latent))
    x = z @ project + rng.standard_normal((n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def chunk_keys(n: int) -> np.ndarray:
    """Sparse, shuffled chunk ids, so that no test can confuse keys with rows."""
    return np.random.default_rng(7).permutation(np.arange(n, dtype=np.int64) * 3 + 1000)


def brute_force(keys: np.ndarray, vectors: np.ndarray, query: np.ndarray,
                k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return keys[order], scores[order]


def recall_at_10(index: LocalVectorIndex, keys: np.ndarray, vectors: np.ndarray,
                 queries: np.ndarray) -> float:
    hits = [len(np.intersect1d(index.search(q, 10)[0], brute_force(keys, vectors, q, 10)[0]))
            for q in queries]
    return sum(hits) / (10 * len(queries))


def built(tmp_path: Path, n: int, d: int = 32, options: VectorIndexOptions = FAST,
          seed: int = 0) -> tuple[LocalVectorIndex, np.ndarray, np.ndarray]:
    keys, vectors = chunk_keys(n), unit_vectors(n, d, seed)
    index = LocalVectorIndex.open(tmp_path / "vectors.lvec", d, options=options)
    index.add(keys, vectors)
    return index, keys, vectors


@pytest.fixture(scope="module")
def mid_index(tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[LocalVectorIndex, np.ndarray, np.ndarray]:
    """20k 32-d vectors, shared by read-only tests."""
    return built(tmp_path_factory.mktemp("mid"), 20_000)


def test_local_index_satisfies_the_protocol(tmp_path: Path) -> None:
    assert isinstance(LocalVectorIndex.open(tmp_path / "v.lvec", 8), VectorIndex)


def test_small_index_top_k_is_exactly_brute_force(tmp_path: Path) -> None:
    index, keys, vectors = built(tmp_path, 800)
    for query in unit_vectors(20, 32, seed=1):
        got_keys, got_scores = index.search(query, 10)
        want_keys, want_scores = brute_force(keys, vectors, query, 10)
        np.testing.assert_array_equal(got_keys, want_keys)
        np.testing.assert_allclose(got_scores, want_scores, atol=1e-5)


def test_small_allowed_set_is_exactly_brute_force(mid_index: tuple) -> None:
    index, keys, vectors = mid_index
    pick = np.random.default_rng(3).choice(len(keys), 300, replace=False)
    for query in unit_vectors(10, 32, seed=2):
        got_keys, got_scores = index.search(query, 10, allowed=keys[pick])
        want_keys, want_scores = brute_force(keys[pick], vectors[pick], query, 10)
        np.testing.assert_array_equal(got_keys, want_keys)
        np.testing.assert_allclose(got_scores, want_scores, atol=1e-5)


def test_ann_recall_floor_on_5k(tmp_path: Path) -> None:
    index, keys, vectors = built(tmp_path, 5_000, d=384, options=ANN_ONLY)
    assert recall_at_10(index, keys, vectors, unit_vectors(100, 384, seed=5)) >= 0.95


@pytest.mark.slow
def test_ann_recall_at_100k(tmp_path: Path) -> None:
    index, keys, vectors = built(tmp_path, 100_000, d=384, options=VectorIndexOptions())
    assert recall_at_10(index, keys, vectors, unit_vectors(200, 384, seed=5)) >= 0.95


@pytest.mark.parametrize("options", [FAST, ANN_ONLY], ids=["planned", "ann-only"])
@pytest.mark.parametrize("share", [0.001, 0.01, 0.1, 1.0])
@pytest.mark.parametrize("k", [10, 50])
def test_filtered_search_returns_min_of_k_and_matches(mid_index: tuple, share: float, k: int,
                                                      options: VectorIndexOptions) -> None:
    index, keys, _ = mid_index
    searcher = LocalVectorIndex(index.path, index.dimensions, options, graph=index._graph,
                                keymap=index._keys)
    allowed = np.random.default_rng(4).choice(keys, int(share * len(keys)), replace=False)
    for query in unit_vectors(5, 32, seed=6):
        got_keys, got_scores = searcher.search(query, k, allowed=allowed)
        assert len(got_keys) == min(k, len(allowed))
        assert np.isin(got_keys, allowed).all()
        assert len(set(got_keys.tolist())) == len(got_keys)
        assert (np.diff(got_scores) <= 1e-6).all()


def test_allowed_keys_missing_from_the_index_are_ignored(mid_index: tuple) -> None:
    index, keys, _ = mid_index
    allowed = np.concatenate([keys[:4], [1, 2, 10**12]])  # 3 keys the index never had
    got, _ = index.search(unit_vectors(1, 32, seed=8)[0], 10, allowed=allowed)
    assert sorted(got.tolist()) == sorted(keys[:4].tolist())
    assert len(index.search(unit_vectors(1, 32)[0], 10, allowed=np.array([5, 6]))[0]) == 0
    assert len(index.search(unit_vectors(1, 32)[0], 0)[0]) == 0


def test_planner_scores_small_sets_exactly_and_large_ones_with_the_graph(
        mid_index: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    index, keys, _ = mid_index
    calls: list[int] = []
    graph_search = index._graph.search

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return graph_search(*args, **kwargs)

    monkeypatch.setattr(index._graph, "search", counted)
    query = unit_vectors(1, 32, seed=9)[0]
    index.search(query, 10, allowed=keys[:200])
    assert calls == []
    index.search(query, 10, allowed=keys[: len(keys) // 2])
    assert calls


def test_add_get_contains_and_normalisation(tmp_path: Path) -> None:
    index = LocalVectorIndex.open(tmp_path / "v.lvec", 4)
    index.add(np.array([10, 20]), np.array([[3, 0, 0, 4], [0, 2, 0, 0]], dtype=np.float32))
    assert len(index) == 2 and 10 in index and 11 not in index and "10" not in index
    expected = np.array([[0, 1, 0, 0], [0.6, 0, 0, 0.8]], dtype=np.float32)
    np.testing.assert_allclose(index.get(np.array([20, 10])), expected, rtol=1e-6)
    with pytest.raises(KeyError):
        index.get(np.array([10, 99]))


def test_bad_input_is_refused(tmp_path: Path) -> None:
    index = LocalVectorIndex.open(tmp_path / "v.lvec", 4)
    one = np.ones((1, 4), dtype=np.float32)
    with pytest.raises(ValueError):
        index.add(np.array([1, 1]), np.ones((2, 4), dtype=np.float32))
    with pytest.raises(ValueError):
        index.add(np.array([-1]), one)
    with pytest.raises(ValueError):
        index.add(np.array([1]), np.full((1, 4), np.nan, dtype=np.float32))
    with pytest.raises(EmbedderMismatchError):
        index.add(np.array([1]), np.ones((1, 5), dtype=np.float32))
    index.add(np.array([1]), one)
    with pytest.raises(EmbedderMismatchError):
        index.search(np.ones(5, dtype=np.float32), 3)


@pytest.mark.parametrize("options", [FAST, ANN_ONLY], ids=["planned", "ann-only"])
def test_upsert_and_remove_never_leak(tmp_path: Path, options: VectorIndexOptions) -> None:
    index, keys, vectors = built(tmp_path, 6_000, options=options)
    target = keys[0]
    index.add(np.array([target]), vectors[1:2])  # replace with another vector
    assert len(index) == len(keys) and index.tombstones == 1
    np.testing.assert_allclose(index.get(np.array([target]))[0], vectors[1], atol=1e-6)
    assert index.remove(np.concatenate([keys[1:1001], [1, 1]])) == 1000
    assert len(index) == len(keys) - 1000 and index.tombstones == 1001
    gone = set(keys[1:1001].tolist())
    for query in vectors[:1001:50]:
        found = index.search(query, 20)[0]
        assert len(found) == 20 and not gone & set(found.tolist())
    found, scores = index.search(vectors[1], 1)
    assert found[0] == target and scores[0] == pytest.approx(1.0, abs=1e-5)


def test_compaction_drops_tombstones_and_keeps_answers(tmp_path: Path) -> None:
    index, keys, vectors = built(tmp_path, 3_000)
    index.remove(keys[:200])
    index.save()  # under 20 %: tombstones are kept and stay invisible after a reload
    reloaded = LocalVectorIndex.open(index.path, 32, options=FAST)
    assert reloaded.tombstones == 200 and len(reloaded) == 2_800
    queries = unit_vectors(10, 32, seed=11)
    before = [reloaded.search(q, 10) for q in queries]
    reloaded.remove(keys[200:800])
    reloaded.save()  # 800 of 3000 rows dead: compacted
    assert reloaded.tombstones == 0 and len(reloaded) == 2_200
    assert LocalVectorIndex.open(index.path, 32, options=FAST).tombstones == 0
    for q, (old_keys, _) in zip(queries, before):
        new_keys, _ = reloaded.search(q, 10)
        live = old_keys[~np.isin(old_keys, keys[200:800])]
        assert np.isin(live, new_keys).all()
        np.testing.assert_array_equal(new_keys, brute_force(keys[800:], vectors[800:], q, 10)[0])


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_save_and_open_round_trip(tmp_path: Path, precision: str) -> None:
    options = VectorIndexOptions(precision=precision, expansion_add=48)
    index, keys, _ = built(tmp_path, 2_000, options=options)
    index.space_id = "space-1"
    index.save()
    loaded = LocalVectorIndex.open(index.path, 32, options=options, space_id="space-1")
    np.testing.assert_array_equal(loaded.keys(), np.sort(keys))
    np.testing.assert_array_equal(loaded.get(keys[:50]), index.get(keys[:50]))
    for query in unit_vectors(5, 32, seed=12):
        np.testing.assert_array_equal(loaded.search(query, 10)[0], index.search(query, 10)[0])


def test_int8_costs_little_quality_and_far_fewer_bytes(tmp_path: Path) -> None:
    keys, vectors = chunk_keys(2_000), unit_vectors(2_000, 384)
    paths = {}
    for precision in ("fp32", "int8"):
        paths[precision] = tmp_path / f"{precision}.lvec"
        index = rebuild(paths[precision], 384, [(keys, vectors)],
                        options=VectorIndexOptions(precision=precision))
        query = unit_vectors(1, 384, seed=13)[0]
        got_keys, got_scores = index.search(query, 10)
        want_keys, _ = brute_force(keys, vectors, query, 10)
        assert len(np.intersect1d(got_keys, want_keys)) >= 8
        exact = dict(zip(*brute_force(keys, vectors, query, len(keys))))
        want_scores = np.array([exact[k] for k in got_keys], dtype=np.float32)
        assert np.abs(got_scores - want_scores).max() < 0.02
    # 384 bytes of codes instead of 1536 of floats, beside the same graph links
    assert paths["int8"].stat().st_size < 0.4 * paths["fp32"].stat().st_size


def test_int8_started_small_asks_for_a_rebuild_and_compaction_keeps_its_codes(
        tmp_path: Path) -> None:
    options = VectorIndexOptions(precision="int8", expansion_add=48)
    index, keys, vectors = built(tmp_path, 50, options=options)
    found, scores = index.search(vectors[7], 1)
    assert found[0] == keys[7] and scores[0] > 0.98
    assert not index.needs_rebuild
    more_keys, more = np.arange(1_500) + 10**6, unit_vectors(1_500, 32, seed=15)
    index.add(more_keys, more)
    assert index.needs_rebuild
    before = index.get(more_keys)
    index.compact()
    np.testing.assert_array_equal(index.get(more_keys), before)  # not quantised twice
    rebuilt = rebuild(tmp_path / "rebuilt.lvec", 32, [(more_keys, more)], options=options)
    assert not rebuilt.needs_rebuild
    fitted_error = np.abs(rebuilt.get(more_keys) - more).mean()
    assert fitted_error < 0.75 * np.abs(before - more).mean()
    empty = LocalVectorIndex.open(tmp_path / "empty-int8.lvec", 32, options=options)
    empty.save()
    assert len(LocalVectorIndex.open(empty.path, 32, options=options)) == 0


def test_rebuild_replaces_the_file_from_batches(tmp_path: Path) -> None:
    path = tmp_path / "v.lvec"
    rebuild(path, 16, [(np.array([1, 2]), unit_vectors(2, 16))])
    vectors = unit_vectors(30, 16, seed=14)
    batches = [(np.arange(100, 110), vectors[:10]), (np.arange(110, 130), vectors[10:])]
    rebuild(path, 16, batches, space_id="s")
    loaded = LocalVectorIndex.open(path, 16, space_id="s")
    np.testing.assert_array_equal(loaded.keys(), np.arange(100, 130))
    nothing = (np.empty(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32))
    assert rebuild(tmp_path / "empty.lvec", 16, [nothing]).keys().size == 0
    assert len(LocalVectorIndex.open(tmp_path / "empty.lvec", 16)) == 0


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        del data[len(data) // 2:]
    elif how == "payload-bit":
        data[-100] ^= 0x01
    elif how == "header-bit":
        data[20] ^= 0x01
    elif how == "appended":
        data += b"\0"
    else:
        data = bytearray(b"not an index at all")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "payload-bit", "header-bit", "appended", "garbage"])
def test_damaged_file_is_refused_with_the_rebuild_command(tmp_path: Path, how: str) -> None:
    index, _, _ = built(tmp_path, 500)
    index.save()
    _damage(index.path, how)
    with pytest.raises(IndexCorruptError, match="--rebuild-vectors"):
        LocalVectorIndex.open(index.path, 32)


def test_mismatched_space_precision_or_missing_file_is_refused(tmp_path: Path) -> None:
    index, _, _ = built(tmp_path, 100)
    index.space_id = "a"
    index.save()
    with pytest.raises(EmbedderMismatchError):
        LocalVectorIndex.open(index.path, 64)
    with pytest.raises(EmbedderMismatchError):
        LocalVectorIndex.open(index.path, 32, space_id="b")
    with pytest.raises(ConfigError):
        LocalVectorIndex.open(index.path, 32, options=VectorIndexOptions(precision="int8"))
    with pytest.raises(IndexNotFoundError):
        LocalVectorIndex.open(tmp_path / "absent.lvec", 32, create=False)
    with pytest.raises(ConfigError):
        VectorIndexOptions(precision="fp16")


def test_missing_faiss_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(MissingDependencyError, match="faiss-cpu"):
        LocalVectorIndex.open(tmp_path / "v.lvec", 8)


def test_failure_mid_write_leaves_the_previous_file(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    index, keys, _ = built(tmp_path, 500)
    index.save()
    index.remove(keys[:100])

    def fail_after_first(out: object, sections: list) -> None:
        out.write(sections[0])  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(_ann_file, "write_sections", fail_after_first)
    with pytest.raises(OSError, match="disk full"):
        index.save()
    assert len(LocalVectorIndex.open(index.path, 32)) == 500
    assert [p.name for p in tmp_path.iterdir()] == [index.path.name]


KILLED_SAVE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import numpy as np
    from lore.store import _ann_file
    from lore.store.vectors import LocalVectorIndex

    path, marker = Path(sys.argv[1]), Path(sys.argv[2])
    index = LocalVectorIndex.open(path, 32)
    index.remove(index.keys()[:100])

    def stall(out, sections):
        out.write(sections[0])
        out.flush()
        marker.touch()
        time.sleep(60)

    _ann_file.write_sections = stall
    index.save()
""")


def test_process_killed_mid_save_leaves_a_loadable_index(tmp_path: Path) -> None:
    index, _, _ = built(tmp_path, 500)
    index.save()
    marker = tmp_path.parent / f"{tmp_path.name}.writing"
    child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(index.path), str(marker)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the child never reached the middle of its save"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert len(list(tmp_path.glob(".*.tmp"))) == 1  # the half-written temporary
    reopened = LocalVectorIndex.open(index.path, 32)
    assert len(reopened) == 500
    reopened.save()
    assert not list(tmp_path.glob(".*.tmp"))
