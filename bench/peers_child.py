"""The peer side of bench/peers.py; runs inside the peers venv and never imports lore.

Reads ``docs.jsonl`` ({"id", "text"}) and ``queries.jsonl`` ({"id", "text"})
from --data, builds a hybrid (BM25 + dense) index with the engine named by
--engine and the model folder --model, timed once from empty, runs the first
query once untimed to warm up, then every query
timed, and writes rankings and timings as JSON to --out. Scoring happens in
the parent with lore's metric code, so every engine is judged by the same
functions.

Engines:
- txtai: ``Embeddings(path=MODEL, hybrid=True)``, its own BM25 + dense fusion.
- lancedb: a table with the text and a vector column (mean-pooled,
  normalised MiniLM vectors computed here with transformers, as
  sentence-transformers does), the native full-text index, and
  ``query_type="hybrid"`` search (LanceDB's default RRF reranker).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Build = Callable[[list[dict[str, str]]], None]
Search = Callable[[str, int], list[str]]


def _read_jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def txtai_engine(model: Path, _work: Path) -> tuple[Build, Search]:
    """txtai hybrid: BM25 scoring + dense vectors, fused by txtai."""
    from txtai import Embeddings

    state: dict[str, Any] = {}

    def build(docs: list[dict[str, str]]) -> None:
        embeddings = Embeddings(path=str(model), hybrid=True, content=False)
        embeddings.index((doc["id"], doc["text"], None) for doc in docs)
        state["embeddings"] = embeddings

    def search(text: str, limit: int) -> list[str]:
        return [str(doc_id) for doc_id, _ in state["embeddings"].search(text, limit)]

    return build, search


def lancedb_engine(model: Path, work: Path) -> tuple[Build, Search]:
    """LanceDB hybrid: native FTS + vector search, fused by LanceDB's RRF reranker."""
    import lancedb
    import torch
    from lancedb.index import FTS
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model))
    encoder = AutoModel.from_pretrained(str(model)).eval()

    def embed(texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        with torch.inference_mode():
            for start in range(0, len(texts), 32):
                batch = tokenizer(texts[start:start + 32], padding=True, truncation=True,
                                  max_length=256, return_tensors="pt")
                hidden = encoder(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.extend(torch.nn.functional.normalize(pooled, dim=-1).tolist())
        return out

    db = lancedb.connect(str(work / "lancedb"))
    state: dict[str, Any] = {}

    def build(docs: list[dict[str, str]]) -> None:
        vectors = embed([doc["text"] for doc in docs])
        rows = [{"id": d["id"], "text": d["text"], "vector": v} for d, v in zip(docs, vectors)]
        table = db.create_table("docs", data=rows, mode="overwrite")
        table.create_index("text", config=FTS(), replace=True)
        state["table"] = table

    def search(text: str, limit: int) -> list[str]:
        # No .select(["id"]): Lance then warns on every query; arrow keeps the read cheap.
        query = (state["table"].search(query_type="hybrid").vector(embed([text])[0]).text(text)
                 .limit(limit))
        return [str(doc_id) for doc_id in query.to_arrow().column("id").to_pylist()]

    return build, search


ENGINES = {"txtai": txtai_engine, "lancedb": lancedb_engine}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=sorted(ENGINES), required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()

    docs = _read_jsonl(args.data / "docs.jsonl")
    queries = _read_jsonl(args.data / "queries.jsonl")
    with tempfile.TemporaryDirectory(prefix=f"peers-{args.engine}-") as work:
        build, search = ENGINES[args.engine](args.model, Path(work))
        started = time.perf_counter()
        build(docs)
        index_seconds = time.perf_counter() - started
        if queries:
            search(queries[0]["text"], args.limit)
        run: dict[str, list[str]] = {}
        latencies: list[float] = []
        for query in queries:
            started = time.perf_counter()
            run[query["id"]] = search(query["text"], args.limit)
            latencies.append(time.perf_counter() - started)
    args.out.write_text(json.dumps({"index_seconds": index_seconds, "latencies": latencies,
                                    "run": run}))


if __name__ == "__main__":
    main()
