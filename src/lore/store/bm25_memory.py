"""``lore.store.bm25``'s two rankings, answered from an in-memory copy of both FTS5 tables.

Same questions, same answers: the rows, their order (ties by rowid) and
their scores are the ones ``bm25.rank`` and ``bm25.rank_documents`` return,
because the copy holds FTS5's own tokens, sizes and totals and the scores
follow FTS5's arithmetic (``lore.store.fts_postings``). What it saves is the
way there: on SciFact a query matches about 2,400 documents and 3,100 chunks,
which FTS5 scores row by row with a ``%_docsize`` lookup each and then joins
and groups in SQL; here the same work is a few numpy operations.

A ``KeywordCopy`` is one snapshot of the catalog. It answers only while the
catalog still holds that snapshot (``fingerprint``: FTS5's structure records,
which change on every write to a table, and its averages records), and only
queries it can answer exactly; for anything else the caller asks FTS5
(``lore.store.keyword_memory`` decides).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lore.store.bm25 import K1
from lore.store.fts_postings import (
    AVERAGES_ROWID,
    MAX_PHRASE,
    STRUCTURE_ROWID,
    Floats,
    Ints,
    Phrase,
    Postings,
    exact_weights,
    load_postings,
)

TABLES = ("documents_fts", "chunks_fts")
_FTS_STRING = re.compile(r'"((?:[^"]|"")*)"(\*?)')
_TOKENIZE = re.compile(r"tokenize\s*=\s*'((?:[^']|'')*)'", re.IGNORECASE)
_CACHED_TERMS = 4096

Bools = npt.NDArray[np.bool_]


def fingerprint_sql() -> str:
    """One row: the structure and averages records of both FTS5 tables."""
    parts = [f"(SELECT block FROM {t}_data WHERE id = {r})"
             for t in TABLES for r in (STRUCTURE_ROWID, AVERAGES_ROWID)]
    return "SELECT " + ", ".join(parts)


def read_fingerprint(conn: sqlite3.Connection) -> tuple[object, ...]:
    """What identifies the FTS5 tables' content on this connection now."""
    return tuple(conn.execute(fingerprint_sql()).fetchone())


class QueryTokenizer:
    """FTS5 strings into FTS5's tokens, by FTS5's own tokenizer (an in-memory table).

    Asking FTS5 is the only way to be certain that a query word becomes the
    token FTS5 would look up (stemming, diacritics, separators); the answers
    are cached, since query words repeat. The answers depend only on the
    tokenizer's configuration, so a rebuilt copy keeps the tokenizer (and its
    cache) of the copy it replaces while the tables declare the same one
    (``load_copy``).

    Attributes:
        config: the ``tokenize=`` argument of the tables it stands for.
    """

    def __init__(self, tokenizer: str) -> None:
        self.config = tokenizer
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        quoted = tokenizer.replace("'", "''")
        self._conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{quoted}')")
        self._conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[list[str], bool] | None] = {}

    def phrase(self, term: str) -> tuple[list[str], bool] | None:
        """The tokens of one FTS5 string and whether it is a prefix query, or ``None``
        when it is not a shape answered exactly here (then FTS5 answers)."""
        with self._lock:
            if term not in self._cache:
                if len(self._cache) >= _CACHED_TERMS:
                    self._cache.clear()
                self._cache[term] = self._parse(term)
            return self._cache[term]

    def _parse(self, term: str) -> tuple[list[str], bool] | None:
        match = _FTS_STRING.fullmatch(term)
        if match is None:
            return None
        text, prefix = match.group(1).replace('""', '"'), bool(match.group(2))
        self._conn.execute("INSERT INTO t(rowid, x) VALUES (1, ?)", (text,))
        try:
            tokens = [str(r[0]) for r in self._conn.execute(
                "SELECT term FROM v ORDER BY offset")]
        finally:
            self._conn.execute("DELETE FROM t")
        if not tokens or len(tokens) > MAX_PHRASE or (prefix and len(tokens) > 1):
            return None
        return tokens, prefix


@dataclass(frozen=True)
class DocumentRank:
    """A document's mixed score and the chunk that stands for it (``bm25.DocumentHit``)."""

    document_id: int
    chunk_id: int
    score: float


