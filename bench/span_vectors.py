"""Sentence vectors by span pooling ("late chunking"): dense ceiling and hybrid effect.

A chunk's vector is the mean of the model's token states over the whole chunk
(title and heading path in front, ``Chunk.context_text``). The very same run
also gives one vector per sentence: the mean of the token states over that
sentence's token span, in the context of the whole chunk, at no extra model
run. A SciFact claim usually matches one or two sentences of an abstract, so a
sentence vector might match it better than a chunk vector that averages the
evidence with everything else.

The script reads an index's chunks from its catalog (never writing it), runs the
configured ONNX model once per chunk keeping the token states, checks that
pooling the whole chunk reproduces the stored chunk vector, and pools every
sentence span (the title line is a span of its own; ``--body-only`` leaves it
out) and every pair of neighbouring sentences. Then one of two things:

- **dense ceiling** (default): the vector leg alone (nDCG@10 over documents,
  exact search, no fusion) for several ways of scoring a document: its best
  chunk, ``today`` (the better of that and its pooled document cosine, as the
  vector leg scores it), its best sentence or sentence pair, their maximum, and
  blends ``today + w * sentence``.
- **hybrid** (``--eval-fold F``): ``lore eval --mode hybrid`` (or, with
  ``--backlog ARGS``, ``backlog_eval.py ARGS`` on ``--work-dir`` as the kano
  root), with the vector leg replaced by an exact one over chunk, pooled
  document and sentence vectors that folds a chunk's best sentence cosine into
  the chunk's: ``none`` (the baseline: no sentences), ``sentence`` (the best
  sentence's cosine instead of the chunk's), ``max``, ``mix:W``
  (``(1 - W) * chunk + W * max(chunk, sentence)``) or ``add:W``
  (``chunk + W * sentence``).

Usage (results: ``docs/decisions/backlog-ranking.md``, "Sentence vectors")::

    LORE_HOME=/work/lore-home python bench/span_vectors.py ../shared/datasets/scifact \\
        --work-dir DIR --split train                        # dense ceiling, ~2.5 min
    ... --spans-cache /tmp/sf.pkl --eval-fold mix:0.3 --limit 10    # hybrid, ~1.5 min
    LORE_HOME=/work/lore-home python bench/span_vectors.py - --work-dir KANO \\
        --spans-cache /tmp/kano.pkl --eval-fold none --backlog --set all --systems hybrid

DIR is a ``lore eval --split train --work-dir`` folder (``corpus/`` + ``index/``),
KANO an indexed kano root (``.lore/``). ``--docs N`` keeps the judged documents
of the split plus the first N others, for a loaded machine. The embedding cache
is not read for the chunks: each goes through the model once (about 2.5 min for
SciFact's 8,465 chunks on 2 loaded cores); ``--spans-cache`` keeps the pooled
spans for the next run.
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _shared import lore_settings

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n")


@dataclass
class Spans:
    """Vectors of one chunk's run: the whole chunk and its sentence spans."""

    document: int
    chunk: int
    whole: np.ndarray
    stored: np.ndarray
    sentences: list[np.ndarray]
    pairs: list[np.ndarray]


def sentence_bounds(text: str, start: int) -> list[tuple[int, int]]:
    """Character spans of ``text``'s sentences, offset by ``start`` (where the body begins)."""
    bounds, at = [], 0
    for cut in SENTENCE_END.finditer(text):
        bounds.append((start + at, start + cut.start()))
        at = cut.end()
    if at < len(text):
        bounds.append((start + at, start + len(text)))
    return [(a, b) for a, b in bounds if b > a]


def span_vectors(hidden: np.ndarray, offsets: Sequence[tuple[int, int]], special: Sequence[int],
                 bounds: list[tuple[int, int]]) -> list[np.ndarray]:
    """The mean token state over each span's tokens (spans with no token are dropped)."""
    starts = np.array([o[0] if not s else -1 for o, s in zip(offsets, special)])
    out = []
    for a, b in bounds:
        rows = np.nonzero((starts >= a) & (starts < b))[0]
        if len(rows):
            out.append(hidden[rows].mean(axis=0))
    return out


