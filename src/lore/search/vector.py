"""The vector leg: embed the query, search the active space, honour the filters.

Filters arrive as a document restriction. The leg asks the store for the
allowed chunks, turns them into the set of allowed keys and hands that to the
vector index, whose planner scores a small set exactly and a large one
through the ANN graph with the filter applied during traversal; either way it
returns min(k, allowed) hits, so a filtered search never comes back short.

**Granularity.** The vector index holds chunk vectors and, for every document
with several chunks, a pooled document vector under a document key (see
``lore.store.keys``). One search ranks both, so a document whose sections each
match part of the query can win as a whole even when no single section is
close. The leg still returns a ranking of chunk ids, because fusion and the
per-document grouping in ``engine`` work on chunks: a document key becomes
the document's best-matching chunk (the highest cosine to the query among its
chunk vectors), scored with the better of the document's and that chunk's
similarity. A chunk reached twice (directly and through its document) keeps
its better score, once. A filter allows the document keys of the documents it
allows, so filtered results stay inside the filter.

**Overlap.** A hybrid search starts the query embedding on a worker thread
(``prepare``) before the keyword leg runs: onnxruntime and SQLite both
release the GIL, so on two cores the embedding costs no wall time of its own
as long as the keyword leg's SQL takes longer. The vector is the same as an
embedding in the caller's thread: only where it runs changes.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from lore.embed.runner import EmbeddingRunner
from lore.search.fusion import LegResult
from lore.store.base import Restriction, SearchReads
from lore.store.keys import document_ids, document_keys, is_document_key
from lore.store.vectors import VectorSearch
from lore.types import Floats, Keys


def allowed_keys(store: SearchReads, restriction: Restriction, *,
                 documents: bool = True) -> Keys:
    """The vector keys a filtered vector search may return (chunk keys ascending, then documents).

    Args:
        store: the index's store.
        restriction: the document restriction.
        documents: include the document keys of allowed multi-chunk documents.
    """
    rows = store.allowed_chunks(restriction)
    chunks = np.fromiter((cid for cid, _ in rows), dtype=np.int64, count=len(rows))
    if not documents:
        return chunks
    owners, counts = np.unique(np.fromiter((doc for _, doc in rows), dtype=np.int64,
                                           count=len(rows)), return_counts=True)
    return np.concatenate([chunks, document_keys(owners[counts > 1])])


_POOL_LOCK = threading.Lock()
_POOL: list[ThreadPoolExecutor] = []


def _embed_pool() -> ThreadPoolExecutor:
    """The process's query-embedding threads, started on first use (one per core, up to 4)."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(min(4, os.cpu_count() or 1),
                                            thread_name_prefix="lore-query-embed"))
        return _POOL[0]


