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
from dataclasses import dataclass, field, replace

import numpy as np

from lore.embed.runner import EmbeddingRunner
from lore.search.fusion import LegResult
from lore.settings import SearchSettings
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
        scoring: how a document's chunk and pooled cosines make its score.
    """

    runner: EmbeddingRunner
    vectors: VectorSearch
    document_vectors: bool = True
    scoring: DocumentScoring = field(default_factory=lambda: DocumentScoring())
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
            candidates: int, documents: bool = False) -> LegResult:
        """Rank chunks by cosine similarity to ``text`` (directly or through their document).

        Args:
            store: the index's store (to resolve the restriction and document keys).
            text: the query text without inline filters.
            restriction: the document restriction, or None.
            candidates: how many chunks to return; fewer only when fewer
                chunks are allowed (the engine reads a short list as "no more").
            documents: count ``candidates`` in distinct documents, each with
                every chunk of its that ranks before the last one's best.
        """
        if not text.strip():
            return LegResult("vector", [])
        allowed = self._allowed(store, restriction)
        if allowed is not None and len(allowed) == 0:
            return LegResult("vector", [])
        query = self.embed_query(text)
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        k = candidates
        picks: dict[int, DocumentChunks | None] = {}   # a deeper search reuses them
        while True:
            keys, scores = self.vectors.search(query, k, allowed=allowed)
            ranked = self._to_chunks(store, query, keys, scores, picks)
            if documents:
                ranked, found = _first_documents(store, ranked, candidates)
            else:
                ranked, found = ranked[:candidates], len(ranked)
            if found >= candidates or len(keys) < k:
                return LegResult("vector", ranked)
            # Keys folded into chunks already listed: look further down for the rest.
            k += max(k, 2 * (candidates - found)) if documents else 2 * (candidates - found)

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
                   picks: dict[int, DocumentChunks | None]) -> list[tuple[int, float]]:
        """The hits as (chunk id, score), document keys mapped to chunks, best first.

        ``picks`` holds each document's chunk cosines for this query once found
        (None: none of its chunks has a vector); the documents not in it are added.
        """
        on_documents = is_document_key(keys)
        if not self.document_vectors and on_documents.any():
            keys, scores, on_documents = keys[~on_documents], scores[~on_documents], \
                on_documents[~on_documents]
        owners = document_ids(keys)     # a chunk key maps to itself
        if self.scoring.second_weight > 0 or self.scoring.interpolate:
            chunk_owner = store.chunk_owners(owners[~on_documents].tolist())
            owners = np.array([doc if is_doc else chunk_owner.get(key, -1) for key, doc, is_doc
                               in zip(keys.tolist(), owners.tolist(), on_documents.tolist())],
                              dtype=np.int64)
            lookup = owners[owners >= 0]
        else:
            lookup = owners[on_documents]
        unseen = [doc for doc in dict.fromkeys(lookup.tolist()) if doc not in picks]
        if unseen:
            found = self._document_chunks(store, query, np.array(unseen, dtype=np.int64))
            picks.update({doc: found.get(doc) for doc in unseen})
        best: dict[int, float] = {}
        for key, owner, score, is_document in zip(keys.tolist(), owners.tolist(),
                                                  scores.tolist(), on_documents.tolist()):
            pick = picks.get(owner) if is_document or self.scoring.second_weight > 0 \
                or self.scoring.interpolate else None
            if is_document:
                if pick is None:      # its chunks lost their vectors since the last sync
                    continue
                key, score = pick.best, self.scoring.score(pick, score)
            elif pick is not None and key == pick.best:
                score = self.scoring.score(pick, pick.pooled)
            if key not in best or score > best[key]:
                best[key] = score
        return sorted(best.items(), key=lambda item: -item[1])

    def _document_chunks(self, store: SearchReads, query: Floats,
                         documents: Keys) -> dict[int, DocumentChunks]:
        """Document id -> its chunks' cosines to ``query``, from the vector index."""
        rows = store.document_chunks(documents.tolist())
        counts: dict[int, int] = {}
        for _, doc in rows:
            counts[doc] = counts.get(doc, 0) + 1
        held = self.vectors.present(np.array([cid for cid, _ in rows], dtype=np.int64))
        pairs = [pair for pair, ok in zip(rows, held.tolist()) if ok]
        if not pairs:
            return {}
        chunk_ids = np.array([cid for cid, _ in pairs], dtype=np.int64)
        similarities = (self.vectors.get(chunk_ids) @ query).tolist()
        picks: dict[int, DocumentChunks] = {}
        pooled: dict[int, float] = {}
        if self.scoring.interpolate:
            keys = document_keys(documents)
            keys = keys[self.vectors.present(keys)]
            if len(keys):
                pooled = dict(zip(document_ids(keys).tolist(),
                                  (self.vectors.get(keys) @ query).tolist()))
        for (cid, doc), similarity in zip(pairs, similarities):
            pick = picks.get(doc)
            if pick is None:
                picks[doc] = DocumentChunks(cid, similarity, None, counts[doc], pooled.get(doc))
            elif similarity > pick.best_cosine:
                picks[doc] = replace(pick, best=cid, best_cosine=similarity,
                                     second_cosine=pick.best_cosine)
            elif pick.second_cosine is None or similarity > pick.second_cosine:
                picks[doc] = replace(pick, second_cosine=similarity)
        return picks