def unit(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length."""
    return matrix / np.maximum(np.linalg.norm(matrix, axis=-1, keepdims=True), 1e-12)


def read_chunks(index: Path, keep: Callable[[str], bool]) -> tuple[list[str], list[tuple]]:
    """Document ids in order, and per chunk (document index, context text, body start,
    stored vector, chunk id). A document's id is its ``beir_id``, else ``row-N``."""
    from lore.documents.model import Chunk
    from lore.store.integrity import embedded_chunks_sql

    conn = sqlite3.connect(f"file:{index / 'catalog.sqlite'}?mode=ro", uri=True)
    space = conn.execute("SELECT value FROM meta WHERE key = 'space_id'").fetchone()[0]
    owner = dict(conn.execute("SELECT c.id, coalesce(json_extract(d.metadata, '$.beir_id'), "
                              "'row-' || d.id) "
                              "FROM chunks c JOIN documents d ON d.id = c.document_id"))
    docs: dict[str, int] = {}
    rows = []
    for cid, title, ordinal, heads, text, kind, tokens, blob in conn.execute(
            embedded_chunks_sql(), (space,)):
        doc = str(owner[cid])
        if not keep(doc):
            continue
        context = Chunk(ordinal, tuple(json.loads(heads)), text, kind, tokens).context_text(title)
        rows.append((docs.setdefault(doc, len(docs)), context, len(context) - len(text),
                     np.frombuffer(blob, dtype=np.float32), cid))
    return list(docs), rows


def run_chunks(embedder: Any, rows: list[tuple], workers: int, body_only: bool) -> list[Spans]:
    """One model run per chunk (as int8 indexing runs them), token states pooled per span."""
    embedder._load()
    tokenizer, session = embedder._tokenizer, embedder._session

    def one(row: tuple) -> Spans:
        doc, context, body, stored, cid = row
        enc = tokenizer.encode(context)
        ids = np.array([enc.ids], dtype=np.int64)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                    "token_type_ids": np.array([enc.type_ids], np.int64)})[0][0]
        bounds = sentence_bounds(context[body:], body) if body_only else sentence_bounds(context, 0)
        pairs = [(bounds[i][0], bounds[i + 1][1]) for i in range(len(bounds) - 1)] or bounds
        special = enc.special_tokens_mask
        return Spans(doc, cid, hidden.mean(axis=0), stored,
                     span_vectors(hidden, enc.offsets, special, bounds),
                     span_vectors(hidden, enc.offsets, special, pairs))

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, rows))


def best_per_doc(scores: np.ndarray, owners: np.ndarray, n_docs: int) -> np.ndarray:
    """(queries, documents) best score of each document's rows (-inf when it has none)."""
    out = np.full((scores.shape[0], n_docs), -np.inf, dtype=np.float32)
    np.maximum.at(out.T, owners, scores.T)
    return out


def ndcg10(doc_scores: np.ndarray, doc_ids: list[str], qids: list[str],
           qrels: dict[str, dict[str, int]]) -> float:
    """Mean nDCG@10 of the documents ranked by score, per query."""
    from lore.eval.metrics import ndcg_at_k

    top = np.argsort(-doc_scores, axis=1)[:, :10]
    return float(np.mean([ndcg_at_k([doc_ids[j] for j in top[i]], qrels[q], 10)
                          for i, q in enumerate(qids)]))


BENCH = Path(__file__).resolve().parent


