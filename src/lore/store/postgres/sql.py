"""PostgreSQL SQL builders: keyword terms -> tsquery, restrictions -> document subqueries.

Keyword terms arrive as ``lore.search.fts`` writes them (a quoted string,
optionally followed by ``*``; see ``lore.store.base``). Each becomes a tsquery
of its words' lexemes as the postings hold them (cut by ``fold.words``,
stemmed by the root's ``Stemmer``): one word a plain lexeme, several a phrase
(``<->``, or ``<n>`` over a word the configuration drops), a prefix term's last
lexeme marked ``:*``. The tsquery is built as text and bound as a parameter, so
no user text is ever read as tsquery syntax. Alternatives are OR-ed with ``||``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from lore.store.base import Restriction
from lore.store.postgres.fold import words
from lore.store.postgres.terms import tsv_quote

Query = tuple[str, list[object]]      # (SQL fragment with %s placeholders, its parameters)
# A root's word -> lexeme function (``stems.first_lexemes`` bound to its connection
# and configuration): queries are stemmed as the root's documents were.
Stemmer = Callable[[Iterable[str]], Mapping[str, str | None]]


def unquote(term: str) -> tuple[str, bool]:
    """A keyword term's text and whether it is a prefix term (``"abc"*``)."""
    prefix = term.endswith("*")
    body = term[:-1] if prefix else term
    if len(body) >= 2 and body.startswith('"') and body.endswith('"'):
        body = body[1:-1].replace('""', '"')
    return body, prefix


def stemmed(terms: Iterable[str],
            stem: Stemmer) -> tuple[list[tuple[list[str], bool]], Mapping[str, str | None]]:
    """Each term's words and whether it is a prefix, and every word's lexeme (one
    ``stem`` call for all of them: one statement where the database stems)."""
    cut = [(words(text), prefix) for text, prefix in map(unquote, terms)]
    return cut, stem(word for found, _ in cut for word in found)


def tsquery_sql(terms: Sequence[str], stem: Stemmer) -> Query | None:
    """A tsquery expression matching any of ``terms``, or None when none is searchable."""
    cut, lexemes = stemmed(terms, stem)
    queries = [q for q in (_phrase(found, prefix, lexemes) for found, prefix in cut) if q]
    if not queries:
        return None
    return "(" + " || ".join(["%s::tsquery"] * len(queries)) + ")", list(queries)


def _phrase(found: list[str], prefix: bool, lexemes: Mapping[str, str | None]) -> str:
    """One term's tsquery text ("" when none of its words has a lexeme)."""
    text, gap = "", 1
    for k, word in enumerate(found):
        lexeme = lexemes[word]
        if lexeme is None:
            gap += 1
            continue
        part = tsv_quote(lexeme) + (":*" if prefix and k == len(found) - 1 else "")
        text = f"{text} <{gap}> {part}" if text else part
        gap = 1
    return text


def restriction_sql(restriction: Restriction, root_id: int, stem: Stemmer) -> Query:
    """A subquery selecting ``lore_documents.id`` of the documents ``restriction`` allows."""
    params: list[object] = []
    if restriction.filters:
        parts = []
        for key, values in restriction.filters.items():
            parts.append("SELECT document_id FROM lore_fields WHERE root_id = %s AND key = %s "
                         "AND value = ANY(%s)")
            params += [root_id, str(key).lower(), sorted({str(v).lower() for v in values})]
        sql = " INTERSECT ".join(parts)
    else:
        sql = "SELECT id FROM lore_documents WHERE root_id = %s"
        params.append(root_id)
    excluded = tsquery_sql(restriction.exclusion, stem)
    if excluded is not None:
        # INTERSECT binds tighter than EXCEPT: (A INTERSECT B) EXCEPT C.
        sql += (" EXCEPT SELECT document_id FROM lore_chunks WHERE root_id = %s"
                f" AND tsv @@ {excluded[0]}")
        params += [root_id, *excluded[1]]
    return sql, params
