"""The SQLite backend's vector index: a local ANN sidecar kept in step with the catalog.

The catalog's ``chunk_vectors`` table is the durable copy of every vector;
the sidecar (``lore.store.vectors``, one file per space) is an accelerator
derived from it. It is reconciled against the catalog after every embedding
pass (keys added, keys removed), which also repairs a sidecar that a crash
left behind, and it is rebuilt from the catalog when missing or unreadable.

**Document vectors.** Besides chunk vectors the sidecar holds, for every
document with more than one embedded chunk, a *document vector* under its
document key (``lore.store.keys``): the L2-normalised mean of the document's
chunk vectors. Pooled, so it costs no embedding call and lives in the same
space, and derived, so it is never stored in the catalog but recomputed from
``chunk_vectors`` on a rebuild and, incrementally, for the documents that
gained chunk vectors since the sidecar was saved. That is enough to stay
exact because a document's chunks only change all at once
(``Catalog.replace_document`` gives every new chunk a fresh id) or go with
the document; a document that no longer has two chunk vectors loses its key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import chain
from pathlib import Path

import numpy as np

from lore.embed.base import EmbeddingSpace
from lore.errors import ConfigError, EmbedderMismatchError, IndexCorruptError
from lore.store.base import SPACE_META, VectorIndexReport
from lore.store.keys import document_ids, document_keys, is_document_key
from lore.store.pooling import pool
from lore.store.vector_rows import VectorRowsMixin
from lore.store.vectors import LocalVectorIndex, VectorIndex, VectorIndexOptions, rebuild
from lore.types import Floats, Keys

log = logging.getLogger(__name__)

POOL_BATCH = 1024             # documents pooled per catalog query


def sidecar_path(index_dir: Path, space_id: str) -> Path:
    """Where the ANN sidecar of one space lives."""
    return index_dir / f"vectors-{space_id}.idx"


class SidecarMixin(VectorRowsMixin):
    """``vector_index``, ``refresh_vector_index`` and ``activate_space`` for a file catalog."""

    _index_dir: Path | None
    _vector_options: VectorIndexOptions

    def _sidecar_dir(self) -> Path:
        if self._index_dir is None:
            raise IndexCorruptError("An in-memory catalog has no vector sidecar; open the "
                                    "index from a folder (`lore index ROOT`).")
        return self._index_dir

    def vector_index(self, space: EmbeddingSpace) -> VectorIndex:
        """The space's sidecar for searching, rebuilt from the catalog if needed."""
        sidecar, _ = self._open_or_rebuild(space)
        if len(sidecar) != self.vector_count(space.id) + len(self.pooled_documents(space.id)):
            self._reconcile(sidecar, space.id)
        return sidecar

    def refresh_vector_index(self, space: EmbeddingSpace) -> VectorIndexReport:
        """Make the sidecar hold exactly the catalog's vectors of the space."""
        sidecar, rebuilt = self._open_or_rebuild(space)
        removed, pooled = self._reconcile(sidecar, space.id)
        if isinstance(sidecar, LocalVectorIndex) and sidecar.needs_rebuild:
            # An int8 sidecar begun on a handful of vectors quantises with [-1, 1] ranges;
            # now that there are enough to fit real ones, build it again from the catalog.
            log.info("rebuilding the int8 vector sidecar with ranges fitted to %d vectors",
                     len(sidecar))
            sidecar, rebuilt = self._rebuild(space), True
        if rebuilt:   # the rebuild pooled every document vector itself
            pooled = int(is_document_key(sidecar.keys()).sum())
        return VectorIndexReport(removed, pooled, len(sidecar), rebuilt)

    def activate_space(self, space_id: str) -> None:
        """Make ``space_id`` active; drop the other spaces' vectors and sidecar files."""
        previous = self.get_meta(SPACE_META)
        self.drop_other_spaces(space_id)
        if previous is not None and previous != space_id and self._index_dir is not None:
            sidecar_path(self._index_dir, previous).unlink(missing_ok=True)

    def pooled_vectors(self, space_id: str, documents: Keys) -> Iterator[tuple[Keys, Floats]]:
        """Document keys and vectors (normalised means of their chunk vectors), in batches.

        Args:
            space_id: the embedding space.
            documents: document row ids; those with fewer than two chunk vectors
                are skipped (their one vector already is the document's).
        """
        for start in range(0, len(documents), POOL_BATCH):
            part = [int(d) for d in documents[start:start + POOL_BATCH]]
            owners, matrix = self.document_chunk_vectors(space_id, part)
            if len(owners):   # rows come sorted by document, as ``pool`` needs
                yield pool(owners, matrix)

    def _open_or_rebuild(self, space: EmbeddingSpace) -> tuple[VectorIndex, bool]:
        """Open the sidecar; rebuild it from the catalog when absent, unreadable or stored at
        another precision than the catalog's options ask for (the catalog keeps fp32)."""
        path = sidecar_path(self._sidecar_dir(), space.id)
        if path.exists():
            try:
                return LocalVectorIndex.open(path, space.dimensions, options=self._vector_options,
                                             space_id=space.id), False
            except (IndexCorruptError, EmbedderMismatchError, ConfigError) as exc:
                log.warning("rebuilding the vector sidecar from the catalog: %s", exc)
        return self._rebuild(space), True

    def _rebuild(self, space: EmbeddingSpace) -> LocalVectorIndex:
        """A new sidecar holding the catalog's chunk vectors and pooled document vectors."""
        batches = chain(self.iter_vectors(space.id),
                        self.pooled_vectors(space.id, self.pooled_documents(space.id)))
        return rebuild(sidecar_path(self._sidecar_dir(), space.id), space.dimensions, batches,
                       options=self._vector_options, space_id=space.id)

    def _reconcile(self, sidecar: VectorIndex, space_id: str) -> tuple[int, int]:
        """Make the sidecar hold exactly the catalog's vectors of the space; save if changed.

        Chunk keys are added and removed to match ``chunk_vectors``; document keys
        to match the documents with two or more chunk vectors. A document vector is
        (re)pooled when its key is new or its document owns a chunk vector the
        sidecar lacked, which covers edits because an edit replaces all of a
        document's chunks with fresh ids.

        Returns:
            (chunk keys removed, document vectors pooled).
        """
        stored = self.vector_chunk_ids(space_id)
        present = sidecar.keys()
        on_documents = is_document_key(present)
        present_chunks, present_documents = present[~on_documents], present[on_documents]
        stale = np.setdiff1d(present_chunks, stored, assume_unique=True)
        missing = np.setdiff1d(stored, present_chunks, assume_unique=True)
        pooled = document_keys(self.pooled_documents(space_id))
        touched = document_keys(self.owners_of(missing)) if len(missing) else pooled[:0]
        renew = np.union1d(np.intersect1d(touched, pooled, assume_unique=True),
                           np.setdiff1d(pooled, present_documents, assume_unique=True))
        gone = np.concatenate([stale, np.setdiff1d(present_documents, pooled,
                                                   assume_unique=True)])
        if len(gone):
            sidecar.remove(gone)
        if len(missing):
            keys, vectors = self.vectors_for(space_id, missing)
            sidecar.add(keys, vectors)
        for keys, vectors in self.pooled_vectors(space_id, document_ids(renew)):
            sidecar.add(keys, vectors)
        if len(gone) or len(missing) or len(renew):
            sidecar.save()
        return len(stale), len(renew)
