"""PostgreSQL vectors: spaces, stored chunk vectors, pooled document vectors, pgvector search.

Chunk vectors are stored as pgvector ``vector`` values (float32, exact), so a
migration round trip is bit-for-bit. Document vectors (the normalised mean of
a document's chunk vectors, ``lore.store.pooling``) live in their own table
and are (re)pooled by ``refresh_vector_index`` for documents that lack one.

``PgVectorIndex.search`` keeps the promise every vector index makes: it
returns ``min(k, |allowed ∩ index|)`` hits. A small allowed set (or a small
index) is scored exactly, as the sidecar's planner does; anything else goes
through the (root, space)'s HNSW index with ``hnsw.iterative_scan`` on, so a
selective filter keeps the scan going instead of returning short, and a scan
that still comes back short is answered exactly.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from lore.embed.base import EmbeddingSpace
from lore.errors import EmbedderMismatchError, StoreError
from lore.store.base import SPACE_META, VectorIndexReport, active_space_of
from lore.store.keys import DOCUMENT_KEY_FLAG, document_ids, is_document_key
from lore.store.pooling import pool
from lore.store.postgres.writes import PgSyncWritesMixin
from lore.store.vectors import VectorIndexOptions
from lore.types import Floats, Keys

EXACT_BELOW = 4096            # allowed sets up to this size are scored exactly
_GRAPH = VectorIndexOptions()  # the local sidecar's graph: same M and efConstruction here
EF_SEARCH = 100               # hnsw.ef_search floor; raised to 2 k for deep searches
_SPACE_ID = re.compile(r"^[0-9a-f]{8,64}$")


def _matrix(rows: Sequence[Any]) -> Floats:
    """pgvector values (``Vector`` objects or arrays) as one float32 matrix."""
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v,
                                dtype=np.float32) for v in rows])


class PgVectorRowsMixin(PgSyncWritesMixin):
    """Spaces and vectors of a ``PostgresStore`` (meta comes from the sync writes)."""

    def register_space(self, space_id: str, descriptor: str) -> None:
        """Record an embedding space for this root (idempotent)."""
        if not _SPACE_ID.match(space_id):
            raise StoreError(f"{space_id!r} is not an embedding space id (hex digest).")
        self._conn.execute("INSERT INTO lore_spaces(root_id, space_id, descriptor, created_at) "
                           "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                           (self._root_id, space_id, descriptor, time.time()))

    def spaces(self) -> dict[str, str]:
        """Registered space id -> descriptor, oldest first."""
        rows = self._conn.execute("SELECT space_id, descriptor FROM lore_spaces WHERE root_id = %s "
                                  "ORDER BY created_at", (self._root_id,))
        return {str(s): str(d) for s, d in rows}

    def active_space(self) -> EmbeddingSpace | None:
        """The space searches use, or None before the first embedding pass."""
        return active_space_of(self.get_meta(SPACE_META), self.spaces())

    def activate_space(self, space_id: str) -> None:
        """Make ``space_id`` active; drop every other space's vectors and HNSW indexes."""
        others = [s for s in self.spaces() if s != space_id]
        with self._conn.transaction():
            self.set_meta(SPACE_META, space_id)
            for table in ("lore_chunk_vectors", "lore_document_vectors"):
                self._conn.execute(f"DELETE FROM {table} WHERE root_id = %s AND space_id <> %s",
                                   (self._root_id, space_id))
            self._conn.execute("DELETE FROM lore_spaces WHERE root_id = %s AND space_id <> %s",
                               (self._root_id, space_id))
            for other in others:
                for kind in ("c", "d"):
                    self._conn.execute(f"DROP INDEX IF EXISTS {self._hnsw_name(kind, other)}")

    def pending_chunks(self, space_id: str, limit: int | None = None) -> list[tuple[int, str]]:
        """Chunks still to embed in ``space_id``: (chunk id, ``Chunk.context_text(title)``)."""
        from lore.documents.model import Chunk

        rows = self._conn.execute(
            "SELECT c.id, d.title, c.ordinal, c.heading_path, c.text, c.kind, c.token_estimate"
            " FROM lore_chunks c JOIN lore_documents d ON d.id = c.document_id"
            " WHERE c.root_id = %s AND NOT EXISTS (SELECT 1 FROM lore_chunk_vectors v"
            " WHERE v.root_id = %s AND v.space_id = %s AND v.chunk_id = c.id)"
            " ORDER BY c.id LIMIT %s", (self._root_id, self._root_id, space_id, limit))
        return [(int(cid), Chunk(ordinal, tuple(json.loads(heads)), text, kind, tokens)
                 .context_text(title))
                for cid, title, ordinal, heads, text, kind, tokens in rows]

    def store_vectors(self, space_id: str, ids: Sequence[int] | Keys, vectors: Floats) -> int:
        """Store one vector per chunk id (chunks deleted meanwhile are skipped); return kept."""
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(ids):
            raise ValueError(f"expected {len(ids)} vectors as a 2-D array, got shape "
                             f"{matrix.shape}")
        if space_id not in self.spaces():
            raise EmbedderMismatchError(f"The embedding space {space_id} is not registered "
                                        "in this index; register_space() it first.")
        row = self._conn.execute("SELECT vector_dims(embedding) FROM lore_chunk_vectors "
                                 "WHERE root_id = %s AND space_id = %s LIMIT 1",
                                 (self._root_id, space_id)).fetchone()
        if row is not None and row[0] != matrix.shape[1]:
            raise EmbedderMismatchError(
                f"Space {space_id} holds {row[0]}-dimensional vectors, not {matrix.shape[1]}: "
                "the embedder changed. Use a new space for the new model.")
        chunk_ids = [int(i) for i in ids]
        with self._conn.transaction(), self._conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO lore_chunk_vectors(root_id, space_id, chunk_id, embedding)"
                " SELECT %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM lore_chunks WHERE id = %s)"
                " ON CONFLICT (root_id, space_id, chunk_id)"
                " DO UPDATE SET embedding = EXCLUDED.embedding",
                [(self._root_id, space_id, cid, matrix[n], cid)
                 for n, cid in enumerate(chunk_ids)])
            kept = cur.rowcount
            # Their documents' pooled vectors are stale now; the next refresh pools them again.
            cur.execute("DELETE FROM lore_document_vectors WHERE root_id = %s AND space_id = %s"
                        " AND document_id IN (SELECT document_id FROM lore_chunks"
                        " WHERE id = ANY(%s))", (self._root_id, space_id, chunk_ids))
        return int(kept)

    def iter_vectors(self, space_id: str,
                     batch_size: int = 4096) -> Iterator[tuple[Keys, Floats]]:
        """Every stored chunk vector of a space, in batches by chunk id."""
        last = -1
        while True:
            rows = self._conn.execute(
                "SELECT chunk_id, embedding FROM lore_chunk_vectors WHERE root_id = %s AND "
                "space_id = %s AND chunk_id > %s ORDER BY chunk_id LIMIT %s",
                (self._root_id, space_id, last, batch_size)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield np.array([r[0] for r in rows], dtype=np.int64), _matrix([r[1] for r in rows])

    def vectors_for(self, space_id: str, ids: Sequence[int] | Keys) -> tuple[Keys, Floats]:
        """The stored vectors of the given chunk ids that have one, by id."""
        rows = self._conn.execute(
            "SELECT chunk_id, embedding FROM lore_chunk_vectors WHERE root_id = %s AND "
            "space_id = %s AND chunk_id = ANY(%s) ORDER BY chunk_id",
            (self._root_id, space_id, [int(i) for i in ids])).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), _matrix([r[1] for r in rows])

    def vector_count(self, space_id: str) -> int:
        """How many chunk vectors a space holds."""
        return int(self._conn.execute("SELECT count(*) FROM lore_chunk_vectors WHERE root_id = %s"
                                      " AND space_id = %s", (self._root_id, space_id)
                                      ).fetchone()[0])

    def pending_count(self, space_id: str) -> int:
        """How many chunks of this root have no vector in ``space_id`` yet."""
        return int(self._conn.execute(
            "SELECT count(*) FROM lore_chunks c WHERE c.root_id = %s AND NOT EXISTS (SELECT 1"
            " FROM lore_chunk_vectors v WHERE v.root_id = %s AND v.space_id = %s"
            " AND v.chunk_id = c.id)", (self._root_id, self._root_id, space_id)).fetchone()[0])

    def pooled_count(self, space_id: str) -> int:
        """How many pooled document vectors a space holds."""
        return int(self._conn.execute("SELECT count(*) FROM lore_document_vectors "
                                      "WHERE root_id = %s AND space_id = %s",
                                      (self._root_id, space_id)).fetchone()[0])

    def vector_index(self, space: EmbeddingSpace) -> PgVectorIndex:
        """The space's searchable vectors (chunk and document keys) in this database."""
        return PgVectorIndex(self._conn, self._root_id, space)

    def refresh_vector_index(self, space: EmbeddingSpace) -> VectorIndexReport:
        """Pool the missing document vectors, drop orphaned ones, make sure HNSW indexes exist."""
        with self._conn.transaction():
            self._conn.execute(
                "DELETE FROM lore_document_vectors dv WHERE root_id = %s AND space_id = %s AND"
                " (SELECT count(*) FROM lore_chunk_vectors v JOIN lore_chunks c"
                " ON c.id = v.chunk_id WHERE v.root_id = dv.root_id AND v.space_id = dv.space_id"
                " AND c.document_id = dv.document_id) < 2", (self._root_id, space.id))
            rows = self._conn.execute(
                "SELECT c.document_id, v.embedding FROM lore_chunk_vectors v"
                " JOIN lore_chunks c ON c.id = v.chunk_id WHERE v.root_id = %s AND v.space_id = %s"
                " AND NOT EXISTS (SELECT 1 FROM lore_document_vectors dv WHERE dv.root_id ="
                " v.root_id AND dv.space_id = v.space_id AND dv.document_id = c.document_id)"
                " ORDER BY c.document_id, c.id", (self._root_id, space.id)).fetchall()
            keys, vectors = pool(np.array([r[0] for r in rows], dtype=np.int64),
                                 _matrix([r[1] for r in rows]))
            with self._conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO lore_document_vectors(root_id, space_id, document_id, embedding)"
                    " VALUES (%s, %s, %s, %s)",
                    [(self._root_id, space.id, int(d), vectors[n])
                     for n, d in enumerate(document_ids(keys))])
            for kind, table in (("c", "lore_chunk_vectors"), ("d", "lore_document_vectors")):
                self._conn.execute(
                    f"CREATE INDEX IF NOT EXISTS {self._hnsw_name(kind, space.id)} ON {table}"
                    f" USING hnsw ((embedding::vector({int(space.dimensions)})) vector_cosine_ops)"
                    f" WITH (m = {_GRAPH.connectivity}, ef_construction = {_GRAPH.expansion_add})"
                    f" WHERE root_id = {int(self._root_id)} AND space_id = '{space.id}'")
        total = self.vector_count(space.id) + self.pooled_count(space.id)
        return VectorIndexReport(removed=0, pooled=len(keys), total=total, rebuilt=False)

    def hnsw_indexes(self, space_id: str) -> list[str]:
        """The names of a space's two HNSW indexes (chunk and document vectors)."""
        return [self._hnsw_name(kind, space_id) for kind in ("c", "d")]

    def _hnsw_name(self, kind: str, space_id: str) -> str:
        if not _SPACE_ID.match(space_id):
            raise StoreError(f"{space_id!r} is not an embedding space id (hex digest).")
        return f"lore_hnsw_{kind}_{int(self._root_id)}_{space_id[:24]}"


