"""Hybrid query latency per stage on SciFact's test queries, in-process, embedding cache off.

What it measures (goal: hybrid p50 <= 10 ms at limit 10 on a quiet machine):

- ``Index.search(query, limit=10, mode="hybrid")`` wall time, p50 / p95, over
  every judged test query (300 on SciFact), ``--repeat`` passes, each pass
  running every query once in turn (no query right after itself);
- the same split by stage, each timed where the engine calls it:
  ``embed work`` (the query's vector: tokenize + onnxruntime, on whichever
  thread runs it), ``embed`` (how long the search waits for that vector: a
  hybrid search starts it before the keyword leg, so only what the keyword
  leg does not cover shows), ``vector`` (the vector leg without the
  embedding: faiss search, document keys mapped to chunks), ``keyword`` (the
  BM25 leg: both FTS5 tables scored and mixed), ``snippets`` (marked
  snippets of the returned hits) and ``rest`` (what the total leaves:
  planning, fusion, boosts, grouping, hydration of the hits); ``cpu`` is
  the process's CPU time per search, all threads (less sensitive to other
  jobs on the machine than wall time);
- SQL statements lore runs per query (the store connection's trace
  callback, FTS5's internal ones left out);
- which path answered the keyword leg: the in-memory copy of the FTS5 tables
  (``lore.store.keyword_memory``; built after the warm-up query, its build
  time printed) or FTS5 itself (``--keyword-path fts5``: every keyword leg
  asks FTS5, the path a one-shot search takes; ``both``: FTS5's pass, then
  the copy's, in one run, with the ratios and a check that the rankings agree);
- nDCG@10 of the queries run, and optionally a fingerprint of every ranking
  (``--save FILE`` / ``--compare FILE``): a speed change must leave every
  query's documents and scores identical, and ``--compare`` says whether it did.

Cold / warm: the index is built once in ``--work-dir`` (reused between runs;
its sync may fill vectors from the embedding cache); searching opens the
index with the embedding cache **off**, so every query is embedded; warm: the
process, the model session, the open index and SQLite's pages (one untimed
query). Absolute times depend on the machine's load: say the load average.

Settings are loaded as ``lore eval`` loads them: defaults, then the user
config file, then ``LORE_<SECTION>__<FIELD>`` environment variables (e.g.
``LORE_EMBED__PRIMARY__PRECISION``); the embedding cache is turned off for
the searches whatever they say.

Usage:
  python bench/hybrid_latency_bench.py --work-dir /tmp/sf
  python bench/hybrid_latency_bench.py --work-dir /tmp/sf --repeat 3 --save before.json
  python bench/hybrid_latency_bench.py --work-dir /tmp/sf --compare before.json
  python bench/hybrid_latency_bench.py --work-dir /tmp/sf --compare before.json --keyword-path both
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _shared import SCIFACT, lore_settings

from lore.embed.runner import EmbeddingRunner
from lore.eval.beir import iter_corpus, load_qrels, load_queries
from lore.eval.metrics import evaluate, percentile
from lore.eval.runner import WrittenCorpus, write_corpus
from lore.index import Index, open_index
from lore.search import engine, vector
from lore.settings import Settings

GOAL_P50_MS = 10.0
STAGES = ("embed work", "embed", "vector", "keyword", "snippets", "rest")


class StageClock:
    """Milliseconds spent inside the wrapped calls since the last ``take``."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func``, its time added to ``stage``."""
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.spent[stage] = self.spent.get(stage, 0.0) + \
                    (time.perf_counter() - start) * 1000
        return timed

    def take(self) -> dict[str, float]:
        """The times gathered since the last call, and a fresh start."""
        spent, self.spent = self.spent, {}
        return spent


@contextmanager
def staged(clock: StageClock) -> Iterator[None]:
    """Wrap the engine's stage calls with ``clock`` for the duration."""
    patches = [(vector.VectorLeg, "embed_query", "embed"), (vector.VectorLeg, "run", "vector"),
               (EmbeddingRunner, "embed", "embed work"),
               (engine, "keyword_leg", "keyword"), (engine, "snippets", "snippets")]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, stage in patches:
        setattr(owner, name, clock.wrap(stage, getattr(owner, name)))
    try:
        yield
    finally:
        for owner, name, func in saved:
            setattr(owner, name, func)


