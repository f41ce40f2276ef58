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
chunk vectors). A chunk of a document with a pooled vector scores
``(1 - b) * its cosine + b * the pooled cosine`` (``b`` is
``search.document_blend``; a one-chunk document's chunk keeps its cosine),
so the document's best chunk carries its score and a section that matches
alone is tempered by how well the whole document does, both ways. A chunk
reached twice (directly and through its document) is listed once. A filter
allows the document keys of the documents it allows, so filtered results
stay inside the filter.

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
        blend: the pooled cosine's share in each of its document's chunks'
            scores (0: chunks score alone; ignored without document vectors).
    """

    runner: EmbeddingRunner
    vectors: VectorSearch
    document_vectors: bool = True
    blend: float = 0.0
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
        picks: dict[int, int | None] = {}   # a deeper search reuses them
        while True:
            keys, _ = self.vectors.search(query, k, allowed=allowed)
            ranked, evidence = self._to_chunks(store, query, keys, picks)
            if len(ranked) >= candidates or len(keys) < k:
                kept = ranked[:candidates]
                return LegResult("vector", kept, cosines={cid: evidence[cid] for cid, _ in kept
                                                          if cid in evidence})
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

    def _to_chunks(self, store: SearchReads, query: Floats, keys: Keys, picks: dict[int, int | None]
                   ) -> tuple[list[tuple[int, float]], dict[int, float]]:
        """The hits as (chunk id, score), document keys mapped to chunks, best first, and
        the cosine evidence of the chunks whose score is blended (``LegResult.cosines``).

        Every chunk is scored here, from its own vector and its document's,
        whichever key found it. ``picks`` holds each document's best chunk for
        this query once found (None: none of its chunks has a vector); the
        documents not in it are added.
        """
        on_documents = is_document_key(keys)
        if not self.document_vectors and on_documents.any():
            keys, on_documents = keys[~on_documents], on_documents[~on_documents]
        chunk_ids: list[int | None] = keys.tolist()
        documents = document_ids(keys[on_documents]).tolist()
        unseen = [doc for doc in documents if doc not in picks]
        if unseen:
            found = self._best_chunks(store, query, np.array(unseen, dtype=np.int64))
            picks.update({doc: found.get(doc) for doc in unseen})
        for position, doc in zip(np.flatnonzero(on_documents).tolist(), documents):
            chunk_ids[position] = picks.get(doc)   # None: its chunks lost their vectors
        listed = list(dict.fromkeys(cid for cid in chunk_ids if cid is not None))
        if not listed:
            return [], {}
        chunk_keys = np.array(listed, dtype=np.int64)
        cosines = self.vectors.get(chunk_keys) @ query
        scores, evidence = cosines, dict[int, float]()
        if self.document_vectors and self.blend > 0:
            scores, evidence = self._blended(store, query, listed, cosines)
        # A document's chunks tie at blend 1: its best chunk leads them.
        order = sorted(range(len(listed)), key=lambda i: (-scores[i], -cosines[i]))
        return [(listed[i], float(scores[i])) for i in order], evidence

    def _blended(self, store: SearchReads, query: Floats, chunk_ids: list[int],
                 cosines: Floats) -> tuple[Floats, dict[int, float]]:
        """``cosines`` moved ``blend`` of the way to their documents' pooled cosines, and
        each chunk's evidence: its cosine, the document's best listed chunk the closer
        of its own and the pooled cosine (what the calibration was fitted on)."""
        owners = store.chunk_owners(chunk_ids)
        owner = [owners.get(cid, -1) for cid in chunk_ids]
        pooled_keys = document_keys(np.unique(np.array(owner, dtype=np.int64)))
        pooled_keys = pooled_keys[self.vectors.present(pooled_keys)]
        if not len(pooled_keys):
            return cosines, {}
        pooled = dict(zip(document_ids(pooled_keys).tolist(),
                          (self.vectors.get(pooled_keys) @ query).tolist()))
        held = np.array([doc in pooled for doc in owner])
        target = np.array([pooled.get(doc, 0.0) for doc in owner])
        evidence = dict(zip(chunk_ids, cosines.tolist()))
        best: dict[int, int] = {}
        for cid, doc in zip(chunk_ids, owner):
            if doc in pooled and (doc not in best or evidence[cid] > evidence[best[doc]]):
                best[doc] = cid
        for doc, cid in best.items():
            evidence[cid] = max(evidence[cid], pooled[doc])
        return np.where(held, (1.0 - self.blend) * cosines + self.blend * target,
                        cosines), evidence

    def _best_chunks(self, store: SearchReads, query: Floats,
                     documents: Keys) -> dict[int, int]:
        """Document id -> its chunk closest to ``query``, from the vector index."""
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
        return {doc: cid for doc, (cid, _) in picks.items()}
