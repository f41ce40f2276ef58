"""The catalog's vector tables: embedding spaces and the stored chunk vectors.

``chunk_vectors`` is the durable copy of every embedding (float32 bytes, keyed
by space and chunk id). The ANN sidecar is only an accelerator rebuilt from
here, so a crash while saving it never loses an embedding. These methods are
mixed into ``Catalog``; they live apart because they serve the embed and
vector rooms, not the sync.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence

import numpy as np

from lore.documents.model import Chunk
from lore.embed.base import EmbeddingSpace
from lore.errors import EmbedderMismatchError
from lore.store.base import SPACE_META, active_space_of
from lore.store.connection import atomic
from lore.types import Floats, Keys


def pending_chunks_sql() -> str:
    """Chunks with no vector in the space given as the first parameter, by id."""
    return ("SELECT c.id, d.title, c.ordinal, c.heading_path, c.text, c.kind, c.token_estimate "
            "FROM chunks c JOIN documents d ON d.id = c.document_id WHERE NOT EXISTS ("
            "SELECT 1 FROM chunk_vectors v WHERE v.space_id = ? AND v.chunk_id = c.id) "
            "ORDER BY c.id LIMIT ?")


def store_vector_sql() -> str:
    """Upsert one vector, silently skipping a chunk deleted since it was read.

    A sync may delete a chunk while an embedder works on it; the vector is then
    meaningless, and skipping it beats failing the whole batch on the key.
    """
    return ("INSERT OR REPLACE INTO chunk_vectors(space_id, chunk_id, vector) "
            "SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?2)")


def _unpack(rows: list[tuple[int, bytes]]) -> tuple[Keys, Floats]:
    keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    if not rows:
        return keys, np.zeros((0, 0), dtype=np.float32)
    flat = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
    return keys, flat.reshape(len(rows), -1)


class VectorRowsMixin:
    """Meta facts, spaces and vectors of a ``Catalog`` (which provides ``_conn``)."""

    _conn: sqlite3.Connection

    def register_space(self, space_id: str, descriptor: str) -> None:
        """Record an embedding space (idempotent); ``descriptor`` is free text or JSON."""
        self._conn.execute("INSERT OR IGNORE INTO spaces(space_id, descriptor, created_at) "
                           "VALUES (?, ?, ?)", (space_id, descriptor, time.time()))

    def spaces(self) -> dict[str, str]:
        """Registered space id -> descriptor, oldest first."""
        return dict(self._conn.execute(
            "SELECT space_id, descriptor FROM spaces ORDER BY created_at"))

    def pending_chunks(self, space_id: str, limit: int | None = None) -> list[tuple[int, str]]:
        """Chunks still to embed in ``space_id``: (chunk id, ``Chunk.context_text(title)``).

        Args:
            space_id: the embedding space whose vectors are missing.
            limit: at most this many (lowest ids first); None for all.
        """
        rows = self._conn.execute(pending_chunks_sql(), (space_id, -1 if limit is None else limit))
        return [(cid, Chunk(ordinal, tuple(json.loads(heads)), text, kind, tokens)
                 .context_text(title))
                for cid, title, ordinal, heads, text, kind, tokens in rows]

    def store_vectors(self, space_id: str, ids: Sequence[int] | Keys, vectors: Floats) -> int:
        """Store one vector per chunk id in a registered space; return how many were kept.

        Raises:
            EmbedderMismatchError: the space is not registered, or the vectors'
                dimensionality differs from the space's stored vectors.
        """
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(ids):
            raise ValueError(f"expected {len(ids)} vectors as a 2-D array, got shape "
                             f"{matrix.shape}")
        if self._conn.execute("SELECT 1 FROM spaces WHERE space_id = ?",
                              (space_id,)).fetchone() is None:
            raise EmbedderMismatchError(f"The embedding space {space_id} is not registered "
                                        "in this index; register_space() it first.")
        row = self._conn.execute("SELECT length(vector) FROM chunk_vectors WHERE space_id = ? "
                                 "LIMIT 1", (space_id,)).fetchone()
        if row is not None and row[0] != matrix.shape[1] * 4:
            raise EmbedderMismatchError(
                f"Space {space_id} holds {row[0] // 4}-dimensional vectors, not "
                f"{matrix.shape[1]}: the embedder changed. Use a new space for the new model.")
        with atomic(self._conn) as conn:
            before = conn.total_changes
            conn.executemany(store_vector_sql(), ((space_id, int(i), matrix[n].tobytes())
                                                  for n, i in enumerate(ids)))
            return conn.total_changes - before

    def iter_vectors(self, space_id: str,
                     batch_size: int = 4096) -> Iterator[tuple[Keys, Floats]]:
        """Every stored vector of a space in batches of (chunk ids, float32 matrix)."""
        last = -1
        while True:
            rows = self._conn.execute(
                "SELECT chunk_id, vector FROM chunk_vectors WHERE space_id = ? AND chunk_id > ? "
                "ORDER BY chunk_id LIMIT ?", (space_id, last, batch_size)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield _unpack(rows)

    def vectors_for(self, space_id: str, ids: Sequence[int] | Keys) -> tuple[Keys, Floats]:
        """The stored vectors of the given chunk ids (those that have one), by id."""
        rows = self._conn.execute(
            "SELECT chunk_id, vector FROM chunk_vectors WHERE space_id = ? AND chunk_id IN "
            "(SELECT value FROM json_each(?)) ORDER BY chunk_id",
            (space_id, json.dumps([int(i) for i in ids]))).fetchall()
        return _unpack(rows)

    def pending_count(self, space_id: str) -> int:
        """How many chunks have no vector in ``space_id`` yet."""
        return int(self._conn.execute(
            "SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM chunk_vectors v "
            "WHERE v.space_id = ? AND v.chunk_id = c.id)", (space_id,)).fetchone()[0])

    def vector_count(self, space_id: str) -> int:
        """How many vectors a space holds."""
        return int(self._conn.execute("SELECT count(*) FROM chunk_vectors WHERE space_id = ?",
                                      (space_id,)).fetchone()[0])

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A value from the ``meta`` table, or ``default``."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a ``meta`` value (schema-independent facts: chunker version, last sync...)."""
        self._conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                           "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def active_space(self) -> EmbeddingSpace | None:
        """The space searches use, or None before the first embedding pass."""
        return active_space_of(self.get_meta(SPACE_META), self.spaces())

    def drop_other_spaces(self, space_id: str) -> None:
        """Make ``space_id`` active and drop every other space with its vectors, in one commit."""
        with atomic(self._conn) as conn:
            self.set_meta(SPACE_META, space_id)
            conn.execute("DELETE FROM chunk_vectors WHERE space_id != ?", (space_id,))
            conn.execute("DELETE FROM spaces WHERE space_id != ?", (space_id,))

    def vector_chunk_ids(self, space_id: str) -> Keys:
        """The chunk ids with a vector in the space, ascending."""
        return np.fromiter((cid for (cid,) in self._conn.execute(
            "SELECT chunk_id FROM chunk_vectors WHERE space_id = ? ORDER BY chunk_id",
            (space_id,))), dtype=np.int64)

    def pooled_documents(self, space_id: str) -> Keys:
        """The documents that get a document vector: those with two or more chunk vectors."""
        rows = self._conn.execute(
            "SELECT c.document_id FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id "
            "WHERE v.space_id = ? GROUP BY c.document_id HAVING count(*) > 1 "
            "ORDER BY c.document_id", (space_id,))
        return np.fromiter((doc for (doc,) in rows), dtype=np.int64)

    def document_chunk_vectors(self, space_id: str,
                               document_ids: Sequence[int]) -> tuple[Keys, Floats]:
        """(owning document per row, chunk vectors) of the documents, by document then chunk."""
        rows = self._conn.execute(
            "SELECT c.document_id, v.vector FROM chunk_vectors v "
            "JOIN chunks c ON c.id = v.chunk_id WHERE v.space_id = ?1 AND c.document_id IN "
            "(SELECT value FROM json_each(?2)) ORDER BY c.document_id, c.id",
            (space_id, json.dumps([int(d) for d in document_ids]))).fetchall()
        return _unpack(rows)

    def owners_of(self, chunk_ids: Sequence[int] | Keys) -> Keys:
        """The documents owning ``chunk_ids`` (chunks deleted since are skipped)."""
        rows = self._conn.execute(
            "SELECT DISTINCT document_id FROM chunks WHERE id IN "
            "(SELECT value FROM json_each(?))", (json.dumps([int(c) for c in chunk_ids]),))
        return np.fromiter((doc for (doc,) in rows), dtype=np.int64)
