"""Pooled document vectors: the normalised mean of a document's unit chunk vectors.

Shared by every backend, so a document's pooled vector is the same bytes
whether the sidecar or a server computed it.
"""

from __future__ import annotations

import numpy as np

from lore.store.keys import document_keys
from lore.types import Floats, Keys


def unit(matrix: Floats) -> Floats:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def pool(owners: Keys, matrix: Floats) -> tuple[Keys, Floats]:
    """Document keys and pooled vectors from chunk vectors sorted by owning document.

    Args:
        owners: the document row id of each row, sorted (each document one run).
        matrix: the chunk vectors, one row per owner entry.

    Returns:
        One pooled vector per document with two or more rows, under its document key.
    """
    if not len(owners):
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    docs, starts, counts = np.unique(owners, return_index=True, return_counts=True)
    sums = np.add.reduceat(unit(matrix), starts, axis=0)
    keep = counts > 1
    return document_keys(docs[keep]), unit(sums[keep])