def exact_leg(spans: list[Spans], fold: str) -> Callable[..., Any]:
    """A ``VectorLeg.run`` replacement: exact cosines over chunk, pooled document and
    sentence vectors, a sentence's cosine folded into its chunk's by ``fold``
    (``none``: chunk and document vectors only, the baseline; ``sentence``: the
    best sentence instead of the chunk; ``max``: the better of chunk and best
    sentence; ``mix:W``: ``(1 - W) * chunk + W * max``; ``add:W``: ``chunk + W *
    sentence``)."""
    from lore.search.fusion import LegResult

    cids = np.array([s.chunk for s in spans])
    chunks = np.stack([s.stored for s in spans])
    owners = np.array([s.document for s in spans])
    pooled = unit(np.add.reduceat(chunks, np.unique(owners, return_index=True)[1], axis=0))
    multi = np.bincount(owners) > 1
    sent = unit(np.stack([v for s in spans for v in s.sentences]))
    sent_row = np.array([i for i, s in enumerate(spans) for _ in s.sentences])
    share = float(fold.split(":")[1]) if fold.startswith("mix:") else 1.0

    def run(self: Any, store: Any, text: str, *, restriction: Any, candidates: int) -> Any:
        if not text.strip():
            return LegResult("vector", [])
        q = self.embed_query(text)
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        score = chunks @ q
        if fold != "none":
            best = np.full(len(score), -np.inf, dtype=np.float32)
            np.maximum.at(best, sent_row, sent @ q)
            best = np.where(np.isfinite(best), best, score)
            if fold == "sentence":
                score = best
            elif fold.startswith("add:"):
                score = score + float(fold.split(":")[1]) * best
            else:
                score = (1 - share) * score + share * np.maximum(score, best)
        if restriction is not None:   # as the leg's allowed keys: filtered chunks and documents
            allowed = np.isin(cids, [cid for cid, _ in store.allowed_chunks(restriction)])
            score = np.where(allowed, score, -np.inf)
            kept = np.bincount(owners, weights=allowed, minlength=len(multi))
            document = np.where(kept > 1, pooled @ q, -np.inf)
        else:
            document = np.where(multi, pooled @ q, -np.inf)
        order = np.lexsort((-score, owners))
        first = order[np.unique(owners[order], return_index=True)[1]]
        score[first] = np.maximum(score[first], document[owners[first]])
        top = [i for i in np.argsort(-score)[:candidates] if np.isfinite(score[i])]
        return LegResult("vector", [(int(cids[i]), float(score[i])) for i in top])

    return run


