"""Keyword terms for PostgreSQL, cut and stemmed as the local index's FTS5 tokenizer does.

The local index tokenises with ``porter unicode61 remove_diacritics 2``:
tokens are runs of letters and digits (``TSK-0350`` is ``tsk`` ``0350``,
``foo_bar`` is ``foo`` ``bar``), folded as unicode61 folds them (``café`` is
``cafe``, ``µm`` is ``μm``; ``lore.store.postgres.fold``), and every CJK run
also yields its character bigrams, Chinese folded to Simplified, in a column
of its own (``lore.documents.cjk``). PostgreSQL's parser cuts differently (it
keeps ``-0350``, ``user@x.com``, ``3.5`` as tokens), so lore cuts here, in
Python, and stems here too for ``lore_english`` roots (FTS5's porter rules,
``lore.store.postgres.stems``); PostgreSQL gets lexemes, not text.

For BM25 each document and each chunk gets postings, one row per lexeme with
its hit count per column (title ``a``, headings ``b``, body and CJK bigrams
``c``) and the row's length (so a ranking reads postings only), in
``lore_document_terms`` and ``lore_chunk_terms``; the column weights are
applied when a query is scored (``lore.store.postgres.bm25``), so changing
them needs no re-index. Counts are exact: a tsvector caps positions at 16,383
and 256 per lexeme, postings do not. Since schema 5 a posting also holds the
lexeme's positions (``position``), from which a phrase, and a pair of
neighbouring query words (term proximity), is counted as FTS5 counts it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lore.documents.cjk import cjk_index_text
from lore.store.postgres.fold import words
from lore.store.postgres.stems import lexemes
from lore.store.shapes import document_is_hub


def headings_text(heading_path: str) -> str:
    """A chunk's headings column (its JSON heading path joined by ``>``), as FTS5 holds it."""
    return " > ".join(json.loads(heading_path)) if heading_path else ""


COLUMNS = 4     # columns a position tells apart (``position``)
_TSV_LAST = 16383   # a tsvector's last position: later ones are stored as it


class Columns:
    """One row's columns as word lists: title (a), headings (b), body plus CJK bigrams (c)."""

    def __init__(self, title: str, headings: str, body: str) -> None:
        self.a = words(title)
        self.b = words(headings)
        self.body = words(body)
        self.cjk = words(cjk_index_text(" ".join(t for t in (title, headings, body) if t)))

    def columns(self) -> tuple[list[str], list[str], list[str], list[str]]:
        """The words of title, headings, body and CJK bigrams (FTS5's four columns)."""
        return self.a, self.b, self.body, self.cjk

    @property
    def length(self) -> int:
        """The row's token count, every column included, as FTS5's BM25 counts it."""
        return sum(map(len, self.columns()))

    def postings(self, stems: dict[str, list[str]]) -> list[tuple[str, int, int, int, str]]:
        """(lexeme, hits in a, in b, in c, its positions) for each of the row's lexemes.

        The positions (``position``) are written as PostgreSQL reads an ``integer[]``."""
        hits: dict[str, list[int]] = {}
        at: dict[str, list[int]] = {}
        for column, tokens in enumerate(self.columns()):
            for n, word in enumerate(tokens):
                for lexeme in stems[word]:
                    hits.setdefault(lexeme, [0, 0, 0])[min(column, 2)] += 1
                    at.setdefault(lexeme, []).append(position(column, n))
        return [(lexeme, a, b, c, "{" + ",".join(map(str, sorted(at[lexeme]))) + "}")
                for lexeme, (a, b, c) in sorted(hits.items())]

    def tsvector(self, stems: dict[str, list[str]]) -> str:
        """The row's tsvector as text: title weight A, headings B, body and CJK bigrams C,
        numbered on across the columns with one position left free between two, so a
        tsquery phrase never runs from one column into the next."""
        entries: dict[str, list[str]] = {}
        offset = 0
        for tokens, weight in zip(self.columns(), "ABCC", strict=True):
            for n, word in enumerate(tokens):
                for lexeme in stems[word]:
                    entries.setdefault(lexeme, []).append(
                        f"{min(offset + n + 1, _TSV_LAST)}{weight}")
            offset += len(tokens) + 1
        return " ".join(f"{tsv_quote(lexeme)}:{','.join(at)}" for lexeme, at in entries.items())


