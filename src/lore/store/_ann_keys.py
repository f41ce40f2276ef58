"""Chunk keys <-> graph rows, with tombstones.

An HNSW graph cannot really forget a node, so removing a key only marks its
row dead (key ``-1``); dead rows are skipped by every search and dropped when
the graph is compacted. Lookups use a sorted copy of the live keys rather than
a dict: it costs 16 bytes per vector instead of ~100, loads straight from the
file, and stays sorted for free on the common path, because chunk ids only
grow.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Keys = npt.NDArray[np.int64]
DEAD = -1


def as_keys(keys: object) -> Keys:
    """``keys`` as a 1-d int64 array, refusing negative values (``-1`` marks a dead row)."""
    arr = np.asarray(keys)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"keys must be a 1-d array of integers, got {arr.dtype} {arr.shape}")
    if arr.min() < 0:
        raise ValueError("keys must be non-negative chunk ids")
    return arr.astype(np.int64, copy=False)


def sorted_unique(keys: Keys) -> Keys:
    """``keys`` sorted without duplicates; already-sorted input (the usual case) is free.

    Cheaper than ``np.unique``, measured 4x slower than a plain sort under numpy 2.4.
    """
    if len(keys) < 2 or bool(np.all(keys[1:] > keys[:-1])):
        return keys
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))]


class KeyMap:
    """Which key each graph row holds, and which row holds each live key."""

    def __init__(self, row_keys: Keys | None = None) -> None:
        self._row_keys: Keys = (np.empty(0, dtype=np.int64) if row_keys is None
                                else np.array(row_keys, dtype=np.int64))
        live = np.flatnonzero(self._row_keys != DEAD)
        order = np.argsort(self._row_keys[live], kind="stable")
        self._sorted_keys: Keys = self._row_keys[live][order]
        self._sorted_rows: Keys = live[order]
        self._bitmap: npt.NDArray[np.uint8] | None = None

    @property
    def row_keys(self) -> Keys:
        """Row -> key (``-1`` for dead rows); what the sidecar file stores."""
        return self._row_keys

    @property
    def rows(self) -> int:
        """Rows in the graph, dead ones included."""
        return len(self._row_keys)

    @property
    def live(self) -> int:
        """Keys currently held."""
        return len(self._sorted_keys)

    @property
    def dead(self) -> int:
        """Tombstoned rows still in the graph."""
        return self.rows - self.live

    def keys(self) -> Keys:
        """Every live key, ascending (a copy)."""
        return self._sorted_keys.copy()

    def live_rows(self) -> Keys:
        """Rows of every live key, in key order."""
        return self._sorted_rows

    def lookup(self, keys: Keys) -> tuple[Keys, npt.NDArray[np.bool_]]:
        """Rows of ``keys`` (for the present ones) and which of ``keys`` are present."""
        if self.live == 0 or len(keys) == 0:
            return np.empty(0, dtype=np.int64), np.zeros(len(keys), dtype=bool)
        pos = np.searchsorted(self._sorted_keys, keys)
        pos[pos == self.live] = 0
        present = self._sorted_keys[pos] == keys
        return self._sorted_rows[pos[present]], present

    def keys_of(self, rows: Keys) -> Keys:
        """The keys held by ``rows``."""
        return self._row_keys[rows]

    def append(self, keys: Keys) -> None:
        """Give ``keys`` (absent, distinct) the next rows, in order."""
        rows = np.arange(self.rows, self.rows + len(keys), dtype=np.int64)
        self._row_keys = np.concatenate([self._row_keys, keys])
        merged_keys = np.concatenate([self._sorted_keys, keys])
        merged_rows = np.concatenate([self._sorted_rows, rows])
        in_order = (len(keys) < 2 or bool(np.all(keys[1:] > keys[:-1]))) and (
            self.live == 0 or len(keys) == 0 or keys[0] > self._sorted_keys[-1])
        if not in_order:
            order = np.argsort(merged_keys, kind="stable")
            merged_keys, merged_rows = merged_keys[order], merged_rows[order]
        self._sorted_keys, self._sorted_rows = merged_keys, merged_rows
        self._bitmap = None

    def remove(self, keys: Keys) -> int:
        """Tombstone the rows of ``keys``; absent keys are ignored. Returns how many died."""
        keys = sorted_unique(keys)
        rows, present = self.lookup(keys)
        if len(rows) == 0:
            return 0
        self._row_keys[rows] = DEAD
        positions = np.searchsorted(self._sorted_keys, keys[present])
        self._sorted_keys = np.delete(self._sorted_keys, positions)
        self._sorted_rows = np.delete(self._sorted_rows, positions)
        self._bitmap = None
        return len(rows)

    def bitmap(self, rows: Keys | None = None) -> npt.NDArray[np.uint8]:
        """A little-endian bitmap over all rows with ``rows`` set (default: every live row)."""
        if rows is None and self._bitmap is not None:
            return self._bitmap
        mask = np.zeros(self.rows, dtype=bool)
        mask[self.live_rows() if rows is None else rows] = True
        bits = np.packbits(mask, bitorder="little")
        if rows is None:
            self._bitmap = bits
        return bits
