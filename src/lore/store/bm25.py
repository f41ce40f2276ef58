"""BM25 rankings over FTS5, complete: never short, and pruned only where provably exact.

Two FTS5 tables answer keyword queries (schema: ``lore.store.migrations``):

- ``documents_fts`` (contentless; title, body, cjk) ranks *documents* with
  document-level statistics: a document's length and a term's document
  frequency are the document's, as in any BM25 over a collection of files.
  Ranking chunks and keeping each document's best chunk instead measured
  lower on every collection (``docs/decisions/keyword-scoring.md``).
- ``chunks_fts`` (title, headings, body, cjk) ranks *chunks*: for one hit
  per chunk, to pick the chunk that represents a document, and for snippets.

Scores are FTS5's ``bm25()`` (k1 = 1.2, b = 0.75, column weights bound as
parameters; FTS5 reports "lower is better", these functions return the
negated value, "higher is better").

Common terms (Lucene's cutoff frequency, made exact as in MaxScore): a word
in a fifth of all rows ("backlog" in a backlog) makes BM25 score nearly every
row while adding little to any score. When a query mixes such terms with
rarer ones, the rows matching a rarer term are ranked first; a row matching
only common terms scores below ``sum(idf(t) * (k1 + 1))`` over the common
terms (each term's part of BM25 stays under ``idf * (k1 + 1)``), so when the
``limit``-th row found already reaches that bound, no other row can enter the
top ``limit`` and the answer is exact. Otherwise (too few rare matches, or a
close call) the query runs again unpruned. Either way the result holds
exactly the top ``min(limit, matching rows)`` rows.

Restrictions on ``rowid`` are written ``+rowid IN (...)``: the unary plus
keeps SQLite from handing the IN list to FTS5 as a rowid constraint, which
makes FTS5 re-run the whole MATCH once per listed rowid.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

K1 = 1.2        # FTS5's bm25() constants (fts5_aux.c)
B = 0.75
COMMON_FRACTION = 0.2
COMMON_MIN_ROWS = 500

# (sql, params) of a subquery selecting allowed documents.id values.
DocFilter = tuple[str, list[str]]


@dataclass(frozen=True)
class Table:
    """One FTS5 table: its name, its row count query, and how a restriction applies."""

    name: str
    rows_sql: str
    allowed_sql: str   # "{}" is replaced by the allowed documents.id subquery


DOCUMENTS = Table("documents_fts", "SELECT count(*) FROM documents", "+rowid IN ({})")
CHUNKS = Table("chunks_fts", "SELECT count(*) FROM chunks",
               "+rowid IN (SELECT id FROM chunks WHERE document_id IN ({}))")


def fts5_idf(rows: int, hits: int) -> float:
    """FTS5's IDF: ``log((N - n + 0.5) / (n + 0.5))``, floored at 1e-6 as FTS5 does."""
    idf = math.log((rows - hits + 0.5) / (hits + 0.5))
    return idf if idf > 0 else 1e-6


def ranking_sql(table: Table, weights: int, *, limit: int, doc_filter: DocFilter | None,
                rare: bool) -> str:
    """The ranking statement. Parameters: the weights, the MATCH expression, the rare
    expression (when ``rare``), the filter's parameters, the limit."""
    marks = ", ".join("?" for _ in range(weights))
    sql = (f"SELECT rowid, bm25({table.name}, {marks}) AS score FROM {table.name}"
           f" WHERE {table.name} MATCH ?")
    if rare:
        sql += f" AND +rowid IN (SELECT rowid FROM {table.name} WHERE {table.name} MATCH ?)"
    if doc_filter is not None:
        sql += " AND " + table.allowed_sql.format(doc_filter[0])
    return sql + " ORDER BY score LIMIT ?"


