"""Which local model should be the default? Quality, speed, memory and size, per model.

For every catalogue model pulled under LORE_HOME (all-MiniLM-L6-v2,
all-mpnet-base-v2, multilingual-e5-small), each in its own fresh process
(so its peak RSS is its own), at the same precision, thread count and token
window:

  - nDCG@10 on SciFact (test queries) and CISI, vector-only and hybrid, through
    ``lore.eval.runner.run_eval`` (lore's own index and engine, embedding cache
    off: every vector is computed in the run);
  - the backlog development set (bench/backlog_dev*), when it is present;
  - passages/s on SciFact abstracts that fill a 256-token window (the models'
    own tokenizers count), through ``EmbeddingRunner`` (batches of 32);
  - peak RSS of that process, and the index size (catalog + vector sidecar).

The machine is 2 shared cores: all-mpnet-base-v2 needs about 10x the compute
of MiniLM, so SciFact is cut to a fixed slice with --scifact-docs (the same
slice `lore eval --max-docs N` cuts: the relevant documents of the first
queries up to half, then distractors in file order; only those queries are
scored). The same slice is used for every model, so the comparison is fair;
absolute figures are not comparable with full-corpus ones. CISI runs whole.

    LORE_HOME=... python bench/models_bench.py [--models A B ...] [--precision int8]
        [--threads 2] [--scifact-docs 1000] [--cisi-docs N] [--datasets scifact cisi]
        [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

SHARED = Path(os.environ.get("LORE_SHARED") or Path(__file__).resolve().parents[2] / "shared")
DATASETS = SHARED / "datasets"
MODELS = ("all-MiniLM-L6-v2", "all-mpnet-base-v2", "multilingual-e5-small")
WINDOW = 256
PASSAGES = 64


def settings_for(model: str, precision: str, threads: int) -> Any:
    """lore's default settings with ``model`` as the primary embedder and the cache off."""
    from lore.settings import ProviderSettings, Settings

    base = Settings()
    primary = ProviderSettings(model=model, precision=precision, threads=threads,
                               max_tokens=WINDOW)
    return replace(base, embed=replace(base.embed, primary=primary, cache=False))


def speed(settings: Any) -> dict[str, float]:
    """Passages per second on SciFact abstracts of at least WINDOW tokens (after a warm-up)."""
    from lore.embed.onnx import OnnxEmbedder
    from lore.embed.runner import EmbeddingRunner
    from lore.eval.beir import iter_corpus

    embedder = OnnxEmbedder.from_settings(settings.embed.primary, offline=True)
    passages: list[str] = []
    for doc in iter_corpus(DATASETS / "scifact"):
        text = f"{doc.title} {doc.text}"
        if embedder.count_tokens([text])[0] >= WINDOW:
            passages.append(text)
        if len(passages) == PASSAGES:
            break
    runner = EmbeddingRunner(embedder, batch_size=32)
    runner.embed(passages[:4], "document")                  # session load, not timed
    start = time.perf_counter()
    runner.embed(passages, "document")
    return {"passages_per_s": len(passages) / (time.perf_counter() - start)}


def quality(dataset: str, settings: Any, max_docs: int | None, work: Path) -> dict[str, Any]:
    """nDCG@10 (vector and hybrid), index seconds and index size on one BEIR data set."""
    from lore.eval.runner import run_eval

    report = run_eval(DATASETS / dataset, modes=("vector", "hybrid"), settings=settings,
                      work_dir=work, max_docs=max_docs).to_dict()
    index_bytes = sum(f.stat().st_size for f in work.rglob("*")
                      if f.is_file() and "corpus" not in f.relative_to(work).parts
                      and "runs" not in f.relative_to(work).parts)
    return {"documents": report["documents"], "queries": report["modes"]["vector"]["queries"],
            "index_s": report["index_seconds"], "index_mb": index_bytes / 1e6,
            **{f"{mode}_ndcg10": report["modes"][mode]["ndcg@10"]
               for mode in ("vector", "hybrid")}}


def worker(model: str, args: argparse.Namespace, out: Path) -> None:
    """One model, in this (fresh) process: speed first, then each data set."""
    settings = settings_for(model, args.precision, args.threads)
    result: dict[str, Any] = {"model": model, **speed(settings)}
    with tempfile.TemporaryDirectory(prefix="models-bench-") as tmp:
        for dataset, docs in (("scifact", args.scifact_docs), ("cisi", args.cisi_docs)):
            if dataset in args.datasets:
                result[dataset] = quality(dataset, settings, docs, Path(tmp) / dataset)
    result["backlog"] = backlog(settings)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps(result, indent=2))


def backlog(settings: Any) -> dict[str, Any] | str:
    """The backlog development set's figures, or why there are none."""
    bench = Path(__file__).resolve().parent
    if not sorted(bench.glob("backlog_dev*")):
        return "the backlog development set (bench/backlog_dev*) has not landed"
    return "present, but its runner is not wired here yet"


def table(results: list[dict[str, Any]]) -> str:
    """The Markdown table of the closing note."""
    rows = [("| model | SciFact vec | SciFact hyb | CISI vec | CISI hyb | passages/s | "
             "peak RSS MB | index MB (SciFact) |"), "|---|---:|---:|---:|---:|---:|---:|---:|"]
    missing = {"vector_ndcg10": float("nan"), "hybrid_ndcg10": float("nan"),
               "index_mb": float("nan")}
    for r in results:
        s, c = r.get("scifact", missing), r.get("cisi", missing)
        rows.append(f"| {r['model']} | {s['vector_ndcg10']:.3f} | {s['hybrid_ndcg10']:.3f} | "
                    f"{c['vector_ndcg10']:.3f} | {c['hybrid_ndcg10']:.3f} | "
                    f"{r['passages_per_s']:.1f} | {r['peak_rss_mb']:.0f} | "
                    f"{s['index_mb']:.1f} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--precision", default="int8", choices=("fp32", "int8"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scifact-docs", type=int, default=1000)
    parser.add_argument("--cisi-docs", type=int, default=None)
    parser.add_argument("--datasets", nargs="*", default=["scifact", "cisi"],
                        choices=["scifact", "cisi"])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args, args.worker_out)
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="models-bench-out-") as tmp:
        for model in args.models:
            out = Path(tmp) / f"{model}.json"
            command = [sys.executable, __file__, "--worker", model, "--worker-out", str(out),
                       "--precision", args.precision, "--threads", str(args.threads),
                       "--scifact-docs", str(args.scifact_docs), "--datasets", *args.datasets]
            if args.cisi_docs:
                command += ["--cisi-docs", str(args.cisi_docs)]
            start = time.perf_counter()
            subprocess.run(command, check=True)
            result = json.loads(out.read_text())
            result["wall_s"] = time.perf_counter() - start
            print(json.dumps(result), flush=True)
            results.append(result)
    summary = {"precision": args.precision, "threads": args.threads, "window": WINDOW,
               "scifact_docs": args.scifact_docs, "cisi_docs": args.cisi_docs,
               "load_average": os.getloadavg(), "results": results}
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2))
    print(table(results))
    print(f"load average at the end: {os.getloadavg()} (absolute times taken under load)")


if __name__ == "__main__":
    main()
