"""Plan and run a search: parse, run the legs, fuse, group per document.

Each leg ranks chunk ids on its own (``LegResult``); for per-document results
each leg is first collapsed to documents (a document found by two legs through
different sections still gets both contributions); ``fusion`` combines them
with weighted RRF, the graph leg's relation answers and then the exact-id
leg are pinned to the top, the doctype prior, recency, visibility, the hub
penalty and the decision prior are added as boosts, and only then are chunks
grouped per document (the best chunk represents its document and supplies
the snippet) and near-identical documents folded into one hit. Last, each
hit's score becomes a calibrated probability (``calibration``).

Filters (the ``filters`` argument and inline ``key:value`` in the query) and
exclusions (``-word``: documents with a chunk containing it) become one
document restriction (``lore.store.base.Restriction``) that every leg hands
to the store, so a hit never violates one. The engine runs no SQL: every
fact comes from the ``Store`` it is given. A query with nothing to search (empty, punctuation only, filters only)
runs the *listing* leg instead: with filters it lists the matching documents
by path; without filters it returns no hits. It never raises for odd text.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, get_args

from lore.errors import QueryError
from lore.search.boosts import DATE_KEYS, DocumentFacts, boosts_enabled, document_boosts
from lore.search.calibration import Evidence, calibrated_scores, weak_match
from lore.search.filters import check_filters
from lore.search.fts import exclusion_terms, match_terms, proximity_pairs, quote_fts
from lore.search.fusion import (
    Fused,
    LegResult,
    adapt_weights,
    add_boost,
    collapse_to_documents,
    doctype_boosts,
    fuse,
    spread_weights,
)
from lore.search.graph_leg import GRAPH_LEG, GraphLeg, relation_leg
from lore.search.hits import ChunkInfo, Hit, SearchResult
from lore.search.idmatch import id_candidates, id_leg
from lore.search.intent import decision_question
from lore.search.keyword import Snippet, highlight_words, keyword_leg, snippets
from lore.search.link_evidence import Lent, lend, link_neighbours
from lore.search.query import ParsedQuery, candidate_field_keys, normalize_filters, parse_query
from lore.search.shaping import (
    decision_holders,
    decision_prior,
    evidence,
    fold_copies,
    hub_penalty,
    name_shortfall,
)
from lore.search.typos import corrected_query, find_corrections
from lore.settings import Settings
from lore.store.base import HitRow, Restriction, SearchReads
from lore.types import SearchMode

if TYPE_CHECKING:
    from lore.search.vector import VectorLeg

MODES: tuple[str, ...] = get_args(SearchMode)
PINNED_LEGS = (GRAPH_LEG, "id")  # relation answers above the anchor's exact-id pin


def search_store(store: SearchReads, query: str, *, settings: Settings, limit: int | None = None,
                 filters: Mapping[str, Sequence[str]] | None = None, chunks: bool = False,
                 explain: bool = False, mode: SearchMode | None = None,
                 vector_leg: VectorLeg | None = None) -> SearchResult:
    """Search the store and return ranked hits (``weak_match`` set when none is strong).

    Args:
        store: the index's store.
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
    limit = settings.search.limit if limit is None else limit
    mode = mode or settings.search.mode
    _check(mode, limit)
    if mode == "vector" and vector_leg is None:
        raise QueryError("The vector mode needs embeddings, and this index has none usable: "
                         "run `lore index` with embeddings enabled, or use --mode keyword.")
    with store.read_snapshot():
        plan = plan_query(store, query, filters, correct=settings.search.typo_correction)
        _start_embedding(plan, mode, vector_leg)   # the relation and keyword legs overlap it
        graph = relation_leg(store, plan.parsed.text, plan.restriction)
        decision = settings.search.decision_prior if decision_question(plan.parsed.text) else 0.0
        answered = graph is not None and bool(graph.leg.ranked)
        # Grouping can fold many candidate chunks into few documents; when a
        # leg was cut off and fewer than ``limit`` documents came out, ask for more.
        candidates = max(settings.search.candidates, 2 * limit)
        while True:
            legs = run_legs(store, plan, settings=settings, candidates=candidates, mode=mode,
                            vector_leg=vector_leg, per_document=not chunks)
            if graph is not None and graph.leg.ranked:
                legs.append(graph.leg)
            owners = store.chunk_owners(sorted({cid for leg in legs for cid, _ in leg.ranked}))
            # A sidecar loaded before another process's sync may name chunks this
            # snapshot no longer has: they are dropped, never looked up.
            legs = [replace(leg, ranked=[(c, s) for c, s in leg.ranked if c in owners])
                    for leg in legs]
            full_at = settings.search.keyword_full_coverage
            weights = adapt_weights(leg_weights(settings), keyword_top_coverage(
                store, plan, legs, owners) if full_at > 0 else 1.0, full_at)
            ranked = legs if chunks else collapse_to_documents(legs, owners)
            weights = spread_weights(weights, ranked, settings.search.spread_exponent)
            fused = fuse(ranked, weights, k=settings.search.rrf_k, pin_legs=PINNED_LEGS,
                         method=settings.search.fusion)
            fused = add_boost(fused, "names", name_shortfall(
                store, plan.terms, fused, owners, settings.search.vector_name_floor))
            fused = add_boost(fused, "doctype", _doctype_boosts(store, owners, settings))
            for name, values in _document_boosts(store, owners, settings).items():
                fused = add_boost(fused, name, values)
            lent = (lend(fused, owners, link_neighbours(store), settings.search.link_evidence)
                    if settings.search.link_evidence and not answered else {})
            fused = add_boost(fused, "links", {c: e.amount for c, e in lent.items()})
            fused = add_boost(fused, "hub", hub_penalty(
                owners, store.hub_documents(set(owners.values()))))
            if decision:    # the prior is zero for most queries: then nothing to look up
                fused = add_boost(fused, "decision", decision_prior(
                    decision_holders(store, [f.chunk_id for f in fused]), decision))
            chosen = _best_per_document(fused, owners, per_document=not chunks)
            stands_for: dict[int, int] = {}
            if not chunks:
                chosen, stands_for = fold_copies(chosen, owners, store.copy_groups(
                    [owners[f.chunk_id] for f in chosen]))
            if len(chosen) >= limit or all(len(leg.ranked) < candidates for leg in legs):
                break
            candidates *= 4
        # A filter or vector mode asks for the nearest documents however far; only an
        # open hybrid search drops vector-only hits that match nothing.
        kept = _kept(store, plan.terms, chosen, owners, limit=limit,
                     drop=mode == "hybrid" and plan.restriction is None)
        documents = [owners[f.chunk_id] for f, _ in kept]
        also = store.copies([d for (f, _), d in zip(kept, documents, strict=True)
                             if f.chunk_id in stands_for], plan.restriction)
        hubs = store.hub_documents(documents)
        rows = store.hit_rows([f.chunk_id for f, _ in kept])
        found = snippets(store, plan.terms, [f.chunk_id for f, _ in kept],
                         words=highlight_words(plan.parsed))
    notes = [*plan.notes, *(note for leg in legs for note in leg.notes)]
    scores = calibrated_scores([e for _, e in kept])
    hits = [replace(_hit(f, rows[f.chunk_id], found[f.chunk_id], explain=explain, graph=graph,
                         evidence=e, notes=notes, lent=lent.get(f.chunk_id), document=doc),
                    score=score, also_at=tuple(also.get(doc, ())), vector_only=e.vector_only,
                    hub=doc in hubs)
            for (f, e), score, doc in zip(kept, scores, documents, strict=True)]
    notice = graph.notice() if graph is not None else None
    return SearchResult(hits, (*plan.notices, *([notice] if notice else [])),
                        weak_match=not answered and weak_match([e for _, e in kept]))