def tsv_quote(lexeme: str) -> str:
    """``lexeme`` quoted for a tsvector's or tsquery's text form."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def position(column: int, n: int) -> int:
    """The stored position of a row's ``n``-th token of ``column`` (0 title, 1 headings,
    2 body, 3 CJK bigrams): ``4 n + column``, so a phrase's next word stands 4 further
    on in the same column, and no phrase runs from one column into the next (FTS5's
    phrases never do; the body and the CJK bigrams are two columns there)."""
    return COLUMNS * n + column


# One statement for both tables' postings, each row's lexemes counted in Python.
_POSTINGS = """
WITH u AS (SELECT * FROM unnest(%(chunk)s::bool[], %(row)s::bigint[], %(lexeme)s::text[],
                                %(a)s::int[], %(b)s::int[], %(c)s::int[], %(len)s::int[],
                                %(pos)s::text[])
           AS u(chunk, r, l, a, b, c, n, p)),
d AS (INSERT INTO lore_document_terms(root_id, document_id, lexeme, a, b, c, len, pos)
      SELECT %(root)s, %(document)s, l, a, b, c, n, p::int[] FROM u WHERE NOT chunk)
INSERT INTO lore_chunk_terms(root_id, document_id, chunk_id, lexeme, a, b, c, len, pos)
SELECT %(root)s, %(document)s, r, l, a, b, c, n, p::int[] FROM u WHERE chunk"""

_TSV = ("SET token_count = u.n, tsv = u.tsv::tsvector FROM unnest(%({0}_id)s::bigint[],"
        " %({0}_tsv)s::text[], %({0}_n)s::int[]) AS u(id, tsv, n) WHERE o.id = u.id")


def index_terms(conn: Any, root_id: int, config: str, document_id: int, title: str,
                body: str, chunks: Sequence[tuple[int, str, str]]) -> None:
    """(Re)write one document's keyword data: lengths, tsvectors and postings (3 statements,
    and one to stem the words where the root's configuration stems in the database).

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
    stems = lexemes(conn, config, (word for _, _, cols in rows for column in cols.columns()
                                   for word in column))
    params: dict[str, object] = {"root": root_id, "document": document_id}
    for kind, chosen in (("d", rows[:1]), ("c", rows[1:])):
        params |= {f"{kind}_id": [r for _, r, _ in chosen],
                   f"{kind}_tsv": [cols.tsvector(stems) for _, _, cols in chosen],
                   f"{kind}_n": [cols.length for _, _, cols in chosen]}
    conn.execute("WITH d AS (UPDATE lore_documents o " + _TSV.format("d") + ")"
                 " UPDATE lore_chunks o " + _TSV.format("c"), params)
    conn.execute("WITH d AS (DELETE FROM lore_document_terms WHERE document_id = %(document)s)"
                 " DELETE FROM lore_chunk_terms WHERE document_id = %(document)s", params)
    flat = [(chunk, r, *posting, cols.length) for chunk, r, cols in rows
            for posting in cols.postings(stems)]
    if flat:
        columns = ("chunk", "row", "lexeme", "a", "b", "c", "pos", "len")
        conn.execute(_POSTINGS, params | {name: [f[i] for f in flat]
                                          for i, name in enumerate(columns)})


def reindex_all_terms(conn: Any) -> None:
    """Rewrite every root's keyword data and hub flags (the schema steps that added them,
    positions, and FTS5's stems). One function for every such step, so a database several
    versions behind is rewritten once (``schema.migrate`` runs each rewrite once)."""
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
