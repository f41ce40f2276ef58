"""Facet counting: label-like keys only, disjunctive counts for filtered keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lore.server.web.facets import compute_facets, count_values

DOCS: list[dict[str, Any]] = [
    {"type": "Task", "state": "Done", "tags": ["cli", "Search"], "title": "a", "created": "2026-01-01"},
    {"type": "Task", "state": "Proposed", "tags": ["cli"], "title": "b", "created": "2026-01-02"},
    {"type": "ADR", "state": "Accepted", "tags": ["search"], "title": "c", "created": "2026-01-03"},
    {"type": "Bug", "state": "Done", "tags": [], "title": "d", "created": "2026-01-04",
     "area": "sync"},
]


def fake_search(filters: Mapping[str, Sequence[str]]) -> list[Mapping[str, Any]]:
    """A brute-force filter over DOCS, as the index would apply it (case-insensitive)."""
    def passes(doc: Mapping[str, Any]) -> bool:
        for key, values in filters.items():
            held = doc.get(key)
            held_list = held if isinstance(held, list) else [held]
            if not {str(v).lower() for v in held_list} & {v.lower() for v in values}:
                return False
        return True
    return [doc for doc in DOCS if passes(doc)]


def test_ids_titles_and_dates_are_not_facets() -> None:
    counts = count_values(DOCS)
    assert "title" not in counts and "created" not in counts
    assert counts["tags"]["cli"] == 2
    assert counts["tags"]["Search"] == 2          # "Search" and "search" merge


def test_filtered_key_counts_ignore_its_own_filter() -> None:
    facets = compute_facets(fake_search, {"type": ["task"]})
    types = {value.value: (value.count, value.selected) for value in facets["type"]}
    assert types == {"Task": (2, True), "ADR": (1, False), "Bug": (1, False)}
    states = {value.value: value.count for value in facets["state"]}
    assert states == {"Done": 1, "Proposed": 1}   # other keys count under the filter


def test_a_filter_matching_nothing_still_shows_as_selected() -> None:
    facets = compute_facets(fake_search, {"state": ["Blocked"]})
    assert [(v.value, v.count, v.selected) for v in facets["state"]][-1] == ("Blocked", 0, True)
