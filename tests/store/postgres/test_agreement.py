"""The PostgreSQL store ranks like the local one: SciFact, hybrid search, top 10.

A slice of SciFact (the first test queries' relevant documents plus
distractors), embedded once with the hashing embedder and copied into
PostgreSQL with ``copy_index``, so both stores hold the same chunks and the
same vectors and only the stores differ: FTS5 BM25 against the same BM25
computed from PostgreSQL postings, faiss HNSW against pgvector. The two top-10 document sets must share at least
``SHARED`` documents on ``AGREE`` of the queries, and nDCG@10 must stay within
``NDCG_GAP``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import pg_store

from lore.eval.beir import load_qrels, load_queries, slice_dataset
from lore.eval.metrics import evaluate
from lore.eval.runner import write_corpus
from lore.index import Index, open_index
from lore.migrate import copy_index
from lore.settings import EmbedSettings, IndexSettings, ProviderSettings, Settings
from lore.store.catalog import Catalog

MAX_DOCS, QUERIES = 800, 100
SHARED, AGREE, NDCG_GAP = 9, 0.90, 0.01


def top10(index: Index, queries: dict[str, str], to_id: dict[str, str]) -> dict[str, list[str]]:
    return {qid: [to_id[h.path] for h in index.search(text, limit=10, mode="hybrid")]
            for qid, text in queries.items()}


@pytest.mark.slow
def test_hybrid_top10_agrees_with_the_local_store(pg_url: str, scifact_dir: Path,
                                                  tmp_path: Path) -> None:
    qrels, docs = slice_dataset(scifact_dir, load_qrels(scifact_dir, "test"), MAX_DOCS)
    qrels = dict(sorted(qrels.items())[:QUERIES])
    texts = load_queries(scifact_dir)
    queries = {qid: texts[qid] for qid in qrels}
    corpus = write_corpus(docs, tmp_path / "corpus")
    settings = Settings(embed=EmbedSettings(primary=ProviderSettings(provider="hashing",
                                                                     dimensions=256)))
    with open_index(corpus.root, settings=settings, index_dir=tmp_path / "local") as local:
        local.sync()
        local_run = top10(local, queries, corpus.path_to_id)
    remote = pg_store(pg_url)
    try:
        with Catalog.open(tmp_path / "local", create=False) as source:
            copy_index(source, remote)
        on_pg = Settings(index=IndexSettings(store=pg_url, store_name=remote.name),
                         embed=settings.embed)
        with open_index(corpus.root, settings=on_pg) as index:
            pg_run = top10(index, queries, corpus.path_to_id)
    finally:
        remote.drop_root()
        remote.close()
    shared = [len(set(local_run[q]) & set(pg_run[q])) for q in queries]
    agree = sum(n >= SHARED for n in shared) / len(queries)
    local_ndcg = evaluate(local_run, qrels).mean["ndcg@10"]
    pg_ndcg = evaluate(pg_run, qrels).mean["ndcg@10"]
    gap = abs(pg_ndcg - local_ndcg)
    same = sum(set(local_run[q]) == set(pg_run[q]) for q in queries) / len(queries)
    print(f"agree {agree:.1%} (>= {SHARED} of 10 shared; {same:.1%} identical), "
          f"nDCG@10 local {local_ndcg:.4f} postgres {pg_ndcg:.4f}")
    assert agree >= AGREE
    assert gap <= NDCG_GAP
