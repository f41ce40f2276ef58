"""The catalog-side SQL of ``lore verify`` and ``lore repair``.

Verification reads; repair rewrites only what is derived from other stored
rows (the active-space record from ``spaces`` and ``chunk_vectors``; the
full-text rows are rebuilt by ``lore.store.fts_rows``, which defines them) or what cannot be trusted (a stored vector
that is not a finite, non-zero vector of the space's size, which then becomes
pending and is embedded again by the next ``lore index``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import numpy as np

from lore.documents.model import Chunk
from lore.store.connection import atomic


def embedded_chunks_sql() -> str:
    """(chunk id, title, ordinal, headings, text, kind, tokens, vector) of a space's vectors."""
    return ("SELECT c.id, d.title, c.ordinal, c.heading_path, c.text, c.kind, c.token_estimate, "
            "v.vector FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id "
            "JOIN documents d ON d.id = c.document_id WHERE v.space_id = ? ORDER BY c.id")


def embedded_texts(conn: sqlite3.Connection,
                   space_id: str) -> Iterator[tuple[int, str, np.ndarray]]:
    """(chunk id, the text that was embedded, stored vector) for every vector of a space."""
    for cid, title, ordinal, heads, text, kind, tokens, blob in conn.execute(
            embedded_chunks_sql(), (space_id,)):
        chunk = Chunk(ordinal, tuple(json.loads(heads)), text, kind, tokens)
        yield cid, chunk.context_text(title), np.frombuffer(blob, dtype=np.float32)


def bad_vectors(conn: sqlite3.Connection, space_id: str, dimensions: int) -> list[int]:
    """Chunk ids whose stored vector is the wrong size, not finite or zero."""
    bad = []
    for cid, blob in conn.execute("SELECT chunk_id, vector FROM chunk_vectors "
                                  "WHERE space_id = ?", (space_id,)):
        vector = np.frombuffer(blob, dtype=np.float32) if len(blob) % 4 == 0 else None
        if vector is None or vector.shape != (dimensions,) or not np.isfinite(vector).all() \
                or float(np.linalg.norm(vector)) <= 1e-6:
            bad.append(int(cid))
    return bad


def spaces_with_vectors(conn: sqlite3.Connection) -> list[str]:
    """Registered spaces that hold vectors, most vectors first."""
    return [s for (s,) in conn.execute(
        "SELECT v.space_id FROM chunk_vectors v JOIN spaces s ON s.space_id = v.space_id "
        "GROUP BY v.space_id ORDER BY count(*) DESC")]


def pending_count(conn: sqlite3.Connection, space_id: str) -> int:
    """Chunks without a vector in the space (a sync that has not finished embedding)."""
    return int(conn.execute("SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM "
                            "chunk_vectors v WHERE v.space_id = ? AND v.chunk_id = c.id)",
                            (space_id,)).fetchone()[0])


def delete_orphans(conn: sqlite3.Connection) -> int:
    """Remove rows whose parent row is gone (what ``PRAGMA foreign_key_check`` lists)."""
    removed = 0
    with atomic(conn):
        for table, rowid, *_ in conn.execute("PRAGMA foreign_key_check").fetchall():
            if rowid is not None and table.isidentifier():
                removed += conn.execute(f"DELETE FROM {table} WHERE rowid = ?",
                                        (rowid,)).rowcount
        removed += conn.execute("DELETE FROM chunk_vectors WHERE space_id NOT IN "
                                "(SELECT space_id FROM spaces)").rowcount
    return removed


def delete_vectors(conn: sqlite3.Connection, space_id: str, chunk_ids: list[int]) -> None:
    """Drop stored vectors (they become pending: the next sync embeds them again)."""
    with atomic(conn):
        conn.executemany("DELETE FROM chunk_vectors WHERE space_id = ? AND chunk_id = ?",
                         [(space_id, cid) for cid in chunk_ids])
