"""BM25 in PostgreSQL, scored as the local index scores it (``lore.store.bm25``).

One statement per ranking: the query's words are stemmed by the root's
text-search configuration, looked up in the postings (``lore_document_terms``
and ``lore_chunk_terms``, see ``lore.store.postgres.terms``), scored and
aggregated per row in the database, and only the best ``limit`` rows come
back. The formula is FTS5's ``bm25()``:

    idf(t)   = ln((N - n(t) + 0.5) / (n(t) + 0.5)), at least 1e-6
    score(r) = sum over terms of idf(t) * f(t, r) * (k1 + 1)
                                 / (f(t, r) + k1 * (1 - b + b * |r| / avgdl))

with k1 = 1.2, b = 0.75, N the root's rows (documents, or chunks), n(t) the
rows matching t, f(t, r) the hits weighted by column (title, headings, body),
|r| the row's tokens. A repeated query term counts once per repetition. A
phrase (several words in one term) matches where its tsquery matches the
row's tsvector and counts its rarest word's hits, an upper bound of FTS5's
count of the phrase; a prefix term counts the hits of every lexeme it covers. Documents score ``share * document BM25 + (1 - share)
* best chunk BM25`` and are represented by that chunk (their first chunk when
only the document matched), as in ``lore.store.bm25.rank_documents``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from lore.store.bm25 import K1, B
from lore.store.postgres.sql import Query, unquote
from lore.store.postgres.terms import words

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
    length and document), and a row's tsvector only for a phrase."""
    x = level.name
    phrase = (f" WHERE NOT terms.phrase OR EXISTS (SELECT 1 FROM {level.rows} o"
              " WHERE o.id = f.r AND o.tsv @@ terms.q)") if phrases else ""
    allowed = " WHERE tf.doc IN (SELECT * FROM allowed)" if restricted else ""
    return (
        f", {x}_slot AS (SELECT s.t, s.k, p.{level.key} AS r, p.document_id AS doc,"
        f" p.len, sum(w.wa * p.a + w.wb * p.b + w.wc * p.c) AS f FROM slots s"
        f" JOIN {level.postings} p ON p.root_id = {root_id} AND p.lexeme BETWEEN s.lo AND s.hi"
        f" CROSS JOIN w GROUP BY s.t, s.k, p.{level.key}, p.document_id, p.len)"
        f", {x}_all AS (SELECT f.t, f.r, f.doc, f.len, min(f.f) AS f FROM {x}_slot f"
        f" JOIN terms USING (t) GROUP BY f.t, f.r, f.doc, f.len, terms.n"
        f" HAVING count(*) = terms.n)"
        f", {x}_tf AS (SELECT f.* FROM {x}_all f JOIN terms USING (t){phrase})"
        f", {x}_n AS (SELECT t, count(*)::float8 AS n FROM {x}_tf GROUP BY t)"
        f", {x}_stats AS (SELECT count(*)::float8 AS rows, avg(token_count)::float8 AS avgdl"
        f" FROM {level.rows} WHERE root_id = {root_id})"
        f", {x}_score AS (SELECT tf.r, tf.doc, sum(terms.reps"
        f" * greatest(ln((st.rows - m.n + 0.5) / (m.n + 0.5)), 1e-6) * tf.f * {K1 + 1}"
        f" / (tf.f + {K1} * ({1 - B} + {B} * tf.len / st.avgdl))) AS score"
        f" FROM {x}_tf tf JOIN terms USING (t) JOIN {x}_n m USING (t)"
        f" CROSS JOIN {x}_stats st{allowed} GROUP BY tf.r, tf.doc)")


@dataclass(frozen=True)
class _Terms:
    """The CTEs every statement starts with: the query terms, stemmed, as postings ranges."""

    sql: str
    params: list[object]
    distinct: list[str]
    phrases: bool


