"""Where a first index's time goes: wall, CPU and a profile of the embedding step.

``bench/first_index_bench.py`` times ``lore index`` as a user runs it; this
one runs ``Index.sync`` in this process so it can look inside. The kano
backlog (770 files) is extracted to a temp dir and indexed with the
configured embedder (the default: all-MiniLM-L6-v2 int8 on onnxruntime).

Cold: a fresh index folder and the embedding cache off, so every chunk is
embedded; warm are only the OS page cache (model and corpus files) and the
imported packages (``--cold-process`` times a separate ``lore index`` process
too).

Printed, from one run:
  - wall and CPU time of the catalog sync and of the embedding step, and the
    cores kept busy (CPU time / wall time; 2.0 is the most on two cores);
  - chunks/s of the embedding step;
  - a profile of the embedding step: CPU seconds spent in onnxruntime runs,
    tokenizing, SQLite vector writes and the sidecar build, measured by
    wrapping those functions (each timer counts its own thread's CPU time,
    so work on parallel threads adds up to more than the wall time).

Settings are loaded as ``lore eval`` loads them: defaults, then the user
config file, then ``LORE_<SECTION>__<FIELD>`` environment variables (e.g.
``LORE_EMBED__PRIMARY__PRECISION=fp32``, ``LORE_EMBED__PRIMARY__THREADS=1``,
``LORE_CHUNKING__MAX_TOKENS=192``); every setting applies, except the
embedding cache, which is always off (cold). ``--cold-process`` passes the
same environment to its ``lore index``.

    LORE_HOME=... python bench/index_profile_bench.py [--corpus DIR] [--max-files N]
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _shared import KANO, extract, lore_settings

from lore.index import open_index
from lore.settings import Settings

_lock = threading.Lock()
_cpu: dict[str, float] = defaultdict(float)


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def profiled(targets: dict[str, tuple[Any, str]]) -> Iterator[None]:
    """Wrap ``owner.name`` for each label so calls add their thread CPU time to ``_cpu``."""
    saved = []
    for label, (owner, name) in targets.items():
        original = getattr(owner, name)
        saved.append((owner, name, original))

        def timed(*args: Any, _f: Callable[..., Any] = original, _label: str = label,
                  **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return _f(*args, **kwargs)
            finally:
                with _lock:
                    _cpu[_label] += time.thread_time() - start
        setattr(owner, name, functools.wraps(original)(timed))
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def targets() -> dict[str, tuple[Any, str]]:
    """What the profile times: the embedding step's parts, by owner and attribute."""
    from lore.embed.onnx import OnnxEmbedder
    from lore.embed.tokenize import TokenBudget
    from lore.store.catalog import Catalog
    from lore.store.sidecar import SidecarMixin

    return {
        "onnxruntime runs (incl. input arrays, pooling)": (OnnxEmbedder, "_run"),
        "OnnxEmbedder.embed (tokenize + dispatch), caller thread": (OnnxEmbedder, "embed"),
        "token counting / truncation (runner)": (TokenBudget, "count_tokens"),
        "SQLite vector writes": (Catalog, "store_vectors"),
        "pending chunks read": (Catalog, "pending_chunks"),
        "sidecar open/rebuild": (SidecarMixin, "_open_or_rebuild"),
        "sidecar reconcile + save": (SidecarMixin, "_reconcile"),
    }


def first_index(root: Path, index_dir: Path, settings: Settings) -> dict[str, float]:
    """Sync ``root`` into a fresh ``index_dir``; wall/CPU of the catalog and embedding steps."""
    marks: dict[str, float] = {}

    def embedded(done: int, total: int) -> None:
        if "embed_start" not in marks:
            marks.update(embed_start=time.perf_counter(), embed_cpu=cpu_seconds(), chunks=total)

    start, cpu = time.perf_counter(), cpu_seconds()
    with profiled(targets()), open_index(root, settings=settings, index_dir=index_dir) as index:
        report = index.sync(embed_progress=embedded)
    end, end_cpu = time.perf_counter(), cpu_seconds()
    assert report.vectors is not None, report.notices
    catalog_wall = marks.get("embed_start", end) - start
    catalog_cpu = marks.get("embed_cpu", end_cpu) - cpu
    return {"files": len(report.added), "chunks": marks.get("chunks", 0),
            "wall": end - start, "cpu": end_cpu - cpu,
            "catalog_wall": catalog_wall, "catalog_cpu": catalog_cpu,
            "embed_wall": end - start - catalog_wall, "embed_cpu": end_cpu - cpu - catalog_cpu}


def bench_settings() -> Settings:
    """lore's settings as ``lore eval`` loads them, with the embedding cache off (cold)."""
    return lore_settings(fixed={"embed.cache": False})


def cold_process(root: Path, index_dir: Path) -> tuple[float, float]:
    """Wall and CPU seconds of a separate ``lore index`` process, embedding cache off."""
    command = [sys.executable, "-c", "from lore.cli import main; main()", "index",
               "--root", str(root), "--index-dir", str(index_dir)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True,
                   env={**os.environ, "LORE_EMBED__CACHE": "false"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a folder to index instead of kano")
    parser.add_argument("--max-files", type=int, help="index only the first N files (smoke run)")
    parser.add_argument("--cold-process", action="store_true",
                        help="also time `lore index` as a separate process")
    args = parser.parse_args()
    settings = bench_settings()
    with tempfile.TemporaryDirectory(prefix="lore-first-index-") as tmp:
        root = args.corpus
        if root is None:
            extract(KANO, tmp)
            root = Path(tmp) / "kano-backlog"
        if args.max_files:
            keep = sorted(root.rglob("*.md"))[:args.max_files]
            for path in set(root.rglob("*.md")) - set(keep):
                path.unlink()
        r = first_index(root, Path(tmp) / "index", settings)
        print(f"corpus: {root} ({r['files']:.0f} files, {r['chunks']:.0f} chunks embedded), "
              f"model {settings.embed.primary.model} {settings.embed.primary.precision}, "
              f"{os.cpu_count()} cores, embedding cache off")
        for step in ("catalog", "embed", ""):
            wall, cpu = r[f"{step}_wall" if step else "wall"], r[f"{step}_cpu" if step else "cpu"]
            print(f"{step or 'total':8} wall {wall:8.1f} s  CPU {cpu:8.1f} s  "
                  f"cores busy {cpu / max(wall, 1e-9):4.2f}")
        print(f"embedding: {r['chunks'] / max(r['embed_wall'], 1e-9):.1f} chunks/s")
        print("profile of the whole index, CPU seconds per part (threads add up):")
        for label, seconds in sorted(_cpu.items(), key=lambda kv: -kv[1]):
            print(f"  {label:58} {seconds:8.1f} s  {seconds / max(r['cpu'], 1e-9):6.1%}")
        if args.cold_process:
            wall, cpu = cold_process(root, Path(tmp) / "index-process")
            print(f"`lore index` as a new process: wall {wall:.1f} s, CPU {cpu:.1f} s")


if __name__ == "__main__":
    main()
