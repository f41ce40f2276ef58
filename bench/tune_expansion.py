"""Choose keyword-leg expansion settings on a BEIR *train* split, never on test.

Runs lore's whole hybrid search (``search_store``) for every train query once
per grid point of ``search.expansion_*`` (``lore.search.expansion``) and prints
nDCG@10 and how many queries were expanded. Use the work dir of an earlier
``lore eval --work-dir`` run (corpus/ and index/) so nothing is re-embedded.

    python bench/tune_expansion.py ../shared/datasets/scifact --work-dir /tmp/scifact-work \
        --weights 0 0.1 0.3 --documents 3 5 --terms 5 10 --below 1.01 0.5
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

from lore.config import load_settings
from lore.embed.runner import EmbeddingRunner
from lore.eval.beir import load_qrels, load_queries
from lore.eval.metrics import evaluate
from lore.search.engine import search_store
from lore.search.vector import VectorLeg
from lore.store.catalog import Catalog


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--work-dir", type=Path, required=True,
                        help="an earlier `lore eval --work-dir` folder (corpus/ and index/)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--limit", type=int, default=10,
                        help="search limit (10: 100 candidates per leg; 100: 200)")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3])
    parser.add_argument("--documents", type=int, nargs="+", default=[3, 5])
    parser.add_argument("--terms", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--below", type=float, nargs="+", default=[1.01],
                        help="expand only when the best keyword coverage is below this")
    args = parser.parse_args()

    qrels = load_qrels(args.dataset, args.split)
    queries = load_queries(args.dataset)
    corpus = args.work_dir / "corpus"
    settings = load_settings(corpus).settings
    with Catalog.open(args.work_dir / "index", create=False) as store:
        beir_of = {doc.path: doc.path[len("beir-"):-len(".md")]
                   for doc in store.document_identities()}
        space = store.active_space()
        if space is None:
            parser.error(f"{args.work_dir / 'index'} has no vectors: run `lore eval` with "
                         "embeddings enabled first")
        leg = VectorLeg(EmbeddingRunner.from_settings(settings.embed), store.vector_index(space))
        print(f"{len(qrels)} {args.split} queries, limit {args.limit}")
        grid = [(0.0, 0, 0, 0.0)] + [
            point for point in itertools.product(args.weights, args.documents, args.terms,
                                                 args.below) if point[0] > 0]
        for weight, documents, terms, below in grid:
            search = replace(settings.search, expansion_weight=weight,
                             expansion_documents=documents or 1, expansion_terms=terms or 1,
                             expansion_below=below or 1.0)
            chosen = replace(settings, search=search)
            run = {qid: [beir_of[h.path] for h in search_store(
                       store, queries[qid], settings=chosen, limit=args.limit, vector_leg=leg)]
                   for qid in qrels}
            ndcg = evaluate(run, qrels).mean["ndcg@10"]
            label = ("off" if not weight else
                     f"weight={weight:<4} documents={documents:<3} terms={terms:<3} "
                     f"below={below:<4}")
            print(f"{label:<48} nDCG@10 {ndcg:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