@dataclass
class KeywordCopy:
    """Both FTS5 tables of one catalog snapshot, and how chunks belong to documents.

    Attributes:
        documents: ``documents_fts`` as arrays.
        chunks: ``chunks_fts`` as arrays.
        chunk_document: the dense document row of each dense chunk row.
        first_chunk: the smallest chunk id of each dense document row (-1: none).
        fingerprint: ``read_fingerprint`` of the snapshot copied.
        tokenizer: the tables' tokenizer, for query terms.
    """

    documents: Postings
    chunks: Postings
    chunk_document: Ints
    first_chunk: Ints
    fingerprint: tuple[object, ...]
    tokenizer: QueryTokenizer

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return (self.documents.nbytes + self.chunks.nbytes + self.chunk_document.nbytes
                + self.first_chunk.nbytes)

    def phrases(self, terms: Sequence[str]) -> list[tuple[list[str], bool]] | None:
        """Every term's tokens, or ``None`` when one of them is not answered here."""
        found = [self.tokenizer.phrase(t) for t in terms]
        return None if any(p is None for p in found) else found   # type: ignore[return-value]

    def allowed_documents(self, ids: Sequence[int]) -> Bools:
        """A mask of dense document rows from document ids (unknown ids ignored)."""
        mask = np.zeros(len(self.documents.rowids), dtype=np.bool_)
        wanted = np.asarray(ids, dtype=np.int64)
        at = np.searchsorted(self.documents.rowids, wanted)
        inside = at < len(mask)
        at, wanted = at[inside], wanted[inside]
        mask[at[self.documents.rowids[at] == wanted]] = True
        return mask

    def term_holders(self, terms: list[str], document_ids: Collection[int]
                     ) -> tuple[dict[str, int], dict[str, set[int]]] | None:
        """Term -> how many chunks hold it, and -> which of ``document_ids`` hold it
        (the rows FTS5 would match); None when a term is not answered here."""
        phrases = self.phrases(terms)
        if phrases is None:
            return None
        wanted = self.allowed_documents(sorted(document_ids))
        counts: dict[str, int] = {}
        holders: dict[str, set[int]] = {}
        for term, (tokens, prefix) in zip(terms, phrases, strict=True):
            rows = self.chunks.phrase(tokens, prefix, (1.0,) * len(self.chunks.columns)).rows
            documents = self.chunk_document[rows]
            counts[term] = len(rows)
            holders[term] = {int(d) for d in self.documents.rowids[documents[wanted[documents]]]}
        return counts, holders

    def rank_chunks(self, phrases: list[tuple[list[str], bool]], *,
                    weights: tuple[float, float, float, float], limit: int,
                    allowed: Bools | None, pairs: list[tuple[list[str], bool]] | None = None,
                    pair_weight: float = 0.0) -> list[tuple[int, float]] | None:
        """``bm25.rank`` over ``chunks_fts``: (chunk id, score), best first."""
        if not exact_weights(weights):
            return None
        score, hit = _scores(self.chunks, phrases, weights)
        if pairs and pair_weight:
            score = score + pair_weight * _scores(self.chunks, pairs, weights)[0]
        if allowed is not None:
            hit &= allowed[self.chunk_document]
        rows = _top(np.flatnonzero(hit), score, limit)
        return [(int(self.chunks.rowids[r]), float(score[r])) for r in rows]

    def rank_documents(self, phrases: list[tuple[list[str], bool]], *,
                       weights: tuple[float, float, float], share: float, limit: int,
                       allowed: Bools | None,
                       pairs: list[tuple[list[str], bool]] | None = None,
                       pair_weight: float = 0.0) -> list[DocumentRank] | None:
        """``bm25.rank_documents``: ``share`` * document BM25 + (1 - ``share``) * the
        best chunk's, best first, each with its best chunk (or its first); with
        ``pairs``, a row's BM25 of them times ``pair_weight`` is added to its own."""
        title, headings, body = weights
        if not exact_weights(weights):
            return None
        doc_score, doc_hit = _scores(self.documents, phrases, (title, body, body))
        chunk_score, chunk_hit = _scores(self.chunks, phrases, (title, headings, body, body))
        if pairs and pair_weight:
            doc_score = doc_score + pair_weight * _scores(
                self.documents, pairs, (title, body, body))[0]
            chunk_score = chunk_score + pair_weight * _scores(
                self.chunks, pairs, (title, headings, body, body))[0]
        if allowed is not None:
            doc_hit &= allowed
            chunk_hit &= allowed[self.chunk_document]
        # Each document's best chunk: the highest score, ties to the smallest chunk id.
        hits = np.flatnonzero(chunk_hit)
        owner = self.chunk_document[hits]
        order = np.lexsort((hits, -chunk_score[hits], owner))
        hits, owner = hits[order], owner[order]
        best = np.r_[True, owner[1:] != owner[:-1]] if len(owner) else np.zeros(0, np.bool_)
        best_doc, best_chunk = owner[best], hits[best]
        mixed = np.zeros(len(doc_score), dtype=np.float64)
        mixed[doc_hit] = share * doc_score[doc_hit]
        mixed[best_doc] = mixed[best_doc] + (1 - share) * chunk_score[best_chunk]
        found = doc_hit.copy()
        found[best_doc] = True
        chunk_of = np.full(len(doc_score), -1, dtype=np.int64)
        chunk_of[best_doc] = self.chunks.rowids[best_chunk]
        out = []
        for doc in _top(np.flatnonzero(found), mixed, limit):
            chunk = int(chunk_of[doc]) if chunk_of[doc] >= 0 else int(self.first_chunk[doc])
            if chunk >= 0:   # a document without chunks is left out, as the SQL does
                out.append(DocumentRank(int(self.documents.rowids[doc]), chunk,
                                        float(mixed[doc])))
        return out


