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
import numpy.typing as npt

from lore.documents.model import Chunk
from lore.errors import EmbedderMismatchError
from lore.store.connection import atomic

Vectors = npt.NDArray[np.float32]
Keys = npt.NDArray[np.int64]


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


def _unpack(rows: list[tuple[int, bytes]]) -> tuple[Keys, Vectors]:
    keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    if not rows:
        return keys, np.zeros((0, 0), dtype=np.float32)
    flat = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
    return keys, flat.reshape(len(rows), -1)


class VectorRowsMixin:
    """Spaces and vectors of a ``Catalog`` (which provides ``_conn``)."""

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

    def store_vectors(self, space_id: str, ids: Sequence[int] | Keys, vectors: Vectors) -> int:
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
                     batch_size: int = 4096) -> Iterator[tuple[Keys, Vectors]]:
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

    def vectors_for(self, space_id: str, ids: Sequence[int] | Keys) -> tuple[Keys, Vectors]:
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
