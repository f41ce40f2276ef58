"""The configured embedder: a primary provider and its fallbacks, in one space.

A fallback exists for availability (a second endpoint, a local copy of the
same model), never to change what vectors mean: every member must produce
the primary's embedding space, or the configuration is refused. When every
member fails, the chain raises ``ProviderError`` and the search layer answers
keyword-only and says so; it never mixes spaces to get an answer.

``offline = true`` is a promise that nothing leaves the machine: a network
provider anywhere in the chain is a configuration error, not something to
skip quietly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from lore.embed.base import Embedder, EmbeddingSpace, EmbedKind, Vectors
from lore.embed.registry import REMOTE_PROVIDERS, get_embedder
from lore.embed.tokens import token_counter_for
from lore.errors import ConfigError, ProviderError
from lore.settings import EmbedSettings, ProviderSettings

logger = logging.getLogger(__name__)

COOLDOWN_S = 60.0  # a failed member is tried last for this long


def check_offline(e: EmbedSettings) -> None:
    """Refuse network providers when ``e.offline`` is set.

    Raises:
        ConfigError: naming the first remote provider found.
    """
    if not e.offline:
        return
    for where, p in _configured(e):
        if p.provider in REMOTE_PROVIDERS:
            raise ConfigError(
                f"offline = true but provider {p.provider!r} ({where}) needs the network; "
                f"use a local provider (onnx, sentence-transformers, hashing) there, or set "
                f"[embed] offline = false"
            )


def build_embedder(e: EmbedSettings) -> Embedder:
    """Build the primary provider and its fallbacks as one embedder.

    Args:
        e: the ``[embed]`` settings.

    Returns:
        The primary itself when there are no fallbacks, else a ``FallbackChain``.

    Raises:
        ConfigError: embedding is disabled, offline is violated, or a fallback
            produces another embedding space.
    """
    if not e.enabled:
        raise ConfigError("embedding is disabled ([embed] enabled = false); enable it to "
                          "build vectors, or search with --mode keyword")
    check_offline(e)
    primary = get_embedder(e.primary, offline=e.offline)
    if not e.fallback:
        return primary
    members = [primary]
    for n, p in enumerate(e.fallback, start=1):
        member = get_embedder(p, offline=e.offline)
        if member.space.id != primary.space.id:
            raise ConfigError(
                f"fallback {n} ({p.provider}) embeds into {member.space.describe()}, but the "
                f"primary embeds into {primary.space.describe()}; a fallback must produce "
                f"the same space (same provider, model, dimensions, prefixes, max_tokens). "
                f"Remove it: when the primary fails, search answers keyword-only instead"
            )
        members.append(member)
    return FallbackChain(members)


class FallbackChain:
    """Tries each member in order until one answers; all share one space.

    A member that failed is tried last for ``COOLDOWN_S`` seconds, so a dead
    endpoint costs one timeout per minute rather than one per batch.

    Args:
        members: embedders with identical space ids, primary first.
    """

    def __init__(self, members: Sequence[Embedder]) -> None:
        if not members:
            raise ConfigError("a fallback chain needs at least one provider")
        space_id = members[0].space.id
        if any(m.space.id != space_id for m in members):
            raise ConfigError("every member of a fallback chain must share one embedding "
                              "space; see lore.embed.chain.build_embedder")
        self.members = list(members)
        self._failed_at = [float("-inf")] * len(self.members)
        self._counter = token_counter_for(self.members[0])

    @property
    def space(self) -> EmbeddingSpace:
        """The shared space."""
        return self.members[0].space

    @property
    def dimensions(self) -> int:
        """The shared output size."""
        return self.members[0].dimensions

    @property
    def max_tokens(self) -> int:
        """The shared token limit."""
        return self.members[0].max_tokens

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Token counts by the primary's tokenizer (or the character estimate)."""
        return self._counter.count_tokens(texts)

    def truncate(self, texts: list[str], max_tokens: int) -> list[str]:
        """Truncate with the primary's tokenizer (or the character estimate)."""
        return self._counter.truncate(texts, max_tokens)

    def embed(self, texts: list[str], kind: EmbedKind) -> Vectors:
        """The first successful member's vectors.

        Raises:
            ProviderError: every member failed (each failure is listed).
        """
        failures = []
        for i in self._try_order():
            member = self.members[i]
            try:
                return member.embed(texts, kind)
            except ProviderError as exc:
                self._failed_at[i] = time.monotonic()
                logger.warning("embedding provider %d (%s) failed: %s; trying the next one",
                               i + 1, member.space.provider, exc)
                failures.append(f"[{i + 1}] {exc}")
        raise ProviderError(f"all {len(self.members)} embedding providers failed: "
                            + "; ".join(failures))

    def _try_order(self) -> list[int]:
        """Healthy members first (in configured order), recently failed ones last."""
        now = time.monotonic()
        cooling = [now - t < COOLDOWN_S for t in self._failed_at]
        return sorted(range(len(self.members)), key=lambda i: (cooling[i], i))


def _configured(e: EmbedSettings) -> list[tuple[str, ProviderSettings]]:
    """(where, settings) for the primary and each fallback, for error messages."""
    return [("primary", e.primary),
            *((f"fallback {n}", p) for n, p in enumerate(e.fallback, start=1))]
