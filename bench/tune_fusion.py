"""Choose fusion settings on a BEIR *train* split, never on test.

Runs each leg once per train query through lore's own engine (the same
legs, the same per-document collapse), then replays fusion for a grid of RRF
constants and leg weights and prints nDCG@10 for each, best first. Use the
work dir of an earlier ``lore eval --work-dir`` run so nothing is re-embedded.
The replays leave the boosts out (doctype, links, ``search.vector_name_floor``'s
names), so a default cell of ``--adaptive`` is fusion alone; ``--coverage``'s
first row is that too, and its names rows add what a search adds.

``--adaptive`` instead replays score fusion for a grid of vector weights x
``search.keyword_full_coverage`` (fusion that adapts to the keyword leg's
best coverage, ``search/fusion.py`` ``adapt_weights``). ``--spread`` adds a grid of
``search.spread_exponent`` (keyword and vector weights scaled by each leg's
spread, ``spread_weights``) x vector weight x coverage (0.3, 0.4 and the configured one).
``--adaptive --coverage`` keeps the configured weights and replays per-document
query coverage as fusion evidence instead: a bonus for coverage, the vector
part of a candidate the keyword leg missed scaled by its coverage or by the
query's names it holds (``search.vector_name_floor``), a penalty for lacking
the rarest term.

Each leg returns ``--candidates`` chunks (default 100, what a search at limit
10 asks for). A search asks for ``max(search.candidates, 2 * limit)``, so
``lore eval``'s limit 100 fuses 200 and scores move with it: pass
``--candidates 200`` to grid what that limit ranks.

    python bench/tune_fusion.py ../shared/datasets/scifact --work-dir /tmp/scifact-work
    python bench/tune_fusion.py ../shared/datasets/scifact --work-dir /tmp/scifact-work \
        --adaptive --spread
    python bench/tune_fusion.py ../shared/datasets/scifact --work-dir /tmp/scifact-work \
        --adaptive --coverage --candidates 200
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from _shared import lore_settings

from lore.embed.runner import EmbeddingRunner
from lore.eval.beir import load_qrels, load_queries
from lore.eval.metrics import evaluate
from lore.search.engine import (
    Plan,
    keyword_top_coverage,
    leg_weights,
    plan_query,
    run_legs,
)
from lore.search.fusion import (
    Fused,
    LegResult,
    adapt_weights,
    collapse_to_documents,
    fuse,
    spread_weights,
)
from lore.search.shaping import name_shortfall
from lore.search.vector import VectorLeg
from lore.settings import Settings
from lore.store.catalog import Catalog


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--work-dir", type=Path, required=True,
                        help="an earlier `lore eval --work-dir` folder (corpus/ and index/)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--adaptive", action="store_true",
                        help="grid vector weight x adaptive fusion instead")
    parser.add_argument("--document-share", type=float, nargs="+", default=None,
                        help="with --adaptive: re-run the grid for each keyword "
                             "search.document_share (default: the configured one)")
    parser.add_argument("--candidates", type=int, default=100,
                        help="chunks per leg (default 100, as at limit 10; 200 as at limit 100)")
    parser.add_argument("--spread", action="store_true",
                        help="with --adaptive: also grid search.spread_exponent x vector weight")
    parser.add_argument("--coverage", action="store_true",
                        help="with --adaptive: grid per-document query coverage as fusion "
                             "evidence at the configured weights instead")
    args = parser.parse_args()

    qrels = load_qrels(args.dataset, args.split)
    queries = load_queries(args.dataset)
    corpus = args.work_dir / "corpus"
    settings = lore_settings(corpus)
    with Catalog.open(args.work_dir / "index", create=False) as store:
        beir_of = {doc.id: doc.path[len("beir-"):-len(".md")]
                   for doc in store.document_identities()}
        space = store.active_space()
        if space is None:
            parser.error(f"{args.work_dir / 'index'} has no vectors: run `lore eval` with "
                         "embeddings enabled first")
        leg = VectorLeg(EmbeddingRunner.from_settings(settings.embed), store.vector_index(space))
        if args.adaptive:
            for share in args.document_share or [settings.search.document_share]:
                print(f"search.document_share={share}")
                shared = replace(settings, search=replace(settings.search, document_share=share))
                asked = {q: queries[q] for q in qrels}
                if args.coverage:
                    coverage_grid(store, leg, shared, asked, qrels, beir_of,
                                  candidates=args.candidates)
                else:
                    adaptive_grid(store, leg, shared, asked, qrels, beir_of,
                                  spread=args.spread, candidates=args.candidates)
            return 0
        per_query: dict[str, tuple[list[LegResult], dict[int, int]]] = {}
        for qid in qrels:
            plan = plan_query(store, queries[qid], None)
            legs = run_legs(store, plan, settings=settings, candidates=args.candidates,
                            mode="hybrid", vector_leg=leg)
            owners = store.chunk_owners(sorted({c for lg in legs for c, _ in lg.ranked}))
            per_query[qid] = (collapse_to_documents(legs, owners), owners)

    def score(weights: dict[str, float], k: int) -> float:
        run = {}
        for qid, (legs, owners) in per_query.items():
            fused = fuse(legs, weights, k=k)
            run[qid] = [beir_of[owners[f.chunk_id]] for f in fused[:100]]
        return evaluate(run, qrels).mean["ndcg@10"]

    print(f"{len(per_query)} {args.split} queries")
    print(f"keyword only  nDCG@10 {score({'keyword': 1, 'vector': 0}, 60):.4f}")
    print(f"vector only   nDCG@10 {score({'keyword': 0, 'vector': 1}, 60):.4f}")
    results = []
    for k, wv in itertools.product((5, 10, 20, 40, 60, 100), (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)):
        results.append((score({"keyword": 1.0, "vector": wv}, k), k, wv))
    for ndcg, k, wv in sorted(results, reverse=True)[:8]:
        print(f"rrf_k={k:<4} vector_weight={wv:<5} keyword_weight=1.0  nDCG@10 {ndcg:.4f}")

    def convex(alpha: float, norm_kind: str = "minmax") -> float:
        run = {}
        for qid, (legs, owners) in per_query.items():
            fused: dict[int, float] = {}
            for lg in legs:
                weight = alpha if lg.name == "vector" else 1.0 - alpha
                scores = [sc for _, sc in lg.ranked]
                if not scores:
                    continue
                low, high = min(scores), max(scores)
                mean = sum(scores) / len(scores)
                std = (sum((x - mean) ** 2 for x in scores) / len(scores)) ** 0.5 or 1.0
                for cid, sc in lg.ranked:
                    if norm_kind == "z":
                        norm = (sc - mean) / std
                    else:
                        norm = (sc - low) / (high - low) if high > low else 1.0
                    fused[cid] = fused.get(cid, 0.0) + weight * norm
            best = sorted(fused, key=lambda c: -fused[c])[:100]
            run[qid] = [beir_of[owners[c]] for c in best]
        return evaluate(run, qrels).mean["ndcg@10"]

    for norm_kind in ("minmax", "z"):
        for alpha in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
            print(f"convex {norm_kind} alpha(vector)={alpha}  nDCG@10 "
                  f"{convex(alpha, norm_kind):.4f}")
    return 0


def replay_legs(store: Catalog, leg: VectorLeg, settings: Settings, queries: dict[str, str],
                candidates: int) -> dict[str, tuple[Plan, list[LegResult], dict[int, int], float]]:
    """Each query's plan, legs collapsed to documents, chunk owners and the keyword leg's
    best coverage, as a search computes them before fusion: run once, replayed per cell."""
    replayed = {}
    for qid, text in queries.items():
        plan = plan_query(store, text, None)
        legs = run_legs(store, plan, settings=settings, candidates=candidates,
                        mode="hybrid", vector_leg=leg)
        owners = store.chunk_owners(sorted({c for lg in legs for c, _ in lg.ranked}))
        replayed[qid] = (plan, collapse_to_documents(legs, owners), owners,
                         keyword_top_coverage(store, plan, legs, owners))
    return replayed


def adaptive_grid(store: Catalog, leg: VectorLeg, settings: Settings, queries: dict[str, str],
                  qrels: dict[str, dict[str, int]], beir_of: dict[int, str], *,
                  spread: bool = False, candidates: int = 100) -> None:
    """Print nDCG@10 of score fusion for vector weight x keyword_full_coverage (x spread)."""
    legs_of = {qid: (ranked, owners, top) for qid, (_, ranked, owners, top)
               in replay_legs(store, leg, settings, queries, candidates).items()}

    def score(vector: float, full_at: float, exponent: float = 0.0) -> float:
        weights = {**leg_weights(settings), "keyword": 1.0 - vector, "vector": vector}
        run = {}
        for qid, (legs, owners, coverage) in legs_of.items():
            adapted = spread_weights(adapt_weights(weights, coverage, full_at), legs, exponent)
            fused = fuse(legs, adapted, k=settings.search.rrf_k, method="score")
            run[qid] = [beir_of[owners[f.chunk_id]] for f in fused[:100]]
        return evaluate(run, qrels).mean["ndcg@10"]

    print(f"{len(legs_of)} queries; score fusion (keyword weight = 1 - vector weight)")
    vectors = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
    for vector, full_at in itertools.product(vectors, (0.0, 0.2, 0.3, 0.4)):
        print(f"vector_weight={vector:<5} keyword_full_coverage={full_at:<4} "
              f"nDCG@10 {score(vector, full_at):.4f}")
    # Spread, weight and coverage interact (each moves weight between the legs): grid them jointly.
    coverages = sorted({settings.search.keyword_full_coverage, 0.3, 0.4})
    for exponent, vector, full in itertools.product(
            (0.25, 0.4, 0.5, 0.6, 0.75, 1.0) if spread else (), (0.4, 0.45, 0.5), coverages):
        print(f"spread_exponent={exponent:<5} vector_weight={vector:<5} "
              f"keyword_full_coverage={full:<4} nDCG@10 {score(vector, full, exponent):.4f}")

    def rrf(vector: float, k: int) -> float:
        weights = {**leg_weights(settings), "keyword": 1.0 - vector, "vector": vector}
        run = {qid: [beir_of[owners[f.chunk_id]]
                     for f in fuse(legs, weights, k=k, method="rrf")[:100]]
               for qid, (legs, owners, _) in legs_of.items()}
        return evaluate(run, qrels).mean["ndcg@10"]

    for vector, k in itertools.product(vectors, (5, 10, 60)):
        print(f"rrf k={k:<3} vector_weight={vector:<5} nDCG@10 {rrf(vector, k):.4f}")


@dataclass
class _Candidates:
    """One query's fused candidates and what each document holds of the query's terms."""

    fused: list[Fused]
    owners: dict[int, int]
    coverage: dict[int, float]  # document -> IDF-weighted share of the query's terms
    rarest: set[int]            # the documents holding the query's rarest term
    top: float                  # the keyword leg's best document's coverage
    names: dict[int, float]     # chunk -> name_shortfall at floor 0


def coverage_grid(store: Catalog, leg: VectorLeg, settings: Settings, queries: dict[str, str],
                  qrels: dict[str, dict[str, int]], beir_of: dict[int, str], *,
                  candidates: int = 100) -> None:
    """Print nDCG@10 of the configured fusion plus one kind of per-document coverage evidence
    at a time (``docs/decisions/backlog-ranking.md``, "Per-document coverage")."""
    s = settings.search
    found: dict[str, _Candidates] = {}
    replayed = replay_legs(store, leg, settings, queries, candidates)
    for qid, (plan, ranked, owners, top) in replayed.items():
        weights = spread_weights(adapt_weights(leg_weights(settings), top,
                                               s.keyword_full_coverage), ranked, s.spread_exponent)
        fused = fuse(ranked, weights, k=s.rrf_k, method="score")
        docs = {owners[f.chunk_id] for f in fused}
        rarest = _rarest_term(store, plan.terms)
        found[qid] = _Candidates(
            fused, owners, store.term_coverage(plan.terms, docs),
            {d for d, held in store.term_coverage([rarest], docs).items() if held} if rarest
            else set(), top, name_shortfall(store, plan.terms, fused, owners, 0.0))

    def score(delta: Callable[[Fused, _Candidates, int], float]) -> float:
        run = {}
        for qid, cand in found.items():
            rescored = sorted(((f.score + delta(f, cand, cand.owners[f.chunk_id]), f)
                               for f in cand.fused),
                              key=lambda pair: (-pair[0], *pair[1].sort_key()[2:]))
            run[qid] = [beir_of[cand.owners[f.chunk_id]] for _, f in rescored[:100]]
        return evaluate(run, qrels).mean["ndcg@10"]

    def vector_part(f: Fused) -> float:
        return f.legs["vector"].contribution if "vector" in f.legs else 0.0

    def absent(f: Fused) -> bool:
        return "keyword" not in f.legs

    def short(f: Fused, c: _Candidates, d: int) -> float:
        """The share of its vector part a candidate lacks by coverage (0 holding every term)."""
        return vector_part(f) * (1 - c.coverage.get(d, 0.0))

    print(f"{len(found)} queries, {candidates} candidates a leg; fusion as configured (vector "
          f"{s.vector_weight}, full coverage {s.keyword_full_coverage}, spread "
          f"{s.spread_exponent}) without search.vector_name_floor, then each variant alone")
    rows: list[tuple[str, Callable[[Fused, _Candidates, int], float]]] = [
        ("fusion alone (vector_name_floor 1)", lambda f, c, d: 0.0)]
    rows += [(f"A  + {w} * coverage, every candidate",
              lambda f, c, d, w=w: w * c.coverage.get(d, 0.0)) for w in (0.02, 0.05, 0.1, 0.2)]
    rows += [(f"B  vector part * ({a} + {1 - a:g} * coverage), keyword leg absent",
              lambda f, c, d, a=a: -absent(f) * (1 - a) * short(f, c, d))
             for a in (0.0, 0.25, 0.5, 0.75)]
    rows += [(f"B  as above, {a}, only where the keyword top holds >= {s.keyword_full_coverage}",
              lambda f, c, d, a=a: -(absent(f) and c.top >= s.keyword_full_coverage)
              * (1 - a) * short(f, c, d)) for a in (0.0, 0.25)]
    rows += [(f"B' vector part * ({a} + {1 - a:g} * coverage), every candidate",
              lambda f, c, d, a=a: -(1 - a) * short(f, c, d)) for a in (0.5, 0.75, 0.9)]
    rows += [(f"C  - {p} lacking the rarest term, every candidate",
              lambda f, c, d, p=p: -p * (d not in c.rarest)) for p in (0.01, 0.03, 0.05, 0.1)]
    rows += [(f"E  vector part * ({a} + {1 - a:g} * names held), keyword leg absent",
              lambda f, c, d, a=a: (1 - a) * c.names.get(f.chunk_id, 0.0))
             for a in (0.0, 0.25, 0.5, 0.75)]
    for label, delta in rows:
        print(f"{label:<72} nDCG@10 {score(delta):.5f}")
    changed = sum(any(c.names.values()) for c in found.values())
    print(f"queries where E changes a score: {changed} of {len(found)}")


def _rarest_term(store: Catalog, terms: Sequence[str]) -> str | None:
    """The query term the fewest chunks hold (the local catalog's FTS5 counts, as its
    ``term_coverage`` weighs them); None without a term FTS5 can count."""
    counts = store._term_counts(list(dict.fromkeys(terms)))
    return min(counts, key=lambda term: (counts[term], term)) if counts else None


if __name__ == "__main__":
    sys.exit(main())
