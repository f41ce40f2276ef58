"""The one place texts become vectors: prefixes, truncation, batching, checks.

Providers only turn a list of ready texts into a matrix. Everything that must
be identical for every provider (so that a space id really means one thing)
happens here, in this order:

1. duplicates in one call are embedded once, and the cache is consulted;
2. the space's query/document prefix is prepended;
3. texts longer than the space's ``max_tokens`` are truncated, with the
   provider's own tokenizer when it has one (:class:`TokenCounter`), else with
   a character estimate;
4. texts are sorted by length and cut into batches, so padding-based models
   waste little work on short texts next to long ones;
5. every reply is checked (shape, dtype, finite values), L2-normalised,
   scattered back to input order, and stored in the cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lore.embed.base import Embedder, EmbeddingSpace, EmbedKind, Vectors
from lore.embed.tokens import token_counter_for
from lore.errors import ConfigError, ProviderError

if TYPE_CHECKING:
    from lore.documents.chunking import TokenMeasure
    from lore.embed.cache import EmbeddingCache
    from lore.settings import EmbedSettings

logger = logging.getLogger(__name__)

# Below this L2 norm a vector is treated as zero: it has no direction to compare.
MIN_NORM = 1e-6

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` in input texts, after each batch."""

_KINDS: tuple[EmbedKind, ...] = ("document", "query")


def usable_vector(vector: Vectors, dimensions: int) -> bool:
    """Whether one stored vector can be trusted: right size, finite, not zero."""
    return vector.shape == (dimensions,) and bool(np.isfinite(vector).all()) \
        and float(np.linalg.norm(vector)) > MIN_NORM


@dataclass
class RunnerStats:
    """Cumulative counters of one runner (inspect after a sync or in tests).

    Attributes:
        texts: texts asked for, duplicates included.
        cache_hits: unique texts served from the cache.
        cache_misses: unique texts that went to the provider.
        provider_calls: ``embed`` calls made on the provider (one per batch).
        truncated: texts cut to ``max_tokens``.
    """

    texts: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    provider_calls: int = 0
    truncated: int = 0


