"""Harness of the crash and concurrency campaigns (tests and ``bench/robustness_bench.py``).

Each scenario returns a ``Row``: how many trials ran, how many failed (an
error surfaced, ``verify`` failed even after ``repair``, or the index differed
from a clean build of the same files) and how much data was lost (documents,
chunks or vectors of the clean build that the index did not have).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lore.index import open_index
from lore.store.catalog import Catalog
from lore.store.keys import document_ids, is_document_key
from lore.store.sidecar import sidecar_path
from lore.store.vectors import LocalVectorIndex
from lore.verify import repair_index, verify_index


@dataclass
class Row:
    """One line of the closing table."""

    scenario: str
    trials: int = 0
    failures: int = 0
    data_lost: int = 0
    details: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"| {self.scenario} | {self.trials} | {self.failures} | {self.data_lost} |"


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    head = "| scenario | trials | failures | data lost |\n|---|---|---|---|"
    return "\n".join([head, *(row.line() for row in rows)])


# --- corpus ---------------------------------------------------------------------------------


def write_note(root: Path, n: int, version: int = 0) -> None:
    words = " ".join(f"w{(n * 31 + j * 7 + version) % 997}" for j in range(260))
    (root / f"note{n:04d}.md").write_text(
        f"---\ntype: Task\nid: T-{n}\n---\n# Note {n} v{version}\n\nalpha topic{n} beta\n\n"
        f"## Part one\n\n{words}\n\n## Part two\n\n{words[::-1]}\n")


def make_corpus(root: Path, count: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        write_note(root, n)
    return root


def mutate(root: Path, rng: random.Random, count: int) -> None:
    """Edit, delete and add a few notes, so the next sync has every kind of work."""
    existing = sorted(root.glob("note*.md"))
    for path in rng.sample(existing, min(len(existing), max(1, count // 10))):
        write_note(root, int(path.stem[4:]), version=rng.randrange(1, 10 ** 6))
    for path in rng.sample(existing, min(len(existing), max(1, count // 20))):
        path.unlink()
    top = max(int(p.stem[4:]) for p in existing) + 1
    for n in range(top, top + max(1, count // 20)):
        write_note(root, n)


# --- comparing an index with a clean build --------------------------------------------------


def fingerprint(index_dir: Path) -> dict[str, Any]:
    """Everything an index holds, keyed by path and ordinal (not by row ids)."""
    with Catalog.open(index_dir, create=False) as catalog:
        conn = catalog.conn
        docs = dict(conn.execute("SELECT path, content_hash FROM documents"))
        chunks = {(p, o): t for p, o, t in conn.execute(
            "SELECT d.path, c.ordinal, c.text FROM chunks c JOIN documents d "
            "ON d.id = c.document_id")}
        fts = {(p, o): (a, b, c) for p, o, a, b, c in conn.execute(
            "SELECT d.path, c.ordinal, f.title, f.headings, f.body FROM chunks_fts f "
            "JOIN chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.document_id")}
        vectors = {(p, o): v for p, o, v in conn.execute(
            "SELECT d.path, c.ordinal, v.vector FROM chunk_vectors v JOIN chunks c "
            "ON c.id = v.chunk_id JOIN documents d ON d.id = c.document_id")}
        space = catalog.active_space()
        keys: set[Any] = set()
        if space is not None:
            sidecar = LocalVectorIndex.open(sidecar_path(index_dir, space.id), space.dimensions,
                                            space_id=space.id, create=False)
            chunk_of = {cid: (p, o) for cid, p, o in conn.execute(
                "SELECT c.id, d.path, c.ordinal FROM chunks c JOIN documents d "
                "ON d.id = c.document_id")}
            doc_of = dict(conn.execute("SELECT id, path FROM documents"))
            raw = sidecar.keys()
            on_docs = is_document_key(raw)
            keys = {chunk_of.get(int(k), ("?", int(k))) for k in raw[~on_docs]}
            keys |= {("doc", doc_of.get(int(d), "?")) for d in document_ids(raw[on_docs])}
    return {"documents": docs, "chunks": chunks, "fts": fts, "vectors": vectors,
            "sidecar": keys, "space": None if space is None else space.id}


def lost(clean: dict[str, Any], got: dict[str, Any]) -> int:
    """Documents, chunks and vectors of the clean build missing from ``got``."""
    return sum(len(set(clean[part]) - set(got[part]))
               for part in ("documents", "chunks", "vectors"))


def clean_build(root: Path, where: Path) -> dict[str, Any]:
    """The fingerprint of a fresh index of ``root``'s files, built in ``where``."""
    import shutil

    shutil.rmtree(where, ignore_errors=True)
    with open_index(root, index_dir=where) as index:
        index.sync()
    return fingerprint(where)


# --- scenario: kill -9 during `lore index` ---------------------------------------------------


def _phase(root: Path, index_dir: Path) -> str:
    """Where a killed run got to, judged from what it left."""
    import hashlib

    with Catalog.open(index_dir, create=False) as catalog:
        indexed = dict(catalog.conn.execute("SELECT path, content_hash FROM documents"))
        files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in root.glob("note*.md")}
        space = catalog.active_space()
        if indexed != files or space is None:
            return "sync"
        if catalog.pending_chunks(space.id, limit=1):
            return "embedding"
        report = verify_index(catalog)
    return "sidecar save" if not report.healthy else "after the last write"


def _sync_child(root: Path) -> None:
    """Body of the killed process: what `lore index ROOT` runs."""
    try:
        with open_index(root) as index:
            index.sync()
    finally:
        os._exit(0)


