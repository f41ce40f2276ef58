"""Keyword terms for PostgreSQL, cut the way the local index's FTS5 tokenizer cuts them.

The local index tokenises with ``porter unicode61 remove_diacritics 2``:
tokens are runs of letters and digits (``TSK-0350`` is ``tsk`` ``0350``,
``foo_bar`` is ``foo`` ``bar``), Latin diacritics are folded (``café`` is
``cafe``), and every CJK run also yields its character bigrams, Chinese
folded to Simplified, in a column of its own (``lore.documents.cjk``). PostgreSQL's parser cuts differently (it
keeps ``-0350``, ``user@x.com``, ``3.5`` as tokens), so lore tokenises here, in
Python, and hands PostgreSQL only space-separated words: its text-search
configuration (``lore_english``, Porter stemming without stopwords, by
default) then only stems them.

For BM25 each document and each chunk gets postings, one row per lexeme with
its hit count per column (title ``a``, headings ``b``, body and CJK bigrams
``c``) and the row's length (so a ranking reads postings only), in ``lore_document_terms`` and ``lore_chunk_terms``; the column
weights are applied when a query is scored (``lore.store.postgres.bm25``), so
changing them needs no re-index. Counts are exact: a tsvector caps positions
at 16,383 and 255 per lexeme, postings do not. Since schema 5 a posting also
holds the lexeme's positions (``position``), from which a phrase, and a pair
of neighbouring query words (term proximity), is counted as FTS5 counts it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from lore.documents.cjk import cjk_index_text, has_cjk
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
COLUMNS = 4     # columns a position tells apart (``position``)


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

    def counts(self) -> list[tuple[str, int, int, int, str]]:
        """(word, hits in a, in b, in c, its positions) for each distinct word.

        The positions (``position``) are written as PostgreSQL reads an ``integer[]``'s
        elements, comma-separated, so one statement can merge the words of a lexeme."""
        a, b, c = Counter(self.a), Counter(self.b), Counter(self.c)
        at: dict[str, list[str]] = {}
        for column, tokens in enumerate((self.a, self.b, self.body, self.cjk)):
            for n, word in enumerate(tokens):
                at.setdefault(word, []).append(str(position(column, n)))
        return [(w, a[w], b[w], c[w], ",".join(at[w])) for w in sorted(at)]


def position(column: int, n: int) -> int:
    """The stored position of a row's ``n``-th token of ``column`` (0 title, 1 headings,
    2 body, 3 CJK bigrams): ``4 n + column``, so a phrase's next word stands 4 further
    on in the same column, and no phrase runs from one column into the next (FTS5's
    phrases never do; the body and the CJK bigrams are two columns there)."""
    return COLUMNS * n + column


# One statement: every distinct word stemmed once, then both tables' postings.
_POSTINGS = """
WITH u AS (SELECT * FROM unnest(%(chunk)s::bool[], %(row)s::bigint[], %(word)s::text[],
                                %(a)s::int[], %(b)s::int[], %(c)s::int[], %(len)s::int[],
                                %(pos)s::text[])
           AS u(chunk, r, w, a, b, c, n, p)),
m AS (SELECT x.w, unnest(tsvector_to_array(to_tsvector(%(config)s::regconfig, x.w))) AS l
      FROM (SELECT DISTINCT w FROM u) x),
g AS (SELECT u.chunk, u.r, m.l, sum(u.a) AS a, sum(u.b) AS b, sum(u.c) AS c, max(u.n) AS n,
             ('{' || string_agg(u.p, ',') || '}')::int[] AS p
      FROM u JOIN m USING (w) GROUP BY u.chunk, u.r, m.l),
d AS (INSERT INTO lore_document_terms(root_id, document_id, lexeme, a, b, c, len, pos)
      SELECT %(root)s, %(document)s, l, a, b, c, n, p FROM g WHERE NOT chunk)