def build(dataset: Path, work: Path, settings: Settings) -> WrittenCorpus:
    """The corpus written and indexed in ``work`` (an existing index is synced: a no-op)."""
    corpus = write_corpus(iter_corpus(dataset), work / "corpus")
    started = time.perf_counter()
    with open_index(corpus.root, settings=settings, index_dir=work / "index") as index:
        index.sync()
    print(f"index synced in {time.perf_counter() - started:.1f} s")
    return corpus


def run_queries(index: Index, texts: list[tuple[str, str]], clock: StageClock, *,
                limit: int, repeat: int, statements: list[int]
                ) -> tuple[list[dict[str, float]], dict[str, list[tuple[str, float]]]]:
    """Per-query stage times over ``repeat`` passes, and the last pass's rankings by path."""
    times: list[dict[str, float]] = []
    rankings: dict[str, list[tuple[str, float]]] = {}
    for _ in range(repeat):
        for qid, text in texts:
            clock.take()
            before = statements[0]
            start, cpu = time.perf_counter(), time.process_time()
            hits = index.search(text, limit=limit, mode="hybrid")
            total = (time.perf_counter() - start) * 1000
            cpu = (time.process_time() - cpu) * 1000
            spent = clock.take()
            spent["vector"] = spent.get("vector", 0.0) - spent.get("embed", 0.0)
            spent["rest"] = total - sum(spent.get(s, 0.0) for s in STAGES
                                        if s not in ("rest", "embed work"))
            spent["total"] = total
            spent["cpu"] = cpu
            spent["sql"] = statements[0] - before
            times.append(spent)
            rankings[qid] = [(hit.path, round(float(hit.score), 9)) for hit in hits]
    return times, rankings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=SCIFACT)
    parser.add_argument("--split", default="test")
    parser.add_argument("--work-dir", type=Path, required=True,
                        help="where the corpus and index are built (kept for re-runs)")
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="passes over all queries")
    parser.add_argument("--queries", type=int, help="only the first N judged queries")
    parser.add_argument("--save", type=Path, help="write every query's ranking here")
    parser.add_argument("--compare", type=Path, help="check rankings against a --save file")
    parser.add_argument("--keyword-path", choices=("memory", "fts5", "both"), default="memory",
                        help="who answers the keyword leg: the in-memory copy of the FTS5 "
                             "tables (default), FTS5 itself, or both in turn in this run "
                             "(FTS5's pass first; rankings checked equal)")
    args = parser.parse_args()

    settings = lore_settings(show=False)   # as `lore eval`: defaults < user file < env
    corpus = build(args.dataset, args.work_dir, settings)
    qrels = load_qrels(args.dataset, args.split)
    queries = load_queries(args.dataset)
    texts = [(q, queries[q]) for q, judged in qrels.items() if any(g > 0 for g in judged.values())][:args.queries]
    uncached = lore_settings(fixed={"embed.cache": False})
    clock = StageClock()
    with open_index(corpus.root, settings=uncached, index_dir=args.work_dir / "index") as index:
        index.search(texts[0][1], limit=args.limit, mode="hybrid")   # warm-up, untimed
        store = index._store   # the bench counts statements and picks the keyword path
        memory = store._keyword_memory   # type: ignore[attr-defined]
        runs: dict[str, tuple[list[dict[str, float]], dict[str, list[tuple[str, float]]]]] = {}
        for path in ("fts5", "memory"):
            if args.keyword_path not in (path, "both"):
                continue
            store._keyword_memory = memory if path == "memory" else None  # type: ignore[attr-defined]
            if path == "memory":
                started = time.perf_counter()
                ready = index.prepare_keyword_search()
                print(f"keyword copy {'built' if ready else 'NOT built'} in "
                      f"{time.perf_counter() - started:.1f} s")
            store.keyword_paths.clear()   # type: ignore[attr-defined]
            runs[path] = timed_run(index, texts, clock, limit=args.limit, repeat=args.repeat)
            report(runs[path][0], f"keyword path {path}", dict(store.keyword_paths),
                   len(texts), args)  # type: ignore[attr-defined]
    rankings = runs["memory" if "memory" in runs else "fts5"][1]
    if len(runs) == 2:
        fts5_times, memory_times = runs["fts5"][0], runs["memory"][0]
        for stage in ("keyword", "total", "cpu"):
            before = percentile([t.get(stage, 0.0) for t in fts5_times], 50)
            after = percentile([t.get(stage, 0.0) for t in memory_times], 50)
            print(f"{stage} p50, FTS5 -> in-memory copy: {before:.2f} -> {after:.2f} ms "
                  f"({after / before:.2f}x)")
        same = runs["fts5"][1] == runs["memory"][1]
        print(f"rankings, FTS5 vs in-memory copy in this run: "
              f"{'identical' if same else 'DIFFER'}")
    print(f"nDCG@10: {ndcg(rankings, corpus.path_to_id, qrels):.4f}")
    if args.save:
        args.save.write_text(json.dumps(rankings, indent=0, sort_keys=True))
    if args.compare:
        before = json.loads(args.compare.read_text())
        now = json.loads(json.dumps(rankings))
        differ = [q for q in before if before[q] != now.get(q)]
        print(f"rankings vs {args.compare}: "
              f"{'identical' if not differ else f'{len(differ)} queries differ, e.g. {differ[:3]}'}")