@dataclass(frozen=True)
class Plan:
    """What a query asks for, ready for the legs.

    Attributes:
        parsed: the parsed query.
        terms: its positive alternatives as keyword terms (none: no keyword leg).
        restriction: the documents allowed by filters and exclusions, or ``None``.
        listing: whether a query without text lists the filtered documents.
        notes: what ``--explain`` says about the query itself (words kept as text).
        notices: what the hits' reader must know (a filter value matched to another, a
            typo searched as the word it resembles).
        typos: the typed words that matched nothing and were corrected, as keyword
            terms: the keyword leg searches them beside ``terms`` (they match nothing
            there), while coverage and snippets read ``terms`` alone.
    """

    parsed: ParsedQuery
    terms: list[str]
    restriction: Restriction | None
    listing: bool
    notes: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    typos: tuple[str, ...] = ()


def plan_query(store: SearchReads, query: str,
               filters: Mapping[str, Sequence[str]] | None, *, correct: bool = True) -> Plan:
    """Parse ``query`` against the store's field keys, merge in ``filters``, check both;
    with ``correct``, search each bare word that matches nothing as its nearest indexed
    word too (``lore.search.typos``).

    Raises:
        QueryError: a filter key that nothing indexed has, or a value that
            resembles no indexed value (``lore.search.filters``).
    """
    candidates = candidate_field_keys(query)
    known = store.known_field_keys(candidates)
    parsed = parse_query(query, known)
    checked = check_filters(store, normalize_filters(filters, parsed.filters),
                            explicit=set(normalize_filters(filters)),
                            colon_words=candidates - known)
    merged = checked.filters
    corrections = find_corrections(store, parsed) if correct else []
    said = tuple(c.notice() for c in corrections)
    searched = corrected_query(parsed, corrections)
    return Plan(searched, match_terms(searched), restriction(merged, exclusion_terms(parsed)),
                listing=bool(merged), notes=(*checked.notes, *said),
                notices=(*checked.notices, *said),
                typos=tuple(quote_fts(c.word) for c in corrections))