def _first_documents(store: SearchReads, ranked: list[tuple[int, float]],
                     documents: int) -> tuple[list[tuple[int, float]], int]:
    """The head of ``ranked`` that holds ``documents`` distinct documents, and how many it holds."""
    owners = store.chunk_owners([cid for cid, _ in ranked])
    seen: set[int] = set()
    for position, (cid, _) in enumerate(ranked):
        seen.add(owners.get(cid, -1))
        if len(seen) > documents:
            return ranked[:position], documents
    return ranked, len(seen)


@dataclass(frozen=True)
class DocumentChunks:
    """One document's chunk cosines to a query: its best chunk and what backs it.

    Attributes:
        best: the chunk closest to the query.
        best_cosine: that chunk's cosine.
        second_cosine: the next-closest chunk's cosine (None: one chunk with a vector).
        chunks: how many chunks the document has (with or without a vector).
    """

    best: int
    best_cosine: float
    second_cosine: float | None
    chunks: int
    pooled: float | None = None


@dataclass(frozen=True)
class DocumentScoring:
    """How a document's best chunk, its next one and its pooled vector make one score.

    The score is ``best + blend * max(0, pooled - best) + second_weight * second``,
    the pooled cosine counting only for documents of at least ``min_chunks``
    chunks. blend 1, second_weight 0 and min_chunks 2 is the better of the
    pooled and the best chunk's cosine.

    Attributes:
        min_chunks: the fewest chunks whose pooled vector counts.
        blend: the share of the pooled vector's lead over the best chunk that counts.
        second_weight: how much the second-best chunk's cosine adds.
    """

    min_chunks: int = 2
    blend: float = 1.0
    second_weight: float = 0.0
    interpolate: bool = False

    @classmethod
    def from_settings(cls, search: SearchSettings) -> DocumentScoring:
        """The scoring ``search`` configures."""
        return cls(search.document_min_chunks, search.document_blend,
                   search.second_chunk_weight, search.document_interpolate)

    def score(self, chunks: DocumentChunks, pooled: float | None) -> float:
        """The document's score (``pooled``: its pooled vector's cosine, None when not reached)."""
        score = chunks.best_cosine
        if self.interpolate:
            pooled = chunks.pooled
        if pooled is not None and chunks.chunks >= self.min_chunks:
            lead = pooled - chunks.best_cosine
            score += self.blend * (lead if self.interpolate else max(0.0, lead))
        if chunks.second_cosine is not None:
            score += self.second_weight * chunks.second_cosine
        return score
