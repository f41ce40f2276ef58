"""Benchmark the vector sidecar against exact search measured in the same run.

Synthetic 384-d unit vectors stand in for sentence embeddings:

- ``mixture`` (default): a Gaussian mixture in a 64-d latent space, projected
  to 384-d with isotropic noise and a shared offset. Like real embeddings it
  is clustered, anisotropic (mean cosine ~0.08) and of low intrinsic
  dimension; a query's best match scores ~0.7, its 10th ~0.65.
- ``normal``: i.i.d. Gaussian vectors, the worst case for any graph index
  (every point is almost equally far from every other).

Usage::

    python bench/vector_bench.py                        # lore's index, 100k, fp32 + int8
    python bench/vector_bench.py --sizes 100000 1000000
    python bench/vector_bench.py --libraries --sizes 100000   # usearch vs faiss vs hnswlib

Timings are printed next to a baseline from the same run, as a ratio (exact
numpy search over the same vectors; bytes against the raw fp32 vector): the
machine is shared and absolute timings drift. Recall@10 is measured against
exact fp32 search, for int8 too.

Warm and cold: everything runs in one process over vectors already in memory;
the index is built, saved and loaded back before it is timed (the load time is
printed), and both sides answer one query per call after the same data was
touched, so neither gets a cache the other lacks.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from lore._optional import require
from lore.store.vectors import LocalVectorIndex, VectorIndexOptions, rebuild

DIM, K = 384, 10
SELECTIVITIES = (0.001, 0.01, 0.1)
Searcher = Callable[[np.ndarray], Any]
LibrarySearch = Callable[..., np.ndarray]  # (query, k, ef, mask) -> rows


def make_vectors(n: int, queries: int, kind: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` base vectors and ``queries`` held-out query vectors, unit length, float32."""
    rng = np.random.default_rng(seed)
    total = n + queries
    if kind == "normal":
        x = rng.standard_normal((total, DIM), dtype=np.float32)
    else:
        latent, clusters = 64, max(16, n // 500)
        project = rng.standard_normal((latent, DIM), dtype=np.float32)
        centres = rng.standard_normal((clusters, latent), dtype=np.float32)
        x = np.empty((total, DIM), dtype=np.float32)
        for start in range(0, total, 100_000):  # bounded temporaries at 1M
            m = min(100_000, total - start)
            z = centres[rng.integers(0, clusters, m)] + rng.standard_normal((m, latent),
                                                                            dtype=np.float32)
            x[start:start + m] = z @ project + 2.0 * rng.standard_normal((m, DIM),
                                                                         dtype=np.float32)
        x += 3.0 * project[0]
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x[:n], x[n:]


def exact_top(base: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    """Row ids of the exact top-``k`` by inner product, per query."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for i in range(0, len(queries), 64):
        scores = queries[i:i + 64] @ base.T
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, part, 1), axis=1)
        out[i:i + 64] = np.take_along_axis(part, order, 1)
    return out


def recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    """Mean share of the true top-k found."""
    return float(np.mean([len(np.intersect1d(f, t)) / len(t) for f, t in zip(found, truth)]))


def timed(search: Searcher, queries: np.ndarray) -> tuple[list[Any], float]:
    """Results and mean seconds per single-query call."""
    started = time.perf_counter()
    found = [search(q) for q in queries]
    return found, (time.perf_counter() - started) / len(queries)


def rss() -> int:
    """Resident memory of this process, in bytes (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024
    return 0


@contextmanager
def faiss_threads(n: int | None) -> Iterator[None]:
    """Run the block with faiss's OpenMP pool at ``n`` threads (None: the default)."""
    faiss = require("faiss", package="faiss-cpu")

    default = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n or default)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(default)


def exact_baseline(base: np.ndarray, queries: np.ndarray) -> float:
    """Seconds per query of exact numpy search over the whole set: the QPS baseline.

    Written as a user would: one ``base @ q`` matrix-vector product (BLAS, no
    copy of ``base``) and an ``argpartition`` for the top K, one query per call
    like the index it is compared with.
    """
    return timed(partial(exact_all, base), queries[:50])[1]


def exact_all(base: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Exact top-K rows over every vector, unordered."""
    return np.argpartition(-(base @ query), K)[:K]


# ---- lore's index -------------------------------------------------------------------------------

def bench_lore(n: int, kind: str, precision: str, queries: int, tmp: Path) -> None:
    base, qs = make_vectors(n, queries, kind)
    truth = exact_top(base, qs)
    baseline = exact_baseline(base, qs)
    keys = np.arange(n, dtype=np.int64) + 1_000  # keys are not rows
    path = tmp / f"{kind}-{n}-{precision}.lvec"
    started = time.perf_counter()
    index = rebuild(path, DIM, [(keys, base)], options=VectorIndexOptions(precision=precision))
    build = time.perf_counter() - started
    started = time.perf_counter()
    index = LocalVectorIndex.open(path, DIM, options=index.options)
    load = time.perf_counter() - started
    tag = f"{kind} n={n:,} {precision}"
    # The file is the faiss blob plus 8 bytes of key per row: what the index holds in memory.
    print(f"{tag}: build {build:.1f}s, load {load:.2f}s, {path.stat().st_size / n:.0f} bytes/vector "
          f"(x{path.stat().st_size / n / (4 * DIM):.2f} the raw fp32 vector)")
    for threads in (1, None):
        with faiss_threads(threads):
            found, latency = timed(partial(search_rows, index), qs)
        print(f"{tag}: unfiltered recall@10 {recall(found, truth):.3f}, "
              f"{1 / latency:,.0f} QPS ({threads or 'default'} threads), "
              f"x{baseline / latency:.0f} exact numpy ({1 / baseline:,.0f} QPS)")
    bench_filtered(index, base, qs, keys, tag)
    if precision == "fp32":
        calibrate_planner(index, qs, keys)
        if n <= 200_000:  # a compaction rebuilds the graph: minutes per million vectors
            bench_tombstones(index, base, qs, keys, tag)


def search_rows(index: LocalVectorIndex, query: np.ndarray, allowed: np.ndarray | None = None
                ) -> np.ndarray:
    """lore's top-K as bench rows (keys are rows + 1000)."""
    return index.search(query, K, allowed=allowed)[0] - 1_000


def exact_rows(base: np.ndarray, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The exact numpy baseline over a subset: gather the allowed rows (a filter
    differs per query, so its rows cannot be gathered once), score, select."""
    return rows[np.argpartition(-(base[rows] @ query), K)[:K]]


def bench_filtered(index: LocalVectorIndex, base: np.ndarray, qs: np.ndarray,
                   keys: np.ndarray, tag: str) -> None:
    """Recall and latency of ``allowed=`` searches against exact search over the allowed rows."""
    rng = np.random.default_rng(1)
    for share in (*SELECTIVITIES, 0.3):
        rows = np.sort(rng.choice(len(keys), max(K, int(share * len(keys))), replace=False))
        truth = rows[exact_top(base[rows], qs)]
        found, latency = timed(partial(search_rows, index, allowed=keys[rows]), qs)
        exact = timed(partial(exact_rows, base, rows), qs[:50])[1]
        short = sum(len(f) < K for f in found)
        print(f"{tag}: filtered {share:.1%} ({len(rows):,} allowed): recall@10 "
              f"{recall(found, truth):.3f}, {latency * 1e3:.2f} ms, short {short}, "
              f"x{exact / latency:.1f} gather+exact numpy ({exact * 1e3:.2f} ms)")


def calibrate_planner(index: LocalVectorIndex, qs: np.ndarray, keys: np.ndarray) -> None:
    """Measure ``ann_cost``: one HNSW candidate in units of one exact dot product."""
    graph, rng = index._graph, np.random.default_rng(2)  # the bench looks inside
    m = min(len(keys), 50_000)
    rows = np.sort(rng.choice(len(keys), m, replace=False))
    per_vector = timed(partial(graph.scores, rows), qs[:30])[1] / m
    bitmap = index._keys.bitmap(rows)
    for ef in (64, 256, 1024):
        per_ef = timed(partial(graph.search, k=K, ef=ef, allowed=bitmap), qs[:50])[1] / ef
        print(f"planner: ef={ef} filtered candidate costs {per_ef / per_vector:.0f} exact dot "
              f"products (exact {per_vector * 1e9:.0f} ns/vector) -> ann_cost")


def bench_tombstones(index: LocalVectorIndex, base: np.ndarray, qs: np.ndarray,
                     keys: np.ndarray, tag: str) -> None:
    """Recall and latency with 20 % of the keys removed, then after compaction."""
    removed = keys[::5]
    index.remove(removed)
    live = np.setdiff1d(np.arange(len(keys)), removed - 1_000)
    truth = live[exact_top(base[live], qs)]
    for label in ("20% tombstones", "compacted"):
        found, latency = timed(partial(search_rows, index), qs)
        print(f"{tag}: {label}: recall@10 {recall(found, truth):.3f}, {latency * 1e3:.2f} ms")
        if label != "compacted":
            started = time.perf_counter()
            index.compact()
            print(f"{tag}: compaction of {len(live):,} live vectors "
                  f"{time.perf_counter() - started:.1f}s")


# ---- library comparison -------------------------------------------------------------------------

def usearch_searcher(base: np.ndarray, precision: str) -> LibrarySearch:
    """usearch HNSW; its Python API has no filter callback, so filters post-filter."""
    from usearch.index import Index

    n = len(base)
    index = Index(ndim=DIM, metric="ip", dtype="i8" if precision == "int8" else "f32",
                  connectivity=16, expansion_add=128)
    index.add(np.arange(n), base)

    def search(q: np.ndarray, k: int, ef: int, mask: np.ndarray | None) -> np.ndarray:
        share = 1.0 if mask is None else float(mask.mean())
        count = min(n, math.ceil(2 * k / share))  # candidates grown by the selectivity
        index.expansion_search = max(ef, count)  # type: ignore[misc]
        got = np.asarray(index.search(q, count, threads=1).keys, dtype=np.int64)
        return (got if mask is None else got[mask[got]])[:k]
    return search


def faiss_searcher(base: np.ndarray, precision: str) -> LibrarySearch:
    """faiss HNSW; filters are an ID-selector bitmap checked during the traversal."""
    faiss = require("faiss", package="faiss-cpu")

    index = (faiss.IndexHNSWSQ(DIM, faiss.ScalarQuantizer.QT_8bit, 16, faiss.METRIC_INNER_PRODUCT)
             if precision == "int8" else faiss.IndexHNSWFlat(DIM, 16, faiss.METRIC_INNER_PRODUCT))
    index.hnsw.efConstruction = 128
    index.train(base)
    index.add(base)

    def search(q: np.ndarray, k: int, ef: int, mask: np.ndarray | None) -> np.ndarray:
        params = faiss.SearchParametersHNSW(efSearch=ef)
        if mask is not None:
            bits = np.packbits(mask, bitorder="little")
            params.sel = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
        got = index.search(q[None], k, params=params)[1][0]
        return np.asarray(got[got >= 0], dtype=np.int64)
    return search


def hnswlib_searcher(base: np.ndarray, precision: str) -> LibrarySearch:
    """hnswlib; filters are a Python callable invoked for every visited node."""
    import hnswlib

    index = hnswlib.Index(space="ip", dim=DIM)
    index.init_index(max_elements=len(base), ef_construction=128, M=16)
    index.add_items(base, np.arange(len(base)))

    def search(q: np.ndarray, k: int, ef: int, mask: np.ndarray | None) -> np.ndarray:
        index.set_ef(max(ef, k))
        keep = None if mask is None else (lambda i: bool(mask[i]))
        return np.asarray(index.knn_query(q[None], k, num_threads=1, filter=keep)[0][0],
                          dtype=np.int64)
    return search


LIBRARIES: dict[str, Callable[[np.ndarray, str], LibrarySearch]] = {
    "usearch": usearch_searcher, "faiss": faiss_searcher, "hnswlib": hnswlib_searcher}


def compare_libraries(n: int, kind: str, queries: int, precisions: list[str]) -> None:
    base, qs = make_vectors(n, queries, kind)
    truth = exact_top(base, qs)
    baseline = exact_baseline(base, qs)
    rng = np.random.default_rng(1)
    masks = {}
    for share in (*SELECTIVITIES, 0.3):
        mask = np.zeros(n, dtype=bool)
        mask[rng.choice(n, max(K, int(share * n)), replace=False)] = True
        masks[share] = mask
    for precision in precisions:
        for name, make_searcher in LIBRARIES.items():
            if name == "hnswlib" and precision == "int8":
                continue  # no quantised storage
            before, started = rss(), time.perf_counter()
            try:
                search = make_searcher(base, precision)
            except ImportError:
                print(f"{name}: not installed, skipped")
                continue
            build, grown = time.perf_counter() - started, rss() - before
            tag = f"{name} {precision} {kind} n={n:,}"
            print(f"{tag}: build {build:.1f}s, RSS +{grown / n:.0f} B/vec")
            for ef in (32, 64, 128):
                found, latency = timed(partial(search, k=K, ef=ef, mask=None), qs)
                print(f"{tag}: ef={ef} recall@10 {recall(found, truth):.3f}, "
                      f"{1 / latency:,.0f} QPS, x{baseline / latency:.0f} exact numpy")
            for share, mask in masks.items():
                rows = np.flatnonzero(mask)
                sub_truth = rows[exact_top(base[rows], qs)]
                ef = max(64, math.ceil(2 * K / share)) if name == "faiss" else 64
                found, latency = timed(partial(search, k=K, ef=ef, mask=mask), qs)
                short = sum(len(f) < K for f in found)
                print(f"{tag}: filtered {share:.1%}: recall@10 {recall(found, sub_truth):.3f}, "
                      f"{latency * 1e3:.2f} ms, short {short}/{len(qs)}")
            del search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--data", choices=["mixture", "normal"], default="mixture")
    parser.add_argument("--precision", nargs="+", choices=["fp32", "int8"],
                        default=["fp32", "int8"])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--libraries", action="store_true",
                        help="compare usearch, faiss and hnswlib instead of benchmarking lore")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lore-vector-bench-") as tmp:
        for n in args.sizes:
            if args.libraries:
                compare_libraries(n, args.data, args.queries, args.precision)
                continue
            for precision in args.precision:
                bench_lore(n, args.data, precision, args.queries, Path(tmp))


if __name__ == "__main__":
    main()
