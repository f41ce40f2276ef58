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
                rare: bool, proximity: bool = False) -> str:
    """The ranking statement. Parameters: (with ``proximity``: the pair weight;) the
    weights, the MATCH expression, the rare expression (when ``rare``), the filter's
    parameters, (with ``proximity``: the weights and the pairs' MATCH expression;)
    the limit."""
    marks = ", ".join("?" for _ in range(weights))
    sql = (f"SELECT rowid AS id, bm25({table.name}, {marks}) AS score FROM {table.name}"
           f" WHERE {table.name} MATCH ?")
    if rare:
        sql += f" AND +rowid IN (SELECT rowid FROM {table.name} WHERE {table.name} MATCH ?)"
    if doc_filter is not None:
        sql += " AND " + table.allowed_sql.format(doc_filter[0])
    if proximity:
        sql = _with_pairs(sql, "id", table.name, weights)
    return sql + " ORDER BY score, id LIMIT ?"


def rank(conn: sqlite3.Connection, table: Table, terms: Sequence[str], *,
         weights: Sequence[float], limit: int, doc_filter: DocFilter | None = None,
         pairs: Sequence[str] = (), pair_weight: float = 0.0) -> list[tuple[int, float]]:
    """The top ``min(limit, matching rows)`` rows by BM25 as (rowid, score), best first.

    Args:
        conn: a catalog connection.
        table: ``DOCUMENTS`` or ``CHUNKS``.
        terms: FTS5 strings, any of which may match; a repeated term counts
            once per repetition, as BM25 counts query term frequency.
        weights: one weight per column of the table.
        limit: how many rows.
        doc_filter: only rows of these documents.
        pairs: phrases of neighbouring query words (``rank_documents``).
        pair_weight: the weight of ``pairs`` (0: none).
    """
    if not terms or limit < 1:
        return []
    match = " OR ".join(terms)
    extra = doc_filter[1] if doc_filter is not None else []
    proximity = _Proximity(" OR ".join(pairs), pair_weight) if pairs and pair_weight else None
    near: tuple[list[object], list[object]] = (
        ([proximity.weight], [*weights, proximity.match]) if proximity else ([], []))
    common, bound = _common_terms(conn, table, terms)
    if common:
        rare = " OR ".join(dict.fromkeys(t for t in terms if t not in common))
        if proximity is not None:    # see rank_documents
            rare += f" OR {proximity.match}"
        sql = ranking_sql(table, len(weights), limit=limit, doc_filter=doc_filter, rare=True,
                          proximity=proximity is not None)
        found = _run(conn, sql, [*near[0], *weights, match, rare, *extra, *near[1], limit])
        if len(found) == limit and found[-1][1] >= bound:
            return found
    sql = ranking_sql(table, len(weights), limit=limit, doc_filter=doc_filter, rare=False,
                      proximity=proximity is not None)
    return _run(conn, sql, [*near[0], *weights, match, *extra, *near[1], limit])


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


@dataclass(frozen=True)
class DocumentHit:
    """A document's keyword score and the chunk that stands for it."""

    document_id: int
    chunk_id: int
    score: float


