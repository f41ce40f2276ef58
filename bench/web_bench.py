"""The web page on the kano backlog: keystroke to rendered results, and page weight.

Starts `lore index` and `lore serve` on a fresh copy of kano (the configured
embedder: the real model when ``LORE_HOME`` has it), opens the page in Debian's
chromium through Playwright, and types each query as a person would (one
keystroke at a time). The page records, per search, the time from the last
keystroke to the results being in the DOM (``window.loreTimings``): that
includes the 120 ms debounce, the HTTP round trip, the search itself and
rendering. Page weight is the bytes of HTML, JS and CSS the page loads.

Warm: the server process, its model and index (one untimed query first); the
index is built first (its vectors may come from the embedding cache). The
server's embedding cache is off (``LORE_EMBED__CACHE=false``), so every query
is embedded anew.

    PYTHONPATH=src LORE_HOME=/path/with/model nice -n 5 python bench/web_bench.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import KANO, extract

from lore.eval.metrics import percentile

QUERIES = [
    "embedding provider", "sqlite index schema", "workset cache", "why file first",
    "tokenizer budget", "backlog skill install", "worklog append", "ADR-0004",
    "KABSD-TSK-0350", "vector search benchmark", "state transition rules", "audit logging",
    "hybrid search fusion", "chunking markdown", "release checklist", "demo report",
    "dashboard views", "config toml", "parent child links", "agent tool invocation",
]
ASSETS = ["/", "/assets/app.js", "/assets/graph.js", "/assets/style.css"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "keyword", "vector"])
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="lore-web-bench-"))
    extract(KANO, work)
    root = work / "kano-backlog"
    lore = [sys.executable, "-c", "from lore.cli import main; main()"]
    started = time.perf_counter()
    # The index may take its vectors from the embedding cache: it is not what is timed.
    subprocess.run([*lore, "index", str(root)], check=True, capture_output=True)
    env = {**os.environ, "LORE_EMBED__CACHE": "false"}
    print(f"index built in {time.perf_counter() - started:.1f} s")
    port = _free_port()
    server = subprocess.Popen([*lore, "serve", str(root), "--port", str(port),
                               "--rate-limit", "0"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        weight = {path: len(httpx.get(base + path).content) for path in ASSETS}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/?mode={args.mode}")
            for query in ["warm up", *QUERIES]:
                page.fill("#q", "")
                page.locator("#q").press_sequentially(query)
                page.wait_for_selector(f"body[data-rendered-query={query!r}]")
            timings = page.evaluate("() => window.loreTimings.map(t => [t.query, t.ms])")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    measured = [ms for query, ms in timings if query in QUERIES]
    print(f"mode {args.mode}: keystroke to rendered results over {len(measured)} queries: "
          f"p50 {percentile(measured, 50):.0f} ms, p95 {percentile(measured, 95):.0f} ms "
          "(includes the page's 120 ms debounce)")
    print("page weight: " + ", ".join(f"{path} {size:,} B" for path, size in weight.items())
          + f"; total {sum(weight.values()):,} B (uncompressed, no other requests)")


if __name__ == "__main__":
    main()
