"""PostgreSQL's answers to the search's questions about document shapes.

Hub pages are flagged at sync with the same test as the SQLite catalog
(``lore.store.shapes.document_is_hub``, ``lore_documents.hub``); copies are
not grouped on this backend yet (every document stands alone). Keyword
coverage reads the same postings as the BM25 leg, in one statement.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from lore.store.base import Restriction
from lore.store.postgres.bm25 import coverage


class PgShapeReadsMixin:
    """Hub flags, copy groups, chunk headings, first chunks and keyword coverage."""

    _conn: Any
    _root_id: int
    _config: str

    if TYPE_CHECKING:  # provided by PgSearchReadsMixin
        def _stem(self, words: Iterable[str]) -> dict[str, str | None]: ...

        def _restrict(self, restriction: Restriction | None,
                      column: str) -> tuple[str, list[object]]: ...

    def hub_documents(self, document_ids: Collection[int]) -> set[int]:
        """Which of ``document_ids`` are hubs (their bodies mostly list links)."""
        rows = self._conn.execute(
            "SELECT id FROM lore_documents WHERE id = ANY(%s) AND root_id = %s AND hub",
            (sorted({int(i) for i in document_ids}), self._root_id))
        return {int(doc) for (doc,) in rows}

    def all_hubs(self) -> set[int]:
        """Every hub document's id."""
        rows = self._conn.execute("SELECT id FROM lore_documents WHERE root_id = %s AND hub",
                                  (self._root_id,))
        return {int(doc) for (doc,) in rows}

    def copy_groups(self, document_ids: Collection[int]) -> dict[int, int]:
        """No copy groups on this backend yet: every document stands alone."""
        return {}

    def copies(self, document_ids: Collection[int],
               restriction: Restriction | None = None) -> dict[int, list[str]]:
        """No copy groups on this backend yet."""
        return {}

    def refresh_copies(self) -> int:
        """No copy groups on this backend yet."""
        return 0

    def chunk_headings(self, chunk_ids: Collection[int]) -> dict[int, tuple[str, tuple[str, ...]]]:
        """Chunk id -> (its document's doctype, its heading path)."""
        rows = self._conn.execute(
            "SELECT c.id, d.doctype, c.heading_path FROM lore_chunks c JOIN lore_documents d"
            " ON d.id = c.document_id WHERE c.id = ANY(%s) AND c.root_id = %s",
            ([int(i) for i in chunk_ids], self._root_id))
        return {int(cid): (str(doctype), tuple(json.loads(path))) for cid, doctype, path in rows}

    def first_chunks(self, document_ids: Sequence[int],
                     restriction: Restriction | None = None) -> dict[int, int]:
        """Document id -> its first chunk, for those of ``document_ids`` that pass."""
        where, extra = self._restrict(restriction, "c.document_id")
        rows = self._conn.execute(
            "SELECT c.document_id, min(c.id) FROM lore_chunks c WHERE c.ordinal = 0 AND"
            f" c.document_id = ANY(%s) AND c.root_id = %s{where} GROUP BY c.document_id",
            [[int(i) for i in document_ids], self._root_id, *extra])
        return {int(doc): int(chunk) for doc, chunk in rows}

    def term_coverage(self, terms: Sequence[str],
                      document_ids: Collection[int]) -> dict[int, float]:
        """Document id -> IDF-weighted share of the keyword ``terms`` it contains.

        A term weighs ``log(1 + chunks / (1 + chunks matching it))``, as on the
        local store; a term without a word weighs nothing. One statement.
        """
        docs = sorted({int(i) for i in document_ids})
        statement = coverage(terms, root_id=self._root_id, stem=self._stem, documents=docs)
        if statement is None:
            return dict.fromkeys(docs, 0.0)
        found, distinct = statement
        counts: dict[int, tuple[int, set[int]]] = {
            int(t): (int(n), {int(d) for d in holders or ()})
            for t, n, holders in self._conn.execute(found.sql, found.params)}
        total = counts.pop(-1)[0]
        weights = {t: math.log(1.0 + total / (1.0 + counts.get(t, (0, set()))[0]))
                   for t in range(len(distinct))}
        norm = sum(weights.values())
        if not norm:
            return dict.fromkeys(docs, 0.0)
        return {doc: sum(w for t, w in weights.items() if doc in counts.get(t, (0, set()))[1])
                / norm for doc in docs}
