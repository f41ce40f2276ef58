"""After a sync: embed the chunks that have no vector yet, then refresh the vector index.

The store keeps every chunk vector durably; its searchable vector index (the
local sidecar, or a server's own index) is derived from them and refreshed
after the pass (``Store.refresh_vector_index``). Each batch of new vectors
commits on its own, so a killed run keeps what it embedded and the next run
embeds only the rest.

An index has one *active* embedding space. A different configured space is
refused unless the caller asks to rebuild: then the new space is filled beside
the old one and swapped in only once complete, so a search never sees a
half-built space.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from lore.embed.models import switch_notice
from lore.embed.runner import EmbeddingRunner
from lore.embed.spaces import ensure_same_space
from lore.errors import EmbedderMismatchError
from lore.store.base import VectorStore
from lore.types import Floats

log = logging.getLogger(__name__)

EMBED_BATCH = 64              # chunks per commit: progress every few seconds on a CPU

ProgressCallback = Callable[[int, int], None]


@dataclass
class VectorReport:
    """What an embedding pass did.

    Attributes:
        space: the active space, described.
        embedded: chunks embedded in this run (cache hits included).
        cache_hits: how many of those came from the embedding cache.
        removed: vector-index entries dropped because their chunk is gone.
        pooled: document vectors (re)computed from their chunks in this run.
        truncated: chunks longer than the model's window, cut by the embedder
            (0 when chunks were cut with the model's own tokenizer).
        total: vectors the active space now holds (chunk and document vectors).
        rebuilt: whether the vector index was rebuilt from the stored vectors.
        swapped_from: the previous space id when this run replaced it.
        duration: seconds.
    """

    space: str
    embedded: int = 0
    cache_hits: int = 0
    removed: int = 0
    pooled: int = 0
    truncated: int = 0
    total: int = 0
    rebuilt: bool = False
    swapped_from: str | None = None
    duration: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used by ``lore index --json``."""
        return asdict(self)


def update_vectors(store: VectorStore, runner: EmbeddingRunner, *, rebuild: bool = False,
                   progress: ProgressCallback | None = None) -> VectorReport:
    """Embed every chunk without a vector in the runner's space; refresh the vector index.

    Args:
        store: the synced store.
        runner: embeds documents in the configured space.
        rebuild: the configured space may replace a different active one.
        progress: called as ``progress(done, total)`` in chunks: once with 0
            before the first batch (when there is anything to embed), then per batch.

    Raises:
        EmbedderMismatchError: the index holds another space and ``rebuild`` is false.
        ProviderError: the embedder failed (vectors embedded so far are kept).
    """
    started = time.perf_counter()
    space = runner.space
    previous = store.active_space()
    pending = store.pending_chunks(space.id)
    if previous is not None and previous.id != space.id:
        # Switching model: say what the new space costs before refusing or starting.
        notice = switch_notice(space.model, len(pending))
        if not rebuild:
            try:
                ensure_same_space(previous, space)
            except EmbedderMismatchError as exc:
                raise EmbedderMismatchError(f"{exc}; {notice}; the old space keeps "
                                            f"serving until the new one is complete") from exc
        log.warning("building a new embedding space beside %s: %s", previous.describe(), notice)
    store.register_space(space.id, json.dumps(asdict(space), sort_keys=True))
    report = VectorReport(space=space.describe())
    hits_before, truncated_before = runner.stats.cache_hits, runner.stats.truncated
    if progress is not None and pending:
        progress(0, len(pending))   # the plan: how much there is to embed
    for part, vectors in _embedded_ahead(runner, pending):
        store.store_vectors(space.id, [cid for cid, _ in part], vectors)
        report.embedded += len(part)
        if progress is not None:
            progress(report.embedded, len(pending))
    report.cache_hits = runner.stats.cache_hits - hits_before
    report.truncated = runner.stats.truncated - truncated_before
    if previous is None or previous.id != space.id:
        store.activate_space(space.id)
        if previous is not None:
            report.swapped_from = previous.id
            log.info("embedding space %s replaced %s", space.id, previous.id)
    refreshed = store.refresh_vector_index(space)
    report.removed, report.pooled, report.total, report.rebuilt = refreshed
    report.duration = time.perf_counter() - started
    log.info("vectors: %d embedded (%d cached), %d removed, %d documents pooled, %d total in %s",
             report.embedded, report.cache_hits, report.removed, report.pooled, report.total,
             space.describe())
    return report


def _embedded_ahead(runner: EmbeddingRunner, pending: list[tuple[int, str]]
                    ) -> Iterator[tuple[list[tuple[int, str]], Floats]]:
    """``(part, vectors)`` per ``EMBED_BATCH`` chunks, the next part embedding meanwhile.

    While the caller commits one part to the store, a worker thread already embeds
    the next, so the writes overlap inference instead of stalling it.
    """
    parts = [pending[i:i + EMBED_BATCH] for i in range(0, len(pending), EMBED_BATCH)]
    if not parts:
        return
    with ThreadPoolExecutor(1, thread_name_prefix="lore-embed-ahead") as ahead:
        future = ahead.submit(runner.embed, [text for _, text in parts[0]], "document")
        for n, part in enumerate(parts):
            vectors = future.result()
            if n + 1 < len(parts):
                future = ahead.submit(runner.embed, [text for _, text in parts[n + 1]],
                                      "document")
            yield part, vectors
