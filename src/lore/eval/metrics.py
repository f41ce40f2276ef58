"""Ranking metrics as BEIR reports them (via pytrec_eval), plus latency percentiles.

Definitions follow trec_eval, which BEIR calls through pytrec_eval:

- nDCG@k uses the relevance grade itself as the gain and a ``log2(rank + 1)``
  discount; the ideal DCG ranks every judged document by grade, cut at k.
- Recall@k is the share of relevant documents (grade > 0) found in the top k.
- MRR@k is ``1 / rank`` of the first relevant document in the top k, else 0.

A query whose judgements hold no relevant document is left out of every mean,
as trec_eval and BEIR do, because no ranking could score on it. A ranking is
taken in list order; callers pass documents best first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Ranking = Sequence[str]
Judged = Mapping[str, int]


def ndcg_at_k(ranking: Ranking, judged: Judged, k: int) -> float:
    """Normalised discounted cumulative gain of the top ``k`` documents (0..1).

    Args:
        ranking: document ids, best first.
        judged: ``{document id: grade}`` for this query; missing ids have grade 0.
        k: cut-off.
    """
    gains = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, start=1))
    if ideal == 0:
        return 0.0
    dcg = sum(
        judged.get(doc, 0) / math.log2(rank + 1)
        for rank, doc in enumerate(ranking[:k], start=1)
        if judged.get(doc, 0) > 0
    )
    return dcg / ideal


def recall_at_k(ranking: Ranking, judged: Judged, k: int) -> float:
    """Share of the relevant documents (grade > 0) that appear in the top ``k``."""
    relevant = {doc for doc, g in judged.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def mrr_at_k(ranking: Ranking, judged: Judged, k: int) -> float:
    """Reciprocal rank of the first relevant document in the top ``k``, else 0."""
    for rank, doc in enumerate(ranking[:k], start=1):
        if judged.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


MetricFn = Callable[[Ranking, Judged, int], float]

METRICS: dict[str, tuple[MetricFn, int]] = {
    "ndcg@10": (ndcg_at_k, 10),
    "recall@100": (recall_at_k, 100),
    "mrr@10": (mrr_at_k, 10),
}
"""The metrics ``lore eval`` reports: name -> (function, cut-off)."""


@dataclass(frozen=True)
class MetricScores:
    """Per-query and mean scores of one run.

    Attributes:
        per_query: ``{query id: {metric name: score}}`` for every evaluated query.
        mean: ``{metric name: mean over evaluated queries}``.
    """

    per_query: dict[str, dict[str, float]]
    mean: dict[str, float]

    @property
    def queries(self) -> int:
        """How many queries were evaluated (those with at least one relevant document)."""
        return len(self.per_query)


def evaluate(
    run: Mapping[str, Ranking],
    qrels: Mapping[str, Judged],
    metrics: Mapping[str, tuple[MetricFn, int]] = METRICS,
) -> MetricScores:
    """Score a run against judgements.

    Args:
        run: ``{query id: ranked document ids}``; a query absent from the run
            scores 0 (it retrieved nothing).
        qrels: ``{query id: {document id: grade}}``.
        metrics: name -> (metric function, cut-off); defaults to ``METRICS``.
    """
    per_query: dict[str, dict[str, float]] = {}
    for qid, judged in qrels.items():
        if not any(g > 0 for g in judged.values()):
            continue
        ranking = run.get(qid, ())
        per_query[qid] = {name: fn(ranking, judged, k) for name, (fn, k) in metrics.items()}
    mean = {
        name: (sum(scores[name] for scores in per_query.values()) / len(per_query))
        if per_query else 0.0
        for name in metrics
    }
    return MetricScores(per_query=per_query, mean=mean)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation, as numpy's default.

    Raises:
        ValueError: ``values`` is empty or ``q`` is outside 0..100.
    """
    if not values:
        raise ValueError("percentile of no values: run at least one query first")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class Latency:
    """Query latency summary in milliseconds."""

    p50_ms: float
    p95_ms: float
    mean_ms: float

    @classmethod
    def from_seconds(cls, seconds: Sequence[float]) -> Latency:
        """Summarise per-query wall times given in seconds."""
        ms = [s * 1000.0 for s in seconds]
        return cls(p50_ms=percentile(ms, 50), p95_ms=percentile(ms, 95), mean_ms=sum(ms) / len(ms))
