"""PostgreSQL's keyword vocabulary (``lore.store.base.SearchReads``' typo questions).

A word is read as the postings read it: cut as FTS5 cuts text (``fold.words``),
then stemmed as the root's documents were (``stems.first_lexemes``, the same
lexemes ``bm25`` ranks with). Whether a document holds a token is one probe of
the postings' primary key (root, lexeme, document) per word; the whole
vocabulary, with document counts, is read only for a query with a typo.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lore.store.postgres.fold import words as cut_words
from lore.store.postgres.stems import first_lexemes


class PgVocabularyMixin:
    """Word tokens and token counts of one root (needs ``_conn``, ``_root_id``, ``_config``)."""

    _conn: Any
    _root_id: int
    _config: str

    def word_tokens(self, words: Sequence[str]) -> dict[str, str]:
        """Word -> the one lexeme the postings hold it as; words cut into no token or
        several are absent."""
        return self._lexemes(words)

    def unmatched_words(self, words: Sequence[str]) -> dict[str, str]:
        """Word -> its lexeme, for the words whose lexeme no document of the root holds."""
        found = self._lexemes(words)
        if not found:
            return {}
        rows = self._conn.execute(
            "SELECT l FROM unnest(%s::text[]) AS l WHERE NOT EXISTS (SELECT 1"
            " FROM lore_document_terms t WHERE t.root_id = %s AND t.lexeme = l COLLATE \"C\")",
            (sorted(set(found.values())), self._root_id))
        missing = {str(lexeme) for (lexeme,) in rows}
        return {word: lexeme for word, lexeme in found.items() if lexeme in missing}

    def _lexemes(self, words: Sequence[str]) -> dict[str, str]:
        """Word -> its lexeme, for the words cut into exactly one token that has one."""
        single = _single(words)
        lexemes = first_lexemes(self._conn, self._config, single)
        return {word: lexeme for cut, lexeme in lexemes.items() if lexeme is not None
                for word in single[cut]}

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
