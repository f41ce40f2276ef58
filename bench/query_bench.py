"""Keyword query latency on the real kano backlog, against raw FTS5 measured in the same run.

What it measures (the corpus is indexed keyword-only into a temp dir first):

- in-process ``Index.search`` latency, p50 / p95, per query family (exact
  ids, title words, natural-language questions, filtered queries) and over
  all of them; goal: p50 <= 5 ms. Each pass runs every query once, in turn,
  so no query follows itself: ``--repeat`` passes, not back-to-back repeats;
- warm: the process, the open index and SQLite's page cache (one untimed
  warm-up query) and the index's in-memory keyword copy (built before timing,
  its build time printed); keyword-only, so no embedding cache is involved;
- the same searches with every keyword leg answered by FTS5 instead of the
  copy (the path of a one-shot ``lore search``), p50 and the ratio;
- the baseline: the bare FTS5 statement ``MATCH ... ORDER BY rank LIMIT 10``
  for the same queries, so the ratio shows what parsing, the id leg,
  fusion, grouping and snippets add on top of SQLite itself;
- a cold ``lore search`` process (median of a few runs), against a bare
  ``python -c pass`` start-up.

Settings are loaded as ``lore search --root`` loads them (``LORE_*`` variables,
the config file and the corpus's ``lore.toml`` apply, ``bench/_shared.py``), with
embedding off: the measurement is the keyword path.

Usage:
  python bench/query_bench.py
  python bench/query_bench.py --repeat 50 --cold-runs 7
  python bench/query_bench.py --corpus /path/to/folder   # any folder of Markdown
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _shared import KANO, extract, lore_settings

from lore.eval.metrics import percentile
from lore.index import Index, open_index
from lore.search.fts import build_match
from lore.search.query import parse_query
from lore.settings import Settings
from lore.store.catalog import Catalog

GOAL_P50_MS = 5.0

NATURAL = [
    "how do I configure the embedding provider",
    "why did we choose sqlite for the index",
    "local first embedding search",
    "schema migration framework",
    "duplicate ids and uid conflicts",
    "token aware chunking overlap",
    "release checklist for the skill",
    "what is a workset",
]
FILTERED = [
    "type:ADR sqlite index",
    "type:Task state:Done embedding",
    "state:Proposed vector",
    "type:Bug",
    "type:Feature graph retrieval",
]


def queries(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Query families drawn from the corpus itself (ids, titles) plus fixed ones."""
    ids = [r[0] for r in conn.execute(
        "SELECT doc_id FROM documents WHERE doc_id NOT LIKE '%/%' ORDER BY doc_id LIMIT 12")]
    titles = [" ".join(r[0].split()[:4]) for r in conn.execute(
        "SELECT title FROM documents WHERE doctype IN ('ADR', 'Feature') ORDER BY path LIMIT 12")]
    return {"ids": ids, "titles": titles, "natural": NATURAL, "filtered": FILTERED}


def timed_passes(calls: dict[str, Callable[[], object]], passes: int) -> dict[str, list[float]]:
    """Wall times in milliseconds per query, over ``passes`` rounds of every call in turn.

    Interleaving keeps a query from being timed right after itself, when
    every page and cache line it touches is still hot.
    """
    out: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(passes):
        for name, func in calls.items():
            start = time.perf_counter()
            func()
            out[name].append((time.perf_counter() - start) * 1000)
    return out


def searcher(index: Index, query: str) -> Callable[[], object]:
    """lore's in-process search for ``query``, as a no-argument call."""
    return lambda: index.search(query)


def raw_fts(conn: sqlite3.Connection, query: str) -> Callable[[], object]:
    """The baseline: the bare FTS5 top-10 statement for ``query``'s terms."""
    match = build_match(parse_query(query, ()))
    if match is None:
        return lambda: None
    sql = "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT 10"
    return lambda: conn.execute(sql, (match,)).fetchall()


