"""Per-chunk boosts from document facts: recency and visibility.

Both are additive, like the doctype prior, and are applied by the engine with
``fusion.add_boost`` so ``--explain`` names them. Amounts are set in units of
one top-ranked leg hit under the active fusion method (``fused_unit``): as
configured under score fusion, divided by ``rrf_k + 1`` under RRF. Without
that, a penalty tuned for score fusion (top hit worth up to ``w_leg``) would
bury every local hit under RRF (top hit worth ``w_leg / (k + 1)``).

- **recency**: ``weight * 0.5 ** (age_days / half_life_days)``, from the
  document's ``updated`` front matter, else ``created``, else ``date``. Off
  by default: there is no dated relevance data to choose a weight on.
- **visibility**: ``-local_penalty`` for documents under ``local_paths``
  (gitignore-style globs): agent-tool copies of canonical files in hidden
  folders, caches, worksets. They stay findable, but below the canonical file.

The functions here are pure; the engine fetches the facts
(``Store.document_dates``) in one query, and only when a boost is on
(``boosts_enabled``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from pathspec import GitIgnoreSpec

from lore.settings import SearchSettings

DATE_KEYS = ("updated", "created", "date")  # first parseable one dates a document


@dataclass(frozen=True)
class DocumentFacts:
    """What the boosts need to know about one document.

    Attributes:
        path: root-relative path with ``/`` separators.
        dates: the raw front matter values of ``DATE_KEYS``, in that order
            (``None`` where absent).
    """

    path: str
    dates: tuple[object, ...]


def boosts_enabled(search: SearchSettings) -> bool:
    """Whether any boost here can change a score (if not, skip the facts query)."""
    return recency_enabled(search) or visibility_enabled(search)


def recency_enabled(search: SearchSettings) -> bool:
    """Recency needs both a positive half-life and a non-zero weight."""
    return search.recency_half_life_days > 0 and search.recency_weight != 0


def visibility_enabled(search: SearchSettings) -> bool:
    """Visibility needs both path globs and a non-zero penalty."""
    return bool(search.local_paths) and search.local_penalty != 0


def fused_unit(search: SearchSettings) -> float:
    """What a top-ranked hit of a weight-1 leg is worth under the fusion method."""
    return 1.0 / (search.rrf_k + 1) if search.fusion == "rrf" else 1.0


def document_boosts(owners: Mapping[int, int], facts: Mapping[int, DocumentFacts],
                    search: SearchSettings, *, now: dt.datetime) -> dict[str, dict[int, float]]:
    """Boost name -> (chunk id -> amount) for every boost that is on.

    Args:
        owners: candidate chunk id -> document row id.
        facts: document row id -> its facts (documents missing here get no boost).
        search: the weights, half-life, globs and fusion method.
        now: the moment ages are measured from (timezone-aware; naive is UTC).
    """
    unit = fused_unit(search)
    per_document: dict[str, dict[int, float]] = {}
    if recency_enabled(search):
        per_document["recency"] = {
            doc: unit * recency_boost(when, now=now, half_life_days=search.recency_half_life_days,
                                      weight=search.recency_weight)
            for doc, fact in facts.items() if (when := document_date(fact.dates)) is not None}
    if visibility_enabled(search):
        local = local_documents({doc: fact.path for doc, fact in facts.items()},
                                search.local_paths)
        per_document["visibility"] = {doc: -unit * search.local_penalty for doc in local}
    return {name: {cid: amounts[doc] for cid, doc in owners.items() if doc in amounts}
            for name, amounts in per_document.items()}


def recency_boost(when: dt.datetime, *, now: dt.datetime, half_life_days: float,
                  weight: float) -> float:
    """``weight`` halved for every ``half_life_days`` of age; future dates count as age 0.

    Args:
        when: the document's date.
        now: the reference moment.
        half_life_days: age at which the boost is half of ``weight`` (must be > 0).
        weight: the boost of a document dated ``now``.
    """
    age_days = max(0.0, (_aware(now) - _aware(when)).total_seconds() / 86400)
    return weight * 0.5 ** (age_days / half_life_days)


def document_date(values: Sequence[object]) -> dt.datetime | None:
    """The first of ``values`` that parses as an ISO date or datetime, else None."""
    for value in values:
        parsed = parse_date(value)
        if parsed is not None:
            return parsed
    return None


def parse_date(value: object) -> dt.datetime | None:
    """An ISO 8601 date (midnight) or datetime (``Z`` allowed) from front matter, else None.

    Front matter dates reach the catalog as ISO strings (YAML dates are
    converted when parsed); anything else (``TBD``, numbers) dates nothing.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")
                                         if text.endswith("Z") else text)
    except ValueError:
        return None


def local_documents(paths: Mapping[int, str], patterns: Sequence[str]) -> set[int]:
    """The documents whose path matches any gitignore-style glob in ``patterns``."""
    key = tuple(patterns)
    return {doc for doc, path in paths.items() if _is_local(key, path)}


@lru_cache(maxsize=65536)
def _is_local(patterns: tuple[str, ...], path: str) -> bool:
    """Whether ``path`` matches ``patterns``; remembered, as the same paths recur in
    every search and gitignore matching costs more than the rest of the boost."""
    return bool(_spec(patterns).match_file(path))


@lru_cache(maxsize=8)
def _spec(patterns: tuple[str, ...]) -> GitIgnoreSpec:
    """Compiled globs, kept across searches (settings rarely change within a process)."""
    return GitIgnoreSpec.from_lines(patterns)


def _aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` with a timezone: naive values (plain dates included) are taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)
