"""HashingEmbedder: deterministic, normalised, lexically meaningful feature hashing."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import zlib

import numpy as np
import pytest

from lore.embed import hashing
from lore.embed.hashing import HashingEmbedder
from lore.errors import ConfigError
from lore.settings import ProviderSettings

TEXTS = ["vector index rebuild", "Rebuilding the vector index", "sourdough bread recipe",
         "ADR-0009: storage engine decision", ""]


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _reference(text: str, dims: int) -> np.ndarray:
    """A plain-loop rendering of the documented features, to check the vectorised one."""
    vec = np.zeros(dims)
    words = re.findall(r"\w+", text.lower()) or [hashing._EMPTY]

    def add(h: int, weight: float, sign_bit: bool) -> None:
        vec[h % dims] += -weight if sign_bit else weight

    for w in words:
        h = zlib.crc32(w.encode())
        add(h, 1.0, bool(h & 0x80000000))
        marked = f"<{w}>".encode()
        grams = [marked[i:i + n] for n in (3, 4, 5) for i in range(len(marked) - n + 1)]
        for g in grams:
            gh = zlib.crc32(g, hashing._NGRAM_SEED)
            add(gh, 1 / np.sqrt(len(grams)), bool(gh & 0x80000000))
    mask = (1 << 64) - 1
    for a, b in itertools.pairwise(words):
        x = (zlib.crc32(a.encode()) * 0x9E3779B97F4A7C15 + zlib.crc32(b.encode())) & mask
        x ^= x >> 30
        x = (x * 0xBF58476D1CE4E5B9) & mask
        x ^= x >> 27
        x = (x * 0x94D049BB133111EB) & mask
        x ^= x >> 31
        vec[x % dims] += -hashing.BIGRAM_WEIGHT if x >> 63 else hashing.BIGRAM_WEIGHT
    return vec / np.linalg.norm(vec)


def test_matches_plain_reference_implementation() -> None:
    got = HashingEmbedder(dimensions=97).embed(TEXTS, "document")
    for text, row in zip(TEXTS, got):
        np.testing.assert_allclose(row, _reference(text, 97), atol=1e-5)


def test_shape_dtype_and_unit_norm() -> None:
    vectors = HashingEmbedder().embed(TEXTS, "document")
    assert vectors.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


def test_deterministic_across_instances_and_processes() -> None:
    first = HashingEmbedder().embed(TEXTS, "query")
    np.testing.assert_array_equal(first, HashingEmbedder().embed(TEXTS, "query"))
    code = ("import json,sys; from lore.embed.hashing import HashingEmbedder; "
            "print(json.dumps(HashingEmbedder().embed(json.loads(sys.argv[1]), 'query')"
            ".tolist()))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, json.dumps(TEXTS)], env=env,
                         capture_output=True, text=True, check=True).stdout
    np.testing.assert_array_equal(np.asarray(json.loads(out), dtype=np.float32), first)


def test_row_does_not_depend_on_its_batch_neighbours() -> None:
    embedder = HashingEmbedder()
    together = embedder.embed(["alpha beta", "gamma delta"], "document")
    alone = embedder.embed(["gamma delta"], "document")
    np.testing.assert_array_equal(together[1], alone[0])


def test_large_inputs_split_into_blocks_consistently(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [f"note {i} about topic {i % 7}" for i in range(25)]
    whole = HashingEmbedder().embed(texts, "document")
    monkeypatch.setattr(hashing, "_BLOCK", 4)
    np.testing.assert_array_equal(HashingEmbedder().embed(texts, "document"), whole)


def test_keeps_lexical_similarity() -> None:
    a, b, c, *_ = HashingEmbedder().embed(TEXTS, "document")
    assert _cos(a, b) > 0.3 > abs(_cos(a, c))
    # word pieces: "indexing" meets "index" without sharing the word
    x, y, z = HashingEmbedder().embed(["indexing", "index", "bread"], "document")
    assert _cos(x, y) > _cos(x, z) + 0.2


def test_word_order_matters_through_pairs() -> None:
    a, b = HashingEmbedder().embed(["dog bites man", "man bites dog"], "document")
    assert 0.5 < _cos(a, b) < 0.999


def test_text_without_words_gets_a_finite_nonzero_vector() -> None:
    vectors = HashingEmbedder().embed(["", "  ...  "], "document")
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


def test_from_settings_uses_dimensions_prefixes_and_max_tokens() -> None:
    p = ProviderSettings(provider="hashing", dimensions=128, query_prefix="q: ",
                         max_tokens=64)
    embedder = HashingEmbedder.from_settings(p)
    assert embedder.dimensions == embedder.space.dimensions == 128
    assert embedder.space.query_prefix == "q: " and embedder.max_tokens == 64
    assert HashingEmbedder.from_settings(ProviderSettings(provider="hashing")).dimensions == 384
    assert embedder.space.id != HashingEmbedder(128).space.id


@pytest.mark.parametrize("dims", [0, 1, -5])
def test_bad_dimensions_are_refused_at_construction(dims: int) -> None:
    with pytest.raises(ConfigError, match="dimensions"):
        HashingEmbedder.from_settings(ProviderSettings(provider="hashing", dimensions=dims))


def test_counts_and_truncates_words() -> None:
    embedder = HashingEmbedder()
    assert embedder.count_tokens(["one two, three!", ""]) == [3, 0]
    cut = embedder.truncate(["one two, three! four", "short"], 3)
    assert cut == ["one two, three", "short"]
    assert embedder.count_tokens(cut) == [3, 1]


def test_concurrent_calls_agree_with_sequential_ones() -> None:
    from concurrent.futures import ThreadPoolExecutor

    batches = [[f"word{i}x{j} shared term{j % 5}" for j in range(40)] for i in range(8)]
    expected = [HashingEmbedder().embed(b, "document") for b in batches]
    embedder = HashingEmbedder()
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda b: embedder.embed(b, "document"), batches))
    for want, have in zip(expected, got):
        np.testing.assert_array_equal(want, have)
