"""SQLite side of document shapes: hub flags, near-duplicate groups, term coverage.

``documents.hub`` says a document mostly lists links (``documents/hubs.py``);
``documents.fingerprint`` is its near-duplicate fingerprint and
``documents.copy_of`` the smallest row id of its group of near-identical
documents (NULL for a document without copies, ``documents/neardup.py``).
A sync writes the first two with each document and regroups copies once at
the end (``refresh_copies``), comparing fingerprints only among documents
that share a title.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from lore.documents.hubs import is_hub
from lore.documents.neardup import Fingerprint, duplicate_groups, fingerprint, title_key
from lore.store.base import Restriction
from lore.store.bm25_memory import KeywordCopy
from lore.store.fact_cache import FactCache, cached
from lore.store.filter_sql import restriction_sql

SCHEMA = """
ALTER TABLE documents ADD COLUMN hub INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN fingerprint BLOB;
ALTER TABLE documents ADD COLUMN shingles INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN copy_of INTEGER;
CREATE INDEX documents_copy_of ON documents(copy_of);
"""

HUB_TYPES = frozenset({"Index"})

NEAR_CHUNKS = 256   # chunk ids this close together are read by seeking, not whole lists


def holders_sql(near: bool) -> str:
    """(term, document id) for each JSON term ?1 held by a chunk of the JSON documents ?2.

    One pass over each term's posting list, joined to those documents' chunks.
    With ``near`` the chunk ids lie within ?3..?4 (one document's chunks are
    adjacent ids): FTS5 then seeks into each list instead of reading it whole.
    """
    bounds = " AND f.rowid BETWEEN ?3 AND ?4" if near else ""
    return ("WITH wanted(chunk, doc) AS MATERIALIZED (SELECT id, document_id FROM chunks"
            " WHERE document_id IN (SELECT value FROM json_each(?2)))"
            " SELECT DISTINCT t.value, w.doc FROM json_each(?1) t CROSS JOIN chunks_fts f"
            f" JOIN wanted w ON w.chunk = f.rowid WHERE f.chunks_fts MATCH t.value{bounds}")


def document_is_hub(doctype: str, body: str) -> bool:
    """A declared index page, or a body that mostly lists links."""
    return doctype in HUB_TYPES or is_hub(body)


def add_shape_columns(conn: sqlite3.Connection) -> None:
    """Migration step: add the columns and fill them for documents already indexed.

    The stored body is enough to compute both, so an existing index needs no re-sync.
    """
    for statement in SCHEMA.strip().split(";\n"):
        conn.execute(statement)
    rows = conn.execute("SELECT id, title, doctype, body FROM documents").fetchall()
    for rowid, title, doctype, body in rows:
        write_shape(conn, int(rowid), title, doctype, body)
    refresh_copies(conn)


def write_shape(conn: sqlite3.Connection, rowid: int, title: str, doctype: str,
                body: str) -> None:
    """Store a document's hub flag and fingerprint (its group is set by ``refresh_copies``)."""
    fp = fingerprint(title, body)
    conn.execute("UPDATE documents SET hub = ?, fingerprint = ?, shingles = ? WHERE id = ?",
                 (int(document_is_hub(doctype, body)), fp.minhash, fp.shingles, rowid))


def refresh_copies(conn: sqlite3.Connection) -> int:
    """Regroup near-identical documents; returns how many documents have copies."""
    by_title: dict[str, list[tuple[int, Fingerprint]]] = {}
    rows = conn.execute("SELECT id, title, fingerprint, shingles FROM documents")
    for rowid, title, minhash, shingles in rows:
        key = title_key(title)
        by_title.setdefault(key, []).append(
            (int(rowid), Fingerprint(key, bytes(minhash or b""), int(shingles))))
    candidates = [item for group in by_title.values() if len(group) > 1 for item in group]
    groups = duplicate_groups(candidates)
    conn.execute("UPDATE documents SET copy_of = NULL WHERE copy_of IS NOT NULL")
    conn.executemany("UPDATE documents SET copy_of = ? WHERE id = ?",
                     [(group, doc) for doc, group in groups.items()])
    return len(groups)


def _ids(values: Collection[int]) -> str:
    return json.dumps(sorted(int(v) for v in values))


