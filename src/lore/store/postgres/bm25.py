"""BM25 in PostgreSQL, scored as the local index scores it (``lore.store.bm25``).

One statement per ranking: the query's words, stemmed as the root's documents
were (``lore.store.postgres.stems``), are looked up in the postings (``lore_document_terms``
and ``lore_chunk_terms``, see ``lore.store.postgres.terms``), scored and
aggregated per row in the database, and only the best ``limit`` rows come
back. The formula is FTS5's ``bm25()``:

    idf(t)   = ln((N - n(t) + 0.5) / (n(t) + 0.5)), at least 1e-6
    score(r) = sum over terms of idf(t) * f(t, r) * (k1 + 1)
                                 / (f(t, r) + k1 * (1 - b + b * |r| / avgdl))

with k1 = 1.2, b = 0.75, N the root's rows (documents, or chunks), n(t) the
rows matching t, f(t, r) the hits weighted by column (title, headings, body),
|r| the row's tokens. A repeated query term counts once per repetition. A
phrase (several words in one term) counts, per column, the places where its
words stand side by side in order, read from the postings' positions (as
FTS5 counts a phrase); a prefix term counts the hits of every lexeme it
covers. Term proximity: each pair of neighbouring query words, a phrase,
adds ``pair_weight`` times its BM25 to every row matching a term, before
documents and chunks are mixed (``lore.store.bm25._with_pairs``). Documents
score ``share * document BM25 + (1 - share) * best chunk BM25`` and are
represented by that chunk (their first chunk when only the document
matched), as in ``lore.store.bm25.rank_documents``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from lore.store.bm25 import K1, B
from lore.store.postgres.fold import words
from lore.store.postgres.sql import Query, Stemmer, stemmed, unquote
from lore.store.postgres.terms import COLUMNS, pair_lexemes

# The largest code point: "lexeme BETWEEN stem AND stem || chr(1114111)" is the
# range of a prefix term in the postings' "C" collation (an index range scan).
_LAST_CHAR = 1114111


@dataclass(frozen=True)
class Level:
    """One side of a ranking: its postings, its rows, and the row's document id column."""

    name: str
    postings: str
    key: str
    rows: str
    document: str


DOCUMENTS = Level("d", "lore_document_terms", "document_id", "lore_documents", "id")
CHUNKS = Level("c", "lore_chunk_terms", "chunk_id", "lore_chunks", "document_id")


@dataclass(frozen=True)
class Ranking:
    """The statement of one ranking and its parameters."""

    sql: str
    params: list[object]


