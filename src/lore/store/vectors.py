"""The vector sidecar: an ANN index over chunk vectors, filter-aware and crash-safe.

The catalog keeps every chunk vector (``chunk_vectors``); this sidecar is a
derived copy organised for fast nearest-neighbour search, one file per
embedding space. It can always be thrown away and rebuilt with ``rebuild``.

Three promises shape it:

- **Filtered search returns what matches.** ``search(..., allowed=keys)``
  returns exactly ``min(k, |allowed ∩ index|)`` hits. A planner scores small
  allowed sets exactly (a numpy dot product over their vectors) and sends large
  ones through the HNSW graph with the filter applied during traversal, with a
  candidate list grown from the selectivity; should the graph still come back
  short, the exact path answers instead.
- **Deletes don't leak.** Removed keys are tombstoned, skipped by every search,
  and dropped by a compaction (a graph rebuild from the live vectors) that
  ``save`` runs once tombstones pass ``compact_fraction`` of the rows.
- **Saves are atomic and checked.** See ``lore.store._ann_file``.

Vectors are L2-normalised on the way in, so inner-product scores are cosine
similarities. An index is not safe for concurrent writers; the caller
serialises writes (one sync at a time).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from lore.errors import ConfigError, EmbedderMismatchError, IndexCorruptError, IndexNotFoundError
from lore.store import _ann_file
from lore.store._ann_faiss import MIN_TRAINING_VECTORS, PRECISIONS, HnswGraph
from lore.store._ann_keys import KeyMap, as_keys, sorted_unique
from lore.types import Floats, Keys

log = logging.getLogger(__name__)

Hits = tuple[Keys, Floats]


@runtime_checkable
class VectorSearch(Protocol):
    """What a search needs from a vector index (the local sidecar or a server's index)."""

    @property
    def dimensions(self) -> int: ...

    def search(self, query: Floats, k: int, allowed: Keys | None = None) -> Hits: ...

    def get(self, keys: Keys) -> Floats: ...

    def present(self, keys: Keys) -> npt.NDArray[np.bool_]: ...

    def keys(self) -> Keys: ...

    def __len__(self) -> int: ...

    def __contains__(self, key: object) -> bool: ...


@runtime_checkable
class VectorIndex(VectorSearch, Protocol):
    """A vector index the sync maintains itself: searching plus upserts, removals, saves."""

    def add(self, keys: Keys, vectors: Floats) -> None: ...

    def remove(self, keys: Keys) -> int: ...

    def save(self) -> None: ...


@dataclass(frozen=True)
class VectorIndexOptions:
    """How the sidecar is built and searched. Defaults come from bench/vector_bench.py.

    Attributes:
        precision: ``fp32``, or ``int8`` (scalar-quantised: a quarter of the
            vector memory, recall@10 a little lower, scores approximate).
        connectivity: HNSW ``M`` (links per node); fixed when the graph is built.
        expansion_add: HNSW ``efConstruction``; fixed when the graph is built.
        expansion_search: HNSW ``efSearch`` for unfiltered queries (the floor for filtered).
        exact_below: candidate sets up to this size are always scored exactly.
        ann_cost: what one HNSW candidate costs, in exact dot products; the
            planner goes exact when ``|allowed| <= ann_cost * expected ef``.
        candidate_factor: a filtered search's list holds at least ``factor * k``
            allowed rows: ``ef = max(expansion_search, factor * k) / selectivity``.
        compact_fraction: ``save`` rebuilds the graph once dead rows pass this share.
    """

    precision: str = "fp32"
    connectivity: int = 16
    expansion_add: int = 128
    expansion_search: int = 64
    exact_below: int = 1024
    ann_cost: float = 8.0
    candidate_factor: float = 2.0
    compact_fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(f"vector precision must be one of {PRECISIONS}, "
                              f"not {self.precision!r}")


class LocalVectorIndex:
    """The local ANN sidecar (faiss HNSW + key map + tombstones) in one file."""

    def __init__(self, path: Path, dimensions: int, options: VectorIndexOptions,
                 space_id: str = "", graph: HnswGraph | None = None,
                 keymap: KeyMap | None = None) -> None:
        self.path = Path(path)
        self.options = options
        self.space_id = space_id
        self._dimensions = dimensions
        self._graph = graph or self._new_graph()
        self._keys = keymap or KeyMap()

    @classmethod
    def open(cls, path: Path, dimensions: int, *, options: VectorIndexOptions | None = None,
             space_id: str = "", create: bool = True) -> LocalVectorIndex:
        """Load the sidecar at ``path``, or start an empty one (written on ``save``).

        Args:
            path: the sidecar file.
            dimensions: the embedding space's vector length; a stored index of
                another length is refused.
            options: build and search options (the stored precision must match).
            space_id: ``EmbeddingSpace.id``; stored on save and, when both are
                set, checked on open.
            create: when False a missing file raises ``IndexNotFoundError``.

        Raises:
            IndexCorruptError: the file is damaged (rebuild it).
            EmbedderMismatchError: it holds another embedding space's vectors.
            ConfigError: it stores another precision than ``options`` asks for.
        """
        path, options = Path(path), options or VectorIndexOptions()
        if not path.exists():
            if not create:
                raise IndexNotFoundError(f"No vector index at {path}; build it with "
                                         "`lore index --rebuild-vectors`.")
            return cls(path, dimensions, options, space_id)
        manifest, (row_keys, blob) = _ann_file.read(path)
        _check_manifest(path, manifest, dimensions, space_id, options)
        keys = np.frombuffer(row_keys, dtype="<i8").astype(np.int64)
        try:
            graph = HnswGraph.deserialize(blob, options.precision)
        except RuntimeError as exc:
            raise IndexCorruptError(f"The vector index {path} cannot be read by faiss ({exc}); "
                                    f"{_ann_file.REBUILD_HINT}.") from exc
        if graph.rows != len(keys) or graph.dimensions != dimensions:
            raise IndexCorruptError(f"The vector index {path} is inconsistent ({graph.rows} "
                                    f"graph rows, {len(keys)} keys); {_ann_file.REBUILD_HINT}.")
        return cls(path, dimensions, options, space_id or manifest.get("space_id", ""),
                   graph, KeyMap(keys))

    @property
    def dimensions(self) -> int:
        """Vector length."""
        return self._dimensions

    @property
    def tombstones(self) -> int:
        """Removed (or replaced) vectors still in the graph until the next compaction."""
        return self._keys.dead

    @property
    def needs_rebuild(self) -> bool:
        """Whether ``rebuild`` from the catalog would make this index better.

        True for an int8 index whose quantiser was fitted while it held too few
        vectors (it then spans all of [-1, 1], coarser than ranges fitted to
        the data) and that has since grown enough to fit real ones.
        """
        return self._graph.coarse_ranges and len(self) >= MIN_TRAINING_VECTORS

    def __len__(self) -> int:
        return self._keys.live

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, (int, np.integer)) or key < 0:
            return False
        return bool(self.present(np.array([key], dtype=np.int64))[0])

    def present(self, keys: Keys) -> npt.NDArray[np.bool_]:
        """Which of ``keys`` the index holds, as a boolean mask (negative keys never)."""
        keys = np.asarray(keys, dtype=np.int64)
        found = np.zeros(len(keys), dtype=bool)
        valid = keys >= 0
        if valid.any():
            found[valid] = self._keys.lookup(keys[valid])[1]
        return found

    def keys(self) -> Keys:
        """Every key in the index, ascending."""
        return self._keys.keys()

    def add(self, keys: Keys, vectors: Floats) -> None:
        """Insert or replace vectors (upsert: an existing key's old vector is tombstoned).

        Args:
            keys: distinct non-negative chunk ids, shape (n,).
            vectors: float32 (n, dimensions); normalised here to unit length.
        """
        keys = as_keys(keys)
        vectors = self._as_vectors(vectors, len(keys))
        if len(sorted_unique(keys)) != len(keys):
            raise ValueError("add() got the same key twice in one call; pass each key once")
        if len(keys) == 0:
            return
        self._graph.add(vectors)
        self._keys.remove(keys)
        self._keys.append(keys)

    def remove(self, keys: Keys) -> int:
        """Remove ``keys`` (absent ones are ignored) and return how many were removed."""
        return self._keys.remove(as_keys(keys))

    def get(self, keys: Keys) -> Floats:
        """The stored vectors of ``keys``, in order (int8 indexes return decoded vectors).

        Raises:
            KeyError: some keys are not in the index.
        """
        keys = as_keys(keys)
        rows, present = self._keys.lookup(keys)
        if not present.all():
            missing = keys[~present][:5].tolist()
            raise KeyError(f"keys {missing} are not in the vector index")
        return self._graph.vectors(rows)

    def search(self, query: Floats, k: int, allowed: Keys | None = None) -> Hits:
        """The ``k`` nearest keys by cosine similarity, best first.

        Args:
            query: one unit vector, shape (dimensions,).
            k: how many hits to return.
            allowed: restrict the search to these keys (unknown keys are
                ignored); the result then has exactly ``min(k, |allowed ∩ index|)`` hits.

        Returns:
            ``(keys, scores)``: int64 keys and float32 cosine similarities.
        """
        q = self._as_vectors(np.asarray(query, dtype=np.float32).reshape(1, -1), 1)[0]
        rows = None if allowed is None else self._keys.lookup(sorted_unique(as_keys(allowed)))[0]
        candidates = len(self) if rows is None else len(rows)
        want = min(k, candidates)
        if want <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        ef = self._initial_ef(k, candidates)
        if candidates <= max(self.options.exact_below, self.options.ann_cost * ef):
            return self._exact(q, want, rows)
        bitmap = None if rows is None and self.tombstones == 0 else self._keys.bitmap(rows)
        # A list longer than the index explores nothing more: cap the retry there.
        for attempt_ef in sorted({min(ef, len(self)), min(4 * ef, len(self))}):
            found, scores = self._graph.search(q, want, attempt_ef, bitmap)
            if len(found) == want:
                return self._keys.keys_of(found), scores
        log.debug("ANN returned %d of %d hits at ef=%d; scoring %d candidates exactly",
                  len(found), want, attempt_ef, candidates)
        return self._exact(q, want, rows)

    def _initial_ef(self, k: int, candidates: int) -> int:
        """The HNSW candidate list for ``k`` hits among ``candidates`` of the live rows.

        Only a ``selectivity`` share of the list passes the filter, so the list
        grows by 1/selectivity: it then holds about as many allowed rows as an
        unfiltered search's (at least ``expansion_search``, and ``candidate_factor * k``
        for large k). Measured at 1M and 10 %: ``2k/s`` gave recall@10 0.94.
        """
        selectivity = candidates / max(len(self), 1)
        allowed_in_list = max(self.options.expansion_search, self.options.candidate_factor * k)
        return math.ceil(allowed_in_list / selectivity)

    def _exact(self, query: Floats, want: int, rows: Keys | None) -> Hits:
        rows = self._keys.live_rows() if rows is None else rows
        scores = self._graph.scores(rows, query)
        top = np.argpartition(-scores, want - 1)[:want] if want < len(scores) else \
            np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return self._keys.keys_of(rows[top]), scores[top].astype(np.float32)

    def compact(self) -> None:
        """Rebuild the graph from the live vectors, dropping every tombstone."""
        started, dead = time.perf_counter(), self.tombstones
        rows = self._keys.live_rows()
        keys, vectors = self._keys.keys_of(rows), self._graph.vectors(rows)
        self._graph, self._keys = self._new_graph(like=self._graph), KeyMap()
        if len(keys):
            self._graph.add(vectors)
            self._keys.append(keys)
        log.info("compacted vector index %s: dropped %d tombstones, %d vectors, %.1fs",
                 self.path, dead, len(keys), time.perf_counter() - started)

    def save(self) -> None:
        """Write the index to ``path`` atomically, compacting first if tombstones pile up."""
        if self.tombstones > self.options.compact_fraction * self._keys.rows:
            self.compact()
        manifest = {
            "dimensions": self.dimensions, "metric": "cosine", "library": "faiss",
            "library_version": _faiss_version(), "precision": self.options.precision,
            "count": len(self), "rows": self._keys.rows, "space_id": self.space_id,
            "connectivity": self.options.connectivity,
            "expansion_add": self.options.expansion_add,
        }
        row_keys = self._keys.row_keys.astype("<i8", copy=False)
        _ann_file.write_atomic(self.path, manifest, [row_keys.data, self._graph.serialize().data])

    def _new_graph(self, like: HnswGraph | None = None) -> HnswGraph:
        o = self.options
        return HnswGraph.create(self._dimensions, o.precision, o.connectivity, o.expansion_add,
                                like=like)

    def _as_vectors(self, vectors: Floats, n: int) -> Floats:
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] != n:
            raise ValueError(f"expected {n} vectors of shape (n, {self.dimensions}), "
                             f"got {arr.shape}")
        if arr.shape[1] != self.dimensions:
            raise EmbedderMismatchError(
                f"Vectors have {arr.shape[1]} dimensions but this index holds "
                f"{self.dimensions}: they come from another embedding space. Use the "
                "index's embedder, or rebuild with `lore index --rebuild-vectors`.")
        if not np.isfinite(arr).all():
            raise ValueError("vectors contain NaN or infinity; check the embedder output")
        norms = np.linalg.norm(arr, axis=1, keepdims=True)
        return np.ascontiguousarray(arr / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def rebuild(path: Path, dimensions: int, batches: Iterable[tuple[Keys, Floats]], *,
            options: VectorIndexOptions | None = None, space_id: str = "") -> LocalVectorIndex:
    """Build a fresh sidecar at ``path`` from ``(keys, vectors)`` batches and save it.

    The old file stays in place, and searchable by anyone who has it open,
    until the new one atomically replaces it.

    Args:
        path: the sidecar file to (re)write.
        dimensions: vector length.
        batches: every chunk vector, e.g. streamed from the catalog's ``chunk_vectors``.
        options: build options (precision, graph parameters).
        space_id: the embedding space id to store.
    """
    key_parts, vector_parts = [], []
    for keys, vectors in batches:
        if len(keys):
            key_parts.append(as_keys(keys))
            vector_parts.append(np.asarray(vectors, dtype=np.float32))
    index = LocalVectorIndex(Path(path), dimensions, options or VectorIndexOptions(), space_id)
    if key_parts:
        # One add: faiss inserts a large batch in parallel, and int8 ranges are
        # fitted on the whole set rather than on the first batch.
        index.add(np.concatenate(key_parts), np.concatenate(vector_parts))
    index.save()
    return index


def _check_manifest(path: Path, manifest: dict[str, object], dimensions: int, space_id: str,
                    options: VectorIndexOptions) -> None:
    stored_space = manifest.get("space_id") or ""
    if manifest.get("dimensions") != dimensions or (space_id and stored_space
                                                    and stored_space != space_id):
        raise EmbedderMismatchError(
            f"The vector index {path} holds {manifest.get('dimensions')}-d vectors of space "
            f"{stored_space or '?'}, not {dimensions}-d vectors of space {space_id or '?'}; "
            "rebuild it with `lore index --rebuild-vectors`.")
    if manifest.get("precision") != options.precision:
        raise ConfigError(
            f"The vector index {path} stores {manifest.get('precision')} vectors but "
            f"{options.precision} is configured; rebuild it with "
            "`lore index --rebuild-vectors` to switch.")


def _faiss_version() -> str:
    try:
        return version("faiss-cpu")
    except PackageNotFoundError:
        return "unknown"
