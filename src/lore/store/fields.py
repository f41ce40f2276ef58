"""Front matter as filter rows, and back from a row to the value as the file writes it.

Filters compare case-insensitively, so the ``fields`` rows hold lower-cased
values (``userstory``). Messages about filter values show them as the files
write them (``UserStory``), as the web page's facets do: the spelling is read
back from one document's stored front matter by the same walk that made the row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def field_items(metadata: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(key, value as written) for every filterable value of ``metadata``.

    Nested keys join with dots and are lower-cased (``links.blocks``), each
    list item is its own pair, ``None`` and empty lists give nothing, booleans
    read ``true``/``false``.
    """

    def visit(name: str, value: Any) -> Iterator[tuple[str, str]]:
        if value is None:
            return
        if isinstance(value, Mapping):
            for key, item in value.items():
                yield from visit(f"{name}.{key}".lower() if name else str(key).lower(), item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                yield from visit(name, item)
        elif isinstance(value, bool):
            yield name, "true" if value else "false"
        else:
            yield name, str(value)

    yield from visit(prefix.lower().rstrip("."), metadata)


def flatten_fields(metadata: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Front matter as lower-cased (key, value) rows for filtering, duplicates dropped
    (``field_items`` says which values make rows)."""
    return list(dict.fromkeys((key, value.lower()) for key, value in field_items(metadata,
                                                                                 prefix)))


def field_spelling(metadata: Mapping[str, Any], key: str, value: str) -> str:
    """How ``metadata`` writes the lower-cased ``value`` of ``key`` (``value`` itself when
    it holds no such value)."""
    return next((written for name, written in field_items(metadata)
                 if name == key and written.lower() == value), value)
