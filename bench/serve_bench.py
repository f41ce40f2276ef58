"""`lore serve` under load, its overheads, and its idle cost, on the real kano backlog.

Everything runs on loopback against a real `lore serve ROOT --watch` process
(embedding cache off in the server, so every query is embedded; the default
local model, all-MiniLM-L6-v2 int8). What it measures, all in one run:

1. **Load**: 8 client threads for 30 s (keep-alive HTTP), alternating
   ``POST /search`` (hybrid, a fixed set of natural queries) and
   ``POST /v1/embeddings`` (4 texts); 10 s in, 20 files are edited and a
   sync runs while the clients go on. Requests/s, p50/p99 per route, errors,
   and when the sync ran (it may end after the load does).
2. **/v1/embeddings overhead**: one client sending the same batches one after
   another, against the same runner called in-process (same model,
   precision, batches, cache off): texts/s each and the ratio.
3. **CLI through the server**: `lore search QUERY --root ROOT --json` (and
   `lore show ID`, `lore related ID`, `lore status`, all --json) as a whole
   process, run as pip's `lore` script runs it (``lore.entry``), while the
   server runs, against a cold in-process run of the same command with
   --no-server (fresh process, cache off): median wall and CPU time of N runs.
4. **Save -> searchable**: a new file written while ``--watch`` runs, until
   a keyword search finds it (median of a few).
5. **Idle CPU** of the `lore serve --watch` process over 60 s with no
   requests and no file changes (from /proc, user+system time).
6. **Readers**: the same load (no sync) against a server with 4 pinned readers
   and one with a single reader, i.e. every request behind one lock.

Usage (LORE_HOME must hold the pulled model; see bench/README.md):
  LORE_HOME=/work/lore-home nice -n 5 python bench/serve_bench.py
  python bench/serve_bench.py --seconds 10 --idle-seconds 10 --cold-runs 3   # quick look
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _shared import KANO, extract

REPO = Path(__file__).resolve().parents[1]
LORE = [sys.executable, "-c", "from lore.cli import main; main()"]
# What pip's `lore` console script runs (pyproject [project.scripts]): the fast path first.
LORE_SCRIPT = [sys.executable, "-c", "from lore.entry import main; main()"]
QUERIES = ["how do I configure the embedding provider", "why did we choose sqlite for the index",
           "local first embedding search", "schema migration framework",
           "duplicate ids and uid conflicts", "token aware chunking overlap",
           "release checklist for the skill", "what is a workset"]
EDITED = 20           # files edited (so re-chunked and re-embedded) during the load
EMBED_TEXTS = ["vector cache invalidation", "backlog item with acceptance criteria",
               "decision record about storage", "a worklog entry for today"]


def env(cache: bool) -> dict[str, str]:
    """The environment of every lore process: this tree's code, cache on or off."""
    return {**os.environ, "PYTHONPATH": str(REPO / "src"),
            "LORE_EMBED__CACHE": "true" if cache else "false"}


class Client:
    """A keep-alive JSON client on one loopback connection."""

    def __init__(self, port: int, timeout_s: float = 60.0) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body).encode()
        self.conn.request(method, path, body=payload,
                          headers={"Content-Type": "application/json"})
        response = self.conn.getresponse()
        return response.status, json.loads(response.read())


