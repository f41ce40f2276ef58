"""SQLite SQL for restrictions: which documents (and chunks) a search may return.

Filters become an ``INTERSECT`` of one ``fields`` lookup per key (values of a
key travel as one JSON parameter, so no statement grows with its input);
exclusions subtract the documents with a chunk matching any excluded term.
Every value is a parameter; keyword terms arrive already quoted
(``lore.store.base``), so FTS5 reads them as strings, never as syntax.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from lore.errors import QueryError
from lore.store.base import Filters, Restriction

# (sql, params) of a subquery selecting allowed documents.id values.
DocFilter = tuple[str, list[str]]


def fts_match(terms: Sequence[str]) -> str | None:
    """Keyword terms as one FTS5 expression (any of them), or None for no terms."""
    return " OR ".join(terms) or None


def documents_filter_sql(filters: Filters) -> DocFilter:
    """SQL selecting ``documents.id`` of documents that match ``filters``.

    AND across keys, OR within one key's values, case-insensitive (the fields
    table is lower-cased on write). No filters select every document.

    Raises:
        QueryError: a key is given with no values.
    """
    if not filters:
        return "SELECT id FROM documents", []
    parts: list[str] = []
    params: list[str] = []
    for key, values in filters.items():
        wanted = sorted({str(v).lower() for v in values})
        if not wanted:
            raise QueryError(f"The filter {key!r} has no values: give at least one, "
                             f"e.g. {key}:VALUE, or drop it.")
        parts.append("SELECT document_id FROM fields WHERE key = ? "
                     "AND value IN (SELECT value FROM json_each(?))")
        params += [str(key).lower(), json.dumps(wanted)]
    return " INTERSECT ".join(parts), params


def chunks_filter_sql(filters: Filters) -> DocFilter:
    """SQL selecting ``chunks.id`` (ascending) of chunks whose document matches."""
    doc_sql, params = documents_filter_sql(filters)
    if not filters:
        return "SELECT id FROM chunks ORDER BY id", params
    return f"SELECT id FROM chunks WHERE document_id IN ({doc_sql}) ORDER BY id", params


def restriction_sql(restriction: Restriction) -> DocFilter:
    """SQL selecting ``documents.id`` of the documents ``restriction`` allows."""
    sql, params = documents_filter_sql(restriction.filters)
    exclusion = fts_match(restriction.exclusion)
    if exclusion is not None:
        # Compound operators associate left: (A INTERSECT B) EXCEPT C.
        sql += (" EXCEPT SELECT c.document_id FROM chunks c WHERE c.id IN"
                " (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?)")
        params = [*params, exclusion]
    return sql, params
