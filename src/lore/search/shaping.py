"""After fusion: push hubs down, lift decision holders, fold copies, calibrate.

Each step works on the fused ranking (``search/fusion.py``) with facts the
store supplies, so it is the same for every backend:

- ``hub_penalty``: hub pages (dashboards, indexes) lose ``HUB_PENALTY``, more
  than any fused score, so they rank below every content hit that is not
  pinned; they stay findable when nothing else matches.
- ``decision_prior``: for a decision question, chunks of documents that hold
  decisions gain ``search.decision_prior`` (``search/intent.py``).
- ``name_shortfall``: a candidate only the vector leg found loses the part of
  its vector contribution that the query's names it lacks account for.
- ``fold_copies``: of near-identical documents only the best-ranked stays; the
  others become its "also at" paths.
- ``evidence``: what calibration reads off each kept hit.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from lore.search.calibration import Evidence
from lore.search.fusion import Fused
from lore.search.intent import decision_holder

if TYPE_CHECKING:
    from lore.store.base import SearchReads

HUB_PENALTY = 10.0
_PARTS = re.compile(r"[\W_]+")  # what a term's parts lie between (``TNF-alpha``, ``¿Cada``)


def hub_penalty(owners: Mapping[int, int], hubs: Collection[int]) -> dict[int, float]:
    """Chunk id -> the (negative) hub boost, for chunks of hub documents."""
    return {chunk: -HUB_PENALTY for chunk, doc in owners.items() if doc in hubs}


def decision_holders(store: SearchReads, chunk_ids: Sequence[int]) -> list[int]:
    """Which candidate chunks hold a decision (an ADR, or a decision section)."""
    return [cid for cid, (doctype, headings) in store.chunk_headings(chunk_ids).items()
            if decision_holder(doctype, headings)]


def decision_prior(holders: Collection[int], amount: float) -> dict[int, float]:
    """Chunk id -> ``amount`` for every chunk that holds a decision."""
    return {chunk: amount for chunk in holders} if amount else {}


def name_shortfall(store: SearchReads, terms: Sequence[str], fused: Sequence[Fused],
                   owners: Mapping[int, int], floor: float) -> dict[int, float]:
    """Chunk id -> the (negative) amount by which a vector-only candidate misses the query's names.

    Fusion gives a document that the keyword leg did not find its vector
    contribution alone, however little of the query it holds. When the query
    names something (a gene, a work item id: ``is_name``), a
    document near it in meaning that holds none of those names is most often
    about something else, and the embedding cannot tell names apart as
    words. Such a candidate keeps ``floor + (1 - floor) * held`` of its vector
    contribution, ``held`` being the IDF-weighted share of the query's names its
    document holds. Paraphrases are left alone: a query in plain English words
    has no names. So are documents the keyword leg found: BM25 already weighs
    what they hold.

    Args:
        store: answers which candidate documents hold which names.
        terms: the query's keyword terms.
        fused: the fused candidates.
        owners: chunk id -> document id.
        floor: the share a candidate holding none of the names keeps (1: no change).
    """
    alone = [f for f in fused if "vector" in f.legs and "keyword" not in f.legs]
    if floor >= 1.0 or not alone or len(alone) == len(fused):
        return {}  # all vector-only: scaling them alike would only shrink them against boosts
    names = [term for term in terms if is_name(term)]
    if not names or not any(ch.islower() for term in terms for ch in term):
        return {}  # a query in capitals only is shouted, not a list of names
    held = store.term_coverage(names, {owners[f.chunk_id] for f in alone})
    return {f.chunk_id: -f.legs["vector"].contribution * (1.0 - floor)
            * (1.0 - held.get(owners[f.chunk_id], 0.0)) for f in alone}


def is_name(term: str) -> bool:
    """Whether a query term is written as a name: with a digit or a capital after a part's
    first letter (``BRCA1``, ``TNF-alpha``, ``mRNA``, ``ADR-0013``, ``UUIDv7``).

    The written form is the user's own signal: ``leaderboards`` or ``apoptosis``
    are words whatever a word list holds, and an embedding may paraphrase them;
    ``IL-6`` is one thing among many alike. Quotes of a keyword term are ignored.
    """
    word = term.strip('"')
    return any(ch.isdigit() for ch in word) or any(
        ch.isupper() for part in _PARTS.split(word) for ch in part[1:])


def fold_copies(ranked: Sequence[Fused], owners: Mapping[int, int],
                groups: Mapping[int, int]) -> tuple[list[Fused], dict[int, int]]:
    """Keep the first hit of each copy group.

    Args:
        ranked: one entry per document, best first.
        owners: chunk id -> document id.
        groups: document id -> copy group id (documents without copies absent).

    Returns:
        The kept entries, and kept chunk id -> the group it stands for.
    """
    kept: list[Fused] = []
    stands_for: dict[int, int] = {}
    seen: set[int] = set()
    for entry in ranked:
        group = groups.get(owners[entry.chunk_id])
        if group is not None:
            if group in seen:
                continue
            seen.add(group)
            stands_for[entry.chunk_id] = group
        kept.append(entry)
    return kept, stands_for


def evidence(ranked: Sequence[Fused], owners: Mapping[int, int],
             coverage: Mapping[int, float]) -> list[Evidence]:
    """The calibration evidence of each hit, in rank order.

    Args:
        ranked: the hits' fused entries, best first.
        owners: chunk id -> document id.
        coverage: document id -> keyword coverage (see ``Evidence``); only
            documents the keyword leg found count.
    """
    found: list[Evidence] = []
    for rank, entry in enumerate(ranked, start=1):
        vector = entry.legs.get("vector")
        keyword = "keyword" in entry.legs
        found.append(Evidence(
            cosine=vector.score if vector is not None else None,
            coverage=coverage.get(owners[entry.chunk_id], 0.0) if keyword else 0.0,
            pinned=entry.pinned, rank=rank))
    return found
