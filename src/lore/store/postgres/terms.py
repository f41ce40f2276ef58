"""Keyword terms for PostgreSQL, cut the way the local index's FTS5 tokenizer cuts them.

The local index tokenises with ``porter unicode61 remove_diacritics 2``:
tokens are runs of letters and digits (``TSK-0350`` is ``tsk`` ``0350``,
``foo_bar`` is ``foo`` ``bar``), Latin diacritics are folded (``café`` is
``cafe``), and every CJK run also yields its character bigrams in a column of
its own (``lore.documents.cjk``). PostgreSQL's parser cuts differently (it
keeps ``-0350``, ``user@x.com``, ``3.5`` as tokens), so lore tokenises here, in
Python, and hands PostgreSQL only space-separated words: its text-search
configuration (``lore_english``, Porter stemming without stopwords, by
default) then only stems them.

For BM25 each document and each chunk gets postings, one row per lexeme with
its hit count per column (title ``a``, headings ``b``, body and CJK bigrams
``c``) and the row's length (so a ranking reads postings only), in ``lore_document_terms`` and ``lore_chunk_terms``; the column
weights are applied when a query is scored (``lore.store.postgres.bm25``), so
changing them needs no re-index. Counts are exact: a tsvector caps positions
at 16,383 and 255 per lexeme, postings do not.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

from lore.documents.cjk import cjk_index_text
from lore.store.shapes import document_is_hub

_TOKEN = re.compile(r"[^\W_]+")


def _latin_folds() -> dict[int, str]:
    """Latin letters with diacritics -> their base letters (``remove_diacritics 2``)."""
    folds: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        base = "".join(ch for ch in unicodedata.normalize("NFKD", chr(code))
                       if not unicodedata.combining(ch))
        if base and base != chr(code) and base.isalpha():
            folds[code] = base
    return folds


_FOLDS = _latin_folds()


def words(text: str) -> list[str]:
    """``text``'s tokens as FTS5's ``unicode61 remove_diacritics 2`` finds them, lowercased."""
    return _TOKEN.findall(text.lower().translate(_FOLDS))


def spaced(text: str) -> str:
    """``text`` as its tokens joined by spaces: all PostgreSQL's parser is given."""
    return " ".join(words(text))


def headings_text(heading_path: str) -> str:
    """A chunk's headings column (its JSON heading path joined by ``>``), as FTS5 holds it."""
    return " > ".join(json.loads(heading_path)) if heading_path else ""


# A word between two columns' text in a tsvector, removed once it is built: a
# tsvector's positions run on across columns, FTS5's phrases never do.
_BREAK = "zqxlorecolumnbreak"


class Columns:
    """One row's columns as word lists: title (a), headings (b), body plus CJK bigrams (c)."""

    def __init__(self, title: str, headings: str, body: str) -> None:
        self.a = words(title)
        self.b = words(headings)
        self.body = words(body)
        self.cjk = words(cjk_index_text(" ".join(t for t in (title, headings, body) if t)))
        self.c = self.body + self.cjk

    def texts(self) -> tuple[str, str, str]:
        """The a, b and c texts of the row's tsvector, each ending in a column break."""
        return (" ".join([*self.a, _BREAK]), " ".join([*self.b, _BREAK]),
                " ".join([*self.body, _BREAK, *self.cjk]))

    @property
    def length(self) -> int:
        """The row's token count, every column included, as FTS5's BM25 counts it."""
        return len(self.a) + len(self.b) + len(self.c)

    def counts(self) -> list[tuple[str, int, int, int]]:
        """(word, hits in a, in b, in c) for each distinct word."""
        a, b, c = Counter(self.a), Counter(self.b), Counter(self.c)
        return [(w, a[w], b[w], c[w]) for w in sorted(set(a) | set(b) | set(c))]


