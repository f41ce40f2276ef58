"""The exact-id leg: documents named by an id the query contains.

People search for ``KABSD-TSK-0350`` or ``ADR-0009`` expecting that item,
not the twenty items that mention it. This leg looks the query's id-shaped
tokens (and the whole query, when it is a single token) up in
``documents.doc_id`` and ``documents.uid`` case-insensitively, and falls
back to the file name stem (``README`` finds ``README.md``). The engine pins
this leg (see ``lore.search.fusion``), so a match always ranks first.

Each matched document is represented by its first chunk; grouping per
document then shows the document whatever chunk stands for it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from lore.search.fusion import LegResult
from lore.search.keyword import DocFilter
from lore.search.query import ParsedQuery

# A single-token query longer than this is not a plausible id or file name.
_MAX_ID_CHARS = 200


def id_candidates(parsed: ParsedQuery) -> list[str]:
    """The strings to look up: the parsed ids, then the whole text if it is one token.

    The whole-text rule lets ``README`` or a path find its file; inline
    filters are not part of ``parsed.text``, so ``type:ADR`` alone looks
    nothing up.
    """
    candidates = list(parsed.ids)
    whole = parsed.text.strip()
    one_token = whole and len(whole) <= _MAX_ID_CHARS and not any(c.isspace() for c in whole)
    if one_token and whole.lower() not in (c.lower() for c in candidates):
        candidates.append(whole)
    return candidates


def id_leg(conn: sqlite3.Connection, candidates: list[str], *,
           doc_filter: DocFilter | None = None, prefer: Sequence[int] = ()) -> LegResult:
    """Look ``candidates`` up as document ids, uids or file stems.

    Args:
        conn: a catalog connection.
        candidates: strings to look up, in the order they should rank.
        doc_filter: only documents passing the filters may match.
        prefer: chunk ids in preference order (the keyword leg's ranking): a
            matched document is represented by its best-ranked chunk in this
            list, else by its first chunk, so fusion credits one chunk with
            both legs and the snippet shows where the query matched.

    Returns:
        One chunk per matched document, in candidate order (several
        documents may share an id; those follow each other by path).
    """
    ranked: list[tuple[int, float]] = []
    seen: set[int] = set()
    preference = json.dumps(list(prefer))
    for candidate in candidates:
        for chunk_id in _lookup(conn, candidate, doc_filter, preference):
            if chunk_id not in seen:
                seen.add(chunk_id)
                ranked.append((chunk_id, 1.0))
    return LegResult("id", ranked)


def lookup_sql(doc_filter: DocFilter | None, *, by_stem: bool) -> str:
    """SQL finding one representative chunk of documents by id/uid, or by file stem.

    Parameters: ?1 the candidate, ?2 the escaped stem pattern (stem form
    only), ?3 the JSON preference list, then the filter's own parameters.
    The id/uid form uses the ``NOCASE`` indexes on ``doc_id`` and ``uid``; the
    stem form scans paths, so it only runs when no id matched.
    """
    if by_stem:
        where = ("(lower(d.path) = lower(?1) OR d.path LIKE '%/' || ?2 || '.%' ESCAPE '\\'"
                 " OR d.path LIKE ?2 || '.%' ESCAPE '\\')")
    else:
        where = "(d.doc_id = ?1 COLLATE NOCASE OR d.uid = ?1 COLLATE NOCASE)"
    # The filter's plain "?" parameters number on after ?3 (SQLite's rule).
    restrict = f" AND d.id IN ({doc_filter[0]})" if doc_filter is not None else ""
    return ("SELECT (SELECT c.id FROM chunks c WHERE c.document_id = d.id ORDER BY"
            " coalesce((SELECT p.key FROM json_each(?3) p WHERE p.value = c.id), 1e18),"
            " c.ordinal LIMIT 1) AS chunk_id"
            f" FROM documents d WHERE {where}{restrict} ORDER BY d.path")


def _lookup(conn: sqlite3.Connection, candidate: str, doc_filter: DocFilter | None,
            preference: str) -> list[int]:
    """Chunk ids for one candidate: id/uid matches, else file-stem matches."""
    extra = doc_filter[1] if doc_filter is not None else []
    stem = candidate.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute(lookup_sql(doc_filter, by_stem=False),
                        (candidate, stem, preference, *extra)).fetchall()
    if not rows:
        rows = conn.execute(lookup_sql(doc_filter, by_stem=True),
                            (candidate, stem, preference, *extra)).fetchall()
    return [int(chunk_id) for (chunk_id,) in rows if chunk_id is not None]