def hybrid_eval(args: argparse.Namespace, spans: list[Spans]) -> int:
    """``lore eval --mode hybrid`` with the vector leg replaced by ``exact_leg``."""
    import lore.search.vector
    from lore.cli import main as lore_main

    lore.search.vector.VectorLeg.run = exact_leg(spans, args.eval_fold)  # type: ignore[method-assign]
    if args.backlog:
        import runpy

        sys.argv = [str(BENCH / "backlog_eval.py"), "--root", str(args.work_dir), *args.backlog]
        runpy.run_path(sys.argv[0], run_name="__main__")
        return 0
    lore_main(["eval", str(args.dataset), "--mode", "hybrid", "--split", args.split,
               "--work-dir", str(args.work_dir), "--limit", str(args.limit), "--json"],
              standalone_mode=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--work-dir", type=Path, required=True, help="a lore eval work dir (read only)")
    ap.add_argument("--split", default="train")
    ap.add_argument("--docs", type=int, default=0,
                    help="keep the judged documents plus the first N others (0: all)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--body-only", action="store_true",
                    help="sentences of the chunk's body only (default: the title line too)")
    ap.add_argument("--eval-fold", help="run lore eval --mode hybrid with an exact vector leg "
                    "folding sentences into chunks: none, sentence, max, mix:W or add:W")
    ap.add_argument("--backlog", nargs=argparse.REMAINDER, help="with --eval-fold: run "
                    "backlog_eval.py on --work-dir (a kano root) with these arguments instead")
    ap.add_argument("--limit", type=int, default=10, help="hits per query (with --eval-fold)")
    ap.add_argument("--spans-cache", type=Path, help="pickle of the pooled spans, reused")
    args = ap.parse_args(argv)

    from lore.embed.registry import get_embedder
    from lore.eval.beir import load_qrels

    settings = lore_settings()
    qrels = {} if args.backlog is not None else load_qrels(args.dataset, args.split)
    judged = {d for rel in qrels.values() for d in rel}
    others: set[str] = set()

    def keep(doc: str) -> bool:
        if not args.docs or doc in judged or doc in others:
            return True
        if len(others) < args.docs:
            others.add(doc)
            return True
        return False

    index = args.work_dir / (".lore" if args.backlog is not None else "index")
    doc_ids, rows = read_chunks(index, keep)
    started = time.perf_counter()
    if args.spans_cache and args.spans_cache.is_file():
        spans = pickle.loads(args.spans_cache.read_bytes())
    else:
        spans = run_chunks(get_embedder(settings.embed.primary), rows, args.workers,
                           args.body_only)
        if args.spans_cache:
            args.spans_cache.write_bytes(pickle.dumps(spans))
    seconds = time.perf_counter() - started
    if args.eval_fold:
        return hybrid_eval(args, spans)
    return dense_table(args, settings, doc_ids, qrels, spans, seconds)


def dense_table(args: argparse.Namespace, settings: Any, doc_ids: list[str],
                qrels: dict[str, dict[str, int]], spans: list[Spans], seconds: float) -> int:
    """Print the vector leg's nDCG@10 alone for each way of scoring a document."""
    from lore.embed.runner import EmbeddingRunner
    from lore.eval.beir import load_queries

    whole = unit(np.stack([s.whole for s in spans]))
    stored = np.stack([s.stored for s in spans])
    agree = np.einsum("ij,ij->i", whole, stored)
    owners = np.array([s.document for s in spans])
    assert (np.diff(owners) >= 0).all(), "a document's chunks are not contiguous"
    sent = unit(np.stack([v for s in spans for v in s.sentences]))
    sent_owner = np.array([s.document for s in spans for _ in s.sentences])
    pair = unit(np.stack([v for s in spans for v in s.pairs]))
    pair_owner = np.array([s.document for s in spans for _ in s.pairs])
    pooled = unit(np.add.reduceat(stored, np.unique(owners, return_index=True)[1], axis=0))
    multi = np.bincount(owners) > 1

    queries = load_queries(args.dataset)
    qids = [q for q in qrels if q in queries]
    runner = EmbeddingRunner.from_settings(settings.embed)
    q = runner.embed([queries[i] for i in qids], "query")
    n = len(doc_ids)
    chunk = best_per_doc(q @ stored.T, owners, n)
    doc = np.where(multi[None, :], q @ pooled.T, -np.inf)
    today = np.maximum(chunk, doc)
    best_sent = best_per_doc(q @ sent.T, sent_owner, n)
    best_pair = best_per_doc(q @ pair.T, pair_owner, n)
    variants: dict[str, np.ndarray] = {
        "chunk (best chunk)": chunk,
        "today: max(chunk, pooled document)": today,
        "sent (best sentence)": best_sent,
        "pair (best two neighbouring sentences)": best_pair,
        "max(today, sent)": np.maximum(today, best_sent),
        "max(today, pair)": np.maximum(today, best_pair),
        "max(today, sent, pair)": np.maximum(np.maximum(today, best_sent), best_pair),
    }
    for w in (0.1, 0.25, 0.5, 1.0):
        variants[f"today + {w} * sent"] = today + w * best_sent
        variants[f"today + {w} * pair"] = today + w * best_pair
    for w in (0.25, 0.5):
        variants[f"today + {w} * max(sent, pair)"] = today + w * np.maximum(best_sent, best_pair)
    table = {name: ndcg10(scores, doc_ids, qids, qrels) for name, scores in variants.items()}
    facts = {"documents": n, "chunks": len(spans), "sentences": len(sent), "pairs": len(pair),
             "queries": len(qids), "model_seconds": round(seconds, 1),
             "whole_vs_stored_cosine_min": float(agree.min()),
             "whole_vs_stored_cosine_mean": float(agree.mean())}
    if args.json:
        print(json.dumps({"facts": facts, "ndcg@10": table}, indent=2))
        return 0
    for key, value in facts.items():
        print(f"{key}: {value}")
    base = table["today: max(chunk, pooled document)"]
    print(f"\n| dense nDCG@10, {args.split} | score | vs today |\n|---|---:|---:|")
    for name, value in table.items():
        print(f"| {name} | {value:.4f} | {value - base:+.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
