"""PostgreSQL SQL builders: keyword terms -> tsquery, restrictions -> document subqueries.

Keyword terms arrive as ``lore.search.fts`` writes them (a quoted string,
optionally followed by ``*``; see ``lore.store.base``). Each becomes a
``phraseto_tsquery`` of its words as the local index cuts them
(``lore.store.postgres.terms.words``; one word is a plain term, several a
phrase), or for a prefix term a ``to_tsquery`` of those words with ``:*`` on
the last one, so no user text is ever read as tsquery syntax. Alternatives are OR-ed with ``||``. The text-search
configuration is the root's (``lore_roots.text_config``), bound as a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence

from lore.store.base import Restriction
from lore.store.postgres.terms import words

Query = tuple[str, list[object]]      # (SQL fragment with %s placeholders, its parameters)


def unquote(term: str) -> tuple[str, bool]:
    """A keyword term's text and whether it is a prefix term (``"abc"*``)."""
    prefix = term.endswith("*")
    body = term[:-1] if prefix else term
    if len(body) >= 2 and body.startswith('"') and body.endswith('"'):
        body = body[1:-1].replace('""', '"')
    return body, prefix


def term_query(term: str, config: str) -> Query | None:
    """The tsquery of one keyword term, or None when it has nothing to search."""
    text, prefix = unquote(term)
    found = words(text)
    if not found:
        return None
    if prefix:
        return ("to_tsquery(%s::regconfig, %s)",
                [config, " <-> ".join([*found[:-1], found[-1] + ":*"])])
    return "phraseto_tsquery(%s::regconfig, %s)", [config, " ".join(found)]


def tsquery_sql(terms: Sequence[str], config: str) -> Query | None:
    """A tsquery expression matching any of ``terms``, or None when none is searchable."""
    queries = [q for q in (term_query(t, config) for t in terms) if q is not None]
    if not queries:
        return None
    return ("(" + " || ".join(sql for sql, _ in queries) + ")",
            [param for _, params in queries for param in params])


def restriction_sql(restriction: Restriction, root_id: int, config: str) -> Query:
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
    excluded = tsquery_sql(restriction.exclusion, config)
    if excluded is not None:
        # INTERSECT binds tighter than EXCEPT: (A INTERSECT B) EXCEPT C.
        sql += (" EXCEPT SELECT document_id FROM lore_chunks WHERE root_id = %s"
                f" AND tsv @@ {excluded[0]}")
        params += [root_id, *excluded[1]]
    return sql, params
