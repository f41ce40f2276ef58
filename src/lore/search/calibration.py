"""Scores that mean something: a hit's chance of being relevant, from its evidence.

Fused scores only order one query's candidates: min-max fusion gives the
top keyword hit 0.55 and the top vector hit 0.45 whatever they match, and
the last candidate 0. A calibrated score instead estimates the probability
that the hit is relevant from evidence that means the same in every query
and mode:

- ``cosine``: the vector leg's cosine similarity (absent when it did not
  find the hit, or in keyword mode);
- ``coverage``: the IDF-weighted share of the query's keyword terms the
  document contains (0 when the keyword leg did not find it);
- ``pinned``: an exact-id match or a relation answer;
- ``rank``: where the engine put it (lower ranks are less often relevant).

The weights are a logistic regression fitted on the backlog development set
(``bench/backlog_calibrate.py`` prints them); hits are then made monotone in
rank (a hit never scores above the one before it), so the score reads as
"at least this likely relevant".

Two query-level judgements use the same evidence: a vector-only hit whose
cosine is below ``VECTOR_FLOOR`` has no real match and is dropped, and a
query whose best evidence (``strength``) is below ``WEAK_BELOW`` is flagged
as a weak match (nonsense, or a question the corpus does not answer).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Fitted by bench/backlog_calibrate.py on bench/backlog (keyword, vector and hybrid,
# top 20 hits each, relevant = grade > 0): of hits scored 0.6-0.7, 0.81 were relevant;
# 0.9-1.0, 0.89; 0.0-0.1, 0.02.
WEIGHTS = {"bias": -0.763, "cosine": 2.175, "no_cosine": 0.954, "coverage": 0.446,
           "pinned": 3.441, "log_rank": -1.916}
# Below this cosine a vector-only hit matches nothing: on the development set 95% of
# judged-relevant vector hits score above 0.27 and 95% of hits for nonsense queries below.
VECTOR_FLOOR = 0.27
# Cosine that counts as no evidence / full evidence when judging a query's strength.
COSINE_NONE, COSINE_FULL = 0.30, 0.60
WEAK_BELOW = 0.5


@dataclass(frozen=True)
class Evidence:
    """What a hit was found with (see the module docstring)."""

    cosine: float | None
    coverage: float
    pinned: bool
    rank: int

    @property
    def vector_only(self) -> bool:
        """Found by the vector leg alone: no query word in it, no id, no relation."""
        return self.cosine is not None and self.coverage == 0.0 and not self.pinned

    @property
    def no_real_match(self) -> bool:
        """A vector-only hit too far from the query to mean anything."""
        return self.vector_only and self.cosine is not None and self.cosine < VECTOR_FLOOR

    @property
    def strength(self) -> float:
        """How strongly this hit matches, 0..1: its keyword coverage or its scaled cosine."""
        if self.pinned:
            return 1.0
        scaled = 0.0
        if self.cosine is not None:
            scaled = (self.cosine - COSINE_NONE) / (COSINE_FULL - COSINE_NONE)
        return max(0.0, min(1.0, max(self.coverage, scaled)))


def probability(e: Evidence) -> float:
    """The calibrated chance that a hit with this evidence is relevant."""
    w = WEIGHTS
    z = (w["bias"] + w["coverage"] * e.coverage + w["pinned"] * e.pinned
         + w["log_rank"] * math.log(max(1, e.rank)))
    z += w["no_cosine"] if e.cosine is None else w["cosine"] * e.cosine
    return 1.0 / (1.0 + math.exp(-z))


def calibrated_scores(evidence: Sequence[Evidence]) -> list[float]:
    """One score per hit in ranked order, in [0, 1] and never above the one before it."""
    scores: list[float] = []
    ceiling = 1.0
    for e in evidence:
        ceiling = min(ceiling, probability(e))
        scores.append(round(ceiling, 4))
    return scores


def weak_match(evidence: Sequence[Evidence]) -> bool:
    """Whether no hit matches the query strongly (or there are no hits)."""
    return max((e.strength for e in evidence), default=0.0) < WEAK_BELOW