class PgVectorIndex:
    """The ``VectorSearch`` of one (root, space): pgvector cosine search, never short."""

    def __init__(self, conn: Any, root_id: int, space: EmbeddingSpace) -> None:
        if not _SPACE_ID.match(space.id):
            raise StoreError(f"{space.id!r} is not an embedding space id (hex digest).")
        self._conn = conn
        self._scope = f"root_id = {int(root_id)} AND space_id = '{space.id}'"
        self._cast = f"vector({int(space.dimensions)})"
        self._dimensions = int(space.dimensions)
        self._size: int | None = None

    @property
    def dimensions(self) -> int:
        """The vectors' dimensionality."""
        return self._dimensions

    def _union(self, where_chunks: str = "", where_docs: str = "") -> str:
        return (f"SELECT chunk_id AS key, embedding FROM lore_chunk_vectors"
                f" WHERE {self._scope}{where_chunks} UNION ALL"
                f" SELECT document_id | {DOCUMENT_KEY_FLAG}, embedding FROM lore_document_vectors"
                f" WHERE {self._scope}{where_docs}")

    def __len__(self) -> int:
        if self._size is None:   # an index object lives until the next sync replaces it
            self._size = int(self._conn.execute(
                f"SELECT count(*) FROM ({self._union()}) v").fetchone()[0])
        return self._size

    def keys(self) -> Keys:
        """Every key, ascending."""
        rows = self._conn.execute(f"SELECT key FROM ({self._union()}) v ORDER BY key")
        return np.array([r[0] for r in rows], dtype=np.int64)

    def _split(self, keys: Keys) -> tuple[list[int], list[int]]:
        keys = np.asarray(keys, dtype=np.int64)
        on_documents = is_document_key(keys)
        return keys[~on_documents].tolist(), document_ids(keys[on_documents]).tolist()

    def present(self, keys: Keys) -> Any:
        """Which of ``keys`` the index holds (a boolean mask)."""
        chunks, docs = self._split(keys)
        sql = self._union(" AND chunk_id = ANY(%s)", " AND document_id = ANY(%s)")
        found = {int(r[0]) for r in self._conn.execute(f"SELECT key FROM ({sql}) v",
                                                       (chunks, docs))}
        return np.array([int(k) in found for k in np.asarray(keys).tolist()], dtype=bool)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, (int, np.integer)) and bool(self.present(np.array([key]))[0])

    def get(self, keys: Keys) -> Floats:
        """The stored vectors of ``keys``, in that order (every key must be present)."""
        chunks, docs = self._split(keys)
        sql = self._union(" AND chunk_id = ANY(%s)", " AND document_id = ANY(%s)")
        found = {int(k): v for k, v in self._conn.execute(
            f"SELECT key, embedding FROM ({sql}) v", (chunks, docs), binary=True)}
        missing = [int(k) for k in np.asarray(keys).tolist() if int(k) not in found]
        if missing:
            raise KeyError(f"keys not in the vector index: {missing[:5]}")
        return _matrix([found[int(k)] for k in np.asarray(keys).tolist()])

    def search(self, query: Floats, k: int, allowed: Keys | None = None) -> tuple[Keys, Floats]:
        """The ``k`` nearest keys by cosine similarity (best first), within ``allowed``."""
        vector = np.asarray(query, dtype=np.float32)
        if k <= 0 or (allowed is not None and len(allowed) == 0):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if len(allowed if allowed is not None else self) <= EXACT_BELOW:
            return self._exact(vector, k, allowed)
        keys, scores = self._approximate(vector, k, allowed)
        if len(keys) < k:
            return self._exact(vector, k, allowed)
        return keys, scores

    def _exact(self, query: Floats, k: int, allowed: Keys | None) -> tuple[Keys, Floats]:
        params: tuple[Any, ...] = ()
        if allowed is None:
            sql = self._union()
        else:
            sql = self._union(" AND chunk_id = ANY(%s)", " AND document_id = ANY(%s)")
            params = self._split(allowed)
        rows = self._conn.execute(
            f"WITH v AS MATERIALIZED ({sql}) SELECT key,"
            f" 1 - (embedding::{self._cast} <=> %s::{self._cast}) AS score FROM v"
            f" ORDER BY score DESC, key LIMIT %s", (*params, query, k)).fetchall()
        return (np.array([r[0] for r in rows], dtype=np.int64),
                np.array([r[1] for r in rows], dtype=np.float32))

    def _approximate(self, query: Floats, k: int,
                     allowed: Keys | None) -> tuple[Keys, Floats]:
        """Both HNSW indexes (chunk and document vectors) in one statement, with the
        settings sent in the same round trip (a pipeline)."""
        chunks, docs = self._split(allowed) if allowed is not None else ([], [])
        parts, params = [], []
        for key_sql, table, column, ids in (
                ("chunk_id", "lore_chunk_vectors", "chunk_id", chunks),
                (f"document_id | {DOCUMENT_KEY_FLAG}", "lore_document_vectors", "document_id",
                 docs)):
            where = f" AND {column} = ANY(%s)" if allowed is not None else ""
            parts.append(f"(SELECT {key_sql} AS key, 1 - (embedding::{self._cast} <=>"
                         f" %s::{self._cast}) AS score FROM {table} WHERE {self._scope}{where}"
                         f" ORDER BY embedding::{self._cast} <=> %s::{self._cast} LIMIT %s)")
            params += [query, *([ids] if allowed is not None else []), query, k]
        with self._conn.pipeline():
            # Session settings: every approximate search sets them again first.
            self._conn.execute(f"SET hnsw.ef_search = {max(EF_SEARCH, min(2 * k, 1000))}")
            self._conn.execute("SET hnsw.iterative_scan = relaxed_order")
            cursor = self._conn.execute(" UNION ALL ".join(parts), params)
        found = sorted(((float(score), int(key)) for key, score in cursor.fetchall()),
                       key=lambda item: (-item[0], item[1]))[:k]
        return (np.array([key for _, key in found], dtype=np.int64),
                np.array([score for score, _ in found], dtype=np.float32))
