"""SQLite's keyword vocabulary: which words the index reads as which tokens, and
which tokens some document holds (``lore.store.base.SearchReads``' typo questions).

A query word is compared with the index by the token FTS5 turns it into (the
catalog's tokenizer: Porter stemming, diacritics folded), never by its
spelling, so "indexes" counts as known and only a word whose *token* no
document holds is a typo candidate. Tokens are read from ``documents_fts``
through ``fts5vocab`` tables in the connection's ``temp`` schema (nothing is
written to the catalog): an ``instance`` table answers "does any document
hold it" from the first posting, without counting the rest, and a ``row``
table lists every token with its document count, read only when a query has
a typo, once per catalog state (``lore.search.typos``).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Sequence

from lore.store.bm25_memory import TABLES, KeywordCopy, QueryTokenizer, table_tokenizer
from lore.store.fact_cache import FactCache, cached, catalog_fact

_INSTANCES = "temp.lore_document_instances"
_ROWS = "temp.lore_document_rows"


@functools.lru_cache(maxsize=4)
def _tokenizer(config: str) -> QueryTokenizer:
    """One query tokenizer per tokenizer configuration, shared by every catalog of the
    process (it caches the words it tokenized, and answers the same for any table)."""
    return QueryTokenizer(config)


def _vocab(conn: sqlite3.Connection, name: str, kind: str) -> str:
    """``name``, an ``fts5vocab`` table of ``kind`` over ``documents_fts``, created once
    per connection in its temporary schema."""
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING fts5vocab(main, {TABLES[0]},"
                 f" {kind})")
    return name


class VocabularyReadsMixin:
    """Word tokens and token counts of the catalog (needs ``_conn``, ``_facts``)."""

    _conn: sqlite3.Connection
    _facts: FactCache
    held_keyword_copy: Callable[[], KeywordCopy | None]   # ``KeywordReadsMixin``'s

    def word_tokens(self, words: Sequence[str]) -> dict[str, str]:
        """Word -> the one token the keyword index reads it as; words read as no token,
        as several, or as a prefix are absent."""
        config = catalog_fact(self._facts, self._conn, "tokenizer",
                              lambda: table_tokenizer(self._conn))
        if config is None:
            return {}
        tokenizer = _tokenizer(config)
        found: dict[str, str] = {}
        for word in words:
            parsed = tokenizer.phrase('"' + word.replace('"', '""') + '"')
            if parsed is not None and len(parsed[0]) == 1 and not parsed[1]:
                found[word] = parsed[0][0]
        return found

    def unmatched_words(self, words: Sequence[str]) -> dict[str, str]:
        """Word -> its token, for the words whose token no document holds.

        From the in-memory keyword copy when it is current (a server's), else
        by SQL; inside a read snapshot each token's answer is kept for the
        catalog state, so SQLite is asked about a word once per state.
        """
        tokens = self.word_tokens(words)
        if not tokens:
            return {}
        copy = self.held_keyword_copy()
        if copy is not None:        # a server's copy of the tables: no SQL at all
            index = copy.documents.term_index
            return {word: token for word, token in tokens.items() if token not in index}

        def fetch(unseen: list[str]) -> dict[str, bool]:
            vocab = _vocab(self._conn, _INSTANCES, "instance")
            held = {str(t) for (t,) in self._conn.execute(
                f"SELECT value FROM json_each(?) WHERE EXISTS (SELECT 1 FROM {vocab}"
                " WHERE term = value)", (json.dumps(unseen),))}
            return {token: token in held for token in unseen}
        held = cached(self._facts, self._conn, "held_tokens", sorted(set(tokens.values())),
                      fetch)
        return {word: token for word, token in tokens.items() if not held[token]}

    def token_vocabulary(self) -> list[tuple[str, int]]:
        """Every token of the keyword index with how many documents hold it."""
        vocab = _vocab(self._conn, _ROWS, "row")
        return [(str(term), int(count)) for term, count in
                self._conn.execute(f"SELECT term, doc FROM {vocab}")]
