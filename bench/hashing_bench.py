"""How fast is the hashing embedder on short texts, on one core?

Goal: at least 50,000 short texts per second on one core. The texts are the
SciFact titles and queries (real short scientific sentences, ~15 words), or
synthetic sentences when ../shared is absent.

The baseline, measured in the same run on the same texts, is a plain-Python
rendering of the same features (per-text loops, no per-word cache, no numpy
scatter); the script first checks that both produce the same vectors, so the
ratio compares two implementations of one function.

Cold and warm: the cold pass is a fresh embedder over the distinct texts, each
once, so every word is new to its vocabulary the first time it appears (as on a
first index); the warm pass repeats ``--texts`` texts (the distinct ones cycled)
through an embedder that has already seen them all. Both run in one process
that has imported numpy and lore already.

    python bench/hashing_bench.py [--texts 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import math
import os
import random
import re
import sys
import time
import zlib

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from _shared import SCIFACT

from lore.embed import hashing
from lore.embed.hashing import HashingEmbedder

TARGET = 50_000
_WORD = re.compile(r"\w+")
_MASK = (1 << 64) - 1


def load_texts(n: int) -> tuple[list[str], list[str], str]:
    """``n`` short texts (the distinct ones cycled), the distinct ones, and where they came from."""
    texts: list[str] = []
    for name, key in (("corpus.jsonl.gz", "title"), ("queries.jsonl.gz", "text")):
        path = SCIFACT / name
        if path.exists():
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                texts.extend(json.loads(line)[key] for line in fh)
    source = f"SciFact titles + queries ({len(texts)} unique)"
    if not texts:
        rng = random.Random(0)
        vocab = [f"term{i}" for i in range(5000)]
        texts = [" ".join(rng.choices(vocab, k=rng.randint(6, 20))) for _ in range(20_000)]
        source = "synthetic sentences (../shared absent)"
    distinct = list(dict.fromkeys(texts))
    return [distinct[i % len(distinct)] for i in range(n)], distinct, source


def baseline_embed(texts: list[str], dims: int) -> np.ndarray:
    """The same features computed the obvious way: dicts and loops, nothing cached."""
    out = np.zeros((len(texts), dims), dtype=np.float32)
    for row, text in enumerate(texts):
        acc: dict[int, float] = {}
        words = _WORD.findall(text.lower()) or [hashing._EMPTY]
        hashes = [zlib.crc32(w.encode()) for w in words]
        for w, h in zip(words, hashes):
            acc[h % dims] = acc.get(h % dims, 0.0) + (-1.0 if h & 0x80000000 else 1.0)
            marked = f"<{w}>".encode()
            grams = [marked[i:i + n] for n in hashing.NGRAM_SIZES
                     for i in range(len(marked) - n + 1)]
            weight = 1 / math.sqrt(len(grams))
            for g in grams:
                gh = zlib.crc32(g, hashing._NGRAM_SEED)
                acc[gh % dims] = acc.get(gh % dims, 0.0) + (-weight if gh & 0x80000000
                                                            else weight)
        for a, b in itertools.pairwise(hashes):
            x = (a * 0x9E3779B97F4A7C15 + b) & _MASK
            x ^= x >> 30
            x = (x * 0xBF58476D1CE4E5B9) & _MASK
            x ^= x >> 27
            x = (x * 0x94D049BB133111EB) & _MASK
            x ^= x >> 31
            w8 = -hashing.BIGRAM_WEIGHT if x >> 63 else hashing.BIGRAM_WEIGHT
            acc[x % dims] = acc.get(x % dims, 0.0) + w8
        for d, v in acc.items():
            out[row, d] = v
        out[row] /= max(float(np.linalg.norm(out[row])), 1e-12)
    return out


def best_of(repeat: int, fn: object, *args: object) -> float:
    """Best wall time of ``repeat`` calls (the least disturbed by other processes)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dims", type=int, default=384)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    texts, distinct, source = load_texts(args.texts)
    words = sum(len(_WORD.findall(t)) for t in texts) / len(texts)
    print(f"texts: {len(texts)} from {source}, {words:.1f} words each on average, "
          f"dims {args.dims}, one core; cold pass: the {len(distinct)} distinct texts once")

    check = texts[:500]
    diff = np.abs(HashingEmbedder(args.dims).embed(check, "document")
                  - baseline_embed(check, args.dims)).max()
    print(f"max |lore - baseline| over {len(check)} texts: {diff:.2e}")
    if diff > 1e-4:
        print("the two implementations disagree; the ratio would be meaningless")
        return 1

    base_n = max(len(texts) // 10, 1000)  # the baseline is slow: time a tenth, scale
    base_rate = base_n / best_of(args.repeat, baseline_embed, texts[:base_n], args.dims)
    cold = len(distinct) / best_of(1, HashingEmbedder(args.dims).embed, distinct, "document")
    warm_embedder = HashingEmbedder(args.dims)
    warm_embedder.embed(texts, "document")
    warm = len(texts) / best_of(args.repeat, warm_embedder.embed, texts, "document")

    print(f"baseline (plain Python)      {base_rate:>10,.0f} texts/s")
    print(f"lore, cold vocabulary        {cold:>10,.0f} texts/s  "
          f"({cold / base_rate:.1f}x baseline)")
    print(f"lore, warm vocabulary        {warm:>10,.0f} texts/s  "
          f"({warm / base_rate:.1f}x baseline, {warm / TARGET:.2f}x the {TARGET:,}/s goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
