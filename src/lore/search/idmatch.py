"""The exact-id leg: documents named by an id the query contains.

People search for ``KABSD-TSK-0350`` or ``ADR-0009`` expecting that item,
not the twenty items that mention it. This leg looks the query's id-shaped
tokens (and the whole query, when it is a single token) up as document ids
and uids, case-insensitively, and falls back to the file name stem
(``README`` finds ``README.md``); the store answers (``Store.id_matches``). The engine pins
this leg (see ``lore.search.fusion``), so a match always ranks first.

Each matched document is represented by its first chunk; grouping per
document then shows the document whatever chunk stands for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from lore.search.fusion import LegResult
from lore.search.query import ParsedQuery
from lore.store.base import Restriction, SearchReads

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


def id_leg(store: SearchReads, candidates: list[str], *,
           restriction: Restriction | None = None, prefer: Sequence[int] = ()) -> LegResult:
    """Look ``candidates`` up as document ids, uids or file stems.

    Args:
        store: the index's store.
        candidates: strings to look up, in the order they should rank.
        restriction: only documents it allows may match.
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
    for candidate in candidates:
        for chunk_id in store.id_matches(candidate, restriction=restriction, prefer=prefer):
            if chunk_id not in seen:
                seen.add(chunk_id)
                ranked.append((chunk_id, 1.0))
    return LegResult("id", ranked)
