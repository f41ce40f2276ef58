"""PostgreSQL sync writes (``lore.store.base.SyncWrites``): documents, chunks, links, fields, meta.

A document and everything hanging off it is written in one transaction, with
its keyword data (the chunks' ``tsvector``, title weight A, headings B, body C;
document and chunk lengths; BM25 postings) written by
``lore.store.postgres.terms`` with the root's text-search configuration. The document
keeps its row id across edits; its chunks get fresh ids, and its pooled
document vector is dropped with them (it is pooled again by the next vector
refresh), so a stale vector never outlives its chunks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from lore.documents.model import Chunk, Document
from lore.store.base import FileState
from lore.store.fields import flatten_fields
from lore.store.postgres.terms import index_terms
from lore.store.shapes import document_is_hub

_DOCUMENT_COLUMNS = ("path", "doc_id", "uid", "title", "doctype", "metadata", "body",
                     "content_hash", "size", "mtime_ns", "chunker_version", "indexed_at", "hub")

CHANGES_KEY = "catalog_changes"
"""The ``lore_meta`` key naming this root's catalog state: ``"<xid>:<count>"``.

Every write of documents or links sets it to the writing transaction's id
and one more than the count before, so no two states share a value: another
transaction has another id (a rolled-back one never commits its value), and
each write inside one transaction moves the count. The PostgreSQL store keeps
catalog facts (``PgSearchReadsMixin.catalog_fact``) only while it stands.
"""


class PgSyncWritesMixin:
    """The write side of a ``PostgresStore`` (which provides the attributes below)."""

    _conn: Any
    _root_id: int
    _config: str

    def transaction(self) -> AbstractContextManager[object]:
        """All writes inside commit together; nested blocks become savepoints."""
        return self._conn.transaction()

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A stored fact about this root, or ``default``."""
        row = self._conn.execute("SELECT value FROM lore_meta WHERE root_id = %s AND key = %s",
                                 (self._root_id, key)).fetchone()
        return default if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a stored fact about this root."""
        self._conn.execute("INSERT INTO lore_meta(root_id, key, value) VALUES (%s, %s, %s) "
                           "ON CONFLICT (root_id, key) DO UPDATE SET value = EXCLUDED.value",
                           (self._root_id, key, value))

    def _catalog_changed(self) -> None:
        """Move this root's catalog state (``CHANGES_KEY``); inside the write's transaction."""
        self._conn.execute(
            "INSERT INTO lore_meta(root_id, key, value) VALUES (%s, %s, txid_current() || ':1')"
            " ON CONFLICT (root_id, key) DO UPDATE SET value = txid_current() || ':' ||"
            " (split_part(lore_meta.value, ':', 2)::bigint + 1)", (self._root_id, CHANGES_KEY))

    def document_states(self) -> dict[str, FileState]:
        """Path -> what was indexed, for change detection."""
        rows = self._conn.execute("SELECT path, size, mtime_ns, content_hash, chunker_version "
                                  "FROM lore_documents WHERE root_id = %s", (self._root_id,))
        return {path: FileState(int(size), int(mtime), digest, version)
                for path, size, mtime, digest, version in rows}

    def replace_document(self, doc: Document, chunks: Sequence[Chunk],
                         chunker_version: str) -> list[int]:
        """Write ``doc`` with its chunks, links and fields; return the new chunk ids in order."""
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _DOCUMENT_COLUMNS[1:])
        with self._conn.transaction():
            self._catalog_changed()
            (doc_rowid,) = self._conn.execute(
                f"INSERT INTO lore_documents(root_id, {', '.join(_DOCUMENT_COLUMNS)}) VALUES "
                f"(%s, {', '.join(['%s'] * len(_DOCUMENT_COLUMNS))}) "
                f"ON CONFLICT (root_id, path) DO UPDATE SET {updates} RETURNING id",
                (self._root_id, doc.path, doc.doc_id, doc.uid, doc.title, doc.doctype,
                 json.dumps(doc.metadata, ensure_ascii=False, default=str), doc.body,
                 doc.content_hash, doc.size, doc.mtime_ns, chunker_version, time.time(),
                 document_is_hub(doc.doctype, doc.body)),
            ).fetchone()
            for table in ("lore_chunks", "lore_links", "lore_fields", "lore_document_vectors"):
                self._conn.execute(f"DELETE FROM {table} WHERE document_id = %s", (doc_rowid,))
            rows = self._conn.execute(
                "INSERT INTO lore_chunks(document_id, root_id, ordinal, kind, heading_path, text,"
                " token_estimate, tsv, token_count) SELECT %s, %s, o, k, h, t, e, '', 0"
                " FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::int[])"
                " AS u(o, k, h, t, e) ORDER BY o RETURNING id, ordinal",
                (doc_rowid, self._root_id,
                 [c.ordinal for c in chunks], [c.kind for c in chunks],
                 [json.dumps(list(c.heading_path), ensure_ascii=False) for c in chunks],
                 [c.text for c in chunks], [c.token_estimate for c in chunks])).fetchall()
            by_ordinal = {int(ordinal): int(cid) for cid, ordinal in rows}
            index_terms(self._conn, self._root_id, self._config, doc_rowid, doc.title,
                        doc.body, [(by_ordinal[c.ordinal], " > ".join(c.heading_path), c.text)
                                   for c in chunks])
            self._conn.execute(
                "INSERT INTO lore_links(document_id, root_id, kind, target)"
                " SELECT %s, %s, k, t FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY"
                " AS u(k, t, n) ORDER BY n",
                (doc_rowid, self._root_id, [link.kind for link in doc.links],
                 [link.target for link in doc.links]))
            fields = flatten_fields(doc.metadata)
            self._conn.execute(
                "INSERT INTO lore_fields(document_id, root_id, key, value)"
                " SELECT %s, %s, k, v FROM unnest(%s::text[], %s::text[]) AS u(k, v)",
                (doc_rowid, self._root_id, [k for k, _ in fields], [v for _, v in fields]))
            return [by_ordinal[o] for o in sorted(by_ordinal)]

    def update_file_state(self, path: str, size: int, mtime_ns: int) -> None:
        """Record a new size/mtime for a file whose content hash did not change."""
        self._conn.execute("UPDATE lore_documents SET size = %s, mtime_ns = %s "
                           "WHERE root_id = %s AND path = %s",
                           (size, mtime_ns, self._root_id, path))

    def rename(self, old_path: str, new_path: str) -> None:
        """Move a document to a new path, keeping its row id."""
        with self._conn.transaction():
            self._catalog_changed()
            self._conn.execute("UPDATE lore_documents SET path = %s WHERE root_id = %s "
                               "AND path = %s", (new_path, self._root_id, old_path))

    def delete_documents(self, paths: Iterable[str]) -> int:
        """Delete documents by path, with their chunks, links, fields and vectors."""
        with self._conn.transaction():
            self._catalog_changed()
            cur = self._conn.execute("DELETE FROM lore_documents WHERE root_id = %s "
                                     "AND path = ANY(%s)", (self._root_id, list(paths)))
            return int(cur.rowcount)

    def duplicate_doc_ids(self) -> dict[str, list[str]]:
        """Doc ids (case-insensitive) held by more than one file -> their paths."""
        rows = self._conn.execute(
            "SELECT min(doc_id), array_agg(path ORDER BY path COLLATE \"C\") FROM lore_documents"
            " WHERE root_id = %s GROUP BY lower(doc_id) HAVING count(*) > 1 ORDER BY 1",
            (self._root_id,))
        return {doc_id: list(paths) for doc_id, paths in rows}
