"""Facet counts for the web page: which values of which keys the current results hold.

Facets are counted over the matching documents of the current query (its
top ``depth`` hits), the way a shop's sidebar counts products. Counting is
disjunctive: the counts of a key that is already filtered come from the same
query *without* that key's filter, so a reader sees how many hits each other
value would give and can widen a choice as easily as narrow it.

Which keys: the backlog's own (type, state, priority, tags) first, then any
other front-matter key whose values are short labels rather than prose, ids or
dates — whatever a folder's front matter holds, without a schema.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PREFERRED = ("type", "state", "priority", "tags")
# Keys that identify or describe one document: a facet of them would list every hit.
_NOT_FACETS = frozenset({"id", "uid", "title", "name", "description", "summary", "path",
                         "created", "updated", "date", "parent", "owner_id"})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
MAX_VALUES = 25      # a key with more distinct values is not a useful facet
MAX_LABEL = 40       # longer values are prose, not labels
MAX_EXTRA_KEYS = 8


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet with how many current hits hold it."""

    value: str
    count: int
    selected: bool

    def to_json(self) -> dict[str, Any]:
        """JSON shape used by the page."""
        return {"value": self.value, "count": self.count, "selected": self.selected}


def _labels(value: Any) -> list[str]:
    """The facet labels a front-matter value contributes (lists give several)."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool) or item is None or isinstance(item, (dict, list)):
            continue
        text = str(item).strip()
        if text and len(text) <= MAX_LABEL and not _DATE.match(text):
            out.append(text)
    return out


def count_values(metadatas: Iterable[Mapping[str, Any]]) -> dict[str, Counter[str]]:
    """Per key, how many documents hold each label (case-insensitively merged)."""
    counts: dict[str, Counter[str]] = {}
    spelled: dict[tuple[str, str], str] = {}
    for metadata in metadatas:
        for key, value in metadata.items():
            key = str(key).lower()
            if key in _NOT_FACETS:
                continue
            for label in dict.fromkeys(_labels(value)):
                shown = spelled.setdefault((key, label.lower()), label)
                counts.setdefault(key, Counter())[shown] += 1
    return counts


def facet_keys(counts: Mapping[str, Counter[str]], filtered: Iterable[str]) -> list[str]:
    """The keys worth showing: preferred ones, filtered ones, then label-like others."""
    keys = [key for key in PREFERRED if key in counts]
    keys += [key for key in filtered if key not in keys]
    others = sorted((key for key in counts if key not in keys
                     and 1 < len(counts[key]) <= MAX_VALUES
                     and sum(counts[key].values()) >= 2),
                    key=lambda key: (-sum(counts[key].values()), key))
    return keys + others[:MAX_EXTRA_KEYS]


def compute_facets(search: Callable[[Mapping[str, Sequence[str]]], list[Mapping[str, Any]]],
                   filters: Mapping[str, Sequence[str]]) -> dict[str, list[FacetValue]]:
    """Facets for a query, given a function that returns the metadata of its hits.

    Args:
        search: runs the current query under the given filters and returns
            the metadata of each matching document.
        filters: the active filters (lower-cased key -> accepted values).
    """
    filters = {key.lower(): list(values) for key, values in filters.items() if values}
    counts = count_values(search(filters))
    for key in filters:
        # Disjunctive count for a filtered key: the query without that key's filter.
        others = {k: v for k, v in filters.items() if k != key}
        counts[key] = count_values(search(others)).get(key, Counter())
    facets: dict[str, list[FacetValue]] = {}
    for key in facet_keys(counts, filters):
        chosen = {value.lower() for value in filters.get(key, [])}
        values = [FacetValue(value, count, value.lower() in chosen)
                  for value, count in counts.get(key, Counter()).most_common(MAX_VALUES)]
        shown = {value.value.lower() for value in values}
        values += [FacetValue(value, 0, True) for value in filters.get(key, [])
                   if value.lower() not in shown]
        if values:
            facets[key] = values
    return facets
