"""Query latency of queries holding an id-shaped token against the others, two revisions.

Most id-shaped tokens in prose ("IL-6", "TDP-43", "PD-1" in SciFact's claims)
name no document, yet the exact-id leg looks each up in every id form; this
measures what that costs. The queries are SciFact's judged test queries, split
by whether the query yields an id candidate (``lore.search.idmatch.id_candidates``
of this tree); for each revision (this tree's ``src`` and ``--before REV``'s,
by ``git archive``) a fresh child process opens the index built by
``hybrid_latency_bench.py`` in ``--work-dir`` (embedding cache off, the
in-memory keyword copy built, one untimed warm-up query), then times
``Index.search(query, limit=10)`` over ``--repeat`` passes. Revisions
alternate, ``--rounds`` times each, so load drifts hit both alike. Printed per
mode: p50 / p95 ms of each group and each revision, the ratio, the load
average, and whether every query's ranking (paths and scores) is identical
between the revisions; first, how long this tree's id filter
(``lore.store.id_names``, built once per catalog state) takes to build from
the index. Warm: process, model session, open index, keyword copy.

    PYTHONPATH=src LORE_HOME=~/.lore python bench/id_lookup_bench.py --work-dir /tmp/sf --before main
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _shared import SCIFACT, lore_settings, revision_src

HERE = Path(__file__).resolve().parent
UNCACHED = {"embed.cache": False}   # every query embedded anew


def judged_queries(dataset: Path, split: str) -> list[tuple[str, str]]:
    """(query id, text) of every query with a positive judgement in ``split``."""
    from lore.eval.beir import load_qrels, load_queries

    qrels = load_qrels(dataset, split)
    queries = load_queries(dataset)
    return [(q, queries[q]) for q, judged in qrels.items() if any(g > 0 for g in judged.values())]


def child(work: Path, mode: str, repeat: int, out: Path, dataset: Path, split: str) -> None:
    """Time every query in this process (whichever ``lore`` is on the path); write JSON."""
    from lore.index import open_index

    uncached = lore_settings(fixed=UNCACHED, show=False)   # the parent printed them
    texts = judged_queries(dataset, split)
    times: dict[str, list[float]] = {q: [] for q, _ in texts}
    rankings: dict[str, list[tuple[str, float]]] = {}
    with open_index(work / "corpus", settings=uncached, index_dir=work / "index") as index:
        index.search(texts[0][1], limit=10, mode=mode)   # warm-up, untimed
        index.prepare_keyword_search()
        for _ in range(repeat):
            for qid, text in texts:
                start = time.perf_counter()
                hits = index.search(text, limit=10, mode=mode)
                times[qid].append((time.perf_counter() - start) * 1000)
                rankings[qid] = [(hit.path, round(float(hit.score), 9)) for hit in hits]
    out.write_text(json.dumps({"times": times, "rankings": rankings}))


def run_child(src: Path, args: argparse.Namespace, mode: str, out: Path) -> dict[str, Any]:
    """One child's timings and rankings, with ``src`` as its ``lore``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    subprocess.run([sys.executable, __file__, "--work-dir", str(args.work_dir), "--dataset",
                    str(args.dataset), "--split", args.split, "--repeat", str(args.repeat),
                    "--child", mode, str(out)], check=True, env=env)
    return dict(json.loads(out.read_text()))


def filter_build(index_dir: Path) -> str:
    """How long this tree's ``IdNames`` (built once per catalog state) takes to build."""
    from lore.store import lookups
    from lore.store.catalog import Catalog
    from lore.store.id_names import IdNames

    catalog = Catalog.open(index_dir, create=False)
    try:
        start = time.perf_counter()
        rows = lookups.id_names(catalog.conn)
        names = IdNames.build(rows)
        spent = (time.perf_counter() - start) * 1000
    finally:
        catalog.close()
    return (f"built from {len(rows)} documents in {spent:.1f} ms ({len(names.stems)} stems, "
            f"{len(names.suffixes)} id tails), once per catalog state")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-dir", type=Path, required=True,
                        help="a folder hybrid_latency_bench.py built (corpus/ and index/)")
    parser.add_argument("--before", default="main", help="the revision to compare against")
    parser.add_argument("--dataset", type=Path, default=SCIFACT)
    parser.add_argument("--split", default="test")
    parser.add_argument("--modes", default="keyword,hybrid")
    parser.add_argument("--repeat", type=int, default=3, help="passes over all queries")
    parser.add_argument("--rounds", type=int, default=2, help="child runs per revision and mode")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.work_dir, args.child[0], args.repeat, Path(args.child[1]), args.dataset,
              args.split)
        return

    lore_settings(fixed=UNCACHED)   # prints what the children run with
    from lore.eval.metrics import percentile
    from lore.search.idmatch import id_candidates
    from lore.search.query import parse_query

    texts = judged_queries(args.dataset, args.split)
    with_id = {q for q, text in texts if id_candidates(parse_query(text, set()))}
    print(f"{len(texts)} queries, {len(with_id)} with an id candidate; limit 10, embedding "
          f"cache off, {args.repeat} passes x {args.rounds} rounds per revision; load average "
          f"{os.getloadavg()[0]:.1f} at start (absolute times depend on it)")
    print(f"this tree's id filter: {filter_build(args.work_dir / 'index')}")
    with tempfile.TemporaryDirectory(prefix="lore-idbench-") as tmp:
        scratch = Path(tmp)
        trees = {args.before: revision_src(args.before, scratch), "this tree": HERE.parent / "src"}
        for mode in args.modes.split(","):
            times: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
            rankings: dict[str, dict[str, Any]] = {}
            for round_ in range(args.rounds):
                for name, src in trees.items():
                    found = run_child(src, args, mode, scratch / f"{mode}-{round_}.json")
                    for qid, values in found["times"].items():
                        times[name].setdefault(qid, []).extend(values)
                    rankings[name] = found["rankings"]
            print(f"\n{mode} mode{'':14} {'id p50':>8} {'id p95':>8} {'other p50':>10} "
                  f"{'all p95':>8}   (ms)")
            p50s = {}
            for name in trees:
                ids = [t for q, v in times[name].items() if q in with_id for t in v]
                other = [t for q, v in times[name].items() if q not in with_id for t in v]
                p50s[name] = (percentile(ids, 50), percentile(other, 50))
                print(f"{name:24} {p50s[name][0]:8.2f} {percentile(ids, 95):8.2f} "
                      f"{p50s[name][1]:10.2f} {percentile(ids + other, 95):8.2f}")
            (before_id, before_other), (after_id, after_other) = p50s.values()
            same = rankings[args.before] == rankings["this tree"]
            print(f"ratio this tree / {args.before}: id p50 {after_id / before_id:.2f}x, other "
                  f"p50 {after_other / before_other:.2f}x; rankings "
                  f"{'identical' if same else 'DIFFER'}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
