"""The SQLite catalog: documents, chunks, FTS5, links, fields, vectors, meta.

The catalog is derived data, rebuildable from the files, but it must never be
silently wrong: every multi-row change runs in one transaction, FTS is kept in
step by triggers (see ``migrations``), and ``verify`` checks that the parts
agree. Connection policy and transactions come from ``store.connection``;
spaces and vectors from ``store.vector_rows``.

SQL is built by the module-level ``*_sql`` functions and run by the methods,
always with parameters; a list of values travels as one JSON parameter
(``json_each``), so no statement grows with its input.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from lore.documents.model import Chunk, Document
from lore.errors import ConfigError, IndexCorruptError, IndexNotFoundError
from lore.paths import CATALOG_FILE
from lore.store import fts_rows
from lore.store.base import FileState, Filters
from lore.store.connection import atomic, connect, connect_read_only
from lore.store.fact_cache import FactCache
from lore.store.fields import flatten_fields
from lore.store.filter_sql import chunks_filter_sql
from lore.store.keyword_memory import shared_memory
from lore.store.keyword_reads import KeywordReadsMixin
from lore.store.migrations import migrate, schema_version
from lore.store.records import ChunkRecord, DocumentRecord, document_record
from lore.store.search_reads import SearchReadsMixin
from lore.store.shapes import ShapeReadsMixin, refresh_copies, write_shape
from lore.store.sidecar import SidecarMixin
from lore.store.vectors import VectorIndexOptions
from lore.store.vocabulary import VocabularyReadsMixin

if TYPE_CHECKING:
    from typing_extensions import Self


def upsert_document_sql() -> str:
    """Insert or update a document by path, keeping its row id; returns the id."""
    cols = ("path", "doc_id", "uid", "title", "doctype", "metadata", "body", "content_hash",
            "size", "mtime_ns", "chunker_version", "indexed_at")
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
    return (f"INSERT INTO documents({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT(path) DO UPDATE SET {updates} RETURNING id")


def document_lookup_sql(key: int | str) -> tuple[str, list[Any]]:
    """Find one document by row id (int), else by path, doc id or uid (str).

    A path match wins over an id match, an id over a uid; ties (duplicate ids)
    go to the first path, so the answer is stable.
    """
    if isinstance(key, int):
        return "SELECT * FROM documents WHERE id = ?", [key]
    return ("SELECT * FROM documents WHERE path = ?1 OR doc_id = ?1 COLLATE NOCASE "
            "OR uid = ?1 COLLATE NOCASE ORDER BY path = ?1 DESC, "
            "doc_id = ?1 COLLATE NOCASE DESC, path LIMIT 1"), [key]


class Catalog(SidecarMixin, KeywordReadsMixin, SearchReadsMixin, ShapeReadsMixin,
              VocabularyReadsMixin):
    """One open catalog database, the embedded ``lore.store.base.Store``.

    Use ``Catalog.open``; close it when done.
    """

    def __init__(self, conn: sqlite3.Connection, index_dir: Path | None = None,
                 vector_options: VectorIndexOptions | None = None, *,
                 read_only: bool = False) -> None:
        self._conn = conn
        self._index_dir = index_dir
        self._vector_options = vector_options or VectorIndexOptions()
        self.read_only = read_only   # opened from a place lore cannot write: search only
        self._keyword_memory = shared_memory(index_dir / CATALOG_FILE) \
            if index_dir is not None else None
        self._first_keyword_search: float | None = None   # time.monotonic()
        self._snapshot_pinned = False
        self._clean_changes = conn.total_changes   # rows this connection wrote, all committed
        self.keyword_paths: Counter[str] = Counter()   # "memory" / "fts5": who answered
        self._facts = FactCache()    # corpus facts of the current state (``fact_cache``)

    @classmethod
    def open(cls, index_dir: Path, *, create: bool = True,
             vector_options: VectorIndexOptions | None = None,
             any_thread: bool = False) -> Catalog:
        """Open (and, if ``create``, make) the catalog in ``index_dir``.

        A new index directory gets a ``.gitignore`` of ``*`` so the derived
        index never lands in the repository it indexes. ``vector_options`` say
        how the vector sidecar is stored (``[index] vector_precision``); a
        sidecar stored otherwise is rebuilt from the catalog when next used.
        ``any_thread`` lets other threads use the connection, one at a time
        (``store.connection``).

        Raises:
            IndexNotFoundError: ``create`` is false and there is no catalog.
            IndexCorruptError: the file is not a readable lore catalog.
        """
        index_dir = Path(index_dir)
        db_path = index_dir / CATALOG_FILE
        if not db_path.exists():
            if not create:
                raise IndexNotFoundError(
                    f"No lore index in {index_dir}. Run `lore index ROOT` first.")
            try:
                index_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"Cannot create the index folder {index_dir} "
                                  f"({exc.strerror}); pass --index-dir (or LORE_INDEX_DIR) to "
                                  "a folder you can write.") from exc
        elif not (os.access(index_dir, os.W_OK) and os.access(db_path, os.W_OK)):
            # A read-only mount or files without write permission: searchable as is.
            try:
                conn = connect_read_only(db_path)
                migrate(conn)   # writes nothing when the schema is current
            except sqlite3.DatabaseError as exc:
                raise _unreadable(db_path, exc) from exc
            return cls(conn, index_dir, vector_options, read_only=True)
        gitignore = index_dir / ".gitignore"
        try:
            if not gitignore.exists():
                gitignore.write_text("*\n", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"Cannot create the index in {index_dir} ({exc.strerror}); pass "
                              "--index-dir (or LORE_INDEX_DIR) to a folder you can write.") from exc
        try:
            conn = connect(db_path, any_thread=any_thread)
        except sqlite3.DatabaseError as exc:
            raise _unreadable(db_path, exc) from exc
        try:
            migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _unreadable(db_path, exc) from exc
        except BaseException:
            conn.close()
            raise
        return cls(conn, index_dir, vector_options)

    @classmethod
    def memory(cls) -> Catalog:
        """A throwaway in-memory catalog (tests, experiments)."""
        conn = connect(":memory:")
        migrate(conn)
        return cls(conn)

    @property
    def conn(self) -> sqlite3.Connection:
        """The raw connection (store modules and tests; search goes through ``Store``)."""
        return self._conn

    @property
    def index_dir(self) -> Path | None:
        """The directory holding the catalog (None for an in-memory one)."""
        return self._index_dir

    def pin_snapshot(self) -> None:
        """Hold a read transaction: every later read sees the state committed now.

        A server's readers pin the state left by the last complete sync, so a
        sync in progress (which commits in batches) is never seen half done.
        The pin lasts until ``close``; a pinned catalog must not be written.
        """
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN")
            self._conn.execute("SELECT count(*) FROM meta").fetchone()
        self._snapshot_pinned = True

    def close(self) -> None:
        """Close the connection; the catalog cannot be used afterwards."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """All writes inside commit together or not at all; nesting uses savepoints."""
        return atomic(self._conn)

    def writer_lock(self) -> AbstractContextManager[None]:
        """Nothing to take: SQLite serialises writers per batch (``BEGIN IMMEDIATE``).

        Each batch of a sync takes the database's write lock and commits whole,
        so a second writer waits for it (``BUSY_TIMEOUT_MS``) and never sees half a batch.
        """
        return nullcontext()

    def document_states(self) -> dict[str, FileState]:
        """Path -> what was indexed, for the sync's change detection."""
        rows = self._conn.execute(
            "SELECT path, size, mtime_ns, content_hash, chunker_version FROM documents")
        return {path: FileState(*rest) for path, *rest in rows}

    def replace_document(self, doc: Document, chunks: Sequence[Chunk],
                         chunker_version: str) -> list[int]:
        """Write ``doc`` (new or changed) with its chunks, links and fields.

        The document keeps its row id; its old chunks are deleted (their FTS
        rows and vectors go with them) and the new chunks get fresh ids.

        Returns:
            The new chunk ids, in chunk order.
        """
        with self.transaction() as conn:
            (doc_rowid,) = conn.execute(upsert_document_sql(), (
                doc.path, doc.doc_id, doc.uid, doc.title, doc.doctype,
                json.dumps(doc.metadata, ensure_ascii=False, default=str), doc.body,
                doc.content_hash, doc.size, doc.mtime_ns, chunker_version, time.time(),
            )).fetchone()
            for table in ("chunks", "links", "fields"):
                conn.execute(f"DELETE FROM {table} WHERE document_id = ?", (doc_rowid,))
            conn.executemany(
                "INSERT INTO chunks(document_id, ordinal, kind, heading_path, text, "
                "token_estimate) VALUES (?, ?, ?, ?, ?, ?)",
                [(doc_rowid, c.ordinal, c.kind, json.dumps(list(c.heading_path),
                                                           ensure_ascii=False),
                  c.text, c.token_estimate) for c in chunks])
            conn.executemany("INSERT INTO links(document_id, kind, target) VALUES (?, ?, ?)",
                             [(doc_rowid, link.kind, link.target) for link in doc.links])
            conn.executemany("INSERT INTO fields(document_id, key, value) VALUES (?, ?, ?)",
                             [(doc_rowid, k, v) for k, v in flatten_fields(doc.metadata)])
            write_shape(conn, doc_rowid, doc.title, doc.doctype, doc.body)
            rows = conn.execute("SELECT id FROM chunks WHERE document_id = ? ORDER BY ordinal",
                                (doc_rowid,))
            return [int(r[0]) for r in rows]

    def update_file_state(self, path: str, size: int, mtime_ns: int) -> None:
        """Record a new size/mtime for a file whose content hash did not change."""
        self._conn.execute("UPDATE documents SET size = ?, mtime_ns = ? WHERE path = ?",
                           (size, mtime_ns, path))

    def rename(self, old_path: str, new_path: str) -> None:
        """Move a document to a new path, keeping its row id (and so its history)."""
        self._conn.execute("UPDATE documents SET path = ? WHERE path = ?", (new_path, old_path))

    def delete_documents(self, paths: Iterable[str]) -> int:
        """Delete documents by path, with their chunks, FTS rows, links, fields, vectors."""
        with self.transaction() as conn:
            cur = conn.execute("DELETE FROM documents WHERE path IN "
                               "(SELECT value FROM json_each(?))", (json.dumps(list(paths)),))
            return cur.rowcount

    def get_document(self, key: int | str) -> DocumentRecord | None:
        """One document with its links and chunks, by row id, path, doc id or uid."""
        sql, params = document_lookup_sql(key)
        cur = self._conn.execute(sql, params)
        row = cur.fetchone()
        if row is None:
            return None
        doc = dict(zip((d[0] for d in cur.description), row))
        links = self._conn.execute("SELECT kind, target FROM links WHERE document_id = ? "
                                   "ORDER BY rowid", (doc["id"],)).fetchall()
        chunks = [ChunkRecord(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5])
                  for r in self._conn.execute(
                      "SELECT id, ordinal, kind, heading_path, text, token_estimate "
                      "FROM chunks WHERE document_id = ? ORDER BY ordinal", (doc["id"],))]
        return document_record(doc, links, chunks)

    def refresh_copies(self) -> int:
        """Regroup near-identical documents after a sync; how many documents have copies."""
        with self.transaction() as conn:
            return refresh_copies(conn)

    def duplicate_doc_ids(self) -> dict[str, list[str]]:
        """Doc ids (case-insensitive) held by more than one file -> their paths."""
        rows = self._conn.execute(
            "SELECT min(doc_id), json_group_array(path) FROM "
            "(SELECT doc_id, path FROM documents ORDER BY path) "
            "GROUP BY doc_id COLLATE NOCASE HAVING count(*) > 1")
        return {doc_id: json.loads(paths) for doc_id, paths in rows}

    def chunk_ids_for_filters(self, filters: Filters) -> npt.NDArray[np.int64]:
        """Ids (ascending) of chunks whose document matches every filter key.

        Args:
            filters: field key -> accepted values, e.g. ``{"type": ["adr"]}``;
                AND across keys, OR within a key, case-insensitive.
        """
        sql, params = chunks_filter_sql(filters)
        return np.fromiter((r[0] for r in self._conn.execute(sql, params)), dtype=np.int64)

    def count_chunks_for_filters(self, filters: Filters) -> int:
        """How many chunks ``chunk_ids_for_filters`` would return (for the planner)."""
        sql, params = chunks_filter_sql(filters)
        return int(self._conn.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])

    def stats(self) -> dict[str, Any]:
        """Counts for ``lore status``: documents, chunks, links, doc types, vectors per space.

        A space's ``vectors`` counts what its vector index holds, as a sync
        reports it: one per embedded chunk plus one pooled vector per document
        with several (``chunk_vectors`` + ``document_vectors``).
        """
        one = self._scalar
        spaces: dict[str, dict[str, Any]] = {}
        for space_id, descriptor, n in self._conn.execute(
                "SELECT s.space_id, s.descriptor, (SELECT count(*) FROM chunk_vectors v "
                "WHERE v.space_id = s.space_id) FROM spaces s ORDER BY s.created_at"):
            pooled = len(self.pooled_documents(space_id))
            spaces[space_id] = {"descriptor": descriptor, "chunk_vectors": n,
                                "document_vectors": pooled, "vectors": n + pooled}
        doctypes = dict(self._conn.execute(
            "SELECT doctype, count(*) FROM documents GROUP BY doctype ORDER BY doctype"))
        size = 0
        if self._index_dir is not None:
            size = sum(p.stat().st_size for p in self._index_dir.glob(CATALOG_FILE + "*"))
        return {
            "schema_version": schema_version(self._conn),
            "documents": one("SELECT count(*) FROM documents"),
            "chunks": one("SELECT count(*) FROM chunks"),
            "links": one("SELECT count(*) FROM links"),
            "doctypes": doctypes,
            "spaces": spaces,
            "bytes": size,
        }

    def generation(self) -> int:
        """SQLite's ``data_version``: it changes exactly when another connection commits."""
        self.note_committed()
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def verify(self) -> list[str]:
        """Check that the catalog agrees with itself; return the problems found.

        Checks SQLite's own structure, FTS against its content, chunk/FTS
        row correspondence, and foreign keys (orphan chunks, links, fields,
        vectors). An empty list means the catalog is consistent.
        """
        one = self._scalar
        problems = [f"sqlite: {r[0]}" for r in self._conn.execute("PRAGMA quick_check")
                    if r[0] != "ok"]
        try:
            # FTS5's check is phrased as an INSERT, which a read-only connection refuses;
            # there, the row-correspondence checks below still run.
            if not self.read_only:
                self._conn.execute("INSERT INTO chunks_fts(chunks_fts, rank) "
                                   "VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            problems.append(f"full-text index: {exc}")
        problems += fts_rows.problems(self._conn)
        orphans: dict[str, int] = {}
        for table, *_ in self._conn.execute("PRAGMA foreign_key_check"):
            orphans[table] = orphans.get(table, 0) + 1
        problems += [f"{n} rows of {table} point to missing parents"
                     for table, n in sorted(orphans.items())]
        stray = one("SELECT count(*) FROM chunk_vectors WHERE space_id NOT IN "
                    "(SELECT space_id FROM spaces)")
        if stray:
            problems.append(f"{stray} vectors belong to no registered space")
        return problems

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self._conn.execute(sql, params).fetchone()[0])


def _unreadable(db_path: Path, exc: Exception) -> IndexCorruptError:
    return IndexCorruptError(f"The catalog {db_path} cannot be read ({exc}). Delete "
                             f"{db_path.parent} and run `lore index ROOT` to rebuild it.")
