"""Check filters against what is indexed, so a typo is an error and not "No matches".

The same rules hold for ``--filter KEY=VALUE`` and for inline ``key:value``:

- an unknown key is an error that suggests the nearest known key and lists
  the known ones;
- a value no document has is matched to a plausible known one, and a notice
  says so: people write ``type=Story`` for ``UserStory``, ``state=in-progress``
  for ``InProgress`` or ``state=doen`` for ``Done``, and an error there would
  answer nothing. Plausible means, in this order: the same canonical document
  type (``decision`` -> ``adr``, by the parser's own spellings); the same
  letters without separators; a known value one of whose word parts starts or
  ends with the asked value (``story`` -> ``userstory``: values are stored
  lower-cased, so camel-case parts are found by prefix and suffix); a value
  one edit away (two for 6+ letters); a plural none of these match is tried
  singular (``stories``);
- only a value with nothing plausible is an error that lists the key's values
  (compared case-insensitively, as filters match).

Notices and value lists show known values as the files write them
(``UserStory``, not the stored ``userstory``), as the web page's facets do.

One exception keeps ordinary text searchable: an inline ``word:rest`` whose
``word`` is not a field key and is not one typo away from one (``http://x``,
``note:`` in prose) stays text, and the query's notes say so for
``--explain``. A near miss (``tpye:Task``) is taken as a mistyped filter.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from lore.documents.doctypes import normalise_doctype
from lore.errors import QueryError

# Values listed in an error before "and N more".
SHOWN_VALUES = 25
# Known values read to match an unknown one; a key with more is matched exactly only.
MATCHED_VALUES = 5000
# The shortest asked value matched as a part of a longer known value.
MIN_PART = 3
_SEPARATORS = re.compile(r"[\s_\-./:]+")


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

    def field_spellings(self, key: str, values: Sequence[str]) -> dict[str, str]:
        """Each of ``values`` (lower-cased) as the files write it; unheld ones left out."""
        ...


@dataclass(frozen=True)
class CheckedFilters:
    """Filters ready to run, and what checking them found.

    Attributes:
        filters: the filters with each unknown value replaced by the known
            values it was matched to.
        notes: colon words kept as text (for ``--explain``).
        notices: values matched to another known value (shown with the hits).
    """

    filters: dict[str, list[str]]
    notes: list[str]
    notices: list[str]


def check_filters(store: FieldFacts, filters: Mapping[str, Sequence[str]], *,
                  explicit: Collection[str], colon_words: Collection[str]) -> CheckedFilters:
    """Raise for a filter that cannot match; match near values; note colon words kept as text.

    Args:
        store: answers what keys and values are indexed.
        filters: every filter of the query (normalised: lower-cased keys and values).
        explicit: the keys that came from ``--filter`` (for the wording).
        colon_words: lower-cased ``key`` parts of inline ``key:value`` words whose
            key is not a field key (they stayed text).

    Raises:
        QueryError: an unknown key, or a value nothing known resembles.
    """
    checked = CheckedFilters({key: list(values) for key, values in filters.items()}, [], [])
    if not filters and not colon_words:
        return checked
    keys = store.field_keys()
    for key in sorted(colon_words):
        near = nearest(key, keys)
        if near is not None:
            raise QueryError(f"Unknown filter key {key!r} in {key}:…; did you mean {near!r}? "
                             f"{_known_keys(keys)} To search the word as text, quote it: "
                             f'"{key}:…".')
        checked.notes.append(f"{key}:… was searched as text: no document has a field {key!r}.")
    for key, values in filters.items():
        if key not in keys:
            near = nearest(key, keys)
            hint = f" Did you mean {near!r}?" if near else ""
            where = f"--filter {key}=…" if key in explicit else f"{key}:…"
            raise QueryError(f"Unknown filter key {key!r} in {where}.{hint} {_known_keys(keys)}")
        missing = store.unknown_field_values(key, list(values))
        if missing:
            checked.filters[key] = _matched_values(store, key, list(values), missing,
                                                   checked.notices)
    return checked


def _matched_values(store: FieldFacts, key: str, values: list[str], missing: list[str],
                    notices: list[str]) -> list[str]:
    """``values`` with each missing one replaced by its plausible known values (a notice each).

    Raises:
        QueryError: a missing value that resembles no known value.
    """
    known, total = store.field_values(key, limit=MATCHED_VALUES)
    matched: list[str] = [v for v in values if v not in missing]
    for value in missing:
        found = plausible_values(key, value, known)
        if not found:
            shown = _as_written(store, key, known[:SHOWN_VALUES])
            more = f" … and {total - len(shown)} more" if total > len(shown) else ""
            raise QueryError(f"No document has {key} = {value!r}, and no known value is "
                             f"close to it (values compare case-insensitively). Known "
                             f"values of {key}: {', '.join(shown)}{more}.")
        notices.append(f"No document has {key} = {value!r}; matched it to "
                       f"{' or '.join(repr(f) for f in _as_written(store, key, found))}.")
        matched.extend(f for f in found if f not in matched)
    return matched


def _as_written(store: FieldFacts, key: str, values: list[str]) -> list[str]:
    """``values`` (lower-cased, as stored) as the files write them, for messages."""
    spelled = store.field_spellings(key, values)
    return [spelled.get(value, value) for value in values]


def plausible_values(key: str, value: str, known: Sequence[str]) -> list[str]:
    """The known values ``value`` most plausibly means, by the first rule that finds any.

    Rules (see the module docstring): canonical document type (``type`` only),
    same letters without separators, a word part starting or ending with the
    value (at least ``MIN_PART`` letters), then the nearest value by edit
    distance; a plural that none of them matches is tried again singular
    (``stories`` -> ``story`` -> ``userstory``).
    """
    found = _by_rules(key, value, known)
    single = _singular(value)
    return found if found or single == value else _by_rules(key, single, known)


def _by_rules(key: str, value: str, known: Sequence[str]) -> list[str]:
    """``plausible_values`` for one spelling."""
    if key == "type":
        canonical = normalise_doctype(value).lower()
        if canonical in known:
            return [canonical]
    bare = _bare(value)
    same = [k for k in known if _bare(k) == bare]
    if same:
        return same
    if len(bare) >= MIN_PART:
        parts = [k for k in known if any(part.startswith(bare) or part.endswith(bare)
                                         for part in _SEPARATORS.split(k))]
        if parts:
            return parts
    near = nearest(value, known)
    return [near] if near is not None else []


def _singular(value: str) -> str:
    """An English plural made singular (``stories`` -> ``story``, ``bugs`` -> ``bug``)."""
    if value.endswith("ies") and len(value) > 4:
        return value[:-3] + "y"
    if value.endswith("s") and not value.endswith("ss") and len(value) > 3:
        return value[:-1]
    return value


def _bare(value: str) -> str:
    """``value`` without separators: ``in-progress``, ``in_progress`` -> ``inprogress``."""
    return _SEPARATORS.sub("", value)


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
