"""A freshly started server's first searches: which path answers the keyword leg, how fast.

Opens an ``IndexService`` over an indexed SciFact work dir as ``lore serve``
and ``lore mcp`` do (open, then a sync: a no-op on a built index), and from
the moment it is open sends SciFact's judged test queries one after another
(hybrid, limit 10, embedding cache off, through ``service.reader()``) for
``--seconds``. Each pass is a fresh process (cold: nothing of an earlier pass
is held); ``--rounds`` rounds run the two passes in turn in one invocation,
and the medians over the rounds are the figures:

- ``start``: as the servers are now: the in-memory keyword copy starts
  building in the background when the readers are opened;
- ``first-search`` (the baseline, the servers before): the readers do not
  start it, so the copy is built only once a search comes a second or more
  after a reader's first (``keyword_memory.BUILD_AFTER_S``).

For each pass: seconds from opening the service to the first search it
answered, and to the first one answered from the copy; searches by keyword
path; p50 of the searches in the first ``--early`` seconds after the first
answer, and of all. The ratios are start / first-search of this run (the
medians'); each round's figures are printed too.
Absolute times depend on the machine's load: the load average is printed.

Usage (the index is built by hybrid_latency_bench.py in the same --work-dir):
  python bench/server_start_bench.py --work-dir /tmp/sf
  python bench/server_start_bench.py --work-dir /tmp/sf --rounds 5 --seconds 20 --early 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _shared import SCIFACT, lore_settings

from lore.eval.beir import load_qrels, load_queries
from lore.eval.metrics import percentile
from lore.index import Index

PASSES = ("start", "first-search")
UNCACHED = {"embed.cache": False}   # every query embedded anew


def one_pass(work: Path, name: str, seconds: float, queries: list[str]) -> dict[str, Any]:
    """Open a service over ``work``, search for ``seconds``; what each search took and who
    answered its keyword leg."""
    from lore.server.service import IndexService

    if name == "first-search":
        prepare = Index.prepare_keyword_search

        def only_when_waited(self: Index, *, wait: bool = True) -> bool:
            return prepare(self, wait=True) if wait else False

        Index.prepare_keyword_search = only_when_waited   # type: ignore[method-assign]
    settings = lore_settings(fixed=UNCACHED, show=False)   # the parent printed them
    opened = time.perf_counter()
    service = IndexService(work / "corpus", settings, work / "index", readers=2)
    try:
        service.sync()
        searches: list[tuple[float, float, str]] = []   # (s since open, ms, path)
        i = 0
        while time.perf_counter() - opened < seconds:
            with service.reader() as idx:
                paths = idx._store.keyword_paths   # type: ignore[attr-defined]
                before = paths["memory"]
                start = time.perf_counter()
                idx.search(queries[i % len(queries)], limit=10, mode="hybrid")
                took = (time.perf_counter() - start) * 1000
                searches.append((start - opened, took,
                                 "memory" if paths["memory"] > before else "fts5"))
            i += 1
    finally:
        service.close()
    return {"searches": searches}


def summary(name: str, searches: list[tuple[float, float, str]], early: float
            ) -> dict[str, float]:
    """The figures of one pass."""
    first = searches[0][0]
    copy_at = next((t for t, _, path in searches if path == "memory"), float("nan"))
    early_ms = [ms for t, ms, _ in searches if t - first <= early]
    found = {"first answer s": first, "first from copy s": copy_at,
             "fts5": float(sum(path == "fts5" for *_, path in searches)),
             "copy": float(sum(path == "memory" for *_, path in searches)),
             "p50 early ms": percentile(early_ms, 50),
             "p50 all ms": percentile([ms for _, ms, _ in searches], 50)}
    show(name, found)
    return found


def show(name: str, found: dict[str, float]) -> None:
    """One line of figures: times to two decimals, counts whole."""
    print(f"{name:<13} " + "  ".join(f"{k} {v:.2f}" if k.endswith("s") else f"{k} {v:.0f}"
                                     for k, v in found.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, required=True,
                        help="a hybrid_latency_bench.py work dir (corpus/ and index/)")
    parser.add_argument("--dataset", type=Path, default=SCIFACT)
    parser.add_argument("--seconds", type=float, default=15.0,
                        help="how long each pass searches, counted from opening the service")
    parser.add_argument("--early", type=float, default=5.0,
                        help="the window after the first answer whose p50 is compared")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of both passes (in turn); the figures are medians")
    parser.add_argument("--one-pass", choices=PASSES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    qrels = load_qrels(args.dataset, "test")
    texts = load_queries(args.dataset)
    queries = [texts[q] for q, judged in qrels.items() if any(g > 0 for g in judged.values())]
    if args.one_pass:
        print(json.dumps(one_pass(args.work_dir, args.one_pass, args.seconds, queries)))
        return
    lore_settings(fixed=UNCACHED)   # prints what the passes run with
    print(f"load average {os.getloadavg()[0]:.1f} at start (absolute times depend on it); "
          f"each pass a fresh process, {args.seconds:.0f} s of hybrid searches, limit 10, "
          "embedding cache off")
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in PASSES}
    for _ in range(args.rounds):
        for name in PASSES:
            out = subprocess.run([sys.executable, __file__, "--work-dir", str(args.work_dir),
                                  "--dataset", str(args.dataset),
                                  "--seconds", str(args.seconds), "--one-pass", name],
                                 check=True, capture_output=True, text=True)
            rounds[name].append(summary(
                name, json.loads(out.stdout.splitlines()[-1])["searches"], args.early))
    print(f"medians over {args.rounds} rounds:")
    found = {name: {key: statistics.median(r[key] for r in rounds[name])
                    for key in rounds[name][0]} for name in PASSES}
    for name in PASSES:
        show(name, found[name])
    now, before = found["start"], found["first-search"]
    print(f"p50 of the first {args.early:.0f} s, start / first-search: "
          f"{now['p50 early ms']:.2f} / {before['p50 early ms']:.2f} ms "
          f"({now['p50 early ms'] / before['p50 early ms']:.2f}x); first search from the copy "
          f"at {now['first from copy s']:.1f} s vs {before['first from copy s']:.1f} s after "
          f"opening; load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