def cold_runs(root: Path, index_dir: Path, runs: int) -> tuple[float, float]:
    """Median seconds of a cold ``lore search`` process and of ``python -c pass``."""
    search = [sys.executable, "-c", "from lore.cli import main; main()", "search",
              "embedding cache", "--root", str(root), "--index-dir", str(index_dir), "--json"]
    bare = [sys.executable, "-c", "pass"]

    def median_s(cmd: list[str]) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return median_s(search), median_s(bare)


def keyword_settings(root: Path | None) -> Settings:
    """lore's settings as ``lore search --root`` loads them, with embedding off."""
    return lore_settings(root, fixed={"embed.enabled": False})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a folder to index instead of kano")
    parser.add_argument("--repeat", type=int, default=20,
                        help="passes over all queries (after one warm-up query)")
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lore-query-bench-") as tmp:
        root = args.corpus
        if root is None:
            extract(KANO, Path(tmp))
            root = Path(tmp) / "kano-backlog"
        settings = keyword_settings(root)
        index_dir = Path(tmp) / "index"
        with open_index(root, settings=settings, index_dir=index_dir) as index:
            start = time.perf_counter()
            index.sync()
            print(f"indexed {index.status()['documents']} documents in "
                  f"{time.perf_counter() - start:.1f} s (keyword-only)")
            # The baseline reads the same catalog file through its own connection.
            baseline_store = Catalog.open(index_dir, create=False)
            conn = baseline_store.conn
            index.search("warm up")
            started = time.perf_counter()
            ready = index.prepare_keyword_search()   # a long-lived index's keyword copy
            print(f"keyword copy {'built' if ready else 'NOT built'} in "
                  f"{time.perf_counter() - started:.1f} s")
            everything: list[float] = []
            baseline: list[float] = []
            print(f"{'family':10} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'fts p50':>8} {'ratio':>6}")
            families = queries(conn)
            every = [(f, q) for f, texts in families.items() for q in texts]
            lore_t = timed_passes({f"{f}\0{q}": searcher(index, q) for f, q in every}, args.repeat)
            fts_t = timed_passes({f"{f}\0{q}": raw_fts(conn, q) for f, q in every}, args.repeat)
            for family, texts in families.items():
                lore_ms = [t for q in texts for t in lore_t[f"{family}\0{q}"]]
                fts_ms = [t for q in texts for t in fts_t[f"{family}\0{q}"]]
                everything += lore_ms
                baseline += fts_ms
                print(f"{family:10} {len(texts):>3} {percentile(lore_ms, 50):8.2f} "
                      f"{percentile(lore_ms, 95):8.2f} {percentile(fts_ms, 50):8.2f} "
                      f"{percentile(lore_ms, 50) / max(percentile(fts_ms, 50), 1e-6):6.1f}")
            p50 = percentile(everything, 50)
            print(f"{'all':10} {'':>3} {p50:8.2f} {percentile(everything, 95):8.2f} "
                  f"{percentile(baseline, 50):8.2f} "
                  f"{p50 / max(percentile(baseline, 50), 1e-6):6.1f}")
            print(f"goal p50 <= {GOAL_P50_MS} ms: {'met' if p50 <= GOAL_P50_MS else 'MISSED'}")
            # The same searches with every keyword leg answered by FTS5 (a one-shot search).
            store = index._store
            memory, store._keyword_memory = store._keyword_memory, None  # type: ignore[attr-defined]
            fts5_lore = timed_passes({f"{f}\0{q}": searcher(index, q) for f, q in every},
                                     args.repeat)
            store._keyword_memory = memory   # type: ignore[attr-defined]
            by_fts5 = percentile([t for times in fts5_lore.values() for t in times], 50)
            print(f"all, keyword leg by FTS5 instead of the copy: p50 {by_fts5:.2f} ms "
                  f"(the copy: {p50 / by_fts5:.2f}x)")
            baseline_store.close()
        cold, bare = cold_runs(root, index_dir, args.cold_runs)
        print(f"cold `lore search` process: {cold * 1000:.0f} ms median "
              f"(python start-up {bare * 1000:.0f} ms, ratio {cold / bare:.1f}x)")


if __name__ == "__main__":
    main()