def run_legs(store: SearchReads, plan: Plan, *, settings: Settings, candidates: int,
             mode: SearchMode = "hybrid", vector_leg: VectorLeg | None = None,
             per_document: bool = True) -> list[LegResult]:
    """Run every leg the plan and mode call for; the listing leg when nothing else applies.

    Args:
        store: the index's store.
        plan: the planned query.
        settings: column weights.
        candidates: how many chunks each ranked leg may return.
        mode: "keyword", "vector" or "hybrid".
        vector_leg: runs the vector leg in "vector" and "hybrid" modes when given.
        per_document: the keyword leg ranks documents (False: chunks).
    """
    s = settings.search
    _start_embedding(plan, mode, vector_leg)
    legs: list[LegResult] = []
    if plan.terms and mode != "vector":
        legs.append(keyword_leg(store, [*plan.terms, *plan.typos], limit=candidates,
                                restriction=plan.restriction,
                                weights=(s.title_weight, s.heading_weight, s.body_weight),
                                per_document=per_document, share=s.document_share,
                                pairs=proximity_pairs(plan.parsed) if s.proximity_weight else [],
                                pair_weight=s.proximity_weight))
    # The id leg runs before the vector leg (it may overlap the embedding) but ranks after it.
    ids = id_candidates(plan.parsed) if mode != "vector" else []
    by_id = id_leg(store, ids, restriction=plan.restriction,
                   prefer=[cid for cid, _ in legs[0].ranked] if legs else []) if ids else None
    if vector_leg is not None and mode != "keyword":
        legs.append(vector_leg.run(store, plan.parsed.positive, restriction=plan.restriction,
                                   candidates=candidates))
    if by_id is not None:
        legs.append(by_id)
    found_any = any(leg.ranked for leg in legs)
    if not plan.terms and plan.listing and plan.restriction is not None and not found_any:
        legs.append(listing_leg(store, plan.restriction, limit=candidates))
    return legs


def _start_embedding(plan: Plan, mode: SearchMode, vector_leg: VectorLeg | None) -> None:
    """Start the query embedding of a hybrid search, so the other legs run meanwhile."""
    if vector_leg is not None and mode == "hybrid" and plan.terms:
        vector_leg.prepare(plan.parsed.positive)


def restriction(filters: Mapping[str, Sequence[str]],
                exclusion: Sequence[str]) -> Restriction | None:
    """The documents a hit may come from: passing ``filters``, minus excluded ones.

    Args:
        filters: normalised filters (empty: every document).
        exclusion: keyword terms; documents with a matching chunk are removed.

    Raises:
        QueryError: a filter key without values.
    """
    if not filters and not exclusion:
        return None
    for key, values in filters.items():
        if not values:
            raise QueryError(f"The filter {key!r} has no values: give at least one, "
                             f"e.g. {key}:VALUE, or drop it.")
    return Restriction({k: tuple(v) for k, v in filters.items()}, tuple(exclusion))


def keyword_top_coverage(store: SearchReads, plan: Plan, legs: Sequence[LegResult],
                         owners: Mapping[int, int]) -> float:
    """The IDF-weighted share of the query's terms that the keyword leg's best document holds.

    1.0 when there is no keyword or no vector leg to weigh against (nothing to adapt).
    """
    names = {leg.name: leg for leg in legs}
    keyword, vector = names.get("keyword"), names.get("vector")
    if keyword is None or vector is None or not keyword.ranked or not vector.ranked:
        return 1.0
    top = owners.get(keyword.ranked[0][0])
    if top is None:
        return 1.0
    return store.term_coverage(plan.terms, {top}).get(top, 0.0)


