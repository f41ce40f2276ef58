"""Ranking metrics against values worked out by hand, and latency percentiles."""

from __future__ import annotations

import math

import pytest

from lore.eval.metrics import (
    Latency,
    evaluate,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
)

# Two relevant documents, r1 and r2; the ranking finds them at ranks 1 and 3.
JUDGED = {"r1": 1, "r2": 1, "n1": 0}
RANKING = ["r1", "x", "r2", "y"]


def test_ndcg_binary_by_hand() -> None:
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKING, JUDGED, 10) == pytest.approx(expected)


def test_ndcg_graded_uses_grade_as_gain() -> None:
    # grade 2 at rank 2, grade 1 at rank 1; ideal puts the 2 first.
    judged = {"a": 1, "b": 2}
    dcg = 1 / math.log2(2) + 2 / math.log2(3)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(["a", "b"], judged, 10) == pytest.approx(dcg / idcg)


def test_ndcg_cutoff_drops_hits_below_k_and_caps_the_ideal() -> None:
    # k=2: r2 at rank 3 no longer counts; the ideal has both relevant in the top 2.
    expected = 1.0 / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKING, JUDGED, 2) == pytest.approx(expected)
    # Three relevant documents but k=1: the ideal is one document, so a hit at rank 1 is perfect.
    assert ndcg_at_k(["a"], {"a": 1, "b": 1, "c": 1}, 1) == pytest.approx(1.0)


def test_perfect_and_empty_rankings() -> None:
    assert ndcg_at_k(["r1", "r2"], JUDGED, 10) == pytest.approx(1.0)
    assert ndcg_at_k([], JUDGED, 10) == 0.0
    assert ndcg_at_k(["x"], {"x": 0}, 10) == 0.0


def test_recall_by_hand() -> None:
    assert recall_at_k(RANKING, JUDGED, 100) == pytest.approx(1.0)
    assert recall_at_k(RANKING, JUDGED, 2) == pytest.approx(0.5)
    assert recall_at_k(["x"], JUDGED, 100) == 0.0


def test_mrr_by_hand() -> None:
    assert mrr_at_k(RANKING, JUDGED, 10) == pytest.approx(1.0)
    assert mrr_at_k(["x", "y", "r2"], JUDGED, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "r2"], JUDGED, 2) == 0.0
    # A judged-but-not-relevant document (grade 0) is not a hit.
    assert mrr_at_k(["n1", "r1"], JUDGED, 10) == pytest.approx(0.5)


def test_evaluate_means_and_excludes_queries_without_relevant_docs() -> None:
    qrels = {"q1": JUDGED, "q2": {"z": 1}, "q3": {"n": 0}}
    run = {"q1": RANKING, "q3": ["n"]}  # q2 retrieved nothing
    scores = evaluate(run, qrels)
    assert set(scores.per_query) == {"q1", "q2"}
    assert scores.queries == 2
    q1 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert scores.per_query["q2"] == {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    assert scores.mean["ndcg@10"] == pytest.approx(q1 / 2)
    assert scores.mean["recall@100"] == pytest.approx(0.5)
    assert scores.mean["mrr@10"] == pytest.approx(0.5)


def test_evaluate_with_no_judged_queries_gives_zeros() -> None:
    scores = evaluate({}, {"q": {"d": 0}})
    assert scores.queries == 0
    assert scores.mean == {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}


def test_percentile_interpolates_like_numpy() -> None:
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 5.0
    # position (5-1)*0.95 = 3.8 -> 4 + 0.8 * (5 - 4)
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile([7.0], 95) == 7.0


def test_percentile_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)


def test_latency_from_seconds_reports_milliseconds() -> None:
    lat = Latency.from_seconds([0.001, 0.002, 0.003])
    assert lat.p50_ms == pytest.approx(2.0)
    assert lat.mean_ms == pytest.approx(2.0)
    assert lat.p95_ms == pytest.approx(2.9)


@pytest.mark.parametrize("q", [5, 50, 90, 95, 99])
def test_percentile_matches_numpy(q: float) -> None:
    import numpy as np

    values = list(np.random.default_rng(7).exponential(size=101))
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_matches_pytrec_eval_on_random_runs() -> None:
    """The reference BEIR itself uses: same numbers on random graded runs."""
    import random

    pytrec_eval = pytest.importorskip("pytrec_eval")
    rng = random.Random(11)
    docs = [f"d{i}" for i in range(60)]
    qrels = {f"q{q}": {d: rng.choice([0, 1, 1, 2]) for d in rng.sample(docs, rng.randint(1, 8))}
             for q in range(40)}
    ranked = {q: rng.sample(docs, 30) for q in qrels}
    # Strictly decreasing scores so trec_eval keeps the list order.
    trec_run = {q: {d: float(100 - i) for i, d in enumerate(ds)} for q, ds in ranked.items()}
    reference = pytrec_eval.RelevanceEvaluator(
        qrels, {"ndcg_cut.10", "recall.100", "recip_rank"}).evaluate(trec_run)
    ours = evaluate(ranked, qrels)
    assert set(ours.per_query) == {q for q, j in qrels.items() if any(g > 0 for g in j.values())}
    for qid, scores in ours.per_query.items():
        assert scores["ndcg@10"] == pytest.approx(reference[qid]["ndcg_cut_10"])
        assert scores["recall@100"] == pytest.approx(reference[qid]["recall_100"])
        # trec_eval's recip_rank has no cut-off: equal whenever the first hit is in the top 10
        if scores["mrr@10"] > 0:
            assert scores["mrr@10"] == pytest.approx(reference[qid]["recip_rank"])