def _scores(table: Postings, phrases: list[tuple[list[str], bool]],
            weights: tuple[float, ...]) -> tuple[Floats, Bools]:
    """Every row's BM25 (0 where nothing matches) and which rows match."""
    score = np.zeros(len(table.rowids), dtype=np.float64)
    hit = np.zeros(len(table.rowids), dtype=np.bool_)
    for tokens, prefix in phrases:
        found: Phrase = table.phrase(tokens, prefix, weights)
        if len(found.rows):
            freq = found.freq
            score[found.rows] += found.idf * ((freq * (K1 + 1.0))
                                              / (freq + table.norm[found.rows]))
            hit[found.rows] = True
    return score, hit


def _top(rows: Ints, score: Floats, limit: int) -> Ints:
    """The best ``limit`` of ``rows`` by score, ties to the smaller row (= rowid)."""
    values = score[rows]
    if len(rows) > limit:
        cut = np.partition(-values, limit - 1)[limit - 1]
        keep = -values <= cut
        rows, values = rows[keep], values[keep]
    return rows[np.lexsort((rows, -values))[:limit]]


def table_tokenizer(conn: sqlite3.Connection) -> str | None:
    """The tokenizer both FTS5 tables declare, or ``None`` if they differ."""
    found = set()
    for (sql,) in conn.execute("SELECT sql FROM sqlite_master WHERE name IN (?, ?)", TABLES):
        match = _TOKENIZE.search(sql or "")
        found.add(match.group(1).replace("''", "'") if match else "unicode61")
    return found.pop() if len(found) == 1 else None


def load_copy(conn: sqlite3.Connection, previous: QueryTokenizer | None = None
              ) -> KeywordCopy | None:
    """Copy both FTS5 tables of the catalog on ``conn`` (one read transaction).

    ``previous`` (the query tokenizer of the copy this one replaces) is kept,
    with its cache of tokenized words, when the tables still declare its
    configuration; otherwise a new one is made.

    Returns ``None`` when the catalog cannot be copied exactly (see
    ``fts_postings.load_postings``; a chunk row without its document row).
    """
    conn.execute("BEGIN")
    try:   # the tokenizer read in the same snapshot as the rows it made
        tokenizer = table_tokenizer(conn)
        fingerprint = read_fingerprint(conn)
        documents = load_postings(conn, "documents_fts")
        chunks = load_postings(conn, "chunks_fts")
        owners = dict(conn.execute("SELECT id, document_id FROM chunks").fetchall())
    finally:
        conn.execute("COMMIT")
    if tokenizer is None or documents is None or chunks is None or any(
            int(r) not in owners for r in chunks.rowids):
        return None
    owner_ids = np.array([owners[int(r)] for r in chunks.rowids], dtype=np.int64)
    chunk_document = np.searchsorted(documents.rowids, owner_ids)
    if len(owner_ids) and (chunk_document.max() >= len(documents.rowids) or np.any(
            documents.rowids[chunk_document] != owner_ids)):
        return None
    first_chunk = np.full(len(documents.rowids), -1, dtype=np.int64)
    ids = np.fromiter(owners.keys(), dtype=np.int64, count=len(owners))
    docs = np.fromiter(owners.values(), dtype=np.int64, count=len(owners))
    order = np.lexsort((ids, docs))
    ids, docs = ids[order], docs[order]
    first = np.r_[True, docs[1:] != docs[:-1]] if len(docs) else np.zeros(0, np.bool_)
    at = np.searchsorted(documents.rowids, docs[first])
    known = at < len(first_chunk)
    known[known] = documents.rowids[at[known]] == docs[first][known]
    first_chunk[at[known]] = ids[first][known]
    if previous is None or previous.config != tokenizer:
        previous = QueryTokenizer(tokenizer)
    return KeywordCopy(documents, chunks, chunk_document.astype(np.int64), first_chunk,
                       fingerprint, previous)