def _level_sql(level: Level, root_id: int, *, phrases: bool, restricted: bool) -> str:
    """The CTEs scoring every row of ``level`` that matches a term:
    ``{name}_score(r, doc, score)``; only postings are read (they carry the row's
    length and document), and their positions only for a phrase."""
    x = level.name
    allowed = " WHERE tf.doc IN (SELECT * FROM allowed)" if restricted else ""
    # Each distinct lexeme range is read once, however many terms and pairs hold it
    # (a long query's words each stand in a term and in up to two pairs).
    sql = (
        f", {x}_post AS MATERIALIZED (SELECT g.g, p.{level.key} AS r, p.document_id AS doc, p.len,"
        f" sum(w.wa * p.a + w.wb * p.b + w.wc * p.c) AS f FROM ranges g"
        f" JOIN {level.postings} p ON p.root_id = {root_id} AND p.lexeme BETWEEN g.lo AND g.hi"
        f" CROSS JOIN w GROUP BY g.g, p.{level.key}, p.document_id, p.len)"
        f", {x}_all AS (SELECT s.t, p.r, p.doc, p.len, min(p.f) AS f FROM slots s"
        f" JOIN {x}_post p USING (g) JOIN terms USING (t) GROUP BY s.t, p.r, p.doc, p.len,"
        f" terms.n HAVING count(*) = terms.n)")
    if phrases:
        # A phrase's hits: the positions where its k-th word stands k tokens after
        # its first (each word's positions moved back by k steps, then the starts
        # every word shares), per column; a row without one does not match. The
        # positions are read only for the rows holding every word, one primary-key
        # probe per lexeme range and row however many phrases share it (OFFSET 0
        # keeps the planner from turning the probes into a scan of the postings;
        # a single lexeme is probed by the whole key, a prefix by its range; the probes
        # run once, MATERIALIZED, where an inlined subquery could run again for each
        # row of a join the planner misjudges on stale statistics).
        # The start's column is its remainder: 0 title (a), 1 headings (b), 2 body and
        # 3 CJK bigrams (c).
        column = f"h.start & {COLUMNS - 1}"
        probe = f"SELECT q.pos FROM {level.postings} q WHERE q.root_id = {root_id} AND"
        sql += (
            f", {x}_need AS (SELECT DISTINCT s.g, a.r FROM {x}_all a JOIN terms USING (t)"
            f" JOIN slots s USING (t) WHERE terms.n > 1)"
            f", {x}_pos AS MATERIALIZED (SELECT n.g, n.r, p.pos FROM {x}_need n"
            f" JOIN ranges g USING (g)"
            f" CROSS JOIN LATERAL ({probe} q.lexeme = g.lo AND q.{level.key} = n.r"
            f" AND g.lo = g.hi UNION ALL {probe} q.lexeme BETWEEN g.lo AND g.hi"
            f" AND q.{level.key} = n.r AND g.lo < g.hi OFFSET 0) p)"
            f", {x}_at AS (SELECT DISTINCT a.t, s.k, a.r, unnest(q.pos) - {COLUMNS} * s.k"
            f" AS start FROM {x}_all a JOIN terms USING (t) JOIN slots s USING (t)"
            f" JOIN {x}_pos q ON q.g = s.g AND q.r = a.r WHERE terms.n > 1)"
            f", {x}_hits AS (SELECT h.t, h.r, count(*) FILTER (WHERE {column} = 0) AS a,"
            f" count(*) FILTER (WHERE {column} = 1) AS b,"
            f" count(*) FILTER (WHERE {column} > 1) AS c FROM (SELECT at.t, at.r, at.start"
            f" FROM {x}_at at JOIN terms USING (t) GROUP BY at.t, at.r, at.start, terms.n"
            f" HAVING count(*) = terms.n) h GROUP BY h.t, h.r)"
            f", {x}_tf AS (SELECT f.t, f.r, f.doc, f.len, f.f FROM {x}_all f JOIN terms"
            f" USING (t) WHERE terms.n = 1 UNION ALL SELECT f.t, f.r, f.doc, f.len,"
            f" w.wa * h.a + w.wb * h.b + w.wc * h.c FROM {x}_all f JOIN {x}_hits h"
            f" USING (t, r) CROSS JOIN w)")
    else:
        sql += f", {x}_tf AS (SELECT * FROM {x}_all)"
    part = (f"terms.reps * greatest(ln((st.rows - m.n + 0.5) / (m.n + 0.5)), 1e-6) * tf.f"
            f" * {K1 + 1} / (tf.f + {K1} * ({1 - B} + {B} * tf.len / st.avgdl))")
    return sql + (
        f", {x}_n AS (SELECT t, count(*)::float8 AS n FROM {x}_tf GROUP BY t)"
        f", {x}_stats AS (SELECT count(*)::float8 AS rows, avg(token_count)::float8 AS avgdl"
        f" FROM {level.rows} WHERE root_id = {root_id})"
        # A row's score: its terms' BM25, plus the pairs' times their weight (the
        # pairs lift rows that match a term, as lore.store.bm25._with_pairs does).
        f", {x}_score AS (SELECT tf.r, tf.doc, sum({part}) FILTER (WHERE NOT terms.pair)"
        f" + w.pw * coalesce(sum({part}) FILTER (WHERE terms.pair), 0) AS score"
        f" FROM {x}_tf tf JOIN terms USING (t) JOIN {x}_n m USING (t)"
        f" CROSS JOIN {x}_stats st CROSS JOIN w{allowed} GROUP BY tf.r, tf.doc, w.pw"
        f" HAVING bool_or(NOT terms.pair))")


@dataclass(frozen=True)
class _Terms:
    """The CTEs every statement starts with: the query terms, stemmed, as postings ranges."""

    sql: str
    params: list[object]
    distinct: list[str]
    phrases: bool


def _terms(terms: Sequence[str], stem: Stemmer, weights: tuple[float, float, float],
           share: float, pairs: Sequence[str] = (), pair_weight: float = 0.0) -> _Terms | None:
    """``w`` (settings), ``ranges`` (each distinct lexeme range ``g``: one lexeme, or a
    prefix's), ``slots`` (each word ``k`` of each term ``t``: its range) and ``terms``
    (repeats, word count, whether a pair); None when no term has a word.

    The terms come first, numbered as ``distinct`` lists them, then the pairs. A
    prefix term's last word is stemmed too (FTS5 stems it: ``"running"*`` is
    ``run*``); a word the configuration drops has no slot. A term of two words (every
    pair, and a two-word phrase) is one slot, its pair's lexeme (``terms.pair_lexemes``:
    the rows where the two stand side by side, with their hits per column), so only
    longer phrases and prefix phrases read positions."""
    repeats = Counter(terms)
    distinct = [t for t in repeats if words(unquote(t)[0])]
    if not distinct:
        return None
    paired = Counter(pairs if pair_weight else ())
    entries = [*((t, False) for t in distinct),
               *((t, True) for t in paired if words(unquote(t)[0]))]
    cut, lexemes = stemmed((t for t, _ in entries), stem)
    ranges: dict[tuple[str, str], int] = {}
    slots: list[tuple[int, int, int]] = []
    for t, (found, prefix) in enumerate(cut):
        spans = [(k, lexeme) for k, lexeme in enumerate(lexemes[w] for w in found)
                 if lexeme is not None]
        if len(found) == 2 == len(spans) and not prefix:   # two words: their pair's lexeme
            pair = pair_lexemes([spans[0][1]], [spans[1][1]])[0]
            slots.append((t, 0, ranges.setdefault((pair, pair), len(ranges))))
            continue
        for k, lexeme in spans:
            last = prefix and k == len(found) - 1
            span = (lexeme, lexeme + chr(_LAST_CHAR) if last else lexeme)
            slots.append((t, k, ranges.setdefault(span, len(ranges))))
    params: list[object] = [
        *weights, share, pair_weight, list(ranges.values()), *([r[i] for r in ranges]
                                                                for i in range(2)),
        *([s[i] for s in slots] for i in range(3)),
        list(range(len(entries))), [(paired if pair else repeats)[t] for t, pair in entries],
        [pair for _, pair in entries]]
    sql = (
        "WITH w AS (SELECT %s::float8 AS wa, %s::float8 AS wb,"
        " %s::float8 AS wc, %s::float8 AS share, %s::float8 AS pw)"
        ", ranges AS MATERIALIZED (SELECT g, lo COLLATE \"C\" AS lo, hi COLLATE \"C\" AS hi"
        " FROM unnest(%s::int[], %s::text[], %s::text[]) AS r(g, lo, hi))"
        ", slots AS MATERIALIZED (SELECT * FROM unnest(%s::int[], %s::int[], %s::int[])"
        " AS s(t, k, g))"
        ", terms AS MATERIALIZED (SELECT u.t, u.reps, u.pair, count(s.k) AS n"
        " FROM unnest(%s::int[], %s::int[], %s::bool[]) AS u(t, reps, pair)"
        " JOIN slots s USING (t) GROUP BY u.t, u.reps, u.pair)")
    words_of = Counter(t for t, _, _ in slots)
    return _Terms(sql, params, distinct, any(n > 1 for n in words_of.values()))


