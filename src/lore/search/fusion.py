"""Fusion of independent legs (weighted RRF or normalised scores), plus additive boosts.

Each leg (keyword, vector, exact id) ranks chunk ids on its own scale. Two
methods combine them (``settings.search.fusion``):

``rrf`` — weighted reciprocal rank fusion, which only trusts ranks:

    score(c) = sum over legs that found c of  w_leg / (k + rank_leg(c))

with 1-based ranks and ``k = settings.search.rrf_k``. A rank-1 hit from one
leg of weight 1 is worth ``1 / (k + 1)``.

``score`` — a convex combination of min-max normalised leg scores:

    score(c) = sum over legs that found c of  w_leg * (s - min_leg) / (max_leg - min_leg)

over each leg's candidate list. Unlike ranks, it keeps *how much* better the
top BM25 or cosine hit is than the next, which on SciFact's train queries
beat the best RRF setting (nDCG@10 0.732 vs 0.725; ``bench/tune_fusion.py``).

Additive boosts (doctype prior, recency, visibility) are configured in score
fusion units (a leg's top hit is worth up to ``w_leg``); under RRF the recency
and visibility amounts are divided by ``rrf_k + 1`` (``search/boosts.py``) so
the same settings stay proportionate to a top rank's ``1 / (k + 1)``.

Legs named in ``pin_legs`` are hard pins: whatever they found ranks above
every unpinned chunk, whatever the scores. The exact-id leg is pinned because
a weight alone cannot guarantee rank 1 (a chunk first in two other legs would
tie with it, and boosts could push it past). Pins are tiered in the order the
legs are named (the graph leg's answers above the exact-id anchor), and
within a pinning leg its own order holds.

Ordering is deterministic: pinned first (by tier, then the pinning leg's
rank), then higher score, then the better best rank in any leg, then the
lower chunk id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LegResult:
    """One leg's ranking: ``(chunk id, leg score)`` pairs, best first, and what the leg
    has to say about the query (``--explain`` shows it; e.g. an ambiguous id)."""

    name: str
    ranked: list[tuple[int, float]]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LegRank:
    """Where one leg put a chunk and what that was worth after weighting."""

    rank: int
    score: float
    contribution: float


@dataclass
class Fused:
    """A chunk after fusion, with the record ``explain`` shows."""

    chunk_id: int
    score: float = 0.0
    legs: dict[str, LegRank] = field(default_factory=dict)
    boosts: dict[str, float] = field(default_factory=dict)
    pin: tuple[int, int] | None = None  # (tier of the pinning leg, rank in it)

    @property
    def pinned(self) -> bool:
        """Whether a pinning leg found this chunk."""
        return self.pin is not None

    def sort_key(self) -> tuple[tuple[int, int], float, int, int]:
        """Pinned first (tier, rank), then score, then best leg rank, then chunk id."""
        best = min((r.rank for r in self.legs.values()), default=0)
        pin = self.pin if self.pin is not None else (_UNPINNED, 0)
        return (pin, -self.score, best, self.chunk_id)

    def explain(self) -> dict[str, Any]:
        """A JSON-ready account of how this chunk got its score."""
        return {
            "score": self.score,
            "pinned": self.pinned,
            "legs": {name: {"rank": r.rank, "score": r.score, "contribution": r.contribution}
                     for name, r in sorted(self.legs.items())},
            "boosts": dict(sorted(self.boosts.items())),
        }


FUSION_METHODS = ("rrf", "score")
_UNPINNED = 1 << 30


def fuse(legs: Sequence[LegResult], weights: Mapping[str, float], *, k: int,
         pin_legs: Sequence[str] = (), method: str = "rrf") -> list[Fused]:
    """Combine leg rankings by weighted RRF or by normalised scores.

    Args:
        legs: each leg's ranking; a chunk listed twice in one leg counts once,
            at its better rank.
        weights: leg name -> weight (a leg missing here weighs 1.0).
        k: the RRF constant; larger flattens the difference between ranks.
        pin_legs: names of legs whose chunks rank above all others, highest tier first.
        method: "rrf" or "score" (see the module docstring).

    Returns:
        Every chunk any leg found, sorted (see the module docstring).
    """
    if method not in FUSION_METHODS:
        raise ValueError(f"unknown fusion method {method!r}; use one of {FUSION_METHODS}")
    fused: dict[int, Fused] = {}
    for leg in legs:
        weight = weights.get(leg.name, 1.0)
        scores = [score for _, score in leg.ranked]
        low, high = (min(scores), max(scores)) if scores else (0.0, 0.0)
        for rank, (chunk_id, leg_score) in enumerate(leg.ranked, start=1):
            entry = fused.setdefault(chunk_id, Fused(chunk_id))
            if leg.name in entry.legs:
                continue
            if method == "rrf":
                contribution = weight / (k + rank)
            else:  # a one-hit leg, or a leg of equal scores, gives full weight
                contribution = weight * ((leg_score - low) / (high - low) if high > low else 1.0)
            entry.legs[leg.name] = LegRank(rank, leg_score, contribution)
            entry.score += contribution
            if leg.name in pin_legs:
                pin = (pin_legs.index(leg.name), rank)
                entry.pin = pin if entry.pin is None else min(entry.pin, pin)
    return sorted(fused.values(), key=Fused.sort_key)


def adapt_weights(weights: Mapping[str, float], coverage: float,
                  full_at: float) -> dict[str, float]:
    """Move keyword weight to the vector leg as far as the best keyword match falls short.

    Min-max fusion gives a leg's top hit its full weight however little it
    matches: a Spanish question whose only keyword hit shares one word with it
    ("tomates" in a restaurant's name) outranks the vector leg's right answer,
    and a paraphrase's best keyword hit, holding a third of its words, outranks
    documents that mean what it asks. When the keyword leg's best document
    holds less than ``full_at`` of the query's IDF-weighted terms (``coverage``),
    the keyword leg keeps ``coverage / full_at`` of its weight and the vector
    leg gets the rest; the total is unchanged, so boosts keep their scale.

    Args:
        weights: leg name -> weight (``keyword`` and ``vector`` are read).
        coverage: the keyword leg's best document's IDF-weighted term coverage, 0..1.
        full_at: the coverage from which the keyword leg keeps its full weight
            (0: never adapt).
    """
    keyword = weights.get("keyword", 1.0)
    if full_at <= 0 or coverage >= full_at:
        return dict(weights)
    moved = keyword * (1.0 - max(0.0, coverage) / full_at)
    return {**weights, "keyword": keyword - moved, "vector": weights.get("vector", 1.0) + moved}


def spread_weights(weights: Mapping[str, float], legs: Sequence[LegResult],
                   exponent: float) -> dict[str, float]:
    """Shift weight between the keyword and vector legs towards the one with a standout top.

    Min-max normalisation maps every leg's best candidate to 1 and its last to
    0, so a leg whose first hit towers over the rest and a leg whose scores
    are all alike weigh the same. A leg's *spread*, (max - min) / standard
    deviation of its candidates' scores, says which it is: each of the two
    legs' weight is multiplied by its spread ** ``exponent`` and the pair is
    rescaled to the total it had, so boosts keep their units. ``exponent`` 1
    ranks as z-score fusion with the absent at each leg's minimum; 0 is plain
    min-max. Chosen on SciFact train and the backlog development set
    (``docs/decisions/backlog-ranking.md``).

    Args:
        weights: leg name -> weight (``keyword`` and ``vector`` are changed).
        legs: the rankings that will be fused (their scores give the spreads).
        exponent: how strongly spread moves weight (0: not at all).
    """
    spreads = {leg.name: _spread([score for _, score in leg.ranked]) for leg in legs
               if leg.name in ("keyword", "vector")}
    if exponent <= 0 or len(spreads) < 2 or None in spreads.values():
        return dict(weights)
    raw = {name: weights.get(name, 1.0) * spread ** exponent
           for name, spread in spreads.items() if spread is not None}
    total, scaled = sum(weights.get(name, 1.0) for name in raw), sum(raw.values())
    if scaled <= 0:
        return dict(weights)
    return {**weights, **{name: total * value / scaled for name, value in raw.items()}}


def _spread(scores: Sequence[float]) -> float | None:
    """(max - min) / population standard deviation; None for fewer than two distinct scores."""
    if len(scores) < 2:
        return None
    mean = sum(scores) / len(scores)
    deviation = (sum((score - mean) ** 2 for score in scores) / len(scores)) ** 0.5
    return (max(scores) - min(scores)) / deviation if deviation > 0 else None


def collapse_to_documents(legs: Sequence[LegResult],
                          document_of: Mapping[int, int]) -> list[LegResult]:
    """Rank documents instead of chunks in every leg, before fusion.

    Without this a document whose section A tops the keyword leg and whose
    section B tops the vector leg would enter fusion as two chunks, each
    with one leg's contribution, and lose to a document found by both legs
    through one chunk. Each leg keeps a document once, at its best chunk's
    rank, and every leg names the document by the same representative chunk:
    the one with the best rank in any leg (earlier legs win ties), which
    also supplies the snippet.

    Args:
        legs: chunk rankings.
        document_of: chunk id -> document id (chunks missing here are dropped).
    """
    best: dict[int, tuple[int, int]] = {}
    for leg in legs:
        for rank, (chunk_id, _) in enumerate(leg.ranked):
            doc = document_of.get(chunk_id)
            if doc is not None and (doc not in best or rank < best[doc][0]):
                best[doc] = (rank, chunk_id)
    collapsed = []
    for leg in legs:
        seen: set[int] = set()
        ranked = []
        for chunk_id, score in leg.ranked:
            doc = document_of.get(chunk_id)
            if doc is None or doc in seen:
                continue
            seen.add(doc)
            ranked.append((best[doc][1], score))
        collapsed.append(LegResult(leg.name, ranked))
    return collapsed


def add_boost(fused: Sequence[Fused], name: str, values: Mapping[int, float]) -> list[Fused]:
    """Add a named boost (chunk id -> amount) to the scores and re-sort.

    Zero amounts are not recorded, so ``explain`` lists only boosts that
    changed something.
    """
    if not values:
        return list(fused)
    for entry in fused:
        amount = values.get(entry.chunk_id, 0.0)
        if amount:
            entry.boosts[name] = entry.boosts.get(name, 0.0) + amount
            entry.score += amount
    return sorted(fused, key=Fused.sort_key)


def doctype_boosts(doctypes: Mapping[int, str], priors: Mapping[str, float]) -> dict[int, float]:
    """The doctype prior per chunk: ``priors`` keyed by doctype, matched case-insensitively.

    Args:
        doctypes: chunk id -> its document's doctype.
        priors: ``settings.search.doctype_boosts`` (e.g. ``{"ADR": 0.005}``).
    """
    lowered = {name.lower(): amount for name, amount in priors.items()}
    return {chunk_id: lowered[doctype.lower()] for chunk_id, doctype in doctypes.items()
            if doctype.lower() in lowered}
