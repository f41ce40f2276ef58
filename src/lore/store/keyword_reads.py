"""SQLite's keyword questions: BM25 over ``chunks_fts``, marked snippets, id lookups.

Column weights (title, headings, body) are bound as parameters of
``bm25(chunks_fts, ...)``. (FTS5's ``rank MATCH 'bm25(...)'`` override
measured ~5x slower on the kano corpus: it evaluates the rank function
through a nested statement per row.) BM25 in FTS5 is "lower is better"; the
ranking reports the negated value so that scores read "higher is better".

Restrictions on ``rowid`` are written ``+rowid IN (...)``: the unary plus
keeps SQLite from handing the IN list to FTS5 as a rowid constraint, which
makes FTS5 re-run the whole MATCH once per listed rowid (300 ms instead of
1 ms for a filter that passes a few thousand chunks).

Common terms (the "cutoff frequency" of Lucene's common-terms query): BM25
costs time per matching row, and a word in half the chunks ("backlog" in a
backlog) makes every row match while adding almost nothing to any score
(its IDF is near zero). When a query mixes such common terms with rarer
ones, only chunks that match a rarer term are candidates; their scores
still count every term. On the kano corpus this takes "Backlog Structure and
MOC" from 10 ms to 1 ms with the same top 100. A query of common terms only
is run as is.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from lore.store.base import Restriction
from lore.store.filter_sql import fts_match, restriction_sql

COMMON_FRACTION = 0.2
COMMON_MIN_ROWS = 500


def keyword_sql(match: str, *, limit: int, restriction: Restriction | None,
                rare: str | None = None) -> tuple[str, list[object]]:
    """The SQL and parameters of the BM25 ranking, less the three column weights in front.

    Args:
        match: a safe FTS5 expression (quoted keyword terms joined by OR).
        limit: how many chunk ids to return.
        restriction: restricts matches to chunks of the allowed documents.
        rare: when set, only chunks matching this expression are scored.
    """
    sql = ("SELECT rowid, bm25(chunks_fts, ?, ?, ?) AS score FROM chunks_fts"
           " WHERE chunks_fts MATCH ?")
    params: list[object] = [match]
    if rare is not None:
        sql += " AND +rowid IN (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?)"
        params.append(rare)
    if restriction is not None:
        doc_sql, doc_params = restriction_sql(restriction)
        sql += f" AND +rowid IN (SELECT id FROM chunks WHERE document_id IN ({doc_sql}))"
        params.extend(doc_params)
    sql += " ORDER BY score LIMIT ?"
    params.append(limit)
    return sql, params


def lookup_sql(restriction: Restriction | None, *, by_stem: bool) -> tuple[str, list[str]]:
    """SQL finding one representative chunk of documents by id/uid, or by file stem.

    Parameters: ?1 the candidate, ?2 the escaped stem pattern (stem form
    only), ?3 the JSON preference list, then the restriction's own parameters
    (returned). The id/uid form uses the ``NOCASE`` indexes on ``doc_id`` and
    ``uid``; the stem form scans paths, so it only runs when no id matched.
    """
    if by_stem:
        where = ("(lower(d.path) = lower(?1) OR d.path LIKE '%/' || ?2 || '.%' ESCAPE '\\'"
                 " OR d.path LIKE ?2 || '.%' ESCAPE '\\')")
    else:
        where = "(d.doc_id = ?1 COLLATE NOCASE OR d.uid = ?1 COLLATE NOCASE)"
    restrict, params = "", list[str]()
    if restriction is not None:
        # The restriction's plain "?" parameters number on after ?3 (SQLite's rule).
        doc_sql, params = restriction_sql(restriction)
        restrict = f" AND d.id IN ({doc_sql})"
    return ("SELECT (SELECT c.id FROM chunks c WHERE c.document_id = d.id ORDER BY"
            " coalesce((SELECT p.key FROM json_each(?3) p WHERE p.value = c.id), 1e18),"
            " c.ordinal LIMIT 1) AS chunk_id"
            f" FROM documents d WHERE {where}{restrict} ORDER BY d.path"), params


class KeywordReadsMixin:
    """The keyword questions of ``lore.store.base.SearchReads`` (needs ``_conn``)."""

    _conn: sqlite3.Connection

    def keyword_ranking(self, terms: Sequence[str], *, weights: tuple[float, float, float],
                        limit: int, restriction: Restriction | None) -> list[tuple[int, float]]:
        """The best ``limit`` chunks by weighted BM25, as (chunk id, positive score).

        Args:
            terms: quoted keyword terms (see ``lore.store.base``); any may match.
            weights: BM25 weights for the title, headings and body columns.
            limit: how many chunks to return.
            restriction: only chunks of the documents it allows.
        """
        match = fts_match(terms)
        if match is None:
            return []
        common = self.common_terms(terms)
        rare = fts_match([t for t in terms if t not in common]) if common else None
        sql, params = keyword_sql(match, limit=limit, restriction=restriction, rare=rare)
        return [(int(rowid), -float(score))
                for rowid, score in self._conn.execute(sql, [*weights, *params])]

    def common_terms(self, terms: Sequence[str]) -> set[str]:
        """The terms matching so many chunks that scoring them everywhere is wasted work.

        A term is common when it matches at least ``COMMON_FRACTION`` of all
        chunks and at least ``COMMON_MIN_ROWS`` of them (below that, scoring
        every row is cheap and exact OR semantics are kept). One statement
        counts every term; counting walks FTS5 doclists without ranking.

        Returns:
            The common terms, or an empty set when none is or when all are
            (then nothing rarer is there to restrict to).
        """
        if len(terms) < 2:
            return set()
        counts = ", ".join("(SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?)"
                           for _ in terms)
        total, *hits = self._conn.execute(f"SELECT (SELECT count(*) FROM chunks), {counts}",
                                          list(terms)).fetchone()
        cutoff = max(COMMON_FRACTION * total, COMMON_MIN_ROWS)
        common = {term for term, n in zip(terms, hits) if n >= cutoff}
        return common if len(common) < len(terms) else set()

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

    def id_matches(self, candidate: str, *, restriction: Restriction | None,
                   prefer: Sequence[int]) -> list[int]:
        """Chunk ids for one candidate: id/uid matches, else file-stem matches."""
        stem = candidate.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        preference = json.dumps([int(i) for i in prefer])
        rows: list[Any] = []
        for by_stem in (False, True):
            sql, extra = lookup_sql(restriction, by_stem=by_stem)
            rows = self._conn.execute(sql, (candidate, stem, preference, *extra)).fetchall()
            if rows:
                break
        return [int(chunk_id) for (chunk_id,) in rows if chunk_id is not None]