class ShapeReadsMixin:
    """The search's questions about document shapes (``lore.store.base.ShapeReads``)."""

    _conn: sqlite3.Connection
    _facts: FactCache

    if TYPE_CHECKING:  # provided by SearchReadsMixin
        def document_facts(self, document_ids: Collection[int]
                           ) -> dict[int, tuple[str, int, int]]: ...

        def document_chunks(self, document_ids: Sequence[int]) -> list[tuple[int, int]]: ...

        def held_keyword_copy(self) -> KeywordCopy | None: ...

    def hub_documents(self, document_ids: Collection[int]) -> set[int]:
        """Which of ``document_ids`` are hubs."""
        return {doc for doc, (_, hub, _) in self.document_facts(document_ids).items() if hub}

    def all_hubs(self) -> set[int]:
        """Every hub document's id."""
        return {int(r[0]) for r in self._conn.execute("SELECT id FROM documents WHERE hub = 1")}

    def copy_groups(self, document_ids: Collection[int]) -> dict[int, int]:
        """Document id -> its copy group, for those of ``document_ids`` that have copies."""
        return {doc: group for doc, (_, _, group) in self.document_facts(document_ids).items()
                if group}

    def copies(self, document_ids: Collection[int],
               restriction: Restriction | None = None) -> dict[int, list[str]]:
        """Document id -> paths of its near-identical copies that ``restriction`` allows."""
        if not document_ids:
            return {}
        sql, params = restriction_sql(restriction) if restriction is not None else ("", [])
        restrict = f" AND o.id IN ({sql})" if restriction is not None else ""
        rows = self._conn.execute(
            "SELECT d.id, o.path FROM documents d JOIN documents o ON o.copy_of = d.copy_of"
            " AND o.id != d.id WHERE d.copy_of IS NOT NULL AND d.id IN"
            f" (SELECT value FROM json_each(?)){restrict} ORDER BY o.path",
            [_ids(document_ids), *params])
        found: dict[int, list[str]] = {}
        for rowid, path in rows:
            found.setdefault(int(rowid), []).append(path)
        return found

    def chunk_headings(self, chunk_ids: Collection[int]) -> dict[int, tuple[str, tuple[str, ...]]]:
        """Chunk id -> (its document's doctype, its heading path)."""
        rows = self._conn.execute(
            "SELECT c.id, d.doctype, c.heading_path FROM chunks c JOIN documents d"
            " ON d.id = c.document_id WHERE c.id IN (SELECT value FROM json_each(?))",
            (_ids(chunk_ids),))
        return {int(cid): (doctype, tuple(json.loads(path))) for cid, doctype, path in rows}

    def first_chunks(self, document_ids: Sequence[int],
                     restriction: Restriction | None = None) -> dict[int, int]:
        """Document id -> its first chunk, for those of ``document_ids`` that pass."""
        sql, params = restriction_sql(restriction) if restriction is not None else ("", [])
        restrict = f" AND c.document_id IN ({sql})" if restriction is not None else ""
        rows = self._conn.execute(
            "SELECT c.document_id, min(c.id) FROM chunks c WHERE c.ordinal = 0 AND"
            f" c.document_id IN (SELECT value FROM json_each(?)){restrict}"
            " GROUP BY c.document_id", [_ids(document_ids), *params])
        return {int(doc): int(chunk) for doc, chunk in rows}

    def term_coverage(self, terms: Sequence[str],
                      document_ids: Collection[int]) -> dict[int, float]:
        """Document id -> IDF-weighted share of the keyword ``terms`` it contains.

        A term weighs ``log(1 + chunks / (1 + chunks matching it))``; a term
        FTS5 cannot parse weighs nothing. Documents with no term get 0.
        """
        total = cached(self._facts, self._conn, "total", [0], lambda _: {0: int(
            self._conn.execute("SELECT count(*) FROM chunks").fetchone()[0])})[0]
        unique = list(dict.fromkeys(terms))
        copy = self.held_keyword_copy()
        from_copy = copy.term_holders(unique, document_ids) if copy is not None else None
        if from_copy is not None:
            counts, holders = from_copy
        else:
            counts = self._term_counts(terms)     # a term FTS5 cannot parse has none
            holders = self._term_holders([t for t in unique if t in counts], document_ids)
        weights = {term: math.log(1.0 + total / (1.0 + counts[term]))
                   for term in unique if term in counts}
        norm = sum(weights.values())
        if not norm:
            return {doc: 0.0 for doc in document_ids}
        return {doc: sum(w for t, w in weights.items() if doc in holders[t]) / norm
                for doc in document_ids}

    def _term_holders(self, terms: list[str],
                      document_ids: Collection[int]) -> dict[str, set[int]]:
        """Term -> which of ``document_ids`` have a chunk holding it (FTS5 parses every term)."""
        holders: dict[str, set[int]] = {term: set() for term in terms}
        chunks = [cid for cid, _ in self.document_chunks(sorted(document_ids))]
        if terms and chunks:
            low, high = min(chunks), max(chunks)
            near = high - low < NEAR_CHUNKS
            params = (json.dumps(terms), _ids(document_ids), *((low, high) if near else ()))
            for term, doc in self._conn.execute(holders_sql(near), params):
                holders[str(term)].add(int(doc))
        return holders

    def _term_counts(self, terms: Sequence[str]) -> dict[str, int]:
        """Term -> how many chunks hold it, for the terms FTS5 can parse."""
        def fetch(unseen: list[str]) -> dict[str, int]:
            try:
                return {str(term): int(count) for term, count in self._conn.execute(
                    "SELECT value, (SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH"
                    " value) FROM json_each(?)", (json.dumps(unseen),))}
            except sqlite3.OperationalError:
                pass    # one of them does not parse: count them one by one
            found: dict[str, int] = {}
            for term in unseen:
                try:
                    (found[term],) = self._conn.execute(
                        "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                        (term,)).fetchone()
                except sqlite3.OperationalError:
                    continue
            return found
        return cached(self._facts, self._conn, "terms", list(dict.fromkeys(terms)), fetch)
