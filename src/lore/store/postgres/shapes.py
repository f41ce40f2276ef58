"""PostgreSQL's answers to the search's questions about document shapes.

Hub pages and near-identical copies are recognised from the stored body at
query time here (the SQLite catalog stores them at sync): ``hub_documents``
runs the same test (``lore.store.shapes.document_is_hub``) on the candidates'
bodies, and copies are not grouped on this backend yet (every document
stands alone). Keyword coverage uses the same term queries as the BM25 leg.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from lore.store.base import Restriction
from lore.store.postgres.sql import term_query
from lore.store.shapes import document_is_hub


class PgShapeReadsMixin:
    """Hub flags, copy groups, chunk headings, first chunks and keyword coverage."""

    _conn: Any
    _root_id: int
    _config: str

    if TYPE_CHECKING:  # provided by PgSearchReadsMixin
        def _restrict(self, restriction: Restriction | None,
                      column: str) -> tuple[str, list[object]]: ...

    def hub_documents(self, document_ids: Collection[int]) -> set[int]:
        """Which of ``document_ids`` are hubs (their bodies mostly list links)."""
        rows = self._conn.execute(
            "SELECT id, doctype, body FROM lore_documents WHERE id = ANY(%s) AND root_id = %s",
            (sorted({int(i) for i in document_ids}), self._root_id))
        return {int(doc) for doc, doctype, body in rows if document_is_hub(doctype, body)}

    def all_hubs(self) -> set[int]:
        """Every hub document's id."""
        rows = self._conn.execute("SELECT id FROM lore_documents WHERE root_id = %s",
                                  (self._root_id,))
        return self.hub_documents([int(r[0]) for r in rows])

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
        """Document id -> IDF-weighted share of the keyword ``terms`` it contains."""
        docs = sorted({int(i) for i in document_ids})
        (total,) = self._conn.execute("SELECT count(*) FROM lore_chunks WHERE root_id = %s",
                                      (self._root_id,)).fetchone()
        weights: dict[str, float] = {}
        holders: dict[str, set[int]] = {}
        for term in dict.fromkeys(terms):
            query = term_query(term, self._config)
            if query is None:
                continue
            sql, params = query
            (count,) = self._conn.execute(
                f"SELECT count(*) FROM lore_chunks WHERE root_id = %s AND tsv @@ {sql}",
                [self._root_id, *params]).fetchone()
            rows = self._conn.execute(
                "SELECT DISTINCT document_id FROM lore_chunks WHERE root_id = %s AND"
                f" document_id = ANY(%s) AND tsv @@ {sql}", [self._root_id, docs, *params])
            weights[term] = math.log(1.0 + int(total) / (1.0 + int(count)))
            holders[term] = {int(r[0]) for r in rows}
        norm = sum(weights.values())
        if not norm:
            return dict.fromkeys(docs, 0.0)
        return {doc: sum(w for t, w in weights.items() if doc in holders[t]) / norm
                for doc in docs}
