"""SQLite's answers to the search's non-keyword questions (``lore.store.base.SearchReads``).

Lists of ids travel as one JSON parameter (``json_each``), so no statement
grows with its input and every value is a parameter. Inside a read snapshot
the per-chunk and per-document facts come from ``lore.store.fact_cache``
once read: a search reads each only the first time the catalog state has it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from lore.store.base import DocumentIdentity, FirstChunk, HitRow, Restriction
from lore.store.fact_cache import FactCache, cached, catalog_fact
from lore.store.filter_sql import restriction_sql

T = TypeVar("T")


def _ids(values: Collection[int]) -> str:
    """A JSON array of ints, the one parameter of an ``IN (SELECT value FROM json_each(?))``."""
    return json.dumps([int(v) for v in values])


def dates_sql(keys: Sequence[str]) -> str:
    """Rows ``(document id, path, *front matter values of keys)`` for a JSON array of ids."""
    dates = "".join(", json_extract(metadata, ?)" for _ in keys)
    return (f"SELECT id, path{dates} FROM documents"
            " WHERE id IN (SELECT value FROM json_each(?))")


class SearchReadsMixin:
    """Snapshots, facts, texts, links and filtered chunk sets (needs ``_conn``, ``_facts``)."""

    _conn: sqlite3.Connection
    _facts: FactCache

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """Run the block's reads in one transaction, so every leg sees the same catalog.

        In WAL mode a read transaction is a snapshot: a sync committing halfway
        through a search cannot hand one leg a chunk that the next query no
        longer finds. Inside a caller's transaction, that one already is.
        The snapshot's first statement checks which catalog state the cached
        facts must belong to (``FactCache.checked``).
        """
        if self._conn.in_transaction:
            with self._facts.checked(self._conn):
                yield
            return
        self._conn.execute("BEGIN")
        try:
            with self._facts.checked(self._conn):
                yield
        finally:
            self._conn.execute("COMMIT")

    def known_field_keys(self, candidates: Collection[str]) -> set[str]:
        """Which of ``candidates`` are field keys of some document (one indexed query)."""
        if not candidates:
            return set()
        rows = self._conn.execute("SELECT DISTINCT key FROM fields WHERE key IN "
                                  "(SELECT value FROM json_each(?))",
                                  (json.dumps(sorted(candidates)),))
        return {str(key) for (key,) in rows}

    def chunk_texts(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        """Chunk id -> chunk text, in one query."""
        rows = self._conn.execute("SELECT id, text FROM chunks WHERE id IN "
                                  "(SELECT value FROM json_each(?))", (_ids(chunk_ids),))
        return {int(cid): str(text) for cid, text in rows}

    def listing(self, restriction: Restriction, *, limit: int) -> list[int]:
        """The first chunk of every document passing the restriction, by path."""
        doc_sql, params = restriction_sql(restriction)
        rows = self._conn.execute(
            "SELECT (SELECT c.id FROM chunks c WHERE c.document_id = d.id"
            " ORDER BY c.ordinal LIMIT 1) FROM documents d"
            f" WHERE d.id IN ({doc_sql}) ORDER BY d.path LIMIT ?", [*params, limit])
        return [int(cid) for (cid,) in rows if cid is not None]

    def chunk_owners(self, chunk_ids: Sequence[int]) -> dict[int, int]:
        """Chunk id -> document id."""
        def fetch(ids: list[int]) -> dict[int, int]:
            rows = self._conn.execute("SELECT id, document_id FROM chunks WHERE id IN "
                                      "(SELECT value FROM json_each(?))", (_ids(ids),))
            return {int(cid): int(doc) for cid, doc in rows}
        return cached(self._facts, self._conn, "owners", chunk_ids, fetch)

    def document_facts(self, document_ids: Collection[int]) -> dict[int, tuple[str, int, int]]:
        """Document id -> (doctype, hub flag, copy group or 0), the facts boosts ask for."""
        def fetch(ids: list[int]) -> dict[int, tuple[str, int, int]]:
            rows = self._conn.execute("SELECT id, doctype, hub, coalesce(copy_of, 0) FROM"
                                      " documents WHERE id IN (SELECT value FROM json_each(?))",
                                      (_ids(ids),))
            return {int(doc): (str(doctype), int(hub), int(group))
                    for doc, doctype, hub, group in rows}
        return cached(self._facts, self._conn, "documents", set(document_ids), fetch)

    def doctypes(self, document_ids: Collection[int]) -> dict[int, str]:
        """Document id -> document type."""
        return {doc: facts[0] for doc, facts in self.document_facts(document_ids).items()}

    def document_dates(self, document_ids: Collection[int],
                       keys: Sequence[str]) -> dict[int, tuple[str, tuple[object, ...]]]:
        """Document id -> (path, the front matter values of ``keys``)."""
        paths = [f'$."{key}"' for key in keys]

        def fetch(ids: list[int]) -> dict[int, tuple[str, tuple[object, ...]]]:
            rows = self._conn.execute(dates_sql(keys), (*paths, _ids(sorted(ids))))
            return {int(doc): (str(path), tuple(dates)) for doc, path, *dates in rows}
        return cached(self._facts, self._conn, "dates:" + json.dumps(list(keys)),
                      set(document_ids), fetch)

    def hit_rows(self, chunk_ids: Sequence[int]) -> dict[int, HitRow]:
        """Document and chunk facts for the chunks that become hits, in one query."""
        rows = self._conn.execute(
            "SELECT c.id, c.ordinal, c.kind, c.heading_path, d.path, d.doc_id,"
            " d.title, d.doctype, d.metadata FROM chunks c JOIN documents d"
            " ON d.id = c.document_id WHERE c.id IN (SELECT value FROM json_each(?))",
            (_ids(chunk_ids),))
        return {int(cid): HitRow(*rest) for cid, *rest in rows}

    def first_chunk(self, document_id: int) -> FirstChunk:
        """A document's front matter and first chunk (empty for a chunkless document)."""
        row = self._conn.execute(
            "SELECT d.metadata, coalesce(c.text, ''), coalesce(c.kind, 'document')"
            " FROM documents d LEFT JOIN chunks c ON c.document_id = d.id AND c.ordinal = 0"
            " WHERE d.id = ?", (document_id,)).fetchone()
        return FirstChunk(json.loads(row[0]), str(row[1]), str(row[2]))

    def chunk_text_at(self, path: str, ordinal: int) -> str:
        """The text of one chunk by document path and position ("" when gone)."""
        row = self._conn.execute("SELECT c.text FROM chunks c JOIN documents d"
                                 " ON d.id = c.document_id WHERE d.path = ? AND c.ordinal = ?",
                                 (path, ordinal)).fetchone()
        return "" if row is None else str(row[0])

    def document_identities(self) -> list[DocumentIdentity]:
        """Every document's identity, for link resolution."""
        rows = self._conn.execute("SELECT id, path, doc_id, uid, title, doctype FROM documents")
        return [DocumentIdentity(*row) for row in rows]

    def stored_links(self) -> list[tuple[int, str, str]]:
        """Every link as written: (source document id, kind, target)."""
        return [(int(doc), str(kind), str(target)) for doc, kind, target in
                self._conn.execute("SELECT document_id, kind, target FROM links")]

    def catalog_fact(self, name: str, build: Callable[[], T]) -> T:
        """``build()``, kept in the fact cache while the catalog state stands."""
        return catalog_fact(self._facts, self._conn, name, build)

    def allowed_chunks(self, restriction: Restriction) -> list[tuple[int, int]]:
        """(chunk id, document id) of every chunk of the allowed documents, by chunk id."""
        doc_sql, params = restriction_sql(restriction)
        rows = self._conn.execute(f"SELECT id, document_id FROM chunks WHERE document_id IN"
                                  f" ({doc_sql}) ORDER BY id", params)
        return [(int(cid), int(doc)) for cid, doc in rows]

    def document_chunks(self, document_ids: Sequence[int]) -> list[tuple[int, int]]:
        """(chunk id, document id) of the given documents' chunks, by document then chunk."""
        def fetch(ids: list[int]) -> dict[int, list[int]]:
            rows = self._conn.execute("SELECT id, document_id FROM chunks WHERE document_id IN"
                                      " (SELECT value FROM json_each(?)) ORDER BY id",
                                      (_ids(ids),))
            found: dict[int, list[int]] = {}
            for cid, doc in rows:
                found.setdefault(int(doc), []).append(int(cid))
            return found
        found = cached(self._facts, self._conn, "chunks", set(document_ids), fetch)
        return [(cid, doc) for doc in sorted(found) for cid in found[doc]]
