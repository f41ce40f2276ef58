"""Which local model should be the default? Quality, speed, memory and size, per model.

For every catalogue model pulled under LORE_HOME (all-MiniLM-L6-v2,
all-mpnet-base-v2, multilingual-e5-small), each in its own fresh process
(so its peak RSS is its own), at the same precision, thread count and token
window:

  - nDCG@10 on SciFact (test queries) and CISI, vector-only and hybrid, through
    ``lore.eval.runner.run_eval`` (lore's own index and engine, embedding cache
    off: every vector is computed in the run);
  - the backlog development set (``bench/backlog/``: 70 judged questions over
    the kano backlog, scored by ``bench/backlog_eval.py``'s own code): nDCG@10
    overall and per class, hybrid and vector;
  - passages/s on SciFact abstracts that fill a 256-token window (the models'
    own tokenizers count), through ``EmbeddingRunner`` (batches of 32);
  - peak RSS of that process after the speed step (the model loaded and
    embedding: what an indexing process holds for the model) and again after
    SciFact and CISI (indexes, searches and every embedder built on the way),
    and the index size (catalog + vector sidecar).

The machine is 2 shared cores: all-mpnet-base-v2 indexes about 6x slower than
MiniLM, so SciFact is cut to a fixed slice with --scifact-docs (the same
slice `lore eval --max-docs N` cuts: the relevant documents of the first
queries up to half, then distractors in file order; only those queries are
scored). The same slice is used for every model, so the comparison is fair;
absolute figures are not comparable with full-corpus ones. CISI is cut the same
way with --cisi-docs (0 runs a data set whole).

The backlog figures are quality only, and they are the one place the
embedding cache is used: embedding kano's 5,820 chunks with all-mpnet-base-v2
takes most of an hour on the shared cores. Each worker builds a private cache
from the ``--backlog-cache`` files (read only: the rows of its own space are
copied), indexes a fresh extract of kano with lore's default settings and
that model, and reports how many vectors it still had to compute. Speed, peak
RSS (taken before the backlog step) and the SciFact/CISI figures stay cold.
Without a cache holding kano for a model, its backlog step embeds kano
itself (correct, only slow).

lore's settings are loaded as ``lore eval`` loads them: defaults, then the
user config file, then ``LORE_<SECTION>__<FIELD>`` environment variables,
which every worker process inherits (e.g. ``LORE_SEARCH__VECTOR_WEIGHT=0.5``,
``LORE_EMBED__PRIMARY__BATCH_SIZE=16``, ``LORE_CHUNKING__MAX_TOKENS=192``).
What the comparison fixes is set over them: the primary embedder's model
(each in turn), ``--precision``, ``--threads``, its 256-token window and, for
speed and SciFact/CISI, the embedding cache off.

    LORE_HOME=... python bench/models_bench.py [--models A B ...] [--precision int8]
        [--threads 2] [--scifact-docs 300] [--cisi-docs 500] [--datasets scifact cisi]
        [--backlog-cache FILE ...] [--no-backlog] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _shared import KANO, shared_dir

DATASETS = shared_dir() / "datasets"
MODELS = ("all-MiniLM-L6-v2", "all-mpnet-base-v2", "multilingual-e5-small")
WINDOW = 256
PASSAGES = 64


def settings_for(model: str, precision: str, threads: int) -> Any:
    """lore's settings as ``lore eval`` loads them, with ``model`` as the primary embedder
    at ``precision``, ``threads`` and the bench's window, and the embedding cache off."""
    from _shared import lore_settings

    return lore_settings(fixed={"embed.primary.model": model, "embed.primary.precision": precision,
                                "embed.primary.threads": threads,
                                "embed.primary.max_tokens": WINDOW, "embed.cache": False})


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
    # What a process embedding with the model holds: the model loaded, 256-token batches.
    result["peak_rss_mb"] = _peak_rss_mb()
    with tempfile.TemporaryDirectory(prefix="models-bench-") as tmp:
        for dataset, docs in (("scifact", args.scifact_docs), ("cisi", args.cisi_docs)):
            if dataset in args.datasets:
                result[dataset] = quality(dataset, settings, docs or None, Path(tmp) / dataset)
    # The whole evaluation: indexes, searches, and the embedders built on the way.
    result["peak_rss_eval_mb"] = _peak_rss_mb()
    if args.backlog_cache is not None:
        result["backlog"] = backlog(model, args.precision, args.backlog_cache)
    out.write_text(json.dumps(result, indent=2))


