"""The vector-index key scheme: chunk keys and document keys in one key space.

A vector index holds two kinds of keys side by side: a chunk's vector under
its chunk id, and the pooled vector of a document with several chunk vectors
under its *document key*, the document's row id with bit 62 set. Chunk ids
never get near that bit, and keys stay non-negative (the local sidecar uses
``-1`` for dead rows). Every backend uses this scheme, so the vector leg can
tell the two apart without asking the store.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lore.types import Keys

DOCUMENT_KEY_FLAG = 1 << 62   # set in the key of a document vector, never in a chunk id


def document_keys(document_ids: Keys) -> Keys:
    """The keys of the given documents' pooled vectors (document row ids)."""
    return np.asarray(document_ids, dtype=np.int64) | DOCUMENT_KEY_FLAG


def is_document_key(keys: Keys) -> npt.NDArray[np.bool_]:
    """Which keys name a document vector rather than a chunk."""
    return np.asarray(keys, dtype=np.int64) >= DOCUMENT_KEY_FLAG


def document_ids(keys: Keys) -> Keys:
    """The document row ids named by document keys (a chunk key maps to itself)."""
    return np.asarray(keys, dtype=np.int64) & ~DOCUMENT_KEY_FLAG
