"""Check filters against what is indexed, so a typo is an error and not "No matches".

The same rules hold for ``--filter KEY=VALUE`` and for inline ``key:value``:

- an unknown key is an error that suggests the nearest known key and lists
  the known ones;
- an unknown value of a known key is an error that lists the key's values
  (compared case-insensitively, as filters match).

One exception keeps ordinary text searchable: an inline ``word:rest`` whose
``word`` is not a field key and is not one typo away from one (``http://x``,
``note:`` in prose) stays text, and the query's notes say so for
``--explain``. A near miss (``tpye:Task``) is taken as a mistyped filter.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from lore.errors import QueryError

# Values listed in an error before "and N more".
SHOWN_VALUES = 25


class FieldFacts(Protocol):
    """The questions filter checking asks the store (``lore.store.base.SearchReads``)."""

    def field_keys(self) -> list[str]:
        """Every field key of some document, lower-cased, sorted."""
        ...

    def unknown_field_values(self, key: str, values: Sequence[str]) -> list[str]:
        """Those of ``values`` (lower-cased) that no document has for ``key``."""
        ...

    def field_values(self, key: str, *, limit: int) -> tuple[list[str], int]:
        """Up to ``limit`` distinct values of ``key``, sorted, and how many there are."""
        ...


def check_filters(store: FieldFacts, filters: Mapping[str, Sequence[str]], *,
                  explicit: Collection[str], colon_words: Collection[str]) -> list[str]:
    """Raise for a filter that cannot match; return notes about colon words kept as text.

    Args:
        store: answers what keys and values are indexed.
        filters: every filter of the query (normalised: lower-cased keys and values).
        explicit: the keys that came from ``--filter`` (for the wording).
        colon_words: lower-cased ``key`` parts of inline ``key:value`` words whose
            key is not a field key (they stayed text).

    Raises:
        QueryError: an unknown key, or a value no document has.
    """
    if not filters and not colon_words:
        return []
    keys = store.field_keys()
    notes: list[str] = []
    for key in sorted(colon_words):
        near = nearest(key, keys)
        if near is not None:
            raise QueryError(f"Unknown filter key {key!r} in {key}:…; did you mean {near!r}? "
                             f"{_known_keys(keys)} To search the word as text, quote it: "
                             f'"{key}:…".')
        notes.append(f"{key}:… was searched as text: no document has a field {key!r}.")
    for key, values in filters.items():
        if key not in keys:
            near = nearest(key, keys)
            hint = f" Did you mean {near!r}?" if near else ""
            where = f"--filter {key}=…" if key in explicit else f"{key}:…"
            raise QueryError(f"Unknown filter key {key!r} in {where}.{hint} {_known_keys(keys)}")
        missing = store.unknown_field_values(key, list(values))
        if missing:
            known, total = store.field_values(key, limit=SHOWN_VALUES)
            more = f" … and {total - len(known)} more" if total > len(known) else ""
            raise QueryError(f"No document has {key} = {missing[0]!r} (values compare "
                             f"case-insensitively). Known values of {key}: "
                             f"{', '.join(known)}{more}.")
    return notes


def nearest(word: str, choices: Sequence[str]) -> str | None:
    """The choice one edit away from ``word`` (two for words of 6+ letters), else None.

    Edits are insertions, deletions, substitutions and swaps of neighbours
    (``tpye`` -> ``type``, ``tag`` -> ``tags``); the closest choice wins,
    then the first in order.
    """
    allowed = 2 if len(word) >= 6 else 1
    best: tuple[int, str] | None = None
    for choice in choices:
        if abs(len(choice) - len(word)) > allowed:
            continue
        distance = edit_distance(word, choice)
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, choice)
    return best[1] if best else None


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent swaps)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _known_keys(keys: Sequence[str]) -> str:
    if not keys:
        return "This index has no front matter fields to filter on."
    shown = ", ".join(keys[:40]) + (f" … and {len(keys) - 40} more" if len(keys) > 40 else "")
    return f"Known keys: {shown}."