INSERT INTO lore_chunk_terms(root_id, document_id, chunk_id, lexeme, a, b, c, len, pos)
SELECT %(root)s, %(document)s, r, l, a, b, c, n, p FROM g WHERE chunk"""

_TSV = ("SET token_count = u.n, tsv = ts_delete("
        "setweight(to_tsvector(%(config)s::regconfig, u.a), 'A')"
        " || setweight(to_tsvector(%(config)s::regconfig, u.b), 'B')"
        " || setweight(to_tsvector(%(config)s::regconfig, u.c), 'C'),"
        " tsvector_to_array(to_tsvector(%(config)s::regconfig, %(break)s)))"
        " FROM unnest(%({0}_id)s::bigint[], %({0}_a)s::text[], %({0}_b)s::text[],"
        " %({0}_c)s::text[], %({0}_n)s::int[]) AS u(id, a, b, c, n) WHERE o.id = u.id")


def index_terms(conn: Any, root_id: int, config: str, document_id: int, title: str,
                body: str, chunks: Sequence[tuple[int, str, str]]) -> None:
    """(Re)write one document's keyword data: lengths, tsvectors and postings (3 statements).

    Args:
        conn: a connection inside the document's write transaction.
        root_id: the document's root.
        config: the root's text-search configuration.
        document_id: ``lore_documents.id``.
        title: the document's title.
        body: the document's body.
        chunks: (chunk id, headings text, chunk text) of each of its chunks.
    """
    rows = [(False, document_id, Columns(title, "", body)),
            *((True, cid, Columns(title, headings, text)) for cid, headings, text in chunks)]
    params: dict[str, object] = {"config": config, "break": _BREAK, "root": root_id,
                                 "document": document_id}
    for kind, chosen in (("d", rows[:1]), ("c", rows[1:])):
        texts = [cols.texts() for _, _, cols in chosen]
        params |= {f"{kind}_id": [r for _, r, _ in chosen],
                   **{f"{kind}_{col}": [t[i] for t in texts] for i, col in enumerate("abc")},
                   f"{kind}_n": [cols.length for _, _, cols in chosen]}
    conn.execute("WITH d AS (UPDATE lore_documents o " + _TSV.format("d") + ")"
                 " UPDATE lore_chunks o " + _TSV.format("c"), params)
    conn.execute("WITH d AS (DELETE FROM lore_document_terms WHERE document_id = %(document)s)"
                 " DELETE FROM lore_chunk_terms WHERE document_id = %(document)s", params)
    flat = [(chunk, r, *count, cols.length) for chunk, r, cols in rows
            for count in cols.counts()]
    if flat:
        columns = ("chunk", "row", "word", "a", "b", "c", "pos", "len")
        conn.execute(_POSTINGS, params | {name: [f[i] for f in flat]
                                          for i, name in enumerate(columns)})


def reindex_all_terms(conn: Any) -> None:
    """Rewrite every root's keyword data and hub flags (the schema steps that added them,
    and positions to the postings). One function for both steps, so a database several
    versions behind is rewritten once (``schema.migrate`` runs each rewrite once)."""
    for document_id, doctype, body in conn.execute(
            "SELECT id, doctype, body FROM lore_documents").fetchall():
        if document_is_hub(doctype, body):
            conn.execute("UPDATE lore_documents SET hub = true WHERE id = %s", (document_id,))
    _reindex_terms(conn, lambda title, body: True)


def reindex_cjk_terms(conn: Any) -> None:
    """Rewrite the keyword data of documents with CJK text (the step that folded Chinese)."""
    _reindex_terms(conn, lambda title, body: has_cjk(title) or has_cjk(body))


def _reindex_terms(conn: Any, wanted: Callable[[str, str], bool]) -> None:
    """Rewrite the keyword data of every document for which ``wanted(title, body)`` holds."""
    roots = conn.execute("SELECT id, text_config::text FROM lore_roots").fetchall()
    for root_id, config in roots:
        documents = conn.execute("SELECT id, title, body FROM lore_documents WHERE root_id = %s"
                                 " ORDER BY id", (root_id,)).fetchall()
        for document_id, title, body in documents:
            if not wanted(title, body):
                continue
            chunks = [(int(cid), headings_text(path), text) for cid, path, text in conn.execute(
                "SELECT id, heading_path, text FROM lore_chunks WHERE document_id = %s"
                " ORDER BY ordinal", (document_id,))]
            index_terms(conn, int(root_id), str(config), int(document_id), title, body, chunks)
