"""Choose the keyword leg's BM25 field weights and term proximity on a BEIR *train* split.

For each setting (title x heading x body weight x proximity weight) the keyword
leg is run again for every train query, through the store as a search runs it,
and the vector leg once; the legs are fused as ``lore search`` fuses them
(score fusion at the configured vector weight, ``keyword_full_coverage`` and
``spread_exponent``; boosts left out, as in ``tune_fusion.py``). Prints
keyword-only and hybrid nDCG@10 per setting. The in-memory keyword copy is
built first, so every ranking comes from the same path a long-lived index uses.

Proximity: neighbouring content words of the query, as phrases
(``lore.search.fts.proximity_pairs``), add ``weight * their BM25`` to a row's
score.

    python bench/tune_keyword.py ../shared/datasets/scifact --work-dir /tmp/sf \\
        --title 1 2 3 4 6 --heading 2 --proximity 0 0.1 0.2 0.3
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

from _shared import SCIFACT, lore_settings

from lore.embed.runner import EmbeddingRunner
from lore.eval.beir import load_qrels, load_queries
from lore.eval.metrics import evaluate
from lore.search.engine import Plan, keyword_top_coverage, leg_weights, plan_query, run_legs
from lore.search.fts import proximity_pairs
from lore.search.fusion import LegResult, adapt_weights, collapse_to_documents, fuse, spread_weights
from lore.search.keyword import keyword_leg
from lore.search.vector import VectorLeg
from lore.settings import Settings
from lore.store.catalog import Catalog


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path, nargs="?", default=SCIFACT,
                        help=f"a BEIR folder (default {SCIFACT})")
    parser.add_argument("--work-dir", type=Path, required=True,
                        help="its index: a `lore eval --work-dir` folder (corpus/, index/)")
    parser.add_argument("--split", default="train", help="never a split you report")
    parser.add_argument("--title", type=float, nargs="+", default=None)
    parser.add_argument("--heading", type=float, nargs="+", default=None)
    parser.add_argument("--body", type=float, nargs="+", default=None)
    parser.add_argument("--proximity", type=float, nargs="+", default=None,
                        help="weights of the neighbouring-word phrases (0: off)")
    parser.add_argument("--candidates", type=int, default=100,
                        help="documents per leg (default 100, as at limit 10)")
    args = parser.parse_args()

    qrels = load_qrels(args.dataset, args.split)
    queries = load_queries(args.dataset)
    settings = lore_settings(args.work_dir / "corpus")
    s = settings.search
    grid = list(itertools.product(args.title or [s.title_weight],
                                  args.heading or [s.heading_weight],
                                  args.body or [s.body_weight],
                                  args.proximity or [s.proximity_weight]))
    with Catalog.open(args.work_dir / "index", create=False) as store:
        beir_of = {doc.id: doc.path[len("beir-"):-len(".md")]
                   for doc in store.document_identities()}
        space = store.active_space()
        if space is None:
            parser.error(f"{args.work_dir / 'index'} has no vectors: run `lore eval` first")
        store.prepare_keyword_memory()
        leg = VectorLeg(EmbeddingRunner.from_settings(settings.embed), store.vector_index(space))
        plans: dict[str, Plan] = {}
        others: dict[str, list[LegResult]] = {}
        for qid in qrels:
            plans[qid] = plan_query(store, queries[qid], None)
            others[qid] = [lg for lg in run_legs(store, plans[qid], settings=settings,
                                                 candidates=args.candidates, mode="hybrid",
                                                 vector_leg=leg) if lg.name != "keyword"]
        print(f"{len(qrels)} {args.split} queries; {store.keyword_paths}")
        for title, heading, body, proximity in grid:
            tuned = replace(settings, search=replace(
                s, title_weight=title, heading_weight=heading, body_weight=body,
                proximity_weight=proximity))
            keyword, hybrid = _score(store, tuned, plans, others, qrels, beir_of,
                                     candidates=args.candidates)
            print(f"title={title:<4} heading={heading:<4} body={body:<4} "
                  f"proximity={proximity:<5} keyword nDCG@10 {keyword:.4f}  "
                  f"hybrid nDCG@10 {hybrid:.4f}", flush=True)
        print(f"paths: {store.keyword_paths}")
    return 0


def _score(store: Catalog, settings: Settings, plans: dict[str, Plan],
           others: dict[str, list[LegResult]], qrels: dict[str, dict[str, int]],
           beir_of: dict[int, str], *, candidates: int) -> tuple[float, float]:
    """Keyword-only and hybrid nDCG@10 of one setting."""
    s = settings.search
    keyword_run: dict[str, list[str]] = {}
    hybrid_run: dict[str, list[str]] = {}
    for qid, plan in plans.items():
        pairs = proximity_pairs(plan.parsed) if s.proximity_weight else []
        kw = keyword_leg(store, plan.terms, limit=candidates, restriction=None,
                         weights=(s.title_weight, s.heading_weight, s.body_weight),
                         share=s.document_share, pairs=pairs, pair_weight=s.proximity_weight)
        legs = [kw, *others[qid]] if plan.terms else others[qid]
        owners = store.chunk_owners(sorted({c for lg in legs for c, _ in lg.ranked}))
        keyword_run[qid] = [beir_of[owners[c]] for c, _ in kw.ranked[:100]]
        coverage = keyword_top_coverage(store, plan, legs, owners)
        ranked = collapse_to_documents(legs, owners)
        weights = spread_weights(adapt_weights(leg_weights(settings), coverage,
                                               s.keyword_full_coverage),
                                 ranked, s.spread_exponent)
        fused = fuse(ranked, weights, k=s.rrf_k, method="score")
        hybrid_run[qid] = [beir_of[owners[f.chunk_id]] for f in fused[:100]]
    return (evaluate(keyword_run, qrels).mean["ndcg@10"],
            evaluate(hybrid_run, qrels).mean["ndcg@10"])


if __name__ == "__main__":
    sys.exit(main())
