"""lore's keyword leg against a plain stemmed BM25 (bm25s + PyStemmer), same run, same data.

For each BEIR data set (default: SciFact and CISI from ../shared/datasets) it
prints nDCG@10, Recall@100 and the p50 query latency of

- lore keyword: ``lore eval``'s pipeline (Markdown files, ``lore index`` with
  embeddings off, ``Index.search(mode="keyword", limit=100)``);
- bm25s: what a competent user writes: title + text per document, the
  Snowball English stemmer (PyStemmer), bm25s' English stopword list, default
  k1/b (``method="lucene"``), ``retrieve(k=100)`` one query at a time;
- lore hybrid too with ``--hybrid`` (needs the default model under LORE_HOME).

The first query of each engine is run once untimed (warm-up). Latency is per
query, warm (index open, caches filled), and includes lore's snippets and
hit assembly; bm25s' latency includes tokenizing the query. The ratio
column is lore / bm25s of the same run. Absolute times depend on machine load.

lore's settings are loaded as ``lore eval`` loads them: defaults, then the
user config file, then ``LORE_<SECTION>__<FIELD>`` environment variables
(e.g. ``LORE_SEARCH__SPREAD_EXPONENT=0``); without ``--hybrid`` embedding is
off whatever they say.

Usage (indexes are kept in --work-dir, so re-runs only search):
  nice -n 5 python bench/keyword_vs_bm25.py
  nice -n 5 python bench/keyword_vs_bm25.py --datasets cisi --split test --hybrid
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _shared import lore_settings, shared_dir

from lore._optional import require
from lore.eval.beir import iter_corpus, load_qrels, load_queries
from lore.eval.metrics import Latency, evaluate
from lore.eval.runner import run_eval

DATASETS = shared_dir() / "datasets"
LIMIT = 100


def bm25s_run(dataset: Path, split: str, *, stemmer: str = "english",
              stopwords: str | list[str] = "en", method: str = "lucene",
              k1: float = 1.5) -> tuple[dict[str, float], Latency]:
    """Index and query the data set with bm25s; return mean metrics and latency.

    Args:
        dataset: a BEIR folder.
        split: the qrels split to score.
        stemmer: a PyStemmer algorithm ("english" is Snowball English).
        stopwords: bm25s' list name, or the words themselves.
        method: bm25s' BM25 variant ("robertson" is FTS5's IDF).
        k1: term frequency saturation (bm25s' default 1.5; FTS5's is 1.2).
    """
    bm25s = require("bm25s", extra="bench")
    stem = require("Stemmer", extra="bench", package="PyStemmer").Stemmer(stemmer)
    docs = list(iter_corpus(dataset))
    ids = [d.id for d in docs]
    tokens = bm25s.tokenize([f"{d.title} {d.text}" for d in docs], stopwords=stopwords,
                            stemmer=stem, show_progress=False)
    retriever = bm25s.BM25(method=method, k1=k1)
    retriever.index(tokens, show_progress=False)
    qrels = load_qrels(dataset, split)
    queries = load_queries(dataset)
    qids = [q for q, judged in qrels.items() if any(g > 0 for g in judged.values())]
    k = min(LIMIT, len(docs))

    def search(text: str) -> list[str]:
        q = bm25s.tokenize([text], stopwords=stopwords, stemmer=stem, show_progress=False)
        found, _scores = retriever.retrieve(q, k=k, show_progress=False, n_threads=1)
        return [ids[i] for i in found[0]]

    search(queries[qids[0]])
    run: dict[str, list[str]] = {}
    seconds: list[float] = []
    for qid in qids:
        started = time.perf_counter()
        run[qid] = search(queries[qid])
        seconds.append(time.perf_counter() - started)
    return evaluate(run, qrels).mean, Latency.from_seconds(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["scifact", "cisi"],
                        help="names under ../shared/datasets or paths to BEIR folders")
    parser.add_argument("--split", default="test", help="qrels split to score (default test)")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/lore-bench-keyword"),
                        help="where lore's Markdown corpora and indexes are kept between runs")
    parser.add_argument("--hybrid", action="store_true",
                        help="also score lore hybrid (default embedding model, LORE_HOME)")
    args = parser.parse_args()

    header = f"{'data set':<9} {'engine':<13} {'nDCG@10':>8} {'R@100':>7} {'p50 ms':>8}"
    rows = [header, "-" * len(header)]
    for name in args.datasets:
        dataset = Path(name) if Path(name).is_dir() else DATASETS / name
        base_metrics, base_latency = bm25s_run(dataset, args.split)
        modes = ["keyword", "hybrid"] if args.hybrid else ["keyword"]
        # as `lore eval`: defaults < user file < env; keyword-only unless --hybrid
        settings = lore_settings(fixed=None if args.hybrid else {"embed.enabled": False})
        report = run_eval(dataset, modes=modes, settings=settings, split=args.split,
                          work_dir=args.work_dir / dataset.name, limit=LIMIT)
        rows.append(f"{dataset.name:<9} {'bm25s':<13} {base_metrics['ndcg@10']:>8.4f} "
                    f"{base_metrics['recall@100']:>7.4f} {base_latency.p50_ms:>8.2f}")
        for result in report.results:
            mean = result.scores.mean
            ratio = result.latency.p50_ms / base_latency.p50_ms
            rows.append(f"{dataset.name:<9} {'lore ' + result.mode:<13} {mean['ndcg@10']:>8.4f} "
                        f"{mean['recall@100']:>7.4f} {result.latency.p50_ms:>8.2f}"
                        f"  (nDCG {mean['ndcg@10'] - base_metrics['ndcg@10']:+.4f},"
                        f" p50 x{ratio:.2f} vs bm25s)")
    print(f"split: {args.split}; top {LIMIT}; warm queries, first one excluded")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
