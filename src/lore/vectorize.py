"""After a sync: embed the chunks that have no vector yet, and keep the ANN sidecar in step.

The catalog's ``chunk_vectors`` table is the durable copy of every vector;
the sidecar is an accelerator derived from it. Each batch of new vectors
commits on its own, so a killed run keeps what it embedded and the next run
embeds only the rest. The sidecar is reconciled against the catalog on every
run (keys added, keys removed), which also repairs a sidecar that a crash left
behind, and it is rebuilt from the catalog when missing or unreadable.

An index has one *active* embedding space (``meta.space_id``). A different
configured space is refused unless the caller asks to rebuild: then the new
space is filled beside the old one and swapped in only once complete, so a
search never sees a half-built space.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lore.embed.base import EmbeddingSpace
from lore.embed.runner import EmbeddingRunner
from lore.embed.spaces import ensure_same_space
from lore.errors import EmbedderMismatchError, IndexCorruptError
from lore.store.catalog import Catalog
from lore.store.vectors import LocalVectorIndex, VectorIndex, rebuild

log = logging.getLogger(__name__)

SPACE_META = "space_id"
EMBED_BATCH = 256

ProgressCallback = Callable[[int, int], None]


@dataclass
class VectorReport:
    """What an embedding pass did.

    Attributes:
        space: the active space, described.
        embedded: chunks embedded in this run (cache hits included).
        cache_hits: how many of those came from the embedding cache.
        removed: sidecar entries dropped because their chunk is gone.
        total: vectors the active space now holds.
        rebuilt: whether the sidecar was rebuilt from the catalog.
        swapped_from: the previous space id when this run replaced it.
        duration: seconds.
    """

    space: str
    embedded: int = 0
    cache_hits: int = 0
    removed: int = 0
    total: int = 0
    rebuilt: bool = False
    swapped_from: str | None = None
    duration: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used by ``lore index --json``."""
        return asdict(self)


def sidecar_path(index_dir: Path, space_id: str) -> Path:
    """Where the ANN sidecar of one space lives."""
    return index_dir / f"vectors-{space_id}.idx"


def active_space_id(catalog: Catalog) -> str | None:
    """The space whose vectors searches use, or None before the first embedding pass."""
    return catalog.get_meta(SPACE_META)


def active_space(catalog: Catalog) -> EmbeddingSpace | None:
    """The active space with its full descriptor (for messages and checks)."""
    space_id = active_space_id(catalog)
    if space_id is None:
        return None
    descriptor = catalog.spaces().get(space_id)
    if descriptor is None:
        raise IndexCorruptError(f"The index's active space {space_id} is not registered; "
                                "rebuild the vectors with `lore index --rebuild-vectors`.")
    return EmbeddingSpace(**json.loads(descriptor))


def update_vectors(catalog: Catalog, runner: EmbeddingRunner, *, rebuild: bool = False,
                   progress: ProgressCallback | None = None) -> VectorReport:
    """Embed every chunk without a vector in the runner's space; reconcile the sidecar.

    Args:
        catalog: the synced catalog (must live in a directory).
        runner: embeds documents in the configured space.
        rebuild: the configured space may replace a different active one.
        progress: called as ``progress(done, total)`` in chunks.

    Raises:
        EmbedderMismatchError: the index holds another space and ``rebuild`` is false.
        ProviderError: the embedder failed (vectors embedded so far are kept).
    """
    started = time.perf_counter()
    space = runner.space
    previous = active_space(catalog)
    if previous is not None and not rebuild:
        ensure_same_space(previous, space)
    catalog.register_space(space.id, json.dumps(asdict(space), sort_keys=True))
    report = VectorReport(space=space.describe())
    hits_before = runner.stats.cache_hits
    pending = catalog.pending_chunks(space.id)
    for start in range(0, len(pending), EMBED_BATCH):
        part = pending[start:start + EMBED_BATCH]
        vectors = runner.embed([text for _, text in part], "document")
        catalog.store_vectors(space.id, [cid for cid, _ in part], vectors)
        report.embedded += len(part)
        if progress is not None:
            progress(report.embedded, len(pending))
    report.cache_hits = runner.stats.cache_hits - hits_before
    if previous is None or previous.id != space.id:
        report.swapped_from = _swap_in(catalog, space.id, previous)
    index_dir = catalog.index_dir
    assert index_dir is not None, "vectors need an on-disk catalog"
    sidecar, report.rebuilt = _open_or_rebuild(catalog, index_dir, space)
    report.removed = _reconcile(catalog, sidecar, space.id)
    report.total = len(sidecar)
    report.duration = time.perf_counter() - started
    log.info("vectors: %d embedded (%d cached), %d removed, %d total in %s",
             report.embedded, report.cache_hits, report.removed, report.total, space.describe())
    return report


def load_sidecar(catalog: Catalog, space: EmbeddingSpace) -> VectorIndex:
    """The active space's sidecar for searching, rebuilt from the catalog if needed."""
    index_dir = catalog.index_dir
    assert index_dir is not None, "vectors need an on-disk catalog"
    sidecar, _ = _open_or_rebuild(catalog, index_dir, space)
    if len(sidecar) != catalog.vector_count(space.id):
        _reconcile(catalog, sidecar, space.id)
    return sidecar


def _swap_in(catalog: Catalog, space_id: str, previous: EmbeddingSpace | None) -> str | None:
    """Make ``space_id`` active and drop the previous space's vectors, in one commit."""
    with catalog.transaction() as conn:
        catalog.set_meta(SPACE_META, space_id)
        conn.execute("DELETE FROM chunk_vectors WHERE space_id != ?", (space_id,))
        conn.execute("DELETE FROM spaces WHERE space_id != ?", (space_id,))
    if previous is None:
        return None
    index_dir = catalog.index_dir
    if index_dir is not None:
        sidecar_path(index_dir, previous.id).unlink(missing_ok=True)
    log.info("embedding space %s replaced %s", space_id, previous.id)
    return previous.id


def _open_or_rebuild(catalog: Catalog, index_dir: Path,
                     space: EmbeddingSpace) -> tuple[VectorIndex, bool]:
    """Open the sidecar; rebuild it from the catalog when absent or unreadable."""
    path = sidecar_path(index_dir, space.id)
    if path.exists():
        try:
            return LocalVectorIndex.open(path, space.dimensions, space_id=space.id), False
        except (IndexCorruptError, EmbedderMismatchError) as exc:
            log.warning("rebuilding the vector sidecar from the catalog: %s", exc)
    index = rebuild(path, space.dimensions, catalog.iter_vectors(space.id), space_id=space.id)
    return index, True


def _reconcile(catalog: Catalog, sidecar: VectorIndex, space_id: str) -> int:
    """Make the sidecar hold exactly the catalog's vectors of the space; save if changed."""
    stored = np.fromiter((cid for (cid,) in catalog.conn.execute(
        "SELECT chunk_id FROM chunk_vectors WHERE space_id = ?", (space_id,))), dtype=np.int64)
    present = sidecar.keys()
    stale = np.setdiff1d(present, stored, assume_unique=True)
    missing = np.setdiff1d(stored, present, assume_unique=True)
    if len(stale):
        sidecar.remove(stale)
    if len(missing):
        keys, vectors = catalog.vectors_for(space_id, missing)
        sidecar.add(keys, vectors)
    if len(stale) or len(missing):
        sidecar.save()
    return int(len(stale))
