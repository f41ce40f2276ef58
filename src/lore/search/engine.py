"""Plan and run a search: parse, run the legs, fuse, group per document.

Each leg ranks chunk ids on its own (``LegResult``); for per-document results
each leg is first collapsed to documents (a document found by two legs through
different sections still gets both contributions); ``fusion`` combines them
with weighted RRF, the exact-id leg is pinned to the top, the doctype prior,
recency and visibility (``boosts``) are added as boosts, and only then are
chunks grouped per document (the best chunk represents its document and
supplies the snippet).

Filters (the ``filters`` argument and inline ``key:value`` in the query) and
exclusions (``-word``: documents with a chunk containing it) become one
document restriction applied inside every leg's SQL, so a hit never violates
one. A query with nothing to search (empty, punctuation only, filters only)
runs the *listing* leg instead: with filters it lists the matching documents
by path; without filters it returns no hits. It never raises for odd text.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lore.errors import QueryError
from lore.search.boosts import (
    DocumentFacts,
    boosts_enabled,
    document_boosts,
    facts_params,
    facts_sql,
)
from lore.search.filters import check_filters
from lore.search.fts import build_exclusion, match_terms, or_expression
from lore.search.fusion import (
    Fused,
    LegResult,
    add_boost,
    collapse_to_documents,
    doctype_boosts,
    fuse,
)
from lore.search.hits import ChunkInfo, Hit
from lore.search.idmatch import id_candidates, id_leg
from lore.search.keyword import DocFilter, Snippet, highlight_words, keyword_leg, snippets
from lore.search.query import ParsedQuery, candidate_field_keys, normalize_filters, parse_query
from lore.settings import Settings
from lore.store import lookups
from lore.store.catalog import documents_filter_sql

if TYPE_CHECKING:
    from lore.search.vector import VectorLeg
    from lore.store.catalog import Catalog

MODES = ("keyword", "vector", "hybrid")
PINNED_LEGS = ("id",)


@dataclass(frozen=True)
class _ChunkRow:
    """What a hit needs to know about its chunk and document."""

    ordinal: int
    kind: str
    heading_path: str
    path: str
    doc_id: str
    title: str
    doctype: str
    metadata: str


def search_catalog(catalog: Catalog, query: str, *, settings: Settings, limit: int | None = None,
                   filters: Mapping[str, Sequence[str]] | None = None, chunks: bool = False,
                   explain: bool = False, mode: str | None = None,
                   vector_leg: VectorLeg | None = None) -> list[Hit]:
    """Search the catalog and return ranked hits.

    Args:
        catalog: an open catalog.
        query: what the user typed, inline filters (``type:ADR``) included.
        settings: search weights, limits and boosts come from ``settings.search``.
        limit: at most this many hits (default ``settings.search.limit``).
        filters: field key -> accepted values, AND across keys, OR within one.
        chunks: return one hit per chunk instead of one per document.
        explain: attach legs, ranks, contributions and boosts to every hit.
        mode: "keyword" (BM25 + exact id), "vector" (embeddings only) or
            "hybrid" (all legs fused); default ``settings.search.mode``.
        vector_leg: the query embedder and sidecar; None runs no vector leg
            (the caller decides how to degrade and says so).

    Raises:
        QueryError: an unknown mode, a limit below 1, or a filter without values.
    """
    conn = catalog.conn
    limit = settings.search.limit if limit is None else limit
    mode = mode or settings.search.mode
    _check(mode, limit)
    if mode == "vector" and vector_leg is None:
        raise QueryError("The vector mode needs embeddings, and this index has none usable: "
                         "run `lore index` with embeddings enabled, or use --mode keyword.")
    with _read_snapshot(conn):
        plan = plan_query(conn, query, filters)
        # Grouping can fold many candidate chunks into few documents; when a
        # leg was cut off and fewer than ``limit`` documents came out, ask for more.
        candidates = max(settings.search.candidates, 2 * limit)
        while True:
            legs = run_legs(conn, plan, settings=settings, candidates=candidates, mode=mode,
                            vector_leg=vector_leg, per_document=not chunks)
            owners = _documents_of(conn, sorted({cid for leg in legs for cid, _ in leg.ranked}))
            fused = fuse(legs if chunks else collapse_to_documents(legs, owners),
                         leg_weights(settings), k=settings.search.rrf_k, pin_legs=PINNED_LEGS,
                         method=settings.search.fusion)
            fused = add_boost(fused, "doctype", _doctype_boosts(conn, owners, settings))
            for name, values in _document_boosts(conn, owners, settings).items():
                fused = add_boost(fused, name, values)
            chosen = _best_per_document(fused, owners, per_document=not chunks)
            if len(chosen) >= limit or all(len(leg.ranked) < candidates for leg in legs):
                break
            candidates *= 4
        chosen = chosen[:limit]
        rows = _hit_rows(conn, [f.chunk_id for f in chosen])
        found = snippets(conn, plan.match, [f.chunk_id for f in chosen],
                         words=highlight_words(plan.parsed))
    notes = [*plan.notes, *(note for leg in legs for note in leg.notes)]
    return [_hit(f, rows[f.chunk_id], found[f.chunk_id], explain=explain, notes=notes)
            for f in chosen]


@contextmanager
def _read_snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """Run the block's reads in one transaction, so every leg sees the same catalog.

    In WAL mode a read transaction is a snapshot: a sync committing halfway
    through a search cannot hand one leg a chunk that the next query no
    longer finds. Inside a caller's transaction, that one already is.
    """
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


@dataclass(frozen=True)
class Plan:
    """What a query asks for, ready for the legs.

    Attributes:
        parsed: the parsed query.
        terms: its positive alternatives as FTS5 strings (none: no keyword leg).
        doc_filter: the document restriction from filters and exclusions, or ``None``.
        listing: whether a query without text lists the filtered documents.
        notes: what ``--explain`` says about the query itself (words kept as text).
    """

    parsed: ParsedQuery
    terms: list[str]
    doc_filter: DocFilter | None
    listing: bool
    notes: tuple[str, ...] = ()

    @property
    def match(self) -> str | None:
        """The FTS5 expression of ``terms`` (also used to mark snippets)."""
        return or_expression(self.terms)


def plan_query(conn: sqlite3.Connection, query: str,
               filters: Mapping[str, Sequence[str]] | None) -> Plan:
    """Parse ``query`` against the catalog's field keys, merge in ``filters``, check both.

    Raises:
        QueryError: a filter key or value that nothing indexed has
            (``lore.search.filters``).
    """
    candidates = candidate_field_keys(query)
    known = known_field_keys(conn, candidates)
    parsed = parse_query(query, known)
    explicit = normalize_filters(filters)
    merged = normalize_filters(filters, parsed.filters)
    notes = check_filters(_FieldFacts(conn), merged, explicit=set(explicit),
                          colon_words=candidates - known)
    return Plan(parsed, match_terms(parsed), restriction(merged, build_exclusion(parsed)),
                listing=bool(merged), notes=tuple(notes))


class _FieldFacts:
    """``lore.search.filters.FieldFacts`` over a catalog connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def field_keys(self) -> list[str]:
        return lookups.field_keys(self._conn)

    def unknown_field_values(self, key: str, values: Sequence[str]) -> list[str]:
        return lookups.unknown_field_values(self._conn, key, values)

    def field_values(self, key: str, *, limit: int) -> tuple[list[str], int]:
        return lookups.field_values(self._conn, key, limit=limit)