def start_server(root: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int]:
    server_file = root / ".lore" / "server.json"
    server_file.unlink(missing_ok=True)
    proc = subprocess.Popen([*LORE, "serve", str(root), "--port", "0", "--watch",
                             "--rate-limit", "0", *extra], env=env(cache=False),
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not server_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("lore serve did not start")
        time.sleep(0.2)
    port = int(json.loads(server_file.read_text())["url"].rsplit(":", 1)[1])
    return proc, port


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()


def load(port: int, root: Path, seconds: float, clients: int, model: str, *,
         edit: bool = True) -> dict[str, Any]:
    """``clients`` threads for ``seconds``; with ``edit``, a sync of EDITED edited files
    starts at 1/3."""
    latencies: dict[str, list[float]] = {"/search": [], "/v1/embeddings": []}
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    sync_window: list[float] = []

    def worker(n: int) -> None:
        client = Client(port)
        i = n
        while time.monotonic() < stop:
            body: dict[str, Any]
            if i % 2 == 0:
                path, body = "/search", {"query": QUERIES[i % len(QUERIES)], "mode": "hybrid"}
            else:
                path, body = "/v1/embeddings", {"model": model, "input": EMBED_TEXTS}
            started = time.perf_counter()
            try:
                status, _ = client.call("POST", path, body)
            except (OSError, ValueError) as exc:
                status = 0
                client = Client(port)
                errors.append(f"{path}: {exc}")
            elapsed = time.perf_counter() - started
            with lock:
                if status == 200:
                    latencies[path].append(elapsed)
                elif status:
                    errors.append(f"{path}: HTTP {status}")
            i += 1

    def syncer() -> None:
        time.sleep(seconds / 3)
        files = sorted(root.rglob("*.md"))[:EDITED]
        for f in files:
            with f.open("a", encoding="utf-8") as out:
                out.write("\nEdited during the serve benchmark.\n")
        begin = time.monotonic()
        status, _ = Client(port, timeout_s=1800).call("POST", "/index")
        sync_window.extend([begin - (stop - seconds), time.monotonic() - (stop - seconds)])
        if status != 200:
            errors.append(f"/index: HTTP {status}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    if edit:
        threads.append(threading.Thread(target=syncer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": latencies, "errors": errors, "sync_window": sync_window}


def embed_overhead(port: int, model: str, batches: int) -> tuple[float, float]:
    """texts/s through /v1/embeddings and in-process, same batches, one after another."""
    from _shared import lore_settings

    from lore.embed.runner import EmbeddingRunner

    texts = [f"{text} #{i}" for i in range(batches) for text in EMBED_TEXTS]
    groups = [texts[i:i + len(EMBED_TEXTS)] for i in range(0, len(texts), len(EMBED_TEXTS))]
    client = Client(port)
    started = time.perf_counter()
    for group in groups:
        status, _ = client.call("POST", "/v1/embeddings", {"model": model, "input": group})
        assert status == 200
    served = len(texts) / (time.perf_counter() - started)
    os.environ["LORE_EMBED__CACHE"] = "false"
    runner = EmbeddingRunner.from_settings(lore_settings().embed)
    runner.embed(groups[0], "document")                 # load the model outside the clock
    started = time.perf_counter()
    for group in groups:
        runner.embed(group, "document")
    local = len(texts) / (time.perf_counter() - started)
    return served, local


def cli_commands(port: int) -> dict[str, Callable[[int], list[str]]]:
    """The read commands the console script answers through a server: run ``i``'s words."""
    status, reply = Client(port).call("POST", "/search", {"query": "workset", "mode": "keyword"})
    if status != 200 or not reply["hits"]:
        raise SystemExit(f"no document to show: POST /search answered {status} {reply}")
    doc = reply["hits"][0]["path"]
    return {"search": lambda i: ["search", QUERIES[i % len(QUERIES)]],
            "show": lambda i: ["show", doc], "related": lambda i: ["related", doc],
            "status": lambda i: ["status"]}


def cli_runs(root: Path, runs: int, words: Callable[[int], list[str]],
             *extra: str) -> tuple[float, float]:
    """Median wall time and median CPU time (user+system) of `lore WORDS --root ROOT --json`
    as a whole process. CPU time is what the process itself costs, which load
    from other jobs inflates far less than the wall time."""
    times, cpu = [], []
    for i in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([*LORE_SCRIPT, *words(i), "--root", str(root),
                        "--json", *extra], env=env(cache=False), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(times), statistics.median(cpu)


def save_to_searchable(port: int, root: Path, saves: int) -> float:
    """Median seconds from writing a new file to finding it by keyword (the watcher syncs)."""
    client = Client(port)
    times = []
    for i in range(saves):
        word = f"quokkasave{i}"
        started = time.perf_counter()
        (root / f"saved-{i}.md").write_text(f"# Saved {i}\n\n{word} appears here.\n")
        while True:
            status, reply = client.call("POST", "/search", {"query": word, "mode": "keyword"})
            if status == 200 and reply["hits"]:
                break
            if time.perf_counter() - started > 120:
                raise SystemExit("a saved file did not become searchable within 120 s")
            time.sleep(0.02)
        times.append(time.perf_counter() - started)
        time.sleep(1)
    return statistics.median(times)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None,
                        help="a folder of Markdown (default: the kano backlog tarball)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--embed-batches", type=int, default=100)
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--saves", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lore-serve-bench-") as tmp:
        root = Path(tmp) / "kano"
        if args.corpus is None:
            extract(KANO, root)
        else:
            subprocess.run(["cp", "-r", str(args.corpus), str(root)], check=True)
        print("indexing (setup, shared embedding cache on)...", flush=True)
        subprocess.run([*LORE, "index", str(root), "--quiet"], env=env(cache=True), check=True)
        proc, port = start_server(root)
        try:
            model = Client(port).call("GET", "/v1/models")[1]["data"][0]["id"]
            result = load(port, root, args.seconds, args.clients, model)
            served, local = embed_overhead(port, model, args.embed_batches)
            saved = save_to_searchable(port, root, args.saves)
            runs = {name: (cli_runs(root, args.cold_runs, words),
                           cli_runs(root, args.cold_runs, words, "--no-server"))
                    for name, words in cli_commands(port).items()}
            time.sleep(5)
            before = cpu_seconds(proc.pid)
            time.sleep(args.idle_seconds)
            idle = (cpu_seconds(proc.pid) - before) / args.idle_seconds
        finally:
            stop_server(proc)
        # The same load without a sync, readers pool (4) against a single reader (= a lock).
        pooled: dict[int, float] = {}
        for readers in (4, 1):
            proc, port = start_server(root, "--readers", str(readers))
            try:
                run = load(port, root, args.seconds / 2, args.clients, model, edit=False)
                pooled[readers] = sum(map(len, run["latencies"].values())) / (args.seconds / 2)
            finally:
                stop_server(proc)

    print(f"\nload: {args.clients} clients x {args.seconds:.0f} s on loopback "
          f"(sync of {EDITED} edited files from t={result['sync_window'][0]:.1f} s "
          f"to t={result['sync_window'][1]:.1f} s)")
    total = 0
    for path, values in result["latencies"].items():
        total += len(values)
        print(f"  {path:16} {len(values) / args.seconds:7.1f} req/s   "
              f"p50 {percentile(values, 0.5) * 1000:7.1f} ms   "
              f"p99 {percentile(values, 0.99) * 1000:7.1f} ms")
    print(f"  all              {total / args.seconds:7.1f} req/s   errors: "
          f"{len(result['errors'])}{' ' + str(result['errors'][:3]) if result['errors'] else ''}")
    print(f"/v1/embeddings, one client, {len(EMBED_TEXTS)} texts per request: "
          f"{served:.1f} texts/s; in-process runner: {local:.1f} texts/s; "
          f"server/in-process = {served / local:.2f}")
    for name, (through, cold) in runs.items():
        print(f"`lore {name} --json` (whole process, median of {args.cold_runs}): through the "
              f"server {through[0] * 1000:.0f} ms (its CPU {through[1] * 1000:.0f} ms); cold "
              f"in-process {cold[0] * 1000:.0f} ms (CPU {cold[1] * 1000:.0f} ms); "
              f"speed-up x{cold[0] / through[0]:.1f}")
    print(f"readers: 4 pinned readers {pooled[4]:.1f} req/s, 1 reader (a lock) "
          f"{pooled[1]:.1f} req/s; ratio {pooled[4] / pooled[1]:.2f} "
          f"({args.seconds / 2:.0f} s each, no sync)")
    print(f"save -> searchable with --watch (median of {args.saves} new files): "
          f"{saved * 1000:.0f} ms")
    print(f"idle `lore serve --watch` over {args.idle_seconds:.0f} s: "
          f"{idle * 100:.2f} % of one core")


if __name__ == "__main__":
    main()
