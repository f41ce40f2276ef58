"""The vector leg: embed the query, search the active space, honour the filters.

Filters arrive as a document restriction (SQL). The leg turns it into the set
of allowed chunk ids and hands that to the sidecar, whose planner scores a
small set exactly and a large one through the ANN graph with the filter
applied during traversal; either way it returns min(k, allowed) hits, so a
filtered search never comes back short.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lore.embed.runner import EmbeddingRunner
from lore.search.fusion import LegResult
from lore.search.keyword import DocFilter
from lore.store.vectors import VectorIndex


def allowed_chunks_sql(doc_filter: DocFilter) -> str:
    """Chunk ids of the documents passing ``doc_filter``."""
    return f"SELECT id FROM chunks WHERE document_id IN ({doc_filter[0]})"


def allowed_chunks(conn: sqlite3.Connection, doc_filter: DocFilter) -> npt.NDArray[np.int64]:
    """The chunk ids a filtered vector search may return."""
    rows = conn.execute(allowed_chunks_sql(doc_filter), doc_filter[1])
    return np.fromiter((cid for (cid,) in rows), dtype=np.int64)


@dataclass
class VectorLeg:
    """A query embedder bound to the sidecar of the index's active space."""

    runner: EmbeddingRunner
    sidecar: VectorIndex

    def embed_query(self, text: str) -> npt.NDArray[np.float32]:
        """The query's vector in the index's space."""
        return self.runner.embed([text], "query")[0]

    def run(self, conn: sqlite3.Connection, text: str, *, doc_filter: DocFilter | None,
            candidates: int) -> LegResult:
        """Rank chunks by cosine similarity to ``text``.

        Args:
            conn: the catalog connection (to resolve the filter).
            text: the query text without inline filters.
            doc_filter: the document restriction, or None.
            candidates: how many chunks to return at most.
        """
        if not text.strip():
            return LegResult("vector", [])
        allowed = None if doc_filter is None else allowed_chunks(conn, doc_filter)
        if allowed is not None and len(allowed) == 0:
            return LegResult("vector", [])
        keys, scores = self.sidecar.search(self.embed_query(text), candidates, allowed=allowed)
        return LegResult("vector", [(int(k), float(s)) for k, s in zip(keys, scores)])
