"""Fallback chain: same-space fallbacks only, the offline invariant, failure reporting."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lore.embed import chain
from lore.embed.base import EmbedKind, Vectors
from lore.embed.chain import FallbackChain, build_embedder
from lore.embed.hashing import HashingEmbedder
from lore.errors import ConfigError, ProviderError
from lore.settings import EmbedSettings, ProviderSettings

HASH = ProviderSettings(provider="hashing", dimensions=32)


class Flaky(HashingEmbedder):
    """A hashing embedder that fails on demand and counts its calls."""

    def __init__(self, fail: bool) -> None:
        super().__init__(32)
        self.fail = fail
        self.calls = 0

    def embed(self, texts: list[str], kind: EmbedKind) -> Vectors:
        self.calls += 1
        if self.fail:
            raise ProviderError(f"endpoint down ({id(self)})")
        return super().embed(texts, kind)


def test_without_fallbacks_the_primary_is_returned() -> None:
    assert isinstance(build_embedder(EmbedSettings(primary=HASH)), HashingEmbedder)


def test_same_space_fallbacks_build_a_chain() -> None:
    built = build_embedder(EmbedSettings(primary=HASH, fallback=(HASH,)))
    assert isinstance(built, FallbackChain)
    assert built.space == HashingEmbedder(32).space and len(built.members) == 2


def test_a_fallback_in_another_space_is_refused_naming_both() -> None:
    other = dataclasses.replace(HASH, dimensions=64)
    with pytest.raises(ConfigError) as err:
        build_embedder(EmbedSettings(primary=HASH, fallback=(other,)))
    message = str(err.value)
    assert HashingEmbedder(32).space.describe() in message
    assert HashingEmbedder(64).space.describe() in message


@pytest.mark.parametrize("remote", ["openai", "ollama", "sagemaker"])
def test_offline_refuses_a_remote_provider_anywhere(remote: str) -> None:
    far = ProviderSettings(provider=remote, dimensions=32)
    for e in (EmbedSettings(primary=far, offline=True),
              EmbedSettings(primary=HASH, fallback=(far,), offline=True)):
        with pytest.raises(ConfigError, match=f"offline = true but provider '{remote}'"):
            build_embedder(e)


def test_disabled_embedding_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="enabled = false"):
        build_embedder(EmbedSettings(primary=HASH, enabled=False))


def test_chain_falls_back_within_the_space() -> None:
    down, up = Flaky(fail=True), Flaky(fail=False)
    out = FallbackChain([down, up]).embed(["hello world"], "query")
    np.testing.assert_array_equal(out, HashingEmbedder(32).embed(["hello world"], "query"))
    assert (down.calls, up.calls) == (1, 1)


def test_all_failing_raises_one_error_listing_each() -> None:
    a, b = Flaky(fail=True), Flaky(fail=True)
    with pytest.raises(ProviderError, match="all 2 embedding providers failed") as err:
        FallbackChain([a, b]).embed(["x"], "document")
    assert str(id(a)) in str(err.value) and str(id(b)) in str(err.value)


def test_a_failed_member_is_tried_last_while_cooling_down(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(chain.time, "monotonic", lambda: clock[0])
    down, up = Flaky(fail=True), Flaky(fail=False)
    fc = FallbackChain([down, up])
    fc.embed(["a"], "document")
    fc.embed(["b"], "document")
    assert (down.calls, up.calls) == (1, 2)
    clock[0] += chain.COOLDOWN_S + 1
    fc.embed(["c"], "document")
    assert down.calls == 2


def test_members_must_share_a_space() -> None:
    with pytest.raises(ConfigError, match="share one embedding space"):
        FallbackChain([HashingEmbedder(32), HashingEmbedder(64)])


def test_chain_counts_tokens_with_the_primary() -> None:
    fc = FallbackChain([HashingEmbedder(32), HashingEmbedder(32)])
    assert fc.count_tokens(["one two three"]) == [3]
    assert fc.truncate(["one two three"], 2) == ["one two"]
