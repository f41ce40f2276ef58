"""Evaluation: BEIR data sets, ranking metrics, TREC run files, and the runner."""

from __future__ import annotations

from lore.eval.beir import CorpusDoc, DatasetError, iter_corpus, load_qrels, load_queries
from lore.eval.metrics import Latency, MetricScores, evaluate, mrr_at_k, ndcg_at_k, recall_at_k
from lore.eval.runner import EvalReport, ModeResult, available_modes, run_eval
from lore.eval.trec import write_run

__all__ = [
    "CorpusDoc",
    "DatasetError",
    "EvalReport",
    "Latency",
    "MetricScores",
    "ModeResult",
    "available_modes",
    "evaluate",
    "iter_corpus",
    "load_qrels",
    "load_queries",
    "mrr_at_k",
    "ndcg_at_k",
    "recall_at_k",
    "run_eval",
    "write_run",
]