@dataclass
class VectorLeg:
    """A query embedder bound to the vector index of the index's active space.

    Attributes:
        runner: embeds the query in the index's space.
        vectors: the active space's vector index.
        document_vectors: also rank pooled document vectors (when the index
            has them); False searches chunk vectors only.
    """

    runner: EmbeddingRunner
    vectors: VectorSearch
    document_vectors: bool = True
    _pending: dict[str, Future[Floats]] = field(default_factory=dict, repr=False)

    def prepare(self, text: str) -> None:
        """Start embedding ``text`` on a worker thread; ``embed_query`` then waits for it.

        One query is held at a time: a search that fails before its vector
        leg runs leaves nothing behind but that one slot, which the next
        ``prepare`` or ``embed_query`` of another text takes over.
        """
        if text.strip() and text not in self._pending:
            self._pending = {text: _embed_pool().submit(self._embed, text)}

    def embed_query(self, text: str) -> Floats:
        """The query's vector in the index's space (the one ``prepare`` started, if any).

        The vector stays held for ``text``: a search that widens its
        candidates runs the leg again without embedding the query again.
        """
        pending = self._pending.get(text)
        if pending is None:
            pending = Future()
            pending.set_result(self._embed(text))
            self._pending = {text: pending}
        return pending.result()

    def _embed(self, text: str) -> Floats:
        return self.runner.embed([text], "query")[0]

    def run(self, store: SearchReads, text: str, *, restriction: Restriction | None,
            candidates: int) -> LegResult:
        """Rank chunks by cosine similarity to ``text`` (directly or through their document).

        Args:
            store: the index's store (to resolve the restriction and document keys).
            text: the query text without inline filters.
            restriction: the document restriction, or None.
            candidates: how many chunks to return; fewer only when fewer
                chunks are allowed (the engine reads a short list as "no more").
        """
        if not text.strip():
            return LegResult("vector", [])
        allowed = self._allowed(store, restriction)
        if allowed is not None and len(allowed) == 0:
            return LegResult("vector", [])
        query = self.embed_query(text)
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        k = candidates
        picks: dict[int, tuple[int, float] | None] = {}   # a deeper search reuses them
        while True:
            keys, scores = self.vectors.search(query, k, allowed=allowed)
            ranked = self._to_chunks(store, query, keys, scores, picks)
            if len(ranked) >= candidates or len(keys) < k:
                return LegResult("vector", ranked[:candidates])
            # Keys folded into chunks already listed: look further down for the rest.
            k += 2 * (candidates - len(ranked))

    def _allowed(self, store: SearchReads, restriction: Restriction | None) -> Keys | None:
        """The keys the search may return; None for all of them.

        Without a filter nothing is restricted even when document vectors are
        switched off: ``_to_chunks`` drops their keys and ``run`` searches
        deeper, which is cheaper than a filtered search over every chunk key.
        """
        if restriction is not None:
            return allowed_keys(store, restriction, documents=self.document_vectors)
        return None

    def _to_chunks(self, store: SearchReads, query: Floats, keys: Keys, scores: Floats,
                   picks: dict[int, tuple[int, float] | None]) -> list[tuple[int, float]]:
        """The hits as (chunk id, score), document keys mapped to chunks, best first.

        ``picks`` holds each document's best chunk for this query once found
        (None: none of its chunks has a vector); the documents not in it are added.
        """
        on_documents = is_document_key(keys)
        if not self.document_vectors and on_documents.any():
            keys, scores, on_documents = keys[~on_documents], scores[~on_documents], \
                on_documents[~on_documents]
        owners = document_ids(keys)     # a chunk key maps to itself
        unseen = [doc for doc in owners[on_documents].tolist() if doc not in picks]
        if unseen:
            found = self._best_chunks(store, query, np.array(unseen, dtype=np.int64))
            picks.update({doc: found.get(doc) for doc in unseen})
        best: dict[int, float] = {}
        for key, owner, score, is_document in zip(keys.tolist(), owners.tolist(),
                                                  scores.tolist(), on_documents.tolist()):
            if is_document:
                pick = picks.get(owner)
                if pick is None:      # its chunks lost their vectors since the last sync
                    continue
                key, score = pick[0], max(score, pick[1])
            if key not in best or score > best[key]:
                best[key] = score
        return sorted(best.items(), key=lambda item: -item[1])

    def _best_chunks(self, store: SearchReads, query: Floats,
                     documents: Keys) -> dict[int, tuple[int, float]]:
        """Document id -> (its chunk closest to ``query``, that cosine), from the vector index."""
        rows = store.document_chunks(documents.tolist())
        held = self.vectors.present(np.array([cid for cid, _ in rows], dtype=np.int64))
        pairs = [pair for pair, ok in zip(rows, held.tolist()) if ok]
        if not pairs:
            return {}
        chunk_ids = np.array([cid for cid, _ in pairs], dtype=np.int64)
        similarities = (self.vectors.get(chunk_ids) @ query).tolist()
        picks: dict[int, tuple[int, float]] = {}
        for (cid, doc), similarity in zip(pairs, similarities):
            if doc not in picks or similarity > picks[doc][1]:
                picks[doc] = (cid, similarity)
        return picks
