"""Run another bench script with the vector leg's query vector made another way.

A measuring harness for query-side variants of the vector leg (what text it
embeds for a query, or how that vector is moved before the search). It
replaces ``VectorLeg._embed`` in this process, then runs the named script
as ``__main__`` with the remaining arguments, so ``tune_fusion.py`` (SciFact
train) and ``backlog_eval.py`` (the backlog sets) score the variant through
lore's own legs and fusion. Each embedded text goes through the runner, so
the embedding cache is keyed by the text actually embedded.

Variants (``--variant``):

- ``raw``: the query as typed (lore's behaviour).
- ``clean``: only its content words, in order (``lore.search.fts.STOPWORDS`` dropped).
- ``mix:W``: ``(1 - W) * raw + W * clean``, both unit vectors.
- ``lead`` / ``leadmix:W``: only the leading run of stopwords dropped
  ("why did we choose X" -> "choose X"), alone or mixed as above.
- ``center:L`` / ``cchunk:L``: ``q - L * mean`` of every stored vector (chunk
  and document keys) / of the chunk vectors only (a per-document prior
  against vectors near the corpus centre).
- ``pc:L,N``: ``q - L * U U^T q`` for the corpus' first N principal
  directions U (all-but-the-top on the query side).

    LORE_HOME=/work/lore-home PYTHONPATH=src python bench/query_variants.py --variant mix:0.5 \\
        bench/backlog_eval.py --root KANO --set a --systems hybrid,vector
    LORE_HOME=/work/lore-home PYTHONPATH=src python bench/query_variants.py --variant pc:1,1 \\
        bench/tune_fusion.py ../shared/datasets/scifact --work-dir DIR --adaptive --spread
"""

from __future__ import annotations

import argparse
import re
import runpy
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lore.search import vector
from lore.search.fts import STOPWORDS
from lore.store.keys import is_document_key
from lore.types import Floats

_WORD = re.compile(r"\S+")
_EDGE = "()[]{}<>,;:.!?'`\""


def _is_stopword(word: str) -> bool:
    return word.strip(_EDGE).lower() in STOPWORDS


def content_words(text: str) -> str:
    """``text`` without its stopwords, the other words in order."""
    return " ".join(w for w in _WORD.findall(text) if not _is_stopword(w))


def without_lead(text: str) -> str:
    """``text`` without its leading run of stopwords (the last word always stays)."""
    words = _WORD.findall(text)
    start = 0
    while start < len(words) - 1 and _is_stopword(words[start]):
        start += 1
    return " ".join(words[start:])


def _unit(v: Floats) -> Floats:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def patched_embed(variant: str) -> Callable[[vector.VectorLeg, str], Floats]:
    """A replacement for ``VectorLeg._embed`` that makes the query vector as ``variant`` says."""
    kind, _, arg = variant.partition(":")
    original = vector.VectorLeg._embed
    corpus: dict[int, Floats] = {}

    def mixed(leg: vector.VectorLeg, text: str, other: str, weight: float) -> Floats:
        if not other or other == text:
            return original(leg, text)
        raw, shaped = leg.runner.embed([text, other], "query")
        return (1 - weight) * _unit(raw) + weight * _unit(shaped)

    def statistic(leg: vector.VectorLeg) -> Floats:
        """The corpus mean (center, cchunk) or principal directions (pc), once per index."""
        if id(leg.vectors) not in corpus:
            keys = leg.vectors.keys()
            if kind == "cchunk":
                keys = keys[~is_document_key(keys)]
            stored = leg.vectors.get(keys).astype(np.float64)
            if kind == "pc":
                corpus[id(leg.vectors)] = np.linalg.svd(stored - stored.mean(axis=0),
                                                        full_matrices=False)[2]
            else:
                corpus[id(leg.vectors)] = stored.mean(axis=0)
        return corpus[id(leg.vectors)]

    def embed(leg: vector.VectorLeg, text: str) -> Floats:
        if kind == "raw":
            return original(leg, text)
        if kind in ("clean", "mix"):
            return mixed(leg, text, content_words(text), 1.0 if kind == "clean" else float(arg))
        if kind in ("lead", "leadmix"):
            return mixed(leg, text, without_lead(text), 1.0 if kind == "lead" else float(arg))
        query = _unit(original(leg, text))
        if kind in ("center", "cchunk"):
            return query - float(arg) * statistic(leg)
        if kind == "pc":
            scale, _, count = arg.partition(",")
            top = statistic(leg)[: int(count or 1)]
            return query - float(scale) * (top.T @ (top @ query))
        raise SystemExit(f"unknown variant {variant!r}: see --help")

    return embed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", default="raw", help="raw, clean, mix:W, lead, leadmix:W, "
                                                          "center:L, cchunk:L, pc:L,N")
    parser.add_argument("script", type=Path, help="the bench script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    args = parser.parse_args()
    vector.VectorLeg._embed = patched_embed(args.variant)   # type: ignore[method-assign]
    sys.path.insert(0, str(args.script.resolve().parent))
    sys.argv = [str(args.script), *args.args]
    runpy.run_path(str(args.script), run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