def timed_run(index: Index, texts: list[tuple[str, str]], clock: StageClock, *, limit: int,
              repeat: int
              ) -> tuple[list[dict[str, float]], dict[str, list[tuple[str, float]]]]:
    """``run_queries`` with the store connection's statements counted."""
    statements = [0]
    conn = index._store.conn   # type: ignore[attr-defined]
    # FTS5's own statements on its shadow tables are traced too, marked "--".
    conn.set_trace_callback(lambda sql: statements.__setitem__(
        0, statements[0] + (not sql.startswith("--"))))
    try:
        with staged(clock):
            return run_queries(index, texts, clock, limit=limit, repeat=repeat,
                               statements=statements)
    finally:
        conn.set_trace_callback(None)


def report(times: list[dict[str, float]], label: str, paths: dict[str, int], queries: int,
           args: argparse.Namespace) -> None:
    """Print one run's stage table."""
    load = os.getloadavg()[0]
    print(f"{label}: {queries} queries x {args.repeat} passes, limit {args.limit}, hybrid, "
          f"embedding cache off; load average {load:.1f} (absolute times depend on it)")
    print(f"{'stage':10} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
    for stage in (*STAGES, "total", "cpu"):
        values = [t.get(stage, 0.0) for t in times]
        print(f"{stage:10} {percentile(values, 50):8.2f} {percentile(values, 95):8.2f} "
              f"{sum(values) / len(values):8.2f}")
    print(f"SQL statements per query: {percentile([t['sql'] for t in times], 50):.0f} (median)")
    print(f"keyword leg answered by: in-memory copy {paths.get('memory', 0)}, "
          f"FTS5 {paths.get('fts5', 0)}")
    p50 = percentile([t["total"] for t in times], 50)
    print(f"goal hybrid p50 <= {GOAL_P50_MS} ms: {'met' if p50 <= GOAL_P50_MS else 'MISSED'}")


def ndcg(rankings: dict[str, list[tuple[str, float]]], path_to_id: dict[str, str],
         qrels: Any) -> float:
    """nDCG@10 of the rankings, paths turned back into BEIR ids.

    Averaged over the queries that ran (``--queries N`` runs the first N): a
    judged query left out would count as a miss.
    """
    ranked = {q: [path_to_id[path] for path, _ in hits if path in path_to_id]
              for q, hits in rankings.items()}
    return float(evaluate(ranked, {q: qrels[q] for q in ranked}).mean["ndcg@10"])


if __name__ == "__main__":
    main()
