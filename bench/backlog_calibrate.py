"""Fit the score calibration (``lore.search.calibration.WEIGHTS``) on the backlog dev set.

Runs every development question in the keyword, vector and hybrid modes
(top 20 hits, ``explain`` on), reads each hit's evidence (cosine, keyword
coverage, pin, rank) and fits a logistic regression of "judged relevant"
(grade > 0) on it. Prints the weights to paste into ``calibration.py``, the
reliability of the fitted probabilities, and the scores that a few nonsense
queries get, so the weak-match threshold can be checked against them.

    LORE_HOME=/work/lore-home PYTHONPATH=src python bench/backlog_calibrate.py --root DIR
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import lore_settings
from backlog_eval import DEFAULT_CORPUS, HERE, extract, load_qrels

from lore.index import open_index
from lore.search.calibration import WEAK_BELOW, Evidence, weak_match

NONSENSE = ("x" * 5000, "🚀", "banana smoothie recipe", "quarterly tax filing deadline",
            "zzqx flurble")
NAMES = ("bias", "cosine", "no_cosine", "coverage", "pinned", "log_rank")


def features(e: Evidence) -> list[float]:
    """The regression's inputs for one hit, in ``NAMES`` order."""
    return [1.0, e.cosine or 0.0, float(e.cosine is None), e.coverage, float(e.pinned),
            math.log(e.rank)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--root", type=Path, help="an extracted corpus to index in place")
    args = parser.parse_args()
    questions = [json.loads(line) for line in
                 (HERE / "backlog" / "questions.jsonl").read_text().splitlines() if line]
    qrels = load_qrels(HERE / "backlog" / "qrels.tsv")
    rows: list[list[float]] = []
    labels: list[float] = []
    with tempfile.TemporaryDirectory(prefix="lore-backlog-") as scratch:
        root = args.root or extract(args.corpus, Path(scratch))
        index = open_index(root, settings=lore_settings(root))
        index.sync()
        for q in questions:
            for mode in ("keyword", "vector", "hybrid"):
                for hit in index.search(q["query"], limit=20, mode=mode, explain=True,
                                        filters=q["filters"] or None):
                    assert hit.explain is not None
                    rows.append(features(Evidence(**hit.explain["evidence"])))
                    labels.append(float(qrels.get(q["id"], {}).get(hit.path, 0) > 0))
        x, y = np.array(rows), np.array(labels)
        w = np.zeros(x.shape[1])
        for _ in range(20000):
            p = 1.0 / (1.0 + np.exp(-x @ w))
            w -= 0.5 * (x.T @ (p - y) / len(y) + 1e-4 * w)
        print("WEIGHTS =", {n: round(float(v), 3) for n, v in zip(NAMES, w, strict=True)})
        p = 1.0 / (1.0 + np.exp(-x @ w))
        for low in np.arange(0.0, 1.0, 0.1):
            mask = (p >= low) & (p < low + 0.1)
            if mask.any():
                print(f"  p in [{low:.1f}, {low + 0.1:.1f}): {int(mask.sum()):5d} hits, "
                      f"{y[mask].mean():.2f} relevant")
        print(f"nonsense queries (weak below strength {WEAK_BELOW}):")
        for text in NONSENSE:
            hits = index.search(text, limit=10, explain=True)
            proofs = [Evidence(**h.explain["evidence"]) for h in hits if h.explain]
            print(f"  {text[:24]!r:28} hits={len(hits):2d} top={hits[0].score if hits else 0:.3f}"
                  f" weak={weak_match(proofs)} flagged={hits.weak_match}")  # type: ignore[attr-defined]
        index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