def _terms(terms: Sequence[str], config: str, weights: tuple[float, float, float],
           share: float) -> _Terms | None:
    """``w`` (settings), ``slots`` (each word of each term: its lexeme range) and
    ``terms`` (repeats, word count, phrase tsquery); None when no term has a word."""
    repeats = Counter(terms)
    distinct = [t for t in repeats if words(unquote(t)[0])]
    if not distinct:
        return None
    slot_t: list[int] = []
    slot_k: list[int] = []
    slot_word: list[str] = []
    slot_prefix: list[bool] = []
    phrase: list[str | None] = []     # a several-word term's tsquery text
    for t, term in enumerate(distinct):
        text, prefix = unquote(term)
        found = words(text)
        for k, word in enumerate(found):
            slot_t.append(t)
            slot_k.append(k)
            slot_word.append(word)
            slot_prefix.append(prefix and k == len(found) - 1)
        phrase.append(None if len(found) < 2 else
                      " <-> ".join(found) + (":*" if prefix else ""))
    params: list[object] = [config, *weights, share, slot_t, slot_k, slot_word, slot_prefix,
                            list(range(len(distinct))), [repeats[t] for t in distinct], phrase]
    sql = (
        "WITH w AS (SELECT %s::regconfig AS cfg, %s::float8 AS wa, %s::float8 AS wb,"
        " %s::float8 AS wc, %s::float8 AS share)"
        ", input AS (SELECT * FROM unnest(%s::int[], %s::int[], %s::text[], %s::bool[])"
        " AS i(t, k, word, pre))"
        ", stemmed AS MATERIALIZED (SELECT i.t, i.k, i.pre, CASE WHEN i.pre THEN i.word"
        " ELSE (tsvector_to_array(to_tsvector(w.cfg, i.word)))[1] END AS lo FROM input i, w)"
        ", slots AS MATERIALIZED (SELECT t, k, lo::text COLLATE \"C\" AS lo, (CASE WHEN pre"
        f" THEN lo || chr({_LAST_CHAR}) ELSE lo END)::text COLLATE \"C\" AS hi FROM stemmed"
        " WHERE lo IS NOT NULL)"
        ", terms AS MATERIALIZED (SELECT u.t, u.reps, u.phrase IS NOT NULL AS phrase,"
        " CASE WHEN u.phrase IS NOT NULL THEN to_tsquery(w.cfg, u.phrase) END AS q,"
        " count(s.k) AS n"
        " FROM unnest(%s::int[], %s::int[], %s::text[]) AS u(t, reps, phrase)"
        " JOIN slots s USING (t) CROSS JOIN w GROUP BY u.t, u.reps, u.phrase, w.cfg)")
    return _Terms(sql, params, distinct, any(p is not None for p in phrase))


def ranking(terms: Sequence[str], *, root_id: int, config: str,
            weights: tuple[float, float, float], share: float, limit: int,
            per_document: bool, restriction: Query | None) -> Ranking | None:
    """The statement ranking documents (``per_document``) or chunks; None when no term
    has a word to search.

    Rows come back as (chunk id, score) for chunks, and as (document id, chunk
    id or NULL, score) for documents, best first.

    Args:
        terms: keyword terms as ``lore.search.fts`` writes them; repeats count.
        root_id: the root whose rows to rank.
        config: the root's text-search configuration.
        weights: the title, headings and body weights.
        share: the document-level part of a document's score.
        limit: how many rows.
        per_document: rank documents (mixing in their best chunk) instead of chunks.
        restriction: a subquery of the allowed ``lore_documents.id`` values.
    """
    found = _terms(terms, config, weights, share)
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


def coverage(terms: Sequence[str], *, root_id: int, config: str,
             documents: Sequence[int]) -> tuple[Ranking, list[str]] | None:
    """The statement behind ``term_coverage``: per distinct term (its index into the
    returned list), the chunks of the root matching it and which of ``documents``
    hold one; then the root's chunk count as the term ``-1``. None when no term
    has a word."""
    found = _terms(terms, config, (1.0, 1.0, 1.0), 0.0)
    if found is None:
        return None
    sql = found.sql + _level_sql(CHUNKS, root_id, phrases=found.phrases, restricted=False)
    sql += (" SELECT t, count(*), array_agg(DISTINCT doc) FILTER (WHERE doc = ANY(%s))"
            " FROM c_tf GROUP BY t UNION ALL SELECT -1, count(*), NULL::bigint[] FROM lore_chunks"
            f" WHERE root_id = {root_id}")
    return Ranking(sql, [*found.params, list(documents)]), found.distinct
