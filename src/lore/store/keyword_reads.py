"""SQLite's keyword questions: BM25 rankings, marked snippets, ids and field facts.

The rankings live in ``lore.store.bm25`` (document-level BM25 mixed with the
best chunk's, exact common-term pruning), the id forms and field lookups in
``lore.store.lookups``; this mixin binds them to the catalog connection and
turns a ``Restriction`` into its SQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from lore.store import bm25, lookups
from lore.store.base import Restriction
from lore.store.filter_sql import fts_match, restriction_sql


class KeywordReadsMixin:
    """The keyword questions of ``lore.store.base.SearchReads`` (needs ``_conn``)."""

    _conn: sqlite3.Connection

    def keyword_ranking(self, terms: Sequence[str], *, weights: tuple[float, float, float],
                        limit: int, restriction: Restriction | None,
                        per_document: bool = False,
                        share: float = 0.5) -> list[tuple[int, float]]:
        """The best ``limit`` chunks, or documents, by weighted BM25: (chunk id, score).

        Args:
            terms: quoted keyword terms (see ``lore.store.base``); any may match,
                a repeated term counts again.
            weights: BM25 weights for the title, headings and body columns.
            limit: how many chunks (documents) to return.
            restriction: only chunks of the documents it allows.
            per_document: rank documents, each as its best chunk (``bm25.rank_documents``).
            share: the document-level part of a document's score.
        """
        doc_filter = restriction_sql(restriction) if restriction is not None else None
        if per_document:
            return [(hit.chunk_id, hit.score) for hit in bm25.rank_documents(
                self._conn, terms, weights=weights, share=share, limit=limit,
                doc_filter=doc_filter)]
        return bm25.rank(self._conn, bm25.CHUNKS, terms, weights=(*weights, weights[2]),
                         limit=limit, doc_filter=doc_filter)

    def marked_snippets(self, terms: Sequence[str], chunk_ids: Sequence[int], *,
                        marks: tuple[str, str], tokens: int) -> dict[int, str]:
        """FTS5 ``snippet()`` of the body column for the chunks that match a term."""
        match = fts_match(terms)
        if match is None or not chunk_ids:
            return {}
        rows = self._conn.execute(
            "SELECT rowid, snippet(chunks_fts, 2, ?, ?, '…', ?) FROM chunks_fts"
            " WHERE chunks_fts MATCH ? AND +rowid IN (SELECT value FROM json_each(?))",
            [marks[0], marks[1], tokens, match, json.dumps([int(i) for i in chunk_ids])])
        return {int(rowid): str(text) for rowid, text in rows}

    def id_matches(self, candidate: str, *, form: str, restriction: Restriction | None,
                   prefer: Sequence[int]) -> list[tuple[int, str]]:
        """(chunk id, doc id) of the documents ``candidate`` names in ``form``
        (``lore.store.lookups.ID_FORMS``)."""
        doc_filter = restriction_sql(restriction) if restriction is not None else None
        return lookups.find_ids(self._conn, candidate, form, doc_filter=doc_filter,
                                prefer=prefer)

    def field_keys(self) -> list[str]:
        """Every field key of some document, sorted."""
        return lookups.field_keys(self._conn)

    def unknown_field_values(self, key: str, values: Sequence[str]) -> list[str]:
        """Those of ``values`` that no document has for ``key``."""
        return lookups.unknown_field_values(self._conn, key, values)

    def field_values(self, key: str, *, limit: int) -> tuple[list[str], int]:
        """Up to ``limit`` distinct values of ``key``, sorted, and how many there are."""
        return lookups.field_values(self._conn, key, limit=limit)
