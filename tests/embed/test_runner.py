"""EmbeddingRunner: prefixes, truncation, length-sorted batches, checks, cache, stats."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from lore.embed.base import EmbedKind, SpaceBound, Vectors
from lore.embed.cache import EmbeddingCache
from lore.embed.hashing import HashingEmbedder
from lore.embed.runner import EmbeddingRunner
from lore.embed.tokens import CHARS_PER_TOKEN, CharTokenEstimate
from lore.errors import ConfigError, ProviderError
from lore.settings import EmbedSettings, ProviderSettings


class Recording(SpaceBound):
    """Wraps a HashingEmbedder and records every batch it is given (no tokenizer)."""

    def __init__(self, dims: int = 16, **space: object) -> None:
        self.inner = HashingEmbedder(dims)
        self._space = dataclasses.replace(self.inner.space, **space)  # type: ignore[arg-type]
        self.batches: list[list[str]] = []

    def embed(self, texts: list[str], kind: EmbedKind) -> Vectors:
        self.batches.append(list(texts))
        return self.inner.embed(texts, kind)


class Returning(Recording):
    """Replies with a fixed (possibly broken) value."""

    def __init__(self, reply: object, dims: int = 16) -> None:
        super().__init__(dims)
        self.reply = reply

    def embed(self, texts: list[str], kind: EmbedKind) -> Vectors:
        self.batches.append(list(texts))
        return self.reply  # type: ignore[return-value]


def test_prefixes_are_applied_per_kind() -> None:
    fake = Recording(query_prefix="query: ", document_prefix="passage: ")
    runner = EmbeddingRunner(fake)
    q = runner.embed(["cache invalidation"], "query")
    d = runner.embed(["cache invalidation"], "document")
    assert fake.batches == [["query: cache invalidation"], ["passage: cache invalidation"]]
    assert not np.allclose(q, d)


def test_without_prefixes_query_and_document_vectors_agree() -> None:
    runner = EmbeddingRunner(Recording())
    np.testing.assert_array_equal(runner.embed(["same text"], "query"),
                                  runner.embed(["same text"], "document"))


def test_batches_are_length_sorted_and_scattered_back_in_order() -> None:
    texts = [" ".join(["w"] * n) + f" t{n}" for n in (9, 1, 5, 3, 7, 2, 8)]
    fake = Recording()
    out = EmbeddingRunner(fake, batch_size=3).embed(texts, "document")
    assert [len(b) for b in fake.batches] == [3, 3, 1]
    sent = [t for batch in fake.batches for t in batch]
    counts = CharTokenEstimate().count_tokens(sent)
    assert counts == sorted(counts) and sorted(sent) == sorted(texts)
    np.testing.assert_allclose(out, fake.inner.embed(texts, "document"), atol=1e-6)


def test_duplicates_are_embedded_once() -> None:
    fake = Recording()
    out = EmbeddingRunner(fake).embed(["a b", "c d", "a b"], "document")
    assert sorted(fake.batches[0]) == ["a b", "c d"]
    np.testing.assert_array_equal(out[0], out[2])


def test_truncation_uses_the_providers_tokenizer() -> None:
    embedder = HashingEmbedder(16, max_tokens=4)
    runner = EmbeddingRunner(embedder)
    long = runner.embed(["one two three four five six"], "document")
    short = runner.embed(["one two three four"], "document")
    np.testing.assert_array_equal(long, short)
    assert runner.stats.truncated == 1


def test_truncation_falls_back_to_a_character_estimate() -> None:
    fake = Recording(max_tokens=5)
    runner = EmbeddingRunner(fake)
    runner.embed(["word " * 50], "document")
    assert 0 < len(fake.batches[0][0]) <= 5 * CHARS_PER_TOKEN
    assert runner.stats.truncated == 1


def test_char_estimate_counts_and_cuts_at_a_space() -> None:
    est = CharTokenEstimate()
    assert est.count_tokens(["", "abcd", "abcde"]) == [0, 1, 2]
    assert est.truncate(["aaaa bbbb cccc dddd eeee"], 4) == ["aaaa bbbb cccc"]
    assert est.truncate(["aaaa bbbb cccc dddd"], 3) == ["aaaa bbbb"]
    assert est.truncate(["x" * 30], 2) == ["x" * 8]


def test_outputs_are_normalised_even_if_the_provider_does_not() -> None:
    runner = EmbeddingRunner(Returning(np.full((2, 16), 3.0)))
    out = runner.embed(["a", "b"], "document")
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-3)


@pytest.mark.parametrize("reply, match", [
    (np.zeros((2, 8), dtype=np.float32), r"8-dimensional.*expected 16"),
    (np.zeros((1, 16), dtype=np.float32), r"shape \(1, 16\) for 2 texts"),
    (np.full((2, 16), np.nan, dtype=np.float32), "NaN"),
    ([[0.0] * 16] * 2, "numpy array"),
])
def test_malformed_provider_replies_are_provider_errors(reply: object, match: str) -> None:
    with pytest.raises(ProviderError, match=match):
        EmbeddingRunner(Returning(reply)).embed(["a", "b"], "document")


def test_dimension_disagreement_is_refused_at_construction() -> None:
    class Liar(Recording):
        @property
        def dimensions(self) -> int:
            return 32

    with pytest.raises(ConfigError, match="32 dimensions"):
        EmbeddingRunner(Liar())


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="batch_size"):
        EmbeddingRunner(Recording(), batch_size=0)


def test_cache_serves_the_second_run_without_the_provider(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    texts = ["first note", "second note", "third note"]
    first = EmbeddingRunner(Recording(), cache=cache)
    expected = first.embed(texts, "document")
    assert (first.stats.cache_misses, first.stats.cache_hits) == (3, 0)

    fake = Recording()
    second = EmbeddingRunner(fake, cache=cache)
    np.testing.assert_array_equal(second.embed(texts, "document"), expected)
    assert fake.batches == []
    assert (second.stats.cache_hits, second.stats.provider_calls) == (3, 0)
    second.embed(texts, "query")  # another kind is another key
    assert second.stats.provider_calls == 1


def test_cache_only_sends_the_misses(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    EmbeddingRunner(Recording(), cache=cache).embed(["known"], "document")
    fake = Recording()
    runner = EmbeddingRunner(fake, cache=cache)
    runner.embed(["known", "new"], "document")
    assert fake.batches == [["new"]]
    assert (runner.stats.cache_hits, runner.stats.cache_misses) == (1, 1)


def test_progress_reports_every_batch_up_to_the_total() -> None:
    seen: list[tuple[int, int]] = []
    EmbeddingRunner(Recording(), batch_size=2, progress=lambda d, t: seen.append((d, t))).embed(
        ["a", "b", "c", "d", "a"], "document")
    assert [t for _, t in seen] == [5, 5]
    assert seen[-1] == (5, 5)
    assert seen[0][0] < seen[-1][0]


def test_empty_input_returns_an_empty_matrix() -> None:
    fake = Recording()
    out = EmbeddingRunner(fake).embed([], "query")
    assert out.shape == (0, 16) and fake.batches == []


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="kind"):
        EmbeddingRunner(Recording()).embed(["x"], "passage")  # type: ignore[arg-type]


def test_from_settings_builds_chain_and_cache(tmp_path: Path) -> None:
    e = EmbedSettings(primary=ProviderSettings(provider="hashing", dimensions=24, batch_size=7))
    runner = EmbeddingRunner.from_settings(e, cache_path=tmp_path / "c.sqlite")
    assert runner.batch_size == 7 and runner.space.dimensions == 24
    assert runner.cache is not None
    runner.embed(["x"], "query")
    assert runner.cache.stats().total_entries == 1
    no_cache = EmbeddingRunner.from_settings(dataclasses.replace(e, cache=False))
    assert no_cache.cache is None