def run_legs(conn: sqlite3.Connection, plan: Plan, *, settings: Settings, candidates: int,
             mode: str = "hybrid", vector_leg: VectorLeg | None = None,
             per_document: bool = True) -> list[LegResult]:
    """Run every leg the plan and mode call for; the listing leg when nothing else applies.

    Args:
        conn: a catalog connection.
        plan: the planned query.
        settings: column weights.
        candidates: how many chunks each ranked leg may return.
        mode: "keyword", "vector" or "hybrid".
        vector_leg: runs the vector leg in "vector" and "hybrid" modes when given.
        per_document: the keyword leg ranks documents (False: chunks).
    """
    s = settings.search
    legs: list[LegResult] = []
    if plan.terms and mode != "vector":
        legs.append(keyword_leg(conn, plan.terms, limit=candidates, doc_filter=plan.doc_filter,
                                weights=(s.title_weight, s.heading_weight, s.body_weight),
                                per_document=per_document, share=s.document_share))
    if vector_leg is not None and mode != "keyword":
        legs.append(vector_leg.run(conn, plan.parsed.text, doc_filter=plan.doc_filter,
                                   candidates=candidates))
    ids = id_candidates(plan.parsed) if mode != "vector" else []
    if ids:
        prefer = [cid for cid, _ in legs[0].ranked] if legs else []
        legs.append(id_leg(conn, ids, doc_filter=plan.doc_filter, prefer=prefer))
    found_any = any(leg.ranked for leg in legs)
    if not plan.terms and plan.listing and plan.doc_filter is not None and not found_any:
        legs.append(listing_leg(conn, plan.doc_filter, limit=candidates))
    return legs


def restriction(filters: Mapping[str, Sequence[str]], exclusion: str | None) -> DocFilter | None:
    """The documents a hit may come from: passing ``filters``, minus excluded ones.

    Args:
        filters: normalised filters (empty: every document).
        exclusion: an FTS5 expression; documents with a matching chunk are removed.
    """
    if not filters and exclusion is None:
        return None
    sql, params = documents_filter_sql(filters)
    if exclusion is not None:
        # Compound operators associate left: (A INTERSECT B) EXCEPT C.
        sql += (" EXCEPT SELECT c.document_id FROM chunks c WHERE c.id IN"
                " (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?)")
        params = [*params, exclusion]
    return sql, params


def leg_weights(settings: Settings) -> dict[str, float]:
    """Leg name -> fusion weight, from ``settings.search``."""
    s = settings.search
    return {"keyword": s.keyword_weight, "vector": s.vector_weight, "id": s.id_weight,
            "listing": 1.0}


