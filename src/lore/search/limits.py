"""What a search accepts from a caller, checked before any work is done.

The CLI only ever passes strings, but the Python API, the servers and the MCP
tools take whatever a program sends. A megabyte of query text costs seconds
in the parser and the FTS engine for no better answer (the embedder reads the
first few hundred tokens, BM25 gains nothing from the ten-thousandth term), and
a filter value of the wrong type failed deep inside with an ``AttributeError``.
Both become a ``QueryError`` that says what is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping

from lore.errors import QueryError

# About 2,000 words: several times any real question, and what a pasted paragraph
# or a short document (to find similar ones) needs.
MAX_QUERY_CHARS = 10_000
MAX_FILTER_VALUES = 1_000


def check_query(query: object) -> str:
    """``query`` itself when it is a string of reasonable length.

    Raises:
        QueryError: not a string, or longer than ``MAX_QUERY_CHARS``.
    """
    if not isinstance(query, str):
        raise QueryError(f"the query must be a string, not {type(query).__name__}")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query)} characters; lore searches at most "
                         f"{MAX_QUERY_CHARS}. Shorten it to its key words or passage.")
    return query


def check_filters(filters: object) -> dict[str, list[str]] | None:
    """``filters`` as field -> list of string values, or None when there are none.

    A single value may be given without a list (``{"type": "ADR"}``); numbers are
    compared as their text, as front matter values are stored.

    Raises:
        QueryError: not a mapping of field names to a value or a list of values.
    """
    if filters is None:
        return None
    if not isinstance(filters, Mapping):
        raise QueryError(f"filters must be a mapping of field name -> value(s), e.g. "
                         f"{{'type': ['ADR']}}, not {type(filters).__name__}")
    checked: dict[str, list[str]] = {}
    for key, values in filters.items():
        if not isinstance(key, str):
            raise QueryError(f"filter field names must be strings, not {key!r}")
        items = [values] if isinstance(values, (str, int, float)) else values
        if not isinstance(items, (list, tuple, set, frozenset)) or \
                len(items) > MAX_FILTER_VALUES:
            raise QueryError(f"filter {key!r} needs a value or a list of at most "
                             f"{MAX_FILTER_VALUES} values, e.g. {{{key!r}: ['x']}}; "
                             f"got {type(values).__name__}")
        checked[key] = [_filter_value(key, value) for value in items]
    return checked


def _filter_value(key: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise QueryError(f"filter {key!r} values must be strings (or numbers), "
                         f"not {type(value).__name__} {value!r}")
    return str(value)
