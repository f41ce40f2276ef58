"""PostgreSQL's answers to the search's questions (``lore.store.base.SearchReads``).

Every statement is scoped to the store's root (``root_id``), so roots that
share a database never see each other's documents. Paths sort with the "C"
collation, as SQLite sorts them, so listings and id ties come out in the same
order on both backends. The keyword score is BM25 as the local index computes
it, documents and chunks, in the database (``store.postgres.bm25``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from lore.store.base import DocumentIdentity, FirstChunk, HitRow, Restriction
from lore.store.fields import field_spelling
from lore.store.postgres.bm25 import ranking
from lore.store.postgres.ids import id_condition
from lore.store.postgres.sql import restriction_sql, tsquery_sql
from lore.store.postgres.stems import first_lexemes
from lore.store.postgres.writes import CHANGES_KEY

T = TypeVar("T")

_NO_RANK = 2_147_483_647      # sorts a chunk missing from the preference list last


class PgSearchReadsMixin:
    """The read side of a ``PostgresStore`` (which provides the attributes below)."""

    _conn: Any
    _root_id: int
    _config: str
    _facts: dict[str, object]       # catalog facts of the state named by ``_facts_state``
    _facts_state: str | None

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """One REPEATABLE READ transaction: every leg sees the same committed state."""
        pq = self._conn.info.transaction_status
        if pq != 0:            # already inside a transaction (IDLE is 0)
            yield
            return
        with self._conn.transaction():
            self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield

    def _stem(self, words: Iterable[str]) -> dict[str, str | None]:
        """Word -> its lexeme in this root's postings (``store.postgres.stems``)."""
        return first_lexemes(self._conn, self._config, words)

    def _restrict(self, restriction: Restriction | None, column: str) -> tuple[str, list[object]]:
        if restriction is None:
            return "", []
        sql, params = restriction_sql(restriction, self._root_id, self._stem)
        return f" AND {column} IN ({sql})", params

    def known_field_keys(self, candidates: Collection[str]) -> set[str]:
        """Which of ``candidates`` are field keys of some document of this root."""
        if not candidates:
            return set()
        rows = self._conn.execute("SELECT DISTINCT key FROM lore_fields WHERE root_id = %s "
                                  "AND key = ANY(%s)", (self._root_id, sorted(candidates)))
        return {str(key) for (key,) in rows}

    def keyword_ranking(self, terms: Sequence[str], *, weights: tuple[float, float, float],
                        limit: int, restriction: Restriction | None,
                        per_document: bool = False, share: float = 0.5,
                        pairs: Sequence[str] = (),
                        pair_weight: float = 0.0) -> list[tuple[int, float]]:
        """The best ``limit`` chunks, or documents, by BM25 as the local index scores them
        (``store.postgres.bm25``, one statement): (chunk id, score), best first. The
        arguments mean what they mean for ``lore.store.base.SearchReads.keyword_ranking``,
        term proximity (``pairs``, ``pair_weight``) included.
        """
        allowed = (restriction_sql(restriction, self._root_id, self._stem)
                   if restriction is not None else None)
        statement = ranking(terms, root_id=self._root_id, stem=self._stem, weights=weights,
                            share=share, limit=limit, per_document=per_document,
                            restriction=allowed, pairs=pairs, pair_weight=pair_weight)
        if statement is None or limit < 1:
            return []
        rows = self._conn.execute(statement.sql, statement.params).fetchall()
        if not per_document:
            return [(int(cid), float(score)) for cid, score in rows]
        return [(int(cid), float(score)) for _, cid, score in rows if cid is not None]

    def marked_snippets(self, terms: Sequence[str], chunk_ids: Sequence[int], *,
                        marks: tuple[str, str], tokens: int) -> dict[int, str]:
        """``ts_headline`` of the body for the chunks that match a term."""
        query = tsquery_sql(terms, self._stem)
        if query is None or not chunk_ids:
            return {}
        options = (f'StartSel="{marks[0]}", StopSel="{marks[1]}", MaxWords={tokens}, '
                   f"MinWords={max(1, tokens - 1)}, ShortWord=0")
        rows = self._conn.execute(
            f"SELECT c.id, ts_headline(%s::regconfig, c.text, q.q, %s)"
            f" FROM lore_chunks c, (SELECT {query[0]} AS q) q"
            f" WHERE c.id = ANY(%s) AND c.root_id = %s AND c.tsv @@ q.q",
            [self._config, options, *query[1], [int(i) for i in chunk_ids], self._root_id])
        return {int(cid): str(text) for cid, text in rows}

    def chunk_texts(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        """Chunk id -> chunk text."""
        rows = self._conn.execute("SELECT id, text FROM lore_chunks WHERE id = ANY(%s) "
                                  "AND root_id = %s", ([int(i) for i in chunk_ids], self._root_id))
        return {int(cid): str(text) for cid, text in rows}

    def id_matches(self, candidate: str, *, form: str, restriction: Restriction | None,
                   prefer: Sequence[int]) -> list[tuple[int, str]]:
        """(chunk id, doc id) of the documents ``candidate`` names in ``form``
        (``lore.store.lookups``), by index lookups (``store.postgres.ids``)."""
        where, extra = self._restrict(restriction, "d.id")
        pick = ("SELECT (SELECT c.id FROM lore_chunks c WHERE c.document_id = d.id ORDER BY"
                f" coalesce(array_position(%s::bigint[], c.id), {_NO_RANK}), c.ordinal LIMIT 1),"
                " d.doc_id FROM lore_documents d WHERE d.root_id = %s AND ")
        match, values = id_condition(candidate, form, self._root_id)
        rows = self._conn.execute(f"{pick}{match}{where} ORDER BY d.path COLLATE \"C\"",
                                  [[int(i) for i in prefer], self._root_id, *values, *extra])
        return [(int(cid), str(doc_id)) for cid, doc_id in rows if cid is not None]

    def field_keys(self) -> list[str]:
        """Every field key of some document of this root, sorted."""
        rows = self._conn.execute("SELECT DISTINCT key COLLATE \"C\" AS k FROM lore_fields"
                                  " WHERE root_id = %s ORDER BY k", (self._root_id,))
        return [str(k) for (k,) in rows]

    def unknown_field_values(self, key: str, values: Sequence[str]) -> list[str]:
        """Those of ``values`` that no document of this root has for ``key``."""
        rows = self._conn.execute(
            "SELECT v FROM unnest(%s::text[]) v WHERE v NOT IN (SELECT value FROM lore_fields"
            " WHERE root_id = %s AND key = %s)", (list(values), self._root_id, key))
        return [str(v) for (v,) in rows]

    def field_values(self, key: str, *, limit: int) -> tuple[list[str], int]:
        """Up to ``limit`` distinct values of ``key``, sorted, and how many there are."""
        rows = [str(v) for (v,) in self._conn.execute(
            "SELECT DISTINCT value COLLATE \"C\" AS v FROM lore_fields"
            " WHERE root_id = %s AND key = %s ORDER BY v", (self._root_id, key))]
        return rows[:limit], len(rows)

    def field_spellings(self, key: str, values: Sequence[str]) -> dict[str, str]:
        """Each of ``values`` of ``key`` as one document of this root writes it."""
        rows = self._conn.execute(
            "SELECT DISTINCT ON (f.value) f.value, d.metadata FROM lore_fields f"
            " JOIN lore_documents d ON d.id = f.document_id WHERE f.root_id = %s AND f.key = %s"
            " AND f.value = ANY(%s) ORDER BY f.value, d.id", (self._root_id, key, list(values)))
        return {str(value): field_spelling(json.loads(metadata), key, str(value))
                for value, metadata in rows}

    def listing(self, restriction: Restriction, *, limit: int) -> list[int]:
        """The first chunk of each document passing the restriction, by path."""
        doc_sql, params = restriction_sql(restriction, self._root_id, self._stem)
        rows = self._conn.execute(
            "SELECT (SELECT c.id FROM lore_chunks c WHERE c.document_id = d.id"
            " ORDER BY c.ordinal LIMIT 1) FROM lore_documents d"
            f" WHERE d.id IN ({doc_sql}) ORDER BY d.path COLLATE \"C\" LIMIT %s",
            [*params, limit])
        return [int(cid) for (cid,) in rows if cid is not None]

    def chunk_owners(self, chunk_ids: Sequence[int]) -> dict[int, int]:
        """Chunk id -> document id."""
        rows = self._conn.execute("SELECT id, document_id FROM lore_chunks WHERE id = ANY(%s) "
                                  "AND root_id = %s", ([int(i) for i in chunk_ids], self._root_id))
        return {int(cid): int(doc) for cid, doc in rows}

    def doctypes(self, document_ids: Collection[int]) -> dict[int, str]:
        """Document id -> document type."""
        rows = self._conn.execute("SELECT id, doctype FROM lore_documents WHERE id = ANY(%s) "
                                  "AND root_id = %s",
                                  (sorted({int(i) for i in document_ids}), self._root_id))
        return {int(doc): str(doctype) for doc, doctype in rows}

    def document_dates(self, document_ids: Collection[int],
                       keys: Sequence[str]) -> dict[int, tuple[str, tuple[object, ...]]]:
        """Document id -> (path, the front matter values of ``keys``)."""
        values = "".join(", metadata::jsonb -> %s" for _ in keys)
        rows = self._conn.execute(
            f"SELECT id, path{values} FROM lore_documents WHERE id = ANY(%s) AND root_id = %s",
            [*keys, sorted({int(i) for i in document_ids}), self._root_id])
        return {int(doc): (str(path), tuple(dates)) for doc, path, *dates in rows}

    def hit_rows(self, chunk_ids: Sequence[int]) -> dict[int, HitRow]:
        """Chunk id -> what its hit shows."""
        rows = self._conn.execute(
            "SELECT c.id, c.ordinal, c.kind, c.heading_path, d.path, d.doc_id, d.title,"
            " d.doctype, d.metadata FROM lore_chunks c JOIN lore_documents d"
            " ON d.id = c.document_id WHERE c.id = ANY(%s) AND c.root_id = %s",
            ([int(i) for i in chunk_ids], self._root_id))
        return {int(cid): HitRow(*rest) for cid, *rest in rows}

    def first_chunk(self, document_id: int) -> FirstChunk:
        """A document's front matter and first chunk."""
        row = self._conn.execute(
            "SELECT d.metadata, coalesce(c.text, ''), coalesce(c.kind, 'document')"
            " FROM lore_documents d LEFT JOIN lore_chunks c"
            " ON c.document_id = d.id AND c.ordinal = 0 WHERE d.id = %s AND d.root_id = %s",
            (document_id, self._root_id)).fetchone()
        return FirstChunk(json.loads(row[0]), str(row[1]), str(row[2]))

    def chunk_text_at(self, path: str, ordinal: int) -> str:
        """The text of one chunk by document path and position ("" when gone)."""
        row = self._conn.execute(
            "SELECT c.text FROM lore_chunks c JOIN lore_documents d ON d.id = c.document_id"
            " WHERE d.root_id = %s AND d.path = %s AND c.ordinal = %s",
            (self._root_id, path, ordinal)).fetchone()
        return "" if row is None else str(row[0])

    def document_identities(self) -> list[DocumentIdentity]:
        """Every document's identity, for link resolution."""
        rows = self._conn.execute("SELECT id, path, doc_id, uid, title, doctype "
                                  "FROM lore_documents WHERE root_id = %s ORDER BY id",
                                  (self._root_id,))
        return [DocumentIdentity(*row) for row in rows]

    def stored_links(self) -> list[tuple[int, str, str]]:
        """Every link of this root as written: (source document id, kind, target)."""
        rows = self._conn.execute("SELECT document_id, kind, target FROM lore_links "
                                  "WHERE root_id = %s ORDER BY id", (self._root_id,))
        return [(int(doc), str(kind), str(target)) for doc, kind, target in rows]

    def catalog_fact(self, name: str, build: Callable[[], T]) -> T:
        """``build()`` once per catalog state of this root (the link graph's neighbour table).

        The state is ``writes.CHANGES_KEY``, which every document or link write
        moves, from any connection. It is read before ``build``: a write
        committed in between leaves a fact newer than its state, rebuilt at
        the next call, never an older one. Inside a snapshot both see the same.
        """
        row = self._conn.execute("SELECT value FROM lore_meta WHERE root_id = %s AND key = %s",
                                 (self._root_id, CHANGES_KEY)).fetchone()
        state = "" if row is None else str(row[0])
        if state != self._facts_state:
            self._facts, self._facts_state = {}, state
        if name not in self._facts:
            self._facts[name] = build()
        fact: T = self._facts[name]  # type: ignore[assignment]
        return fact

    def allowed_chunks(self, restriction: Restriction) -> list[tuple[int, int]]:
        """(chunk id, document id) of every chunk of the allowed documents, by chunk id."""
        doc_sql, params = restriction_sql(restriction, self._root_id, self._stem)
        rows = self._conn.execute(f"SELECT id, document_id FROM lore_chunks WHERE document_id"
                                  f" IN ({doc_sql}) ORDER BY id", params)
        return [(int(cid), int(doc)) for cid, doc in rows]

    def document_chunks(self, document_ids: Sequence[int]) -> list[tuple[int, int]]:
        """(chunk id, document id) of the given documents' chunks, by document then chunk."""
        rows = self._conn.execute("SELECT id, document_id FROM lore_chunks WHERE document_id = "
                                  "ANY(%s) AND root_id = %s ORDER BY document_id, id",
                                  ([int(i) for i in document_ids], self._root_id))
        return [(int(cid), int(doc)) for cid, doc in rows]