def listing_sql(doc_filter: DocFilter) -> str:
    """The first chunk of every document passing the filter, by path."""
    return ("SELECT (SELECT c.id FROM chunks c WHERE c.document_id = d.id"
            " ORDER BY c.ordinal LIMIT 1) FROM documents d"
            f" WHERE d.id IN ({doc_filter[0]}) ORDER BY d.path LIMIT ?")


def listing_leg(conn: sqlite3.Connection, doc_filter: DocFilter, *, limit: int) -> LegResult:
    """Documents that pass the filters, in path order: the answer to a filter-only query."""
    rows = conn.execute(listing_sql(doc_filter), [*doc_filter[1], limit])
    return LegResult("listing", [(int(cid), 1.0) for (cid,) in rows if cid is not None])


def known_field_keys(conn: sqlite3.Connection, candidates: set[str]) -> set[str]:
    """Which of ``candidates`` are field keys of some document (one indexed query)."""
    if not candidates:
        return set()
    rows = conn.execute("SELECT DISTINCT key FROM fields WHERE key IN "
                        "(SELECT value FROM json_each(?))", (json.dumps(sorted(candidates)),))
    return {str(key) for (key,) in rows}


def _check(mode: str, limit: int) -> None:
    """Refuse a mode this engine cannot run or a limit that asks for nothing."""
    if mode not in MODES:
        raise QueryError(f"Unknown search mode {mode!r}: use one of {', '.join(MODES)}.")
    if limit < 1:
        raise QueryError(f"The limit must be at least 1, not {limit}.")


def _documents_of(conn: sqlite3.Connection, chunk_ids: list[int]) -> dict[int, int]:
    """Chunk id -> document row id for every candidate (chunks only: no document pages)."""
    rows = conn.execute("SELECT id, document_id FROM chunks WHERE id IN "
                        "(SELECT value FROM json_each(?))", (json.dumps(chunk_ids),))
    return {int(cid): int(doc) for cid, doc in rows}


def _doctype_boosts(conn: sqlite3.Connection, owners: Mapping[int, int],
                    settings: Settings) -> dict[int, float]:
    """The doctype prior per candidate chunk; no query when no prior is configured."""
    priors = settings.search.doctype_boosts
    if not priors:
        return {}
    doctypes = dict(conn.execute("SELECT id, doctype FROM documents WHERE id IN "
                                 "(SELECT value FROM json_each(?))",
                                 (json.dumps(sorted(set(owners.values()))),)))
    return doctype_boosts({cid: doctypes[doc] for cid, doc in owners.items()}, priors)


def _document_boosts(conn: sqlite3.Connection, owners: Mapping[int, int],
                     settings: Settings) -> dict[str, dict[int, float]]:
    """Recency and visibility per candidate chunk; no query when both are off."""
    if not boosts_enabled(settings.search):
        return {}
    rows = conn.execute(facts_sql(), facts_params(list(owners.values())))
    facts = {int(doc): DocumentFacts(path, tuple(dates)) for doc, path, *dates in rows}
    return document_boosts(owners, facts, settings.search, now=dt.datetime.now(dt.timezone.utc))


def _hit_rows(conn: sqlite3.Connection, chunk_ids: list[int]) -> dict[int, _ChunkRow]:
    """Document and chunk facts for the chunks that become hits, in one query."""
    rows = conn.execute(
        "SELECT c.id, c.ordinal, c.kind, c.heading_path, d.path, d.doc_id,"
        " d.title, d.doctype, d.metadata FROM chunks c JOIN documents d ON d.id = c.document_id"
        " WHERE c.id IN (SELECT value FROM json_each(?))", (json.dumps(chunk_ids),))
    return {int(cid): _ChunkRow(*rest) for cid, *rest in rows}


def _best_per_document(fused: list[Fused], owners: Mapping[int, int], *,
                       per_document: bool) -> list[Fused]:
    """Keep the first (best) chunk of each document (or every chunk), in fused order."""
    if not per_document:
        return fused
    seen: set[int] = set()
    best: list[Fused] = []
    for entry in fused:
        document_id = owners[entry.chunk_id]
        if document_id not in seen:
            seen.add(document_id)
            best.append(entry)
    return best


def _hit(entry: Fused, row: _ChunkRow, snippet: Snippet, *, explain: bool,
         notes: Sequence[str] = ()) -> Hit:
    """Build the public hit for one chosen chunk (``notes``: about the query, for explain)."""
    record: dict[str, Any] | None = None
    if explain:
        record = {"chunk_id": entry.chunk_id, **entry.explain(), "query": list(notes)}
    return Hit(
        path=row.path, doc_id=row.doc_id, title=row.title, score=entry.score,
        snippet=snippet.text, highlights=snippet.highlights, metadata=json.loads(row.metadata),
        doctype=row.doctype,
        chunk=ChunkInfo(row.ordinal, tuple(json.loads(row.heading_path)), row.kind),
        explain=record,
    )
