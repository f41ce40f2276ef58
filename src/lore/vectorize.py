"""After a sync: embed the chunks that have no vector yet, and keep the ANN sidecar in step.

The catalog's ``chunk_vectors`` table is the durable copy of every vector;
the sidecar is an accelerator derived from it. Each batch of new vectors
commits on its own, so a killed run keeps what it embedded and the next run
embeds only the rest. The sidecar is reconciled against the catalog on every
run (keys added, keys removed), which also repairs a sidecar that a crash left
behind, and it is rebuilt from the catalog when missing or unreadable.

**Granularity.** The sidecar holds two kinds of keys in one graph: chunk
vectors under their chunk id, and a *document vector* for every document with
more than one embedded chunk under ``document_key(documents.id)`` (the row id
with bit 62 set; chunk ids never get near it, and the sidecar refuses negative
keys because ``-1`` marks its dead rows). A document vector is the
L2-normalised mean of the document's chunk vectors: pooled, so it costs no
embedding call and lives in the same space, and derived, so it is never
stored in the catalog but recomputed from ``chunk_vectors`` on a rebuild and,
incrementally, for the documents that gained chunk vectors since the sidecar
was saved. That is enough to stay exact because a document's chunks only
change all at once (``Catalog.replace_document`` gives every new chunk a fresh
id) or go with the document; a document that no longer has two chunk vectors
loses its key. ``lore.search.vector`` maps document keys back to chunks.

An index has one *active* embedding space (``meta.space_id``). A different
configured space is refused unless the caller asks to rebuild: then the new
space is filled beside the old one and swapped in only once complete, so a
search never sees a half-built space.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lore.embed.base import EmbeddingSpace
from lore.embed.runner import EmbeddingRunner
from lore.embed.spaces import ensure_same_space
from lore.errors import ConfigError, EmbedderMismatchError, IndexCorruptError
from lore.store.catalog import Catalog
from lore.store.vectors import LocalVectorIndex, VectorIndex, VectorIndexOptions, rebuild

log = logging.getLogger(__name__)

SPACE_META = "space_id"
EMBED_BATCH = 64              # chunks per commit: progress every few seconds on a CPU
DOCUMENT_KEY_FLAG = 1 << 62   # set in the key of a document vector, never in a chunk id
POOL_BATCH = 1024             # documents pooled per catalog query

Keys = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float32]

ProgressCallback = Callable[[int, int], None]


@dataclass
class VectorReport:
    """What an embedding pass did.

    Attributes:
        space: the active space, described.
        embedded: chunks embedded in this run (cache hits included).
        cache_hits: how many of those came from the embedding cache.
        removed: sidecar entries dropped because their chunk is gone.
        pooled: document vectors (re)computed from their chunks in this run.
        truncated: chunks longer than the model's window, cut by the embedder
            (0 when chunks were cut with the model's own tokenizer).
        total: vectors the active space now holds (chunk and document vectors).
        rebuilt: whether the sidecar was rebuilt from the catalog.
        swapped_from: the previous space id when this run replaced it.
        duration: seconds.
    """

    space: str
    embedded: int = 0
    cache_hits: int = 0
    removed: int = 0
    pooled: int = 0
    truncated: int = 0
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
                   progress: ProgressCallback | None = None,
                   options: VectorIndexOptions | None = None) -> VectorReport:
    """Embed every chunk without a vector in the runner's space; reconcile the sidecar.

    Args:
        catalog: the synced catalog (must live in a directory).
        runner: embeds documents in the configured space.
        rebuild: the configured space may replace a different active one.
        progress: called as ``progress(done, total)`` in chunks: once with 0
            before the first batch (when there is anything to embed), then per batch.
        options: how the sidecar is stored (``[index] vector_precision``); a
            sidecar stored otherwise is rebuilt from the catalog.

    Raises:
        EmbedderMismatchError: the index holds another space and ``rebuild`` is false.
        ProviderError: the embedder failed (vectors embedded so far are kept).
    """
    started = time.perf_counter()
    options = options or VectorIndexOptions()
    space = runner.space
    previous = active_space(catalog)
    if previous is not None and not rebuild:
        ensure_same_space(previous, space)
    catalog.register_space(space.id, json.dumps(asdict(space), sort_keys=True))
    report = VectorReport(space=space.describe())
    hits_before, truncated_before = runner.stats.cache_hits, runner.stats.truncated
    pending = catalog.pending_chunks(space.id)
    if progress is not None and pending:
        progress(0, len(pending))   # the plan: how much there is to embed
    for part, vectors in _embedded_ahead(runner, pending):
        catalog.store_vectors(space.id, [cid for cid, _ in part], vectors)
        report.embedded += len(part)
        if progress is not None:
            progress(report.embedded, len(pending))
    report.cache_hits = runner.stats.cache_hits - hits_before
    report.truncated = runner.stats.truncated - truncated_before
    if previous is None or previous.id != space.id:
        report.swapped_from = _swap_in(catalog, space.id, previous)
    index_dir = catalog.index_dir
    assert index_dir is not None, "vectors need an on-disk catalog"
    sidecar, report.rebuilt = _open_or_rebuild(catalog, index_dir, space, options)
    report.removed, report.pooled = _reconcile(catalog, sidecar, space.id)
    if isinstance(sidecar, LocalVectorIndex) and sidecar.needs_rebuild:
        # An int8 sidecar begun on a handful of vectors quantises with [-1, 1] ranges;
        # now that there are enough to fit real ones, build it again from the catalog.
        log.info("rebuilding the int8 vector sidecar with ranges fitted to %d vectors",
                 len(sidecar))
        sidecar, report.rebuilt = _rebuild(catalog, index_dir, space, options), True
    if report.rebuilt:   # the rebuild pooled every document vector itself
        report.pooled = int(is_document_key(sidecar.keys()).sum())
    report.total = len(sidecar)
    report.duration = time.perf_counter() - started
    log.info("vectors: %d embedded (%d cached), %d removed, %d documents pooled, %d total in %s",
             report.embedded, report.cache_hits, report.removed, report.pooled, report.total,
             space.describe())
    return report


def _embedded_ahead(runner: EmbeddingRunner, pending: list[tuple[int, str]]
                    ) -> Iterator[tuple[list[tuple[int, str]], Floats]]:
    """``(part, vectors)`` per ``EMBED_BATCH`` chunks, the next part embedding meanwhile.

    While the caller commits one part to SQLite, a worker thread already embeds
    the next, so the writes overlap inference instead of stalling it.
    """
    parts = [pending[i:i + EMBED_BATCH] for i in range(0, len(pending), EMBED_BATCH)]
    if not parts:
        return
    with ThreadPoolExecutor(1, thread_name_prefix="lore-embed-ahead") as ahead:
        future = ahead.submit(runner.embed, [text for _, text in parts[0]], "document")
        for n, part in enumerate(parts):
            vectors = future.result()
            if n + 1 < len(parts):
                future = ahead.submit(runner.embed, [text for _, text in parts[n + 1]],
                                      "document")
            yield part, vectors


def load_sidecar(catalog: Catalog, space: EmbeddingSpace,
                 options: VectorIndexOptions | None = None) -> VectorIndex:
    """The active space's sidecar for searching, rebuilt from the catalog if needed."""
    index_dir = catalog.index_dir
    assert index_dir is not None, "vectors need an on-disk catalog"
    sidecar, _ = _open_or_rebuild(catalog, index_dir, space, options or VectorIndexOptions())
    if len(sidecar) != catalog.vector_count(space.id) + len(pooled_documents(catalog, space.id)):
        _reconcile(catalog, sidecar, space.id)
    return sidecar


def document_keys(document_ids: Keys) -> Keys:
    """The sidecar keys of the given documents' pooled vectors (``documents.id`` rows)."""
    return np.asarray(document_ids, dtype=np.int64) | DOCUMENT_KEY_FLAG


def is_document_key(keys: Keys) -> npt.NDArray[np.bool_]:
    """Which sidecar keys name a document vector rather than a chunk."""
    return np.asarray(keys, dtype=np.int64) >= DOCUMENT_KEY_FLAG


def document_ids(keys: Keys) -> Keys:
    """The ``documents.id`` rows named by document keys."""
    return np.asarray(keys, dtype=np.int64) & ~DOCUMENT_KEY_FLAG


def pooled_documents_sql() -> str:
    """Documents with more than one vector in the space given as the parameter."""
    return ("SELECT c.document_id FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id "
            "WHERE v.space_id = ? GROUP BY c.document_id HAVING count(*) > 1 "
            "ORDER BY c.document_id")


def document_vectors_sql() -> str:
    """(document id, chunk vector) of a space (1st parameter) for a JSON list of documents."""
    return ("SELECT c.document_id, v.vector FROM chunk_vectors v "
            "JOIN chunks c ON c.id = v.chunk_id WHERE v.space_id = ?1 AND c.document_id IN "
            "(SELECT value FROM json_each(?2)) ORDER BY c.document_id, c.id")


def pooled_documents(catalog: Catalog, space_id: str) -> Keys:
    """The documents that get a document vector: those with two or more chunk vectors."""
    rows = catalog.conn.execute(pooled_documents_sql(), (space_id,))
    return np.fromiter((doc for (doc,) in rows), dtype=np.int64)


def pooled_vectors(catalog: Catalog, space_id: str,
                   documents: Keys) -> Iterator[tuple[Keys, Floats]]:
    """Document keys and vectors (normalised means of their chunk vectors), in batches.

    Args:
        catalog: the catalog holding the chunk vectors.
        space_id: the embedding space.
        documents: ``documents.id`` rows; those with fewer than two chunk vectors
            are skipped (their one vector already is the document's).
    """
    for start in range(0, len(documents), POOL_BATCH):
        part = [int(d) for d in documents[start:start + POOL_BATCH]]
        rows = catalog.conn.execute(document_vectors_sql(),
                                    (space_id, json.dumps(part))).fetchall()
        if not rows:
            continue
        owners = np.fromiter((doc for doc, _ in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(blob for _, blob in rows),
                               dtype=np.float32).reshape(len(rows), -1)
        docs, starts, counts = np.unique(owners, return_index=True, return_counts=True)
        # Rows come sorted by document, so each document is one run starting at ``starts``.
        sums = np.add.reduceat(_unit(matrix), starts, axis=0)
        keep = counts > 1
        yield document_keys(docs[keep]), _unit(sums[keep])


def _unit(matrix: Floats) -> Floats:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _owners(catalog: Catalog, chunk_ids: Keys) -> Keys:
    """The documents owning ``chunk_ids`` (chunks deleted since are skipped)."""
    rows = catalog.conn.execute(
        "SELECT DISTINCT document_id FROM chunks WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps([int(c) for c in chunk_ids]),))
    return np.fromiter((doc for (doc,) in rows), dtype=np.int64)


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


def _open_or_rebuild(catalog: Catalog, index_dir: Path, space: EmbeddingSpace,
                     options: VectorIndexOptions) -> tuple[VectorIndex, bool]:
    """Open the sidecar; rebuild it from the catalog when absent, unreadable or stored at
    another precision than ``options`` asks for (the catalog keeps every vector in fp32)."""
    path = sidecar_path(index_dir, space.id)
    if path.exists():
        try:
            return LocalVectorIndex.open(path, space.dimensions, options=options,
                                         space_id=space.id), False
        except (IndexCorruptError, EmbedderMismatchError, ConfigError) as exc:
            log.warning("rebuilding the vector sidecar from the catalog: %s", exc)
    return _rebuild(catalog, index_dir, space, options), True


def _rebuild(catalog: Catalog, index_dir: Path, space: EmbeddingSpace,
             options: VectorIndexOptions) -> LocalVectorIndex:
    """A new sidecar holding the catalog's chunk vectors and pooled document vectors."""
    batches = chain(catalog.iter_vectors(space.id),
                    pooled_vectors(catalog, space.id, pooled_documents(catalog, space.id)))
    return rebuild(sidecar_path(index_dir, space.id), space.dimensions, batches,
                   options=options, space_id=space.id)


def _reconcile(catalog: Catalog, sidecar: VectorIndex, space_id: str) -> tuple[int, int]:
    """Make the sidecar hold exactly the catalog's vectors of the space; save if changed.

    Chunk keys are added and removed to match ``chunk_vectors``; document keys
    to match the documents with two or more chunk vectors. A document vector is
    (re)pooled when its key is new or its document owns a chunk vector the
    sidecar lacked, which covers edits because an edit replaces all of a
    document's chunks with fresh ids.

    Returns:
        (chunk keys removed, document vectors pooled).
    """
    stored = np.fromiter((cid for (cid,) in catalog.conn.execute(
        "SELECT chunk_id FROM chunk_vectors WHERE space_id = ?", (space_id,))), dtype=np.int64)
    present = sidecar.keys()
    on_documents = is_document_key(present)
    present_chunks, present_documents = present[~on_documents], present[on_documents]
    stale = np.setdiff1d(present_chunks, stored, assume_unique=True)
    missing = np.setdiff1d(stored, present_chunks, assume_unique=True)
    pooled = document_keys(pooled_documents(catalog, space_id))
    touched = document_keys(_owners(catalog, missing)) if len(missing) else pooled[:0]
    renew = np.union1d(np.intersect1d(touched, pooled, assume_unique=True),
                       np.setdiff1d(pooled, present_documents, assume_unique=True))
    gone = np.concatenate([stale, np.setdiff1d(present_documents, pooled, assume_unique=True)])
    if len(gone):
        sidecar.remove(gone)
    if len(missing):
        keys, vectors = catalog.vectors_for(space_id, missing)
        sidecar.add(keys, vectors)
    for keys, vectors in pooled_vectors(catalog, space_id, document_ids(renew)):
        sidecar.add(keys, vectors)
    if len(gone) or len(missing) or len(renew):
        sidecar.save()
    return len(stale), len(renew)