def leg_weights(settings: Settings) -> dict[str, float]:
    """Leg name -> fusion weight, from ``settings.search``."""
    s = settings.search
    return {"keyword": s.keyword_weight, "vector": s.vector_weight, "id": s.id_weight,
            "listing": 1.0}


def listing_leg(store: SearchReads, restriction: Restriction, *, limit: int) -> LegResult:
    """Documents that pass the filters, in path order: the answer to a filter-only query."""
    return LegResult("listing", [(cid, 1.0) for cid in store.listing(restriction, limit=limit)])


def _check(mode: str, limit: int) -> None:
    """Refuse a mode this engine cannot run or a limit that asks for nothing."""
    if mode not in MODES:
        raise QueryError(f"Unknown search mode {mode!r}: use one of {', '.join(MODES)}.")
    if limit < 1:
        raise QueryError(f"The limit must be at least 1, not {limit}.")


def _doctype_boosts(store: SearchReads, owners: Mapping[int, int],
                    settings: Settings) -> dict[int, float]:
    """The doctype prior per candidate chunk; no query when no prior is configured."""
    priors = settings.search.doctype_boosts
    if not priors:
        return {}
    doctypes = store.doctypes(set(owners.values()))
    return doctype_boosts({cid: doctypes[doc] for cid, doc in owners.items()}, priors)


def _document_boosts(store: SearchReads, owners: Mapping[int, int],
                     settings: Settings) -> dict[str, dict[int, float]]:
    """Recency and visibility per candidate chunk; no query when both are off."""
    if not boosts_enabled(settings.search):
        return {}
    rows = store.document_dates(set(owners.values()), DATE_KEYS)
    facts = {doc: DocumentFacts(path, dates) for doc, (path, dates) in rows.items()}
    return document_boosts(owners, facts, settings.search, now=dt.datetime.now(dt.timezone.utc))


def _kept(store: SearchReads, terms: Sequence[str], chosen: Sequence[Fused],
          owners: Mapping[int, int], *, limit: int, drop: bool) -> list[tuple[Fused, Evidence]]:
    """The first ``limit`` of ``chosen`` with their evidence, less (with ``drop``) the hits
    that match nothing.

    Keyword coverage is read only for the hits that can be kept: a document's
    coverage does not depend on the others', and a hit's evidence on its rank
    and its own coverage, so a prefix of ``chosen`` gives the same evidence as
    the whole list. The prefix grows until ``limit`` hits survive.
    """
    size = limit
    while True:
        head = chosen[:size]
        documents = {owners[f.chunk_id] for f in head if "keyword" in f.legs}
        coverage = store.term_coverage(terms, documents) if documents else {}
        kept = [(f, e) for f, e in zip(head, evidence(head, owners, coverage), strict=True)
                if not (drop and e.no_real_match)]
        if len(kept) >= limit or size >= len(chosen):
            return kept[:limit]
        size *= 4


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


def _hit(entry: Fused, row: HitRow, snippet: Snippet, *, explain: bool, document: int,
         graph: GraphLeg | None = None, evidence: Evidence | None = None,
         notes: Sequence[str] = (), lent: Lent | None = None) -> Hit:
    """Build the public hit for one chosen chunk of ``document`` (``notes``: about the
    query, ``lent``: the evidence a linked candidate lent it, both for explain)."""
    record: dict[str, Any] | None = None
    if explain:
        record = {"chunk_id": entry.chunk_id, **entry.explain(), "query": list(notes)}
        if evidence is not None:
            record["evidence"] = asdict(evidence)
        if lent is not None:
            record["linked"] = asdict(lent)
        relation = graph.explain(document) if graph is not None else None
        if relation is not None:
            record["relation"] = relation
    return Hit(
        path=row.path, doc_id=row.doc_id, title=row.title, score=entry.score,
        snippet=snippet.text, highlights=snippet.highlights, metadata=json.loads(row.metadata),
        doctype=row.doctype,
        chunk=ChunkInfo(row.ordinal, tuple(json.loads(row.heading_path)), row.kind),
        explain=record, via=graph.via(document) if graph is not None else (),
    )
