"""Type aliases shared across rooms: one definition each, imported from here.

Literal aliases double as the settings schema's choices (``lore.config``
reads the allowed values from them), so a new mode is added in one place.
The array aliases are written as strings so that importing this module (and
so ``import lore``) does not import numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Keys: TypeAlias = "npt.NDArray[np.int64]"
"""Integer row ids or vector-index keys, one per row."""

Floats: TypeAlias = "npt.NDArray[np.float32]"
"""float32 vectors or scores (a matrix of vectors is one row per key)."""

SearchMode = Literal["keyword", "vector", "hybrid"]
"""Which legs a search runs: BM25 + exact id, embeddings only, or all fused."""

FusionMethod = Literal["rrf", "score"]
"""How leg rankings combine: reciprocal rank fusion, or normalised scores."""

Precision = Literal["fp32", "int8"]
"""Stored precision of a local model's weights or of the vector sidecar."""

RerankProvider = Literal["none", "cross-encoder", "http"]
"""Which second-stage reranker runs over the fused candidates."""
