"""What link evidence costs per search on the kano backlog, against the same search without it.

Every backlog question (sets a, b and c: 172) runs hybrid at limit 10 through
two indexes open on the same catalog, one with ``search.link_evidence`` at
its default and one with it at 0, interleaved query by query (the order of the
two flips every pass, so neither always runs second). It prints the p50 / p95
of each, their ratio, how many questions' top 10 differ, and how long building
the catalog's neighbour table takes (once per catalog state; the searches
reuse it from the store's fact cache).

Warm: the process, both open indexes, SQLite's pages, the in-memory keyword
copies, the query embeddings (the embedding cache is on, so both sides skip
the model alike: the difference is the link evidence). Absolute times depend
on the machine's load: say the load average.

    LORE_HOME=... PYTHONPATH=src python bench/link_evidence_bench.py --root /tmp/kano/kano-backlog
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from _shared import KANO, extract, lore_settings

from lore.index import open_index
from lore.search.graph import LinkGraph
from lore.search.link_evidence import Neighbours

HERE = Path(__file__).resolve().parent
SETS = ("questions.jsonl", "questions-b.jsonl", "questions-c.jsonl")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, help="an extracted kano backlog (default: extract)")
    parser.add_argument("--corpus", type=Path, default=KANO, help="the kano tarball")
    parser.add_argument("--repeat", type=int, default=5, help="passes over all questions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lore-links-") as scratch:
        root = args.root
        if root is None:
            if not args.corpus.exists():
                raise SystemExit(f"{args.corpus} is absent: pass --corpus or --root")
            extract(args.corpus, Path(scratch))
            root = Path(scratch) / "kano-backlog"
        run(root, args.repeat)
    return 0


def run(root: Path, repeat: int) -> None:
    """Time both settings on every question and print the comparison."""
    questions = [(q["query"], q.get("filters") or None)
                 for name in SETS for line in (HERE / "backlog" / name).read_text().splitlines()
                 if line for q in [json.loads(line)]]
    settings = lore_settings(root)
    on = open_index(root, settings=settings)
    on.sync()
    off = open_index(root, settings=dataclasses.replace(settings, search=dataclasses.replace(
        settings.search, link_evidence=0.0)))
    for index in (on, off):
        index.prepare_keyword_search()
        index.search(questions[0][0], limit=10, mode="hybrid")     # warm-up, untimed
    store = on._store
    started = time.perf_counter()
    table = Neighbours.from_graph(LinkGraph.from_store(store), store.all_hubs())
    build_ms = (time.perf_counter() - started) * 1000
    times: dict[str, list[float]] = {"on": [], "off": []}
    differ = 0
    for rep in range(repeat):
        for query, filters in questions:
            tops = {}
            for name in (("on", "off") if rep % 2 == 0 else ("off", "on")):
                index = on if name == "on" else off
                started = time.perf_counter()
                hits = index.search(query, limit=10, mode="hybrid", filters=filters)
                times[name].append((time.perf_counter() - started) * 1000)
                tops[name] = [h.path for h in hits]
            differ += rep == 0 and tops["on"] != tops["off"]
    print(f"{len(questions)} questions x {repeat} passes, hybrid, limit 10, interleaved; "
          f"load average {os.getloadavg()[0]:.1f} (absolute times depend on it)")
    for name in ("off", "on"):
        values = times[name]
        p95 = statistics.quantiles(values, n=20)[-1]
        weight = settings.search.link_evidence if name == "on" else 0.0
        label = f"link evidence {weight:.2f}"
        print(f"{label:22s} p50 {statistics.median(values):6.2f} ms   p95 {p95:6.2f} ms")
    ratio = statistics.median(times["on"]) / statistics.median(times["off"])
    print(f"p50 ratio on / off: {ratio:.3f}")
    print(f"questions whose top 10 differ: {differ} of {len(questions)}")
    print(f"neighbour table: {len(table.linked)} linked documents, built in {build_ms:.1f} ms "
          "(once per catalog state)")
    for index in (on, off):
        index.close()


if __name__ == "__main__":
    raise SystemExit(main())
