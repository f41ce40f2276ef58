"""``PostgresStore``: the ``lore.store.base.Store`` of one root in a PostgreSQL database.

Team mode: several people (or one server and its clients) share an index in
PostgreSQL + pgvector instead of a local SQLite file. A database holds any
number of roots, each a row of ``lore_roots`` named after its product (by
default the folder's name) with its own text-search configuration; a store
object reads and writes only its root's rows.

Writers are serialised per root by a session advisory lock held for the whole
sync (``writer_lock``): a second sync of the same root waits up to
``LOCK_WAIT_S`` and then fails saying who to wait for. Each batch of a sync
commits on its own, and a reader's snapshot (REPEATABLE READ) never sees a
document half written.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lore.errors import IndexNotFoundError, StoreError
from lore.store.postgres.connection import connect, psycopg, redact
from lore.store.postgres.reads import PgSearchReadsMixin
from lore.store.postgres.schema import migrate, schema_version
from lore.store.postgres.shapes import PgShapeReadsMixin
from lore.store.postgres.vectors import PgVectorRowsMixin
from lore.store.postgres.vocabulary import PgVocabularyMixin
from lore.store.records import ChunkRecord, DocumentRecord, document_record

LOCK_WAIT_S = 60.0
_LOCK_POLL_S = 0.1


class PostgresStore(PgSearchReadsMixin, PgShapeReadsMixin, PgVectorRowsMixin,
                    PgVocabularyMixin):
    """One root's index in a PostgreSQL database. Use ``PostgresStore.open``; close it."""

    read_only = False   # the server decides what this role may write

    def __init__(self, conn: Any, url: str, root_id: int, name: str, config: str) -> None:
        self._conn = conn
        self._url = url
        self._root_id = root_id
        self._config = config
        self.name = name
        self._facts: dict[str, object] = {}
        self._facts_state: str | None = None

    @classmethod
    def open(cls, url: str, name: str, *, text_config: str = "lore_english",
             create: bool = True) -> PostgresStore:
        """Connect, migrate the schema, and open (or, if ``create``, add) the root ``name``.

        Args:
            url: ``postgresql://user:password@host:port/database`` (or a socket URL).
            name: the root's name in this database (products sharing a database differ here).
            text_config: the text-search configuration of a new root ("lore_english":
                Porter stemming as the local index; "simple" for other languages, or any
                configuration of the server). An existing root keeps its own.
            create: add the root when the database does not have it yet.

        Raises:
            StoreError: connection, extension or configuration problems (URL redacted).
            IndexNotFoundError: ``create`` is false and the root does not exist.
        """
        conn = connect(url)
        try:
            migrate(conn)
            row = conn.execute("SELECT id, text_config::text FROM lore_roots WHERE name = %s",
                               (name,)).fetchone()
            if row is None:
                if not create:
                    raise IndexNotFoundError(
                        f"No lore index named {name!r} in {redact(url)}. Run `lore index` with "
                        "this store first, or `lore migrate --to` to copy a local index there.")
                row = cls._add_root(conn, url, name, text_config)
        except BaseException:
            conn.close()
            raise
        return cls(conn, url, int(row[0]), name, str(row[1]))

    @staticmethod
    def _add_root(conn: Any, url: str, name: str, text_config: str) -> Any:
        pg = psycopg()
        try:
            return conn.execute(
                "INSERT INTO lore_roots(name, text_config, created_at) VALUES (%s, %s::regconfig,"
                " %s) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name"
                " RETURNING id, text_config::text", (name, text_config, time.time())).fetchone()
        except pg.Error as exc:
            known = [r[0] for r in conn.execute("SELECT cfgname FROM pg_ts_config ORDER BY 1")]
            raise StoreError(f"Cannot create the root {name!r} in {redact(url)} with text-search "
                             f"configuration {text_config!r} ({redact(str(exc)).strip()}). "
                             f"Use one of: {', '.join(known)}.") from None

    def generation(self) -> int:
        """Changes when a sync of this root finishes (its ``last_sync`` stamp).

        PostgreSQL has no per-connection ``data_version``; the vectors live in
        the database and are searched there, so the stamp is enough for an
        ``Index`` to drop its cached link graph.
        """
        return zlib.crc32((self.get_meta("last_sync") or "").encode())

    @property
    def url(self) -> str:
        """The database URL with any password replaced by ``***``."""
        return redact(self._url)

    @property
    def text_config(self) -> str:
        """This root's text-search configuration."""
        return self._config

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Hold this root's writer lock for the block; wait up to ``LOCK_WAIT_S`` for it.

        Raises:
            StoreError: another writer kept the lock for longer than that.
        """
        key = zlib.crc32(f"lore-writer:{self._root_id}".encode())
        deadline = time.monotonic() + LOCK_WAIT_S
        while not self._conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise StoreError(f"Another lore sync is writing the index {self.name!r} in "
                                 f"{self.url} and has held its writer lock for over "
                                 f"{LOCK_WAIT_S:.0f} s. Wait for it to finish, then run again.")
            time.sleep(_LOCK_POLL_S)
        try:
            yield
        finally:
            self._conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def get_document(self, key: int | str) -> DocumentRecord | None:
        """One document by row id (int), else by path, doc id or uid (ids case-insensitive)."""
        if isinstance(key, int):
            cur = self._conn.execute("SELECT * FROM lore_documents WHERE root_id = %s AND id = %s",
                                     (self._root_id, key))
        else:
            cur = self._conn.execute(
                "SELECT * FROM lore_documents WHERE root_id = %s AND (path = %s OR lower(doc_id)"
                " = lower(%s) OR lower(uid) = lower(%s)) ORDER BY path = %s DESC,"
                " lower(doc_id) = lower(%s) DESC, path COLLATE \"C\" LIMIT 1",
                (self._root_id, key, key, key, key, key))
        row = cur.fetchone()
        if row is None:
            return None
        doc = dict(zip((d.name for d in cur.description), row))
        links = self._conn.execute("SELECT kind, target FROM lore_links WHERE document_id = %s "
                                   "ORDER BY id", (doc["id"],)).fetchall()
        chunks = [ChunkRecord(int(r[0]), r[1], r[2], tuple(json.loads(r[3])), r[4], r[5])
                  for r in self._conn.execute(
                      "SELECT id, ordinal, kind, heading_path, text, token_estimate "
                      "FROM lore_chunks WHERE document_id = %s ORDER BY ordinal", (doc["id"],))]
        return document_record(doc, links, chunks)

    def stats(self) -> dict[str, Any]:
        """Counts for ``lore status``, for this root only."""
        def one(sql: str) -> int:
            return int(self._conn.execute(sql, (self._root_id,)).fetchone()[0])

        spaces: dict[str, dict[str, Any]] = {}
        for space_id, descriptor in self.spaces().items():
            chunks, pooled = self.vector_count(space_id), self.pooled_count(space_id)
            spaces[space_id] = {"descriptor": descriptor, "chunk_vectors": chunks,
                                "document_vectors": pooled, "vectors": chunks + pooled}
        doctypes = dict(self._conn.execute(
            "SELECT doctype, count(*) FROM lore_documents WHERE root_id = %s GROUP BY doctype "
            "ORDER BY doctype", (self._root_id,)).fetchall())
        return {
            "schema_version": schema_version(self._conn),
            "store": self.url, "store_root": self.name, "text_config": self._config,
            "documents": one("SELECT count(*) FROM lore_documents WHERE root_id = %s"),
            "chunks": one("SELECT count(*) FROM lore_chunks WHERE root_id = %s"),
            "links": one("SELECT count(*) FROM lore_links WHERE root_id = %s"),
            "doctypes": doctypes, "spaces": spaces, "bytes": 0,
        }

    def verify(self) -> list[str]:
        """What disagrees in this root (empty: consistent); ``lore.store.postgres.integrity``."""
        from lore.store.postgres.integrity import verify_store

        return [f"{f.check}: {f.detail}" for f in verify_store(self).problems()]

    @property
    def root_id(self) -> int:
        """This root's row id in ``lore_roots``."""
        return self._root_id

    def query_one(self, sql: str, params: dict[str, object]) -> object:
        """The first column of the first row of a read-only statement (for checks)."""
        return self._conn.execute(sql, params).fetchone()[0]

    def pin_snapshot(self) -> None:
        """Hold a REPEATABLE READ transaction: later reads see the state committed now.

        A server's readers pin the state of the last complete sync, so a sync in
        progress is never seen half done; the pin lasts until ``close``, and a
        pinned store must not be written.
        """
        if self._conn.info.transaction_status == 0:     # IDLE: no transaction yet
            self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self._conn.execute("SELECT count(*) FROM lore_meta").fetchone()

    def drop_root(self) -> None:
        """Delete this root and everything in it (its documents, vectors and meta)."""
        with self._conn.transaction():
            for kind in ("c", "d"):
                for space_id in self.spaces():
                    self._conn.execute(f"DROP INDEX IF EXISTS {self._hnsw_name(kind, space_id)}")
            self._conn.execute("DELETE FROM lore_roots WHERE id = %s", (self._root_id,))

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