def backlog(model: str, precision: str, caches: list[Path]) -> dict[str, Any]:
    """nDCG@10 on the backlog development set, overall and per class, hybrid and vector.

    The questions, judgements, content units and scoring are ``backlog_eval``'s;
    a question the engine refuses (a filter value no document has) scores 0
    and is listed under ``refused``.
    """
    import backlog_eval

    from lore.errors import QueryError

    questions = [json.loads(line) for line in
                 (backlog_eval.HERE / "backlog" / "questions.jsonl").read_text().splitlines()
                 if line]
    qrels = backlog_eval.load_qrels(backlog_eval.HERE / "backlog" / "qrels.tsv")
    result: dict[str, Any] = {"questions": len(questions), "refused": {}}
    with tempfile.TemporaryDirectory(prefix="models-bench-kano-") as tmp, \
            cached_home(model, precision, caches, Path(tmp) / "home") as cache_rows:
        root = backlog_eval.extract(KANO, Path(tmp))
        units = backlog_eval.content_units(root)
        copied = cache_rows()
        for mode in ("hybrid", "vector"):
            run = backlog_eval.lore_runner(root, mode)
            scores = {}
            for q in questions:
                try:
                    ranking = run(q["query"], q.get("filters") or {})
                except QueryError as exc:
                    ranking, result["refused"][q["id"]] = [], str(exc)
                scores[q["id"]] = backlog_eval.unit_ndcg(ranking, qrels.get(q["id"], {}), units)
            result[mode] = {cls: _mean([scores[q["id"]] for q in questions
                                        if cls in (q["class"], "overall")])
                            for cls in (*backlog_eval.CLASSES, "overall")}
        result["vectors_from_cache"] = copied
        result["vectors_computed"] = cache_rows() - copied
        result["index_mb"] = _folder_bytes(root / ".lore") / 1e6
    return result


