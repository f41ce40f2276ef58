"""SQLite's keyword questions: BM25 rankings, marked snippets, ids and field facts.

The rankings live in ``lore.store.bm25`` (document-level BM25 mixed with the
best chunk's, exact common-term pruning), the id forms and field lookups in
``lore.store.lookups``; this mixin binds them to the catalog connection and
turns a ``Restriction`` into its SQL. A catalog that keeps searching answers
the rankings from an in-memory copy of the FTS5 tables once one is ready
(``lore.store.keyword_memory``: same rows, order and scores, about ten times
faster); FTS5 answers whenever the copy is missing, stale or not exact for
the query.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections import Counter
from collections.abc import Sequence

from lore.store import bm25, keyword_memory, lookups
from lore.store.base import Restriction
from lore.store.bm25 import DocFilter
from lore.store.bm25_memory import KeywordCopy, read_fingerprint
from lore.store.fact_cache import FactCache, cached, catalog_fact
from lore.store.filter_sql import fts_match, restriction_sql
from lore.store.id_names import IdNames
from lore.store.keyword_memory import KeywordMemory


class KeywordReadsMixin:
    """The keyword questions of ``lore.store.base.SearchReads`` (needs ``_conn``)."""

    _conn: sqlite3.Connection
    _facts: FactCache
    _keyword_memory: KeywordMemory | None
    _first_keyword_search: float | None
    _snapshot_pinned: bool
    _clean_changes: int
    keyword_paths: Counter[str]

    def keyword_ranking(self, terms: Sequence[str], *, weights: tuple[float, float, float],
                        limit: int, restriction: Restriction | None,
                        per_document: bool = False, share: float = 0.5,
                        pairs: Sequence[str] = (),
                        pair_weight: float = 0.0) -> list[tuple[int, float]]:
        """The best ``limit`` chunks, or documents, by weighted BM25: (chunk id, score).

        Args:
            terms: quoted keyword terms (see ``lore.store.base``); any may match,
                a repeated term counts again.
            weights: BM25 weights for the title, headings and body columns.
            limit: how many chunks (documents) to return.
            restriction: only chunks of the documents it allows.
            per_document: rank documents, each as its best chunk (``bm25.rank_documents``).
            share: the document-level part of a document's score.
        """
        doc_filter = restriction_sql(restriction) if restriction is not None else None
        if terms and limit >= 1:
            found = self._memory_ranking(terms, weights=weights, limit=limit,
                                         doc_filter=doc_filter, per_document=per_document,
                                         share=share, pairs=pairs, pair_weight=pair_weight)
            if found is not None:
                self.keyword_paths["memory"] += 1
                return found
            self.keyword_paths["fts5"] += 1
        if per_document:
            return [(hit.chunk_id, hit.score) for hit in bm25.rank_documents(
                self._conn, terms, weights=weights, share=share, limit=limit,
                doc_filter=doc_filter, pairs=pairs, pair_weight=pair_weight)]
        return bm25.rank(self._conn, bm25.CHUNKS, terms, weights=(*weights, weights[2]),
                         limit=limit, doc_filter=doc_filter, pairs=pairs,
                         pair_weight=pair_weight)

    def prepare_keyword_memory(self, *, wait: bool = True) -> bool:
        """Copy the FTS5 tables into memory (``lore.store.keyword_memory``), so the
        next keyword searches are answered from it; whether a copy is ready.

        With ``wait`` the copy is made now, in this thread. Without, the build
        starts in the background (unless the copy is current already) and this
        returns at once. Either way the catalog counts as long-lived from now
        on: any later search may ask for a rebuild after a write.
        """
        if self._keyword_memory is None:
            return False
        self._first_keyword_search = -math.inf
        if wait:
            return self._keyword_memory.prepare()
        fingerprint = self._fingerprint()
        if self._keyword_memory.current(fingerprint) is not None:
            return True
        self._keyword_memory.request(fingerprint)
        return False

    def note_committed(self) -> None:
        """Note that every row this connection wrote so far is committed (when no
        transaction is open): the in-memory copy may answer while nothing is written
        after this (``_nothing_pending``). Called where a search starts."""
        if not self._conn.in_transaction:
            self._clean_changes = self._conn.total_changes

    def _nothing_pending(self) -> bool:
        """Whether this connection holds no uncommitted writes, which FTS5 would see
        and the copy would not: no transaction, a pinned reader (never written), or
        a read transaction with no row written since ``note_committed``."""
        return (not self._conn.in_transaction or self._snapshot_pinned
                or self._conn.total_changes == self._clean_changes)

    def held_keyword_copy(self) -> KeywordCopy | None:
        """The in-memory copy when it answers for exactly what this connection sees
        now (current, nothing of this connection uncommitted); never starts a build."""
        memory = self._keyword_memory
        if memory is None or not memory.holds_copy():
            return None
        self.note_committed()
        if not self._nothing_pending():
            return None
        return memory.current(self._fingerprint())

    def _fingerprint(self) -> tuple[object, ...]:
        """``read_fingerprint`` of this connection now, kept with the catalog facts.

        The FTS5 tables change only by a commit of another connection or a
        write of this one (an FTS5 command such as ``optimize`` counts as a
        write too); either moves the state the fact cache is keyed on, so
        inside a checked snapshot the fingerprint kept for that state is the
        one SQLite would return. Outside one, it is read.
        """
        return cached(self._facts, self._conn, "fingerprint", [0],
                      lambda _: {0: read_fingerprint(self._conn)})[0]

    def _memory_ranking(self, terms: Sequence[str], *, weights: tuple[float, float, float],
                        limit: int, doc_filter: DocFilter | None, per_document: bool,
                        share: float, pairs: Sequence[str] = (),
                        pair_weight: float = 0.0) -> list[tuple[int, float]] | None:
        """The ranking from the in-memory copy, or ``None`` when FTS5 must answer."""
        memory = self._keyword_memory
        if memory is None:
            return None
        now = time.monotonic()
        if self._first_keyword_search is None:
            self._first_keyword_search = now
        self.note_committed()
        if not self._nothing_pending():
            return None
        # A one-shot ``lore search`` never starts a build (``keyword_memory``), but
        # any search uses a copy another catalog on the same file already holds.
        may_build = now - self._first_keyword_search >= keyword_memory.BUILD_AFTER_S
        if not may_build and not memory.holds_copy():
            return None
        fingerprint = self._fingerprint()
        copy = memory.current(fingerprint)
        if copy is None:
            if may_build:
                memory.request(fingerprint)
            return None
        phrases = copy.phrases(terms)
        if phrases is None:
            return None
        allowed = None if doc_filter is None else copy.allowed_documents(
            [int(r[0]) for r in self._conn.execute(*doc_filter)])
        pair_phrases = copy.phrases(pairs) if pairs and pair_weight else []
        if pair_phrases is None:
            return None
        if per_document:
            hits = copy.rank_documents(phrases, weights=weights, share=share, limit=limit,
                                       allowed=allowed, pairs=pair_phrases,
                                       pair_weight=pair_weight)
            return None if hits is None else [(h.chunk_id, h.score) for h in hits]
        return copy.rank_chunks(phrases, weights=(*weights, weights[2]), limit=limit,
                                allowed=allowed, pairs=pair_phrases, pair_weight=pair_weight)

    def marked_snippets(self, terms: Sequence[str], chunk_ids: Sequence[int], *,
                        marks: tuple[str, str], tokens: int) -> dict[int, str]:
        """FTS5 ``snippet()`` of the body column for the chunks that match a term."""
        match = fts_match(terms)
        if match is None or not chunk_ids:
            return {}
        rows = self._conn.execute(
            "SELECT rowid, snippet(chunks_fts, 2, ?, ?, '…', ?) FROM chunks_fts"
            " WHERE chunks_fts MATCH ? AND +rowid IN (SELECT value FROM json_each(?))",
            [marks[0], marks[1], tokens, match, json.dumps([int(i) for i in chunk_ids])])
        return {int(rowid): str(text) for rowid, text in rows}

    def id_matches(self, candidate: str, *, form: str, restriction: Restriction | None,
                   prefer: Sequence[int]) -> list[tuple[int, str]]:
        """(chunk id, doc id) of the documents ``candidate`` names in ``form``
        (``lore.store.lookups.ID_FORMS``).

        Inside a read snapshot a candidate that cannot match (most id-shaped
        words in prose) is answered from the catalog state's ``IdNames``
        without SQL; one that may match runs the form's SQL as always.
        """
        if self._facts.keeps(self._conn):
            names = catalog_fact(self._facts, self._conn, "id_names",
                                 lambda: IdNames.build(lookups.id_names(self._conn)))
            if not names.may_match(candidate, form):
                return []
        doc_filter = restriction_sql(restriction) if restriction is not None else None
        return lookups.find_ids(self._conn, candidate, form, doc_filter=doc_filter,
                                prefer=prefer)

    def field_keys(self) -> list[str]:
        """Every field key of some document, sorted."""
        return lookups.field_keys(self._conn)

    def unknown_field_values(self, key: str, values: Sequence[str]) -> list[str]:
        """Those of ``values`` that no document has for ``key``."""
        return lookups.unknown_field_values(self._conn, key, values)

    def field_values(self, key: str, *, limit: int) -> tuple[list[str], int]:
        """Up to ``limit`` distinct values of ``key``, sorted, and how many there are."""
        return lookups.field_values(self._conn, key, limit=limit)

    def field_spellings(self, key: str, values: Sequence[str]) -> dict[str, str]:
        """Each of ``values`` of ``key`` as the files write it (held values only)."""
        return lookups.field_spellings(self._conn, key, values)
