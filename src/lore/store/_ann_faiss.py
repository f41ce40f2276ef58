"""The HNSW graph behind the vector sidecar, on faiss.

faiss was chosen by measurement (docs/decisions/vector-index.md): it applies an
ID filter during graph traversal, its scalar quantiser keeps recall close to
fp32 at a quarter of the memory, and it serialises to one byte blob. This
module is the only one that touches faiss; it speaks in *rows* (faiss's
sequential ids, 0..rows-1) and knows nothing about chunk keys or tombstones.
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from lore._optional import require

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "int8")
# Fewer training vectors than this give per-dimension ranges too narrow to trust,
# so the int8 quantiser then covers the whole [-1, 1] range a unit vector can reach.
MIN_TRAINING_VECTORS = 1000
# At most this many vectors are used to fit the int8 ranges (min/max converge fast).
MAX_TRAINING_VECTORS = 200_000

Rows = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float32]


def _faiss() -> ModuleType:
    return require("faiss", package="faiss-cpu", purpose="the vector index")


class HnswGraph:
    """An inner-product HNSW graph over fp32 or int8 (scalar-quantised) vectors."""

    def __init__(self, index: Any, precision: str) -> None:
        self._index = index
        self.precision = precision

    @classmethod
    def create(cls, dimensions: int, precision: str, connectivity: int,
               expansion_add: int, like: HnswGraph | None = None) -> HnswGraph:
        """An empty graph.

        Args:
            dimensions: vector length.
            precision: ``fp32`` or ``int8`` (per-dimension scalar quantisation).
            connectivity: HNSW ``M``, links per node.
            expansion_add: HNSW ``efConstruction``.
            like: an int8 graph whose fitted ranges to reuse, so that vectors
                decoded from it re-encode to the very same codes (compaction
                must not quantise twice).
        """
        faiss = _faiss()
        if precision == "fp32":
            index = faiss.IndexHNSWFlat(dimensions, connectivity, faiss.METRIC_INNER_PRODUCT)
        elif precision == "int8":
            index = faiss.IndexHNSWSQ(dimensions, faiss.ScalarQuantizer.QT_8bit, connectivity,
                                      faiss.METRIC_INNER_PRODUCT)
        else:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        index.hnsw.efConstruction = expansion_add
        graph = cls(index, precision)
        if precision == "int8" and like is not None and like._index.is_trained:
            storage = faiss.downcast_index(index.storage)
            faiss.copy_array_to_vector(faiss.vector_to_array(like._storage().sq.trained),
                                       storage.sq.trained)
            storage.is_trained = index.is_trained = True
        return graph

    @classmethod
    def deserialize(cls, blob: memoryview, precision: str) -> HnswGraph:
        """Rebuild a graph from ``serialize()`` output (raises RuntimeError if damaged)."""
        faiss = _faiss()
        return cls(faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8)), precision)

    def serialize(self) -> npt.NDArray[np.uint8]:
        """The whole graph, vectors included, as one byte array."""
        blob: npt.NDArray[np.uint8] = _faiss().serialize_index(self._index)
        return blob

    @property
    def rows(self) -> int:
        """How many rows the graph holds, removed ones included."""
        return int(self._index.ntotal)

    @property
    def dimensions(self) -> int:
        """Vector length."""
        return int(self._index.d)

    @property
    def coarse_ranges(self) -> bool:
        """True for an int8 graph fitted on too few vectors (the whole [-1, 1] range).

        Its codes cannot be refitted (decoded vectors would be quantised
        twice): only a rebuild from the original vectors fixes it.
        """
        if self.precision != "int8" or not self._index.is_trained:
            return False
        low, width = self._int8_ranges()
        return bool(np.all(low == -1.0) and np.allclose(width * 255.0, 2.0))

    def add(self, vectors: Floats) -> None:
        """Append ``vectors`` as the next rows (the int8 quantiser is fitted on first use)."""
        if not self._index.is_trained:
            self._train(vectors)
        self._index.add(vectors)

    def _train(self, vectors: Floats) -> None:
        if len(vectors) < MIN_TRAINING_VECTORS:
            log.info("int8 vector index: %d vectors are too few to fit ranges; using [-1, 1]",
                     len(vectors))
            ones = np.ones((1, self.dimensions), dtype=np.float32)
            sample = np.concatenate([-ones, ones])
        else:
            step = max(1, len(vectors) // MAX_TRAINING_VECTORS)
            sample = np.ascontiguousarray(vectors[::step])
        self._index.train(sample)

    def search(self, query: Floats, k: int, ef: int,
               allowed: npt.NDArray[np.uint8] | None = None) -> tuple[Rows, Floats]:
        """Approximate top-``k`` rows by inner product, best first.

        Args:
            query: one vector, shape (d,).
            k: how many rows to return at most.
            ef: HNSW ``efSearch``: the candidate list size, at least ``k``.
            allowed: a little-endian bitmap over rows (``np.packbits(mask,
                bitorder="little")``); rows outside it are skipped during the
                traversal, not after it.

        Returns:
            Rows and scores; fewer than ``k`` when the traversal found fewer.
        """
        faiss = _faiss()
        params = faiss.SearchParametersHNSW(efSearch=max(ef, k))
        if allowed is not None:
            # The selector reads the bitmap in place: keep both alive for the call.
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(allowed))
            params.sel = selector
        scores, rows = self._index.search(query.reshape(1, -1), k, params=params)
        found = rows[0] >= 0
        return rows[0][found].astype(np.int64), scores[0][found].astype(np.float32)

    def vectors(self, rows: Rows) -> Floats:
        """The stored vectors of ``rows`` (int8 rows come back decoded, approximately)."""
        codes = np.take(self._codes(), rows, axis=0)
        if self.precision == "fp32":
            return codes.view(np.float32)
        low, width = self._int8_ranges()
        decoded: Floats = low + (codes.astype(np.float32) + 0.5) * width
        return decoded

    def scores(self, rows: Rows, query: Floats) -> Floats:
        """Exact inner products of ``query`` with the stored vectors of ``rows``.

        Works on the stored codes in place: no OpenMP (faiss's own batch calls
        stall behind busy cores) and no BLAS threads (numpy ``@`` on one vector
        spins up OpenBLAS's pool, 10-30x slower on a loaded laptop than
        ``einsum``); int8 codes are scored without decoding them first.
        """
        codes = np.take(self._codes(), rows, axis=0)
        if self.precision == "fp32":
            out: Floats = np.einsum("ij,j->i", codes.view(np.float32), query)
            return out
        # x = low + (code + 0.5) * width, so x.q = code.(width*q) + (low + 0.5*width).q
        low, width = self._int8_ranges()
        weights = width * query
        offset = float(low @ query + 0.5 * weights.sum())
        out = np.einsum("ij,j->i", codes, weights, dtype=np.float32)
        return out + np.float32(offset)

    def _storage(self) -> Any:
        return _faiss().downcast_index(self._index.storage)

    def _codes(self) -> npt.NDArray[np.uint8]:
        """A zero-copy (rows, bytes per row) view of the stored codes; invalid after ``add``."""
        storage = self._storage()
        flat = _faiss().rev_swig_ptr(storage.codes.data(), self.rows * storage.code_size)
        view: npt.NDArray[np.uint8] = flat.reshape(self.rows, storage.code_size)
        return view

    def _int8_ranges(self) -> tuple[Floats, Floats]:
        """Per-dimension minimum and step of faiss's 8-bit quantiser (its decode formula)."""
        trained = _faiss().vector_to_array(self._storage().sq.trained)
        d = self.dimensions
        return trained[:d].astype(np.float32), (trained[d:] / 255.0).astype(np.float32)