def ranking(terms: Sequence[str], *, root_id: int, stem: Stemmer,
            weights: tuple[float, float, float], share: float, limit: int,
            per_document: bool, restriction: Query | None, pairs: Sequence[str] = (),
            pair_weight: float = 0.0) -> Ranking | None:
    """The statement ranking documents (``per_document``) or chunks; None when no term
    has a word to search.

    Rows come back as (chunk id, score) for chunks, and as (document id, chunk
    id or NULL, score) for documents, best first.

    Args:
        terms: keyword terms as ``lore.search.fts`` writes them; repeats count.
        root_id: the root whose rows to rank.
        stem: the root's word -> lexeme function (``stems.first_lexemes``).
        weights: the title, headings and body weights.
        share: the document-level part of a document's score.
        limit: how many rows.
        per_document: rank documents (mixing in their best chunk) instead of chunks.
        restriction: a subquery of the allowed ``lore_documents.id`` values.
        pairs: phrases of neighbouring query words (``lore.search.fts.proximity_pairs``):
            a row matching a term gains ``pair_weight`` times their BM25.
        pair_weight: the weight of ``pairs`` (0: none).
    """
    found = _terms(terms, stem, weights, share, pairs, pair_weight)
    if found is None:
        return None
    sql, params, phrases = found.sql, list(found.params), found.phrases
    if restriction is not None:
        sql += f", allowed AS MATERIALIZED ({restriction[0]})"
        params += restriction[1]
    levels = (DOCUMENTS, CHUNKS) if per_document else (CHUNKS,)
    for level in levels:
        sql += _level_sql(level, root_id, phrases=phrases,
                          restricted=restriction is not None)
    if not per_document:
        return Ranking(sql + " SELECT r, score FROM c_score ORDER BY score DESC, r LIMIT %s",
                       [*params, limit])
    sql += (
        ", best AS (SELECT DISTINCT ON (doc) doc, r AS chunk, score FROM c_score"
        " ORDER BY doc, score DESC, r)"
        ", mixed AS (SELECT coalesce(d.r, b.doc) AS doc, b.chunk, w.share * coalesce(d.score, 0)"
        " + (1 - w.share) * coalesce(b.score, 0) AS score"
        " FROM d_score d FULL JOIN best b ON b.doc = d.r CROSS JOIN w)"
        " SELECT doc, coalesce(chunk, (SELECT min(id) FROM lore_chunks c"
        " WHERE c.document_id = mixed.doc)), score FROM mixed ORDER BY score DESC, doc LIMIT %s")
    return Ranking(sql, [*params, limit])


def coverage(terms: Sequence[str], *, root_id: int, stem: Stemmer,
             documents: Sequence[int]) -> tuple[Ranking, list[str]] | None:
    """The statement behind ``term_coverage``: per distinct term (its index into the
    returned list), the chunks of the root matching it and which of ``documents``
    hold one; then the root's chunk count as the term ``-1``. None when no term
    has a word."""
    found = _terms(terms, stem, (1.0, 1.0, 1.0), 0.0)
    if found is None:
        return None
    sql = found.sql + _level_sql(CHUNKS, root_id, phrases=found.phrases, restricted=False)
    sql += (" SELECT t, count(*), array_agg(DISTINCT doc) FILTER (WHERE doc = ANY(%s))"
            " FROM c_tf GROUP BY t UNION ALL SELECT -1, count(*), NULL::bigint[] FROM lore_chunks"
            f" WHERE root_id = {root_id}")
    return Ranking(sql, [*found.params, list(documents)]), found.distinct
