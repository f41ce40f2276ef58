"""``bench/hybrid_latency_bench.py``'s scoring: nDCG@10 over the queries it ran."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_ndcg_averages_over_the_queries_run_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    bench = importlib.import_module("hybrid_latency_bench")
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}, "q3": {"d3": 1}}
    # `--queries 1`: only q1 ran, and it found its document first.
    rankings = {"q1": [("beir-d1.md", 0.9), ("beir-d2.md", 0.5)]}
    paths = {"beir-d1.md": "d1", "beir-d2.md": "d2"}
    assert bench.ndcg(rankings, paths, qrels) == pytest.approx(1.0)
