"""The lexemes of cut words: FTS5's stems for ``lore_english`` roots, else PostgreSQL's.

A root's text-search configuration decides its lexemes. ``lore_english``, the
default, promises the local index's ranking, so its words are stemmed here by
FTS5's own porter rules (``porter``), never by PostgreSQL's Snowball
``porter`` dictionary (``ms`` -> ``m``, ``pathologi`` where FTS5 writes
``patholog``). Any other configuration (``simple``, ``german``, ...) stems in
the database, one statement per call. Postings, tsvectors, tsqueries and the
typo lookups all take their lexemes from here, so documents and queries agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lore.store.postgres.porter import stem

FTS5_PORTER = "lore_english"


def stems_like_fts5(config: str) -> bool:
    """Whether ``config`` (a regconfig's text, maybe schema-qualified) is ``lore_english``."""
    return config.rsplit(".", 1)[-1].strip('"') == FTS5_PORTER


def lexemes(conn: Any, config: str, words: Iterable[str]) -> dict[str, list[str]]:
    """Word (as ``fold.words`` cuts it) -> its lexemes: one for ``lore_english``; none
    for a stopword of another configuration, several where its dictionary gives several."""
    distinct = sorted(set(words))
    if stems_like_fts5(config):
        return {word: [stem(word)] for word in distinct}
    if not distinct:
        return {}
    rows = conn.execute("SELECT w, tsvector_to_array(to_tsvector(%s::regconfig, w))"
                        " FROM unnest(%s::text[]) AS w", (config, distinct))
    return {str(word): [str(lexeme) for lexeme in found] for word, found in rows}


def first_lexemes(conn: Any, config: str, words: Iterable[str]) -> dict[str, str | None]:
    """Word -> its first lexeme, or None for a word the configuration drops."""
    return {word: (found[0] if found else None)
            for word, found in lexemes(conn, config, words).items()}