def rank_documents(conn: sqlite3.Connection, terms: Sequence[str], *,
                   weights: tuple[float, float, float], share: float, limit: int,
                   doc_filter: DocFilter | None = None, pairs: Sequence[str] = (),
                   pair_weight: float = 0.0) -> list[DocumentHit]:
    """The top ``min(limit, matching documents)`` documents, best first.

    A document scores ``share * document BM25 + (1 - share) * its best chunk's
    BM25``: the document-level part ranks documents as a BM25 over files does
    (what SciFact and CISI reward); the chunk part keeps a long document whose
    title or one section is about the query from drowning under its own
    length (b = 0.75 divides a 5,000-word page's title match by ~6). Every
    matching row of both tables is scored (FTS5 scores them all for any
    ORDER BY anyway), with the exact common-term pruning of ``rank``.

    Args:
        conn: a catalog connection.
        terms: FTS5 strings, any of which may match (repeats count).
        weights: the title, headings and body weights (documents have no
            headings column: their headings are in the body).
        share: the document-level part of the score, 0..1.
        limit: how many documents.
        doc_filter: only these documents.
        pairs: FTS5 phrases of neighbouring query words (term proximity): in
            every row that matches a term, ``pair_weight`` times their BM25
            is added to the row's BM25, before the two levels are mixed.
        pair_weight: the weight of ``pairs`` (0: none).
    """
    if not terms or limit < 1:
        return []
    proximity = _Proximity(" OR ".join(pairs), pair_weight) if pairs and pair_weight else None
    plan = _Pruning.plan(conn, terms, share)
    if plan is not None:
        # A row matching a pair is scored in the first pass, so any other row's
        # proximity part is 0 and the bound still holds.
        rare = plan.rare if proximity is None else f"{plan.rare} OR {proximity.match}"
        top = _score_documents(conn, terms, weights, share, doc_filter, rare=rare,
                               limit=limit, proximity=proximity)
        if len(top) == limit and top[-1].score >= plan.bound:
            return top
    return _score_documents(conn, terms, weights, share, doc_filter, rare=None, limit=limit,
                            proximity=proximity)


@dataclass(frozen=True)
class _Proximity:
    """The pair phrases as one MATCH expression, and their weight."""

    match: str
    weight: float


@dataclass(frozen=True)
class _Pruning:
    """Rows to score first (matching a rarer term) and what any other row stays under."""

    rare: str
    bound: float

    @classmethod
    def plan(cls, conn: sqlite3.Connection, terms: Sequence[str],
             share: float) -> _Pruning | None:
        doc_common, doc_bound = _common_terms(conn, DOCUMENTS, terms)
        chunk_common, chunk_bound = _common_terms(conn, CHUNKS, terms)
        # A term common in one table only is still scored everywhere in the other,
        # so only terms common in both are left out of the first pass.
        common = doc_common & chunk_common
        if not common:
            return None
        rare = " OR ".join(dict.fromkeys(t for t in terms if t not in common))
        if common != doc_common or common != chunk_common:
            doc_bound = _bound(conn, DOCUMENTS, terms, common)
            chunk_bound = _bound(conn, CHUNKS, terms, common)
        return cls(rare, share * doc_bound + (1 - share) * chunk_bound)


def _bound(conn: sqlite3.Connection, table: Table, terms: Sequence[str],
           common: set[str]) -> float:
    """The most a row matching only ``common`` terms can score in ``table``."""
    distinct = sorted(common)
    counts = ", ".join(f"(SELECT count(*) FROM {table.name} WHERE {table.name} MATCH ?)"
                       for _ in distinct)
    rows, *hits = conn.execute(f"SELECT ({table.rows_sql}), {counts}", distinct).fetchone()
    found = dict(zip(distinct, hits))
    return sum(fts5_idf(rows, found[t]) * (K1 + 1) for t in terms if t in common)


