"""Count an index's chunks that are longer than the embedding model's window.

The embedder truncates every text at ``embed.primary.max_tokens`` (256 for
all-MiniLM-L6-v2), so the tail of a longer chunk is in the keyword leg but not
in its vector. The chunker plans with an estimate; this script counts each
chunk exactly as it is embedded (title and heading path in front, document
prefix and special tokens included) with the model's own tokenizer, and prints
how many do not fit. It reads the index and writes nothing.

    python bench/chunk_window.py --root /tmp/kano/kano-backlog
    python bench/chunk_window.py --root /tmp/scifact-work/corpus --index /tmp/scifact-work/index
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _shared import lore_settings

from lore.embed.runner import EmbeddingRunner
from lore.store.catalog import Catalog

# No real space has this id, so ``pending_chunks`` returns every chunk's embedded text.
_NO_SPACE = "chunk-window-count"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True,
                        help="the indexed folder (its settings pick the model)")
    parser.add_argument("--index", type=Path, default=None,
                        help="the index folder (default: ROOT/.lore)")
    args = parser.parse_args()

    settings = lore_settings(args.root)
    measure = EmbeddingRunner.from_settings(settings.embed).chunk_measure()
    if measure is None:
        parser.error("the configured embedder has no tokenizer to count with (hashing)")
    with Catalog.open(args.index or args.root / ".lore", create=False) as store:
        texts = [text for _, text in store.pending_chunks(_NO_SPACE)]
    counts = measure.count(texts)
    over = [n for n in counts if n > measure.window]
    print(f"{len(counts)} chunks, window {measure.window} tokens: {len(over)} longer "
          f"({len(over) / max(1, len(counts)):.1%}), longest {max(counts, default=0)}, "
          f"{sum(n - measure.window for n in over)} tokens cut off in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
