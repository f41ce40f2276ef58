"""PostgreSQL's keyword vocabulary (``lore.store.base.SearchReads``' typo questions).

A word is read as the postings read it: cut as FTS5 cuts text
(``terms.words``), then stemmed by the root's text-search configuration, the
same expression ``bm25`` ranks with. Whether a document holds a token is one
probe of the postings' primary key (root, lexeme, document) per word; the
whole vocabulary, with document counts, is read only for a query with a typo.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lore.store.postgres.terms import words as cut_words

# Each input word's stem by the root's configuration (NULL for a word it drops).
_STEMS = ("SELECT w, (tsvector_to_array(to_tsvector(%s::regconfig, w)))[1] AS lexeme"
          " FROM unnest(%s::text[]) AS w")


class PgVocabularyMixin:
    """Word tokens and token counts of one root (needs ``_conn``, ``_root_id``, ``_config``)."""

    _conn: Any
    _root_id: int
    _config: str

    def word_tokens(self, words: Sequence[str]) -> dict[str, str]:
        """Word -> the one lexeme the postings hold it as; words cut into no token or
        several are absent."""
        single = _single(words)
        if not single:
            return {}
        rows = self._conn.execute(f"SELECT w, lexeme FROM ({_STEMS}) s WHERE lexeme IS NOT NULL",
                                  (self._config, list(single)))
        return {word: str(lexeme) for cut, lexeme in rows for word in single[str(cut)]}

    def unmatched_words(self, words: Sequence[str]) -> dict[str, str]:
        """Word -> its lexeme, for the words whose lexeme no document of the root holds."""
        single = _single(words)
        if not single:
            return {}
        rows = self._conn.execute(
            f"SELECT w, lexeme FROM ({_STEMS}) s WHERE lexeme IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM lore_document_terms t WHERE t.root_id = %s"
            " AND t.lexeme = s.lexeme COLLATE \"C\")",
            (self._config, list(single), self._root_id))
        return {word: str(lexeme) for cut, lexeme in rows for word in single[str(cut)]}

    def token_vocabulary(self) -> list[tuple[str, int]]:
        """Every lexeme of the root's postings with how many documents hold it."""
        rows = self._conn.execute("SELECT lexeme, count(*) FROM lore_document_terms"
                                  " WHERE root_id = %s GROUP BY lexeme", (self._root_id,))
        return [(str(lexeme), int(count)) for lexeme, count in rows]


def _single(words: Sequence[str]) -> dict[str, list[str]]:
    """The words that cut into exactly one token: that token -> the words it came from."""
    single: dict[str, list[str]] = {}
    for word in words:
        cut = cut_words(word)
        if len(cut) == 1:
            single.setdefault(cut[0], []).append(word)
    return single