@contextmanager
def cached_home(model: str, precision: str, caches: list[Path],
                home: Path) -> Iterator[Callable[[], int]]:
    """A private LORE_HOME for ``model``: the real models, and a cache seeded from ``caches``.

    Only ``model``'s rows are copied from each cache file (opened read-only),
    so the sources are never written. Yields a function counting the private
    cache's rows of that space. The environment names the model, precision and
    home for the duration, which is how ``backlog_eval.lore_runner`` (lore's
    ordinary settings loading) picks them up.
    """
    from _shared import lore_settings

    from lore.embed.runner import EmbeddingRunner
    from lore.paths import models_dir

    env = {"LORE_EMBED__PRIMARY__MODEL": model, "LORE_EMBED__PRIMARY__PRECISION": precision}
    saved = {key: os.environ.get(key) for key in (*env, "LORE_HOME")}
    home.mkdir(parents=True)
    (home / "models").symlink_to(models_dir().resolve())
    os.environ.update(env, LORE_HOME=str(home))
    try:
        # Building the runner creates the private cache file with lore's own schema.
        space = EmbeddingRunner.from_settings(lore_settings(home, show=False).embed).space.id
        db = sqlite3.connect(f"file:{home / 'embed-cache.sqlite'}", uri=True)
        for i, source in enumerate(p for p in caches if p.is_file()):
            db.execute(f"ATTACH ? AS src{i}", (f"file:{source}?mode=ro",))
            db.execute(f"INSERT OR IGNORE INTO vectors SELECT * FROM src{i}.vectors "
                       "WHERE space_id = ?", (space,))
            db.commit()
            db.execute(f"DETACH src{i}")
        yield lambda: db.execute("SELECT count(*) FROM vectors WHERE space_id = ?",
                                 (space,)).fetchone()[0]
        db.close()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def table(results: list[dict[str, Any]]) -> str:
    """The Markdown tables of the closing note: one row per model, then the backlog's classes."""
    rows = [("| model | SciFact vec | SciFact hyb | CISI vec | CISI hyb | backlog vec | "
             "backlog hyb | passages/s | peak RSS MB (embedding / eval) | "
             "index MB (SciFact / kano) |"),
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    nan = float("nan")
    missing = {"vector_ndcg10": nan, "hybrid_ndcg10": nan, "index_mb": nan}
    for r in results:
        s, c = r.get("scifact", missing), r.get("cisi", missing)
        b = r.get("backlog") or {"vector": {"overall": nan}, "hybrid": {"overall": nan},
                                 "index_mb": nan}
        rows.append(f"| {r['model']} | {s['vector_ndcg10']:.3f} | {s['hybrid_ndcg10']:.3f} | "
                    f"{c['vector_ndcg10']:.3f} | {c['hybrid_ndcg10']:.3f} | "
                    f"{b['vector']['overall']:.3f} | {b['hybrid']['overall']:.3f} | "
                    f"{r['passages_per_s']:.1f} | {r['peak_rss_mb']:.0f} / "
                    f"{r.get('peak_rss_eval_mb', nan):.0f} | "
                    f"{s['index_mb']:.1f} / {b['index_mb']:.1f} |")
    with_backlog = [r for r in results if r.get("backlog")]
    if with_backlog:
        classes = list(with_backlog[0]["backlog"]["hybrid"])
        rows += ["", "| backlog nDCG@10 (vector / hybrid) | " +
                 " | ".join(r["model"] for r in with_backlog) + " |",
                 "|---|" + "---:|" * len(with_backlog)]
        rows += [f"| {cls} | " + " | ".join(f"{r['backlog']['vector'][cls]:.3f} / "
                                            f"{r['backlog']['hybrid'][cls]:.3f}"
                                            for r in with_backlog) + " |" for cls in classes]
        for r in with_backlog:
            b = r["backlog"]
            rows.append(f"\n{r['model']}: backlog vectors computed in the run: "
                        f"{b['vectors_computed']:,} (cache seeded with {b['vectors_from_cache']:,} "
                        f"rows of its space); refused questions (scored 0): "
                        f"{', '.join(b['refused']) or 'none'}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--precision", default="int8", choices=("fp32", "int8"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scifact-docs", type=int, default=300)
    parser.add_argument("--cisi-docs", type=int, default=500)
    parser.add_argument("--datasets", nargs="*", default=["scifact", "cisi"],
                        choices=["scifact", "cisi"])
    parser.add_argument("--backlog-cache", type=Path, nargs="*", default=None,
                        help="embedding cache files to seed the backlog step from "
                             "(default: $LORE_HOME/embed-cache.sqlite)")
    parser.add_argument("--no-backlog", action="store_true",
                        help="skip the backlog development set")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args, args.worker_out)
        return
    if args.backlog_cache is None:
        from lore.paths import embed_cache_file

        args.backlog_cache = [embed_cache_file()]
    results = []
    with tempfile.TemporaryDirectory(prefix="models-bench-out-") as tmp:
        for model in args.models:
            out = Path(tmp) / f"{model}.json"
            command = [sys.executable, __file__, "--worker", model, "--worker-out", str(out),
                       "--precision", args.precision, "--threads", str(args.threads),
                       "--scifact-docs", str(args.scifact_docs),
                       "--cisi-docs", str(args.cisi_docs), "--datasets", *args.datasets]
            if not args.no_backlog:
                command += ["--backlog-cache", *map(str, args.backlog_cache)]
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