class EmbeddingRunner:
    """Wraps an embedder with prefixes, truncation, batching, validation and a cache.

    Args:
        embedder: any :class:`Embedder` (a single provider or a fallback chain).
        batch_size: texts per provider call.
        cache: an :class:`EmbeddingCache`, or None to always call the provider.
        progress: optional ``progress(done, total)`` callback.
    """

    def __init__(self, embedder: Embedder, *, batch_size: int = 32,
                 cache: EmbeddingCache | None = None,
                 progress: ProgressCallback | None = None) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}; "
                              f"fix [embed.primary] batch_size.")
        space = embedder.space
        if embedder.dimensions != space.dimensions:
            raise ConfigError(
                f"{type(embedder).__name__} reports {embedder.dimensions} dimensions but its "
                f"space {space.describe()} says {space.dimensions}; fix the provider's "
                f"dimensions setting."
            )
        self.embedder = embedder
        self.batch_size = batch_size
        self.cache = cache
        self.progress = progress
        self.stats = RunnerStats()
        self._counter = token_counter_for(embedder)

    @classmethod
    def from_settings(cls, e: EmbedSettings, *, cache_path: Path | None = None,
                      progress: ProgressCallback | None = None) -> EmbeddingRunner:
        """Build the configured chain, with the shared cache when ``e.cache`` is on.

        Args:
            e: the ``[embed]`` settings.
            cache_path: where the cache lives (default: ``lore.paths.embed_cache_file()``).
            progress: optional ``progress(done, total)`` callback.
        """
        from lore.embed.cache import EmbeddingCache
        from lore.embed.chain import build_embedder

        cache = None
        if e.cache:
            try:
                cache = EmbeddingCache(cache_path)
            except ConfigError as exc:   # a read-only or full LORE_HOME: embed without it
                logger.warning("embedding without the cache: %s", exc)
        return cls(build_embedder(e), batch_size=e.primary.batch_size, cache=cache,
                   progress=progress)

    @property
    def space(self) -> EmbeddingSpace:
        """The embedding space every vector from this runner belongs to."""
        return self.embedder.space

    def chunk_measure(self) -> TokenMeasure | None:
        """How the chunker counts tokens so that no chunk is truncated here.

        Counts go through the same tokenizer and document prefix as
        ``embed``. None for the hashing provider: its "tokens" are words,
        which the chunker's estimate already keeps under the window.
        """
        from lore.documents.chunking import TokenMeasure

        space = self.space
        if space.provider == "hashing":
            return None
        counter, prefix = self._counter, space.document_prefix

        def count(texts: list[str]) -> list[int]:
            return counter.count_tokens([prefix + t for t in texts])

        return TokenMeasure(name=f"{space.provider}:{space.model}:{space.revision}:"
                                 f"{space.max_tokens}:{prefix}",
                            window=space.max_tokens, count=count)

    def embed(self, texts: Sequence[str], kind: EmbedKind) -> Vectors:
        """Embed ``texts`` as documents or queries.

        Args:
            texts: raw texts, without any prefix.
            kind: ``"document"`` or ``"query"``; selects the space's prefix.

        Returns:
            float32 array of shape (len(texts), dimensions), rows in input order.

        Raises:
            ProviderError: the provider failed or replied with malformed vectors.
        """
        if kind not in _KINDS:
            raise ValueError(f"kind must be 'document' or 'query', not {kind!r}")
        space = self.space
        total = len(texts)
        out = np.zeros((total, space.dimensions), dtype=np.float32)
        self.stats.texts += total
        if total == 0:
            return out
        positions: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            positions.setdefault(text, []).append(i)
        unique = list(positions)

        missing = self._fill_from_cache(unique, kind, positions, out)
        done = total - sum(len(positions[t]) for t in missing)
        if not missing:
            self._report(total, total)
            return out
        vectors = self._embed_uncached(missing, kind, done, total, positions)
        for text, row in zip(missing, vectors):
            out[positions[text]] = row
        if self.cache is not None:
            self.cache.put_many(space.id, kind, missing, vectors)
        return out

    def _fill_from_cache(self, unique: list[str], kind: EmbedKind,
                         positions: dict[str, list[int]], out: Vectors) -> list[str]:
        """Copy cached vectors into ``out``; return the texts still to embed."""
        if self.cache is None:
            self.stats.cache_misses += len(unique)
            return unique
        cached = self.cache.get_many(self.space.id, kind, unique)
        missing = []
        for text, vec in zip(unique, cached):
            # A vector of the wrong size, non-finite or zero can only come from a
            # damaged cache file (or one written before replies were checked).
            if vec is None or not usable_vector(vec, self.space.dimensions):
                missing.append(text)
            else:
                out[positions[text]] = vec
        self.stats.cache_hits += len(unique) - len(missing)
        self.stats.cache_misses += len(missing)
        return missing

    def _embed_uncached(self, texts: list[str], kind: EmbedKind, done: int, total: int,
                        positions: dict[str, list[int]]) -> Vectors:
        """Prefix, truncate, batch by length and call the provider."""
        space = self.space
        prefix = space.query_prefix if kind == "query" else space.document_prefix
        ready = [prefix + t for t in texts] if prefix else list(texts)
        counts = self._counter.count_tokens(ready)
        too_long = [i for i, c in enumerate(counts) if c > space.max_tokens]
        if too_long:
            cut = self._counter.truncate([ready[i] for i in too_long], space.max_tokens)
            for i, text in zip(too_long, cut):
                ready[i] = text
                counts[i] = space.max_tokens
            self.stats.truncated += len(too_long)
        order = np.argsort(np.asarray(counts), kind="stable")
        result = np.empty((len(texts), space.dimensions), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            raw = self.embedder.embed([ready[i] for i in idx], kind)
            self.stats.provider_calls += 1
            result[idx] = self._check(raw, len(idx), space)
            done += sum(len(positions[texts[i]]) for i in idx)
            self._report(done, total)
        return result

    def _check(self, raw: object, rows: int, space: EmbeddingSpace) -> Vectors:
        """Validate one provider reply and return it float32, L2-normalised."""
        name = space.provider
        if not isinstance(raw, np.ndarray) or raw.dtype.kind not in "fiu":
            raise ProviderError(
                f"provider {name!r} returned {type(raw).__name__} instead of a numeric "
                f"numpy array; the provider is broken, report it to its author."
            )
        if raw.ndim != 2 or raw.shape[0] != rows:
            raise ProviderError(
                f"provider {name!r} returned shape {raw.shape} for {rows} texts; "
                f"expected ({rows}, {space.dimensions})."
            )
        if raw.shape[1] != space.dimensions:
            raise ProviderError(
                f"provider {name!r} returned {raw.shape[1]}-dimensional vectors, expected "
                f"{space.dimensions} ({space.describe()}); check the model and its "
                f"dimensions setting."
            )
        vectors = raw.astype(np.float32, copy=False)
        if not np.isfinite(vectors).all():
            raise ProviderError(f"provider {name!r} returned NaN or infinite values; "
                                f"check the model files (re-run `lore models pull`).")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if not (norms > MIN_NORM).all():
            # No model maps text to the zero vector; a server that does is broken,
            # and its zeros would match nothing yet be cached for every index.
            raise ProviderError(f"provider {name!r} returned all-zero vectors; the server or "
                                f"model is broken. Nothing was stored; check it and retry.")
        if space.normalize:
            vectors = vectors / norms
        return vectors

    def _report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)