def kill_campaign(work: Path, *, trials: int, files: int, seed: int = 14) -> Row:
    """SIGKILL a sync at random points ``trials`` times; check verify/repair/clean build."""
    rng = random.Random(seed)
    row = Row("kill -9 during `lore index`")
    root = make_corpus(work / "root", files)
    phases: dict[str, int] = {}
    with open_index(root) as index:
        index.sync()
    mutate(root, rng, files)
    started = time.perf_counter()
    with open_index(root) as index:
        index.sync()
    run_time = max(0.05, time.perf_counter() - started)   # one incremental `lore index`
    trial = 0
    while row.trials < trials:
        trial += 1
        mutate(root, rng, files)
        pid = os.fork()
        if pid == 0:
            _sync_child(root)
        time.sleep(rng.uniform(0.0, run_time))
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            continue   # it finished first: not a kill, the next trial tries again
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        index_dir = root / ".lore"
        phase = _phase(root, index_dir)
        phases[phase] = phases.get(phase, 0) + 1
        row.trials += 1
        with Catalog.open(index_dir) as catalog:
            report = verify_index(catalog)
            if not report.healthy:
                _, report = repair_index(catalog)
        if not report.healthy:
            row.failures += 1
            row.details.append(f"trial {trial}: still unhealthy after repair: "
                               f"{[f.detail for f in report.problems()]}")
            continue
        with open_index(root) as index:
            index.sync()
        clean = clean_build(root, work / "clean")
        got = fingerprint(index_dir)
        row.data_lost += lost(clean, got)
        if got != clean:
            row.failures += 1
            differing = [k for k in clean if clean[k] != got[k]]
            row.details.append(f"trial {trial} ({phase}): differs from a clean build in "
                               f"{differing}")
    row.details.append("kills by phase reached: " + ", ".join(
        f"{name} {count}" for name, count in sorted(phases.items())))
    return row


# --- scenario: readers and writers at once --------------------------------------------------


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from lore.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


def concurrency(work: Path, *, seconds: float, files: int, api_readers: int = 4,
                cli_readers: int = 4, seed: int = 8) -> tuple[Row, Row]:
    """``api_readers`` long-lived Index threads and ``cli_readers`` CLI loops search while
    one writer edits files and runs ``lore index``, then two ``lore index`` run at once.

    Returns:
        (readers and a writer, two concurrent writers).
    """
    rng = random.Random(seed)
    root = make_corpus(work / "root", files)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    first = _cli("index", str(root), env=env)
    assert first.returncode == 0, first.stderr
    readers = Row(f"{api_readers} API + {cli_readers} CLI readers, 1 writer, {seconds:g} s")
    errors: list[str] = []
    searches = [0]
    stop = threading.Event()
    lock = threading.Lock()

    def api_reader(n: int) -> None:
        index = open_index(root, create=False)
        try:
            while not stop.is_set():
                mode = ("hybrid", "vector", "keyword")[n % 3]
                try:
                    index.search(f"topic{rng.randrange(files)} alpha", mode=mode)
                except Exception as exc:   # noqa: BLE001 - every error is counted
                    with lock:
                        errors.append(f"api: {type(exc).__name__}: {exc}")
                with lock:
                    searches[0] += 1
        finally:
            index.close()

    def cli_reader(n: int) -> None:
        while not stop.is_set():
            done = _cli("search", f"topic{rng.randrange(files)} beta", "--root", str(root),
                        "--json", env=env)
            with lock:
                searches[0] += 1
                if done.returncode != 0 or "Traceback" in done.stderr:
                    errors.append(f"cli: exit {done.returncode}: {done.stderr[-300:]}")

    threads = [threading.Thread(target=api_reader, args=(n,)) for n in range(api_readers)]
    threads += [threading.Thread(target=cli_reader, args=(n,)) for n in range(cli_readers)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    writes = 0
    while time.monotonic() < deadline:
        mutate(root, rng, files)
        done = _cli("index", str(root), env=env)
        writes += 1
        if done.returncode != 0 or "Traceback" in done.stderr:
            errors.append(f"writer: exit {done.returncode}: {done.stderr[-300:]}")
    stop.set()
    for thread in threads:
        thread.join()
    readers.trials = searches[0] + writes
    readers.failures = len(errors)
    readers.details = errors[:5] + [f"{searches[0]} searches, {writes} index runs"]
    readers.data_lost = _settle_and_compare(root, work, readers)

    writers = Row("two concurrent `lore index`")
    for _ in range(4):
        mutate(root, rng, files)
        procs = [subprocess.Popen([sys.executable, "-c", "from lore.cli import main; main()",
                                   "index", str(root)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env)
                 for _ in range(2)]
        for proc in procs:
            _, err = proc.communicate(timeout=300)
            writers.trials += 1
            if proc.returncode != 0 or "Traceback" in err:
                writers.failures += 1
                writers.details.append(err[-300:])
        writers.data_lost += _settle_and_compare(root, work, writers)
    return readers, writers


def _settle_and_compare(root: Path, work: Path, row: Row) -> int:
    """Verify the index as left, compare with a clean build; count a failure if either fails."""
    with Catalog.open(root / ".lore") as catalog:
        report = verify_index(catalog)
    if not report.healthy:
        row.failures += 1
        row.details.append(f"verify: {[f.detail for f in report.problems()]}")
    clean = clean_build(root, work / "clean")
    got = fingerprint(root / ".lore")
    if got != clean:
        row.failures += 1
        row.details.append(f"differs from a clean build in {[k for k in clean if clean[k] != got[k]]}")
    return lost(clean, got)
