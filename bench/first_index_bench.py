"""The first index of a real corpus, as a user runs it: `lore index` on the kano backlog.

Runs the installed CLI in fresh processes on a fresh copy of the corpus:
  1. baseline: `lore index --no-embed` (catalog and keyword index only);
  2. the full first index (catalog, then every chunk embedded with the
     configured model), cold: a new index folder and the embedding cache
     off (LORE_EMBED__CACHE=false), so every chunk goes through the model;
  3. while (2) embeds, `lore search --mode keyword` every few seconds in
     another process, to check that keyword search keeps working while the
     vectors build, and how fast it answers then.
Prints the times, the full/catalog ratio, chunks/s, and the plan and
progress lines `lore index` wrote to stderr (it is piped here, as in CI).
The OS file cache is warm after (1); the model files are read cold by (2).

Usage:
    LORE_HOME=/path/with/pulled/model nice -n 5 python bench/first_index_bench.py \
        [--corpus ../shared/corpora/kano-backlog.tar.gz] [--query "release checklist"]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _shared import KANO, extract

SEARCH_EVERY_S = 5.0
CPU_SECONDS: list[float] = []  # per `lore index` run, in order


def lore(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI of this checkout in a fresh process."""
    return subprocess.run([sys.executable, "-c", "from lore.cli import main; main()", *args],
                          capture_output=True,
                          text=True, env=env, check=False)


def timed_index(root: Path, *flags: str, env: dict[str, str]) -> tuple[float, dict[str, object],
                                                                         str]:
    """Seconds, the --json report and stderr of one `lore index` run (its CPU seconds are
    added to ``CPU_SECONDS``)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", "from lore.cli import main; main()",
                                 "index", str(root), "--json", *flags],
                                stdout=out, stderr=err, text=True, env=env)
        # wait4, not wait: the index's own CPU time, without the searches running beside it.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())
    CPU_SECONDS.append(usage.ru_utime + usage.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"lore index failed ({done.returncode}): {done.stderr}")
    return seconds, json.loads(done.stdout), done.stderr


def search_while(root: Path, query: str, env: dict[str, str],
                 running: threading.Event) -> list[tuple[float, int, int]]:
    """(seconds, exit code, hit count) of keyword searches made while ``running`` is set."""
    results: list[tuple[float, int, int]] = []
    while running.is_set():
        started = time.perf_counter()
        done = lore("search", query, "--root", str(root), "--mode", "keyword", "--json",
                    env=env)
        seconds = time.perf_counter() - started
        hits = json.loads(done.stdout)["count"] if done.returncode == 0 else 0
        if running.is_set():   # a search that finished after the index did is not "during"
            results.append((seconds, done.returncode, hits))
        time.sleep(SEARCH_EVERY_S)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path,
                        default=KANO)
    parser.add_argument("--query", default="release checklist")
    args = parser.parse_args()
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LORE_") or k == "LORE_HOME"}
    env |= {"PYTHONPATH": src, "LORE_EMBED__CACHE": "false", "COLUMNS": "100"}
    with tempfile.TemporaryDirectory(prefix="lore-first-index-") as tmp:
        extract(args.corpus, tmp)
        root = Path(tmp) / "kano-backlog"
        catalog_s, catalog_report, _ = timed_index(root, "--no-embed", env=env)
        shutil.rmtree(root / ".lore")
        # The catalog part of the full run commits within seconds; searches start after it.
        running = threading.Event()
        running.set()
        during: list[tuple[float, int, int]] = []

        def searcher() -> None:
            time.sleep(catalog_s * 2)
            during.extend(search_while(root, args.query, env, running))

        thread = threading.Thread(target=searcher)
        thread.start()
        full_s, report, stderr = timed_index(root, env=env)
        running.clear()
        thread.join()
    vectors = report["vectors"]
    assert isinstance(vectors, dict), report.get("notices")
    chunks = int(vectors["embedded"])
    print(f"corpus: {args.corpus.name}, {len(catalog_report['added'])} files, "  # type: ignore[arg-type]
          f"{chunks:,} chunks embedded with {vectors['space']}")
    print(f"catalog only (`lore index --no-embed`, baseline): {catalog_s:.1f} s")
    print(f"first index incl. embeddings (cache off): {full_s:.1f} s wall, "
          f"{CPU_SECONDS[-1]:.1f} s CPU ({CPU_SECONDS[-1] / full_s:.2f} cores busy), "
          f"= {full_s / catalog_s:.0f}x the catalog; embedding {vectors['duration']:.1f} s, "
          f"{chunks / float(vectors['duration']):.1f} chunks/s")
    ok = [r for r in during if r[1] == 0 and r[2] > 0]
    if during:
        print(f"keyword searches during embedding: {len(ok)}/{len(during)} answered with hits, "
              f"p50 {statistics.median(r[0] for r in during):.2f} s per fresh process")
    print("lore index stderr (piped):")
    for line in stderr.splitlines():
        print(f"  | {line}")


if __name__ == "__main__":
    main()
