"""The embedder contract and the identity of an embedding space.

A vector only means something next to vectors from the same space: same
provider, model, weights, dimensions, precision, pooling, normalisation,
prefixes and token limit. ``EmbeddingSpace.id`` is a stable digest of all of
that; the index stores it and refuses queries from another space.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

EmbedKind = Literal["document", "query"]
Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class EmbeddingSpace:
    """Everything that decides what a vector means.

    Attributes:
        provider: registry name of the provider family ("onnx", "openai", ...).
        model: model id as the provider knows it.
        revision: model revision or a hash of the weights ("" when unknown).
        dimensions: output dimensionality.
        precision: "fp32", "int8", ... (as computed, not as stored).
        pooling: "mean", "cls", "provider" (opaque remote), ...
        normalize: whether outputs are L2-normalised.
        query_prefix: text prepended to queries.
        document_prefix: text prepended to documents.
        max_tokens: inputs are truncated to this many tokens.
    """

    provider: str
    model: str
    revision: str
    dimensions: int
    precision: str = "fp32"
    pooling: str = "mean"
    normalize: bool = True
    query_prefix: str = ""
    document_prefix: str = ""
    max_tokens: int = 256

    @property
    def id(self) -> str:
        """A stable 16-hex-digit digest of every field."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def describe(self) -> str:
        """A short human-readable label, e.g. ``onnx:all-MiniLM-L6-v2/384/fp32``."""
        return f"{self.provider}:{self.model}/{self.dimensions}/{self.precision} [{self.id}]"


@runtime_checkable
class Embedder(Protocol):
    """What every embedding provider implements.

    ``embed`` returns float32 vectors of shape (len(texts), dimensions), one row
    per input, in input order, L2-normalised. Providers receive texts that are
    already prefixed; batching, length sorting, truncation and normalisation
    are applied around them by ``lore.embed.runner``.
    """

    @property
    def space(self) -> EmbeddingSpace: ...

    @property
    def dimensions(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def embed(self, texts: list[str], kind: EmbedKind) -> Vectors: ...


@runtime_checkable
class TokenCounter(Protocol):
    """Optional: a provider that owns a tokenizer counts and truncates exactly.

    ``lore.embed.runner`` uses it when the embedder implements it and falls
    back to a character-based estimate otherwise.
    """

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def truncate(self, texts: list[str], max_tokens: int) -> list[str]: ...


class SpaceBound:
    """Base for providers whose identity is one fixed ``EmbeddingSpace``.

    ``dimensions`` and ``max_tokens`` are read from the space, so a provider
    cannot report one thing and embed another.
    """

    _space: EmbeddingSpace

    @property
    def space(self) -> EmbeddingSpace:
        """The embedding space every vector of this provider belongs to."""
        return self._space

    @property
    def dimensions(self) -> int:
        """Output dimensionality (the space's)."""
        return self._space.dimensions

    @property
    def max_tokens(self) -> int:
        """Inputs are truncated to this many tokens (the space's)."""
        return self._space.max_tokens
