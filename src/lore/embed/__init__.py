"""Text -> vectors: the embedder contract, the provider registry, the runner around it.

Only light modules are re-exported here; providers (onnx, sentence-transformers,
HTTP APIs) are imported by the registry when a setting names them.
"""

from __future__ import annotations

from lore.embed.base import Embedder, EmbeddingSpace, EmbedKind, TokenCounter, Vectors
from lore.embed.cache import CacheStats, EmbeddingCache
from lore.embed.chain import FallbackChain, build_embedder
from lore.embed.registry import ProviderInfo, available_providers, get_embedder
from lore.embed.runner import EmbeddingRunner, RunnerStats
from lore.embed.spaces import ensure_same_space

__all__ = [
    "CacheStats",
    "EmbedKind",
    "Embedder",
    "EmbeddingCache",
    "EmbeddingRunner",
    "EmbeddingSpace",
    "FallbackChain",
    "ProviderInfo",
    "RunnerStats",
    "TokenCounter",
    "Vectors",
    "available_providers",
    "build_embedder",
    "ensure_same_space",
    "get_embedder",
]