_INSERT = """
INSERT INTO {table}(root_id, document_id, {row}lexeme, a, b, c, len)
SELECT %s, %s, {pick}m.l, sum(u.a), sum(u.b), sum(u.c), max(u.n)
FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::int[], %s::int[], %s::int[])
  AS u(r, w, a, b, c, n)
JOIN (SELECT x.w, unnest(tsvector_to_array(to_tsvector(%s::regconfig, x.w))) AS l
      FROM (SELECT DISTINCT w FROM unnest(%s::text[]) AS w) x) m USING (w)
GROUP BY u.r, m.l"""


def _postings(conn: Any, table: str, root_id: int, config: str, document_id: int,
              rows: Sequence[tuple[int, Columns]]) -> None:
    """Insert the postings of ``rows`` (row id, columns) into ``table``."""
    flat = [(r, *count, cols.length) for r, cols in rows for count in cols.counts()]
    if not flat:
        return
    per_chunk = table == "lore_chunk_terms"
    sql = _INSERT.format(table=table, row="chunk_id, " if per_chunk else "",
                         pick="u.r, " if per_chunk else "")
    ws = [f[1] for f in flat]
    conn.execute(sql, (root_id, document_id, [f[0] for f in flat], ws, [f[2] for f in flat],
                       [f[3] for f in flat], [f[4] for f in flat], [f[5] for f in flat], config,
                       sorted(set(ws))))


def index_terms(conn: Any, root_id: int, config: str, document_id: int, title: str,
                body: str, chunks: Sequence[tuple[int, str, str]]) -> None:
    """(Re)write one document's keyword data: lengths, chunk tsvectors and postings.

    Args:
        conn: a connection inside the document's write transaction.
        root_id: the document's root.
        config: the root's text-search configuration.
        document_id: ``lore_documents.id``.
        title: the document's title.
        body: the document's body.
        chunks: (chunk id, headings text, chunk text) of each of its chunks.
    """
    document = Columns(title, "", body)
    per_chunk = [(cid, Columns(title, headings, text)) for cid, headings, text in chunks]
    for table, rows in (("lore_documents", [(document_id, document)]),
                        ("lore_chunks", per_chunk)):
        if rows:
            texts = [cols.texts() for _, cols in rows]
            conn.execute(
                f"UPDATE {table} o SET token_count = u.n, tsv = ts_delete("
                "setweight(to_tsvector(%s::regconfig, u.a), 'A')"
                " || setweight(to_tsvector(%s::regconfig, u.b), 'B')"
                " || setweight(to_tsvector(%s::regconfig, u.c), 'C'),"
                " tsvector_to_array(to_tsvector(%s::regconfig, %s)))"
                " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::int[])"
                " AS u(id, a, b, c, n) WHERE o.id = u.id",
                (config, config, config, config, _BREAK, [r for r, _ in rows],
                 *([t[i] for t in texts] for i in range(3)), [cols.length for _, cols in rows]))
    for table in ("lore_document_terms", "lore_chunk_terms"):
        conn.execute(f"DELETE FROM {table} WHERE document_id = %s", (document_id,))
    _postings(conn, "lore_document_terms", root_id, config, document_id,
              [(document_id, document)])
    _postings(conn, "lore_chunk_terms", root_id, config, document_id, per_chunk)


def reindex_all_terms(conn: Any) -> None:
    """Rewrite every root's keyword data and hub flags (the schema step that added them)."""
    for document_id, doctype, body in conn.execute(
            "SELECT id, doctype, body FROM lore_documents").fetchall():
        if document_is_hub(doctype, body):
            conn.execute("UPDATE lore_documents SET hub = true WHERE id = %s", (document_id,))
    roots = conn.execute("SELECT id, text_config::text FROM lore_roots").fetchall()
    for root_id, config in roots:
        documents = conn.execute("SELECT id, title, body FROM lore_documents WHERE root_id = %s"
                                 " ORDER BY id", (root_id,)).fetchall()
        for document_id, title, body in documents:
            chunks = [(int(cid), headings_text(path), text) for cid, path, text in conn.execute(
                "SELECT id, heading_path, text FROM lore_chunks WHERE document_id = %s"
                " ORDER BY ordinal", (document_id,))]
            index_terms(conn, int(root_id), str(config), int(document_id), title, body, chunks)