def document_ranking_sql(*, rare: bool, doc_filter: DocFilter | None,
                         proximity: bool = False) -> str:
    """One statement that scores documents and their chunks and mixes the two.

    Parameters: (with ``proximity``: the pair weight;) title, body weights; the
    MATCH expression; the rare expression (when ``rare``); the filter's
    parameters (document pass; with ``proximity``: title, body weights and the
    pairs' MATCH expression); (the pair weight;) title, headings, body weights;
    the MATCH expression; the filter's parameters again (chunk pass, unless
    ``rare``: then the chunks of the documents found; with ``proximity``:
    title, headings, body weights and the pairs' expression); the share twice;
    the limit. A document with no matching chunk gets a NULL chunk id (the
    caller picks its first chunk).
    """
    docs = ("SELECT rowid AS doc, bm25(documents_fts, ?, ?, ?) AS score FROM documents_fts"
            " WHERE documents_fts MATCH ?")
    if rare:
        docs += " AND +rowid IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)"
    if doc_filter is not None:
        docs += " AND " + DOCUMENTS.allowed_sql.format(doc_filter[0])
    chunks = ("SELECT rowid AS id, bm25(chunks_fts, ?, ?, ?, ?) AS score FROM chunks_fts"
              " WHERE chunks_fts MATCH ?")
    if rare:
        chunks += " AND " + CHUNKS.allowed_sql.format("SELECT doc FROM d")
    elif doc_filter is not None:
        chunks += " AND " + CHUNKS.allowed_sql.format(doc_filter[0])
    if proximity:
        docs = _with_pairs(docs, "doc", "documents_fts", 3)
        chunks = _with_pairs(chunks, "id", "chunks_fts", 4)
    # min() picks the best (most negative) chunk score and SQLite takes the bare
    # column m.id from that same row; max(id) skips the document part's NULL.
    return (f"WITH d AS MATERIALIZED ({docs}), m AS MATERIALIZED ({chunks})"
            " SELECT doc, max(id), -sum(part) AS mixed FROM ("
            " SELECT doc, NULL AS id, ? * score AS part FROM d UNION ALL"
            " SELECT c.document_id, m.id, (1 - ?) * min(m.score) FROM m"
            " JOIN chunks c ON c.id = m.id GROUP BY c.document_id)"
            " GROUP BY doc ORDER BY mixed DESC, doc LIMIT ?")


def _with_pairs(scored: str, key: str, table: str, columns: int) -> str:
    """``scored`` (rows ``key``, ``score``) with the pair phrases' weighted BM25 added:
    ``score + weight * pairs' bm25``, which is FTS5's negated form of the copy's
    ``score + weight * pairs' score`` (the same double)."""
    marks = ", ".join("?" for _ in range(columns))
    return (f"SELECT b.{key} AS {key}, b.score + ? * coalesce(p.score, 0) AS score"
            f" FROM ({scored}) b LEFT JOIN (SELECT rowid AS {key}, bm25({table}, {marks})"
            f" AS score FROM {table} WHERE {table} MATCH ?) p USING ({key})")


def _score_documents(conn: sqlite3.Connection, terms: Sequence[str],
                     weights: tuple[float, float, float], share: float,
                     doc_filter: DocFilter | None, *, rare: str | None,
                     limit: int, proximity: _Proximity | None = None) -> list[DocumentHit]:
    """The best ``limit`` documents by mixed score; with ``rare``, among those matching
    it (their chunk part still counts every chunk and every term, so it is exact)."""
    title, headings, body = weights
    match = " OR ".join(terms)
    extra = doc_filter[1] if doc_filter is not None else []
    doc_params: list[object] = [title, body, body, match, *([rare] if rare else []), *extra]
    chunk_params: list[object] = [title, headings, body, body, match,
                                  *([] if rare else extra)]
    if proximity is not None:
        doc_params = [proximity.weight, *doc_params, title, body, body, proximity.match]
        chunk_params = [proximity.weight, *chunk_params, title, headings, body, body,
                        proximity.match]
    params: list[object] = [*doc_params, *chunk_params, share, share, limit]
    sql = document_ranking_sql(rare=rare is not None, doc_filter=doc_filter,
                               proximity=proximity is not None)
    rows = [(int(doc), chunk, float(score)) for doc, chunk, score in conn.execute(sql, params)]
    missing = [doc for doc, chunk, _ in rows if chunk is None]
    first = dict(conn.execute(
        "SELECT document_id, min(id) FROM chunks WHERE document_id IN"
        " (SELECT value FROM json_each(?)) GROUP BY document_id",
        (json.dumps(missing),))) if missing else {}
    return [DocumentHit(doc, int(chunk if chunk is not None else first[doc]), score)
            for doc, chunk, score in rows if chunk is not None or doc in first]