def rank(conn: sqlite3.Connection, table: Table, terms: Sequence[str], *,
         weights: Sequence[float], limit: int,
         doc_filter: DocFilter | None = None) -> list[tuple[int, float]]:
    """The top ``min(limit, matching rows)`` rows by BM25 as (rowid, score), best first.

    Args:
        conn: a catalog connection.
        table: ``DOCUMENTS`` or ``CHUNKS``.
        terms: FTS5 strings, any of which may match; a repeated term counts
            once per repetition, as BM25 counts query term frequency.
        weights: one weight per column of the table.
        limit: how many rows.
        doc_filter: only rows of these documents.
    """
    if not terms or limit < 1:
        return []
    match = " OR ".join(terms)
    extra = doc_filter[1] if doc_filter is not None else []
    common, bound = _common_terms(conn, table, terms)
    if common:
        rare = " OR ".join(dict.fromkeys(t for t in terms if t not in common))
        sql = ranking_sql(table, len(weights), limit=limit, doc_filter=doc_filter, rare=True)
        found = _run(conn, sql, [*weights, match, rare, *extra, limit])
        if len(found) == limit and found[-1][1] >= bound:
            return found
    sql = ranking_sql(table, len(weights), limit=limit, doc_filter=doc_filter, rare=False)
    return _run(conn, sql, [*weights, match, *extra, limit])


def _run(conn: sqlite3.Connection, sql: str, params: list[object]) -> list[tuple[int, float]]:
    return [(int(rowid), -float(score)) for rowid, score in conn.execute(sql, params)]


def _common_terms(conn: sqlite3.Connection, table: Table,
                  terms: Sequence[str]) -> tuple[set[str], float]:
    """The common terms and the most a row matching only them can score.

    A term is common when it matches at least ``COMMON_FRACTION`` of all
    rows and at least ``COMMON_MIN_ROWS`` (below that, ranking every row is
    cheap). Returns no terms when none or all are common (then nothing rarer
    is there to rank first). One statement counts every distinct term.
    """
    distinct = list(dict.fromkeys(terms))
    if len(distinct) < 2:
        return set(), 0.0
    counts = ", ".join(f"(SELECT count(*) FROM {table.name} WHERE {table.name} MATCH ?)"
                       for _ in distinct)
    rows, *hits = conn.execute(f"SELECT ({table.rows_sql}), {counts}", distinct).fetchone()
    cutoff = max(COMMON_FRACTION * rows, COMMON_MIN_ROWS)
    found = {term: n for term, n in zip(distinct, hits)}
    common = {term for term, n in found.items() if n >= cutoff}
    if not common or len(common) == len(distinct):
        return set(), 0.0
    bound = sum(fts5_idf(rows, found[t]) * (K1 + 1) for t in terms if t in common)
    return common, bound


def best_chunks(conn: sqlite3.Connection, terms: Sequence[str], document_ids: Sequence[int], *,
                weights: Sequence[float]) -> dict[int, int]:
    """Document id -> the chunk that stands for it: its only chunk, else its best-scoring
    matching chunk (chunk-level BM25), else its first chunk."""
    if not document_ids:
        return {}
    wanted = json.dumps([int(d) for d in document_ids])
    best: dict[int, int] = {}
    several: list[int] = []
    for document_id, chunk_id, count in conn.execute(
            "SELECT document_id, min(id), count(*) FROM chunks WHERE document_id IN"
            " (SELECT value FROM json_each(?)) GROUP BY document_id", (wanted,)):
        best[int(document_id)] = int(chunk_id)   # chunk ids grow with the ordinal
        if count > 1:
            several.append(int(document_id))
    if terms and several:
        marks = ", ".join("?" for _ in weights)
        rows = conn.execute(
            f"SELECT c.document_id, c.id FROM chunks c JOIN (SELECT rowid AS id,"
            f" bm25(chunks_fts, {marks}) AS score FROM chunks_fts WHERE chunks_fts MATCH ?"
            " AND +rowid IN (SELECT id FROM chunks WHERE document_id IN"
            " (SELECT value FROM json_each(?)))) m ON m.id = c.id ORDER BY m.score DESC",
            [*weights, " OR ".join(terms), json.dumps(several)])
        for document_id, chunk_id in rows:   # worst first: the best one is written last
            best[int(document_id)] = int(chunk_id)
    return best
