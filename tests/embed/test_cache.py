"""EmbeddingCache: keys, round trips, stats, clearing, sharing, disposability."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from lore.embed.cache import SCHEMA_VERSION, EmbeddingCache
from lore.paths import embed_cache_file


@pytest.fixture
def cache(tmp_path: Path) -> EmbeddingCache:
    return EmbeddingCache(tmp_path / "sub" / "cache.sqlite")


def _vectors(n: int, d: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def test_round_trip_is_exact_and_misses_are_none(cache: EmbeddingCache) -> None:
    vecs = _vectors(2)
    cache.put_many("space-a", "document", ["one", "two"], vecs)
    got = cache.get_many("space-a", "document", ["two", "absent", "one"])
    np.testing.assert_array_equal(got[0], vecs[1])
    assert got[1] is None
    np.testing.assert_array_equal(got[2], vecs[0])
    assert got[0] is not None and got[0].dtype == np.float32


def test_space_and_kind_are_part_of_the_key(cache: EmbeddingCache) -> None:
    cache.put_many("space-a", "document", ["t"], _vectors(1))
    assert cache.get_many("space-b", "document", ["t"]) == [None]
    assert cache.get_many("space-a", "query", ["t"]) == [None]


def test_put_replaces_an_earlier_vector(cache: EmbeddingCache) -> None:
    cache.put_many("s", "query", ["t"], _vectors(1, seed=1))
    newer = _vectors(1, seed=2)
    cache.put_many("s", "query", ["t"], newer)
    np.testing.assert_array_equal(cache.get_many("s", "query", ["t"])[0], newer[0])
    assert cache.stats().entries == {"s": 1}


def test_many_keys_cross_the_lookup_chunk(cache: EmbeddingCache) -> None:
    texts = [f"text {i}" for i in range(1203)]
    vecs = _vectors(len(texts))
    cache.put_many("s", "document", texts, vecs)
    got = cache.get_many("s", "document", texts)
    np.testing.assert_array_equal(np.vstack(got), vecs)  # type: ignore[arg-type]


def test_stats_and_clear(cache: EmbeddingCache) -> None:
    cache.put_many("a", "document", ["x", "y"], _vectors(2))
    cache.put_many("b", "query", ["x"], _vectors(1))
    stats = cache.stats()
    assert stats.entries == {"a": 2, "b": 1} and stats.total_entries == 3
    assert stats.bytes > 0 and stats.path == cache.path
    assert cache.clear("a") == 2
    assert cache.stats().entries == {"b": 1}
    assert cache.clear() == 1
    assert cache.stats().entries == {}


def test_two_handles_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    writer, reader = EmbeddingCache(path), EmbeddingCache(path)
    vecs = _vectors(1)
    writer.put_many("s", "document", ["t"], vecs)
    np.testing.assert_array_equal(reader.get_many("s", "document", ["t"])[0], vecs[0])
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_texts_are_not_stored(cache: EmbeddingCache) -> None:
    secret = "a very private sentence about salaries"
    cache.put_many("s", "document", [secret], _vectors(1))
    cache.close()
    raw = b"".join(p.read_bytes() for p in cache.path.parent.iterdir())
    assert secret.encode() not in raw


def test_a_cache_from_another_schema_is_recreated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE vectors (junk TEXT)")
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    cache = EmbeddingCache(path)
    cache.put_many("s", "document", ["t"], _vectors(1))
    assert cache.stats().entries == {"s": 1}


def test_mismatched_lengths_are_refused(cache: EmbeddingCache) -> None:
    with pytest.raises(ValueError, match="2 texts but 1 vectors"):
        cache.put_many("s", "document", ["a", "b"], _vectors(1))


def test_default_path_lives_under_lore_home(isolated_user_dirs: Path) -> None:
    cache = EmbeddingCache()
    assert cache.path == embed_cache_file()
    assert cache.path.is_relative_to(isolated_user_dirs) and cache.path.exists()
