"""Why lore's keyword leg scores what it scores: one factor at a time, on one split.

Runs over the keyword index that ``bench/keyword_vs_bm25.py`` leaves in its
work dir (run that first), straight through the keyword leg (no fusion, no
boosts), and prints nDCG@10 / Recall@100 for:

- lore as configured (query term frequency kept, the column weights, the
  document share and the term proximity weight of ``search.*``);
- repeated query words counted once (what lore did before);
- document share 1.0 (document-level BM25 only) and 0.0 (best chunk only:
  chunk-level statistics with a per-document max);
- all column weights 1;
- no term proximity (``search.proximity_weight`` 0);
- bm25s with the Snowball and the Porter stemmer, with its own and with
  lore's English stopword list, and with FTS5's k1 and IDF (what the
  baseline's choices, and FTS5's fixed ones, are worth).

Settings are chosen on SciFact's *train* split; the test splits are only
reported. ``docs/decisions/keyword-scoring.md`` holds the figures.

lore's settings are loaded as ``lore eval`` loads them: defaults, then the
user config file, then ``LORE_<SECTION>__<FIELD>`` environment variables. What
this bench reads of them: the keyword leg's ``search.title_weight``,
``search.heading_weight``, ``search.body_weight``, ``search.document_share``
and ``search.proximity_weight`` (each row changes one of them), e.g.
``LORE_SEARCH__DOCUMENT_SHARE=0.7``. Embedding is off: the keyword index is read.

Usage:
  nice -n 5 python bench/keyword_ablation.py scifact --split train
  nice -n 5 python bench/keyword_ablation.py cisi --split test
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from _shared import lore_settings
from keyword_vs_bm25 import DATASETS, LIMIT, bm25s_run

from lore.eval.beir import load_qrels, load_queries
from lore.eval.metrics import evaluate
from lore.index import open_index
from lore.search.fts import STOPWORDS, match_terms, proximity_pairs
from lore.search.keyword import keyword_leg
from lore.search.query import ParsedQuery, parse_query
from lore.settings import Settings

Terms = Callable[[ParsedQuery], list[str]]


def bench_settings() -> Settings:
    """lore's settings as ``lore eval`` loads them, embedding off (the keyword index is read)."""
    return lore_settings(fixed={"embed.enabled": False})


def once(parsed: ParsedQuery) -> list[str]:
    """The keyword terms with each repeated word counted once."""
    return list(dict.fromkeys(t.lower() for t in match_terms(parsed)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="a name under ../shared/datasets or a BEIR folder")
    parser.add_argument("--split", default="train")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/lore-bench-keyword"))
    args = parser.parse_args()
    dataset = Path(args.dataset) if Path(args.dataset).is_dir() else DATASETS / args.dataset
    work = args.work_dir / dataset.name
    qrels = load_qrels(dataset, args.split)
    queries = load_queries(dataset)
    qids = [q for q, judged in qrels.items() if any(g > 0 for g in judged.values())]
    settings = bench_settings()
    search = settings.search
    configured = (search.title_weight, search.heading_weight, search.body_weight)

    rows = []
    with open_index(work / "corpus", settings=settings, index_dir=work / "index-keyword") as idx:
        store = idx._store   # the keyword leg alone, straight on the catalog
        conn = store.conn    # type: ignore[attr-defined]
        beir = {int(i): str(p)[len("beir-"):-len(".md")]
                for i, p in conn.execute("SELECT id, path FROM documents")}
        owner = dict(conn.execute("SELECT id, document_id FROM chunks"))

        def lore(label: str, make: Terms = match_terms, share: float = search.document_share,
                 weights: tuple[float, float, float] = configured,
                 pair_weight: float = search.proximity_weight) -> None:
            run = {}
            for qid in qids:
                parsed = parse_query(queries[qid], ())
                leg = keyword_leg(store, make(parsed), weights=weights, limit=LIMIT, share=share,
                                  pairs=proximity_pairs(parsed) if pair_weight else [],
                                  pair_weight=pair_weight)
                run[qid] = [beir[owner[chunk]] for chunk, _ in leg.ranked]
            mean = evaluate(run, qrels).mean
            rows.append((label, mean["ndcg@10"], mean["recall@100"]))

        lore("lore (configured)")
        lore("repeated words once", once)
        lore("document share 1.0", share=1.0)
        lore("document share 0.0 (chunks)", share=0.0)
        lore("chunks, repeated words once", once, share=0.0)
        lore("column weights 1,1,1", weights=(1.0, 1.0, 1.0))
        lore("no term proximity", pair_weight=0.0)
    for stemmer in ("english", "porter"):
        for words, stop in (("bm25s", "en"), ("lore", sorted(STOPWORDS))):
            mean, _ = bm25s_run(dataset, args.split, stemmer=stemmer, stopwords=stop)
            rows.append((f"bm25s {stemmer}, {words} stopwords", mean["ndcg@10"],
                         mean["recall@100"]))
    for label, options in (("bm25s k1 1.2 (FTS5's)", {"k1": 1.2}),
                           ("bm25s robertson IDF (FTS5's)", {"method": "robertson"}),
                           ("bm25s robertson, k1 1.2", {"method": "robertson", "k1": 1.2})):
        mean, _ = bm25s_run(dataset, args.split, **options)  # type: ignore[arg-type]
        rows.append((label, mean["ndcg@10"], mean["recall@100"]))
    print(f"{dataset.name} {args.split}: {len(qids)} queries; configured: column weights "
          f"{configured}, document share {search.document_share}, "
          f"proximity weight {search.proximity_weight}")
    for label, ndcg, recall in rows:
        print(f"{label:<34} nDCG@10 {ndcg:.4f}  R@100 {recall:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
