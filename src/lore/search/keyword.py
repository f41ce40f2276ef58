"""The keyword leg: weighted BM25 through the store, and snippets of the shown hits.

The store ranks (``Store.keyword_ranking``: title, heading and body weights
from ``settings.search``, scores "higher is better"); this module turns what
it returns into a ``LegResult`` and turns marked snippet text into plain text
with highlight offsets, the same for every backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lore.search.fusion import LegResult
from lore.store.base import Restriction, SearchReads

# Snippet markers: control characters that Markdown text practically never
# contains, turned into offsets (``Hit.highlights``) and removed.
_OPEN, _CLOSE = "\x02", "\x03"
_MARKS = re.compile(f"([{_OPEN}{_CLOSE}])")
_WHITESPACE = re.compile(r"\s+")
SNIPPET_TOKENS = 24
FALLBACK_SNIPPET_CHARS = 200


@dataclass(frozen=True)
class Snippet:
    """Plain snippet text and the character spans of the matched terms in it."""

    text: str
    highlights: tuple[tuple[int, int], ...]


def keyword_leg(store: SearchReads, terms: Sequence[str], *,
                weights: tuple[float, float, float], limit: int,
                restriction: Restriction | None = None) -> LegResult:
    """Run the BM25 leg: the best ``limit`` chunk ids with their (positive) scores.

    Args:
        store: the index's store.
        terms: the query's alternatives as keyword terms (``lore.search.fts.match_terms``).
        weights: BM25 weights for the title, headings and body columns.
        limit: how many candidates to return (``settings.search.candidates``).
        restriction: restricts matches to chunks of the allowed documents.
    """
    if not terms:
        return LegResult("keyword", [])
    return LegResult("keyword", store.keyword_ranking(terms, weights=weights, limit=limit,
                                                      restriction=restriction))


def snippets(store: SearchReads, terms: Sequence[str],
             chunk_ids: Iterable[int]) -> dict[int, Snippet]:
    """A snippet for each chunk: around the matched terms, else the chunk's start.

    Computed only for the hits that are shown, because marking re-reads and
    re-tokenizes each chunk.

    Args:
        store: the index's store.
        terms: the keyword terms whose matches to mark (none: leading snippets).
        chunk_ids: the chunks to describe.
    """
    ids = list(dict.fromkeys(chunk_ids))
    if not ids:
        return {}
    marked = store.marked_snippets(terms, ids, marks=(_OPEN, _CLOSE), tokens=SNIPPET_TOKENS)
    found = {cid: parse_marked(text) for cid, text in marked.items()}
    missing = [i for i in ids if i not in found]
    if missing:
        for cid, text in store.chunk_texts(missing).items():
            found[cid] = _leading_snippet(text)
    return found


def parse_marked(marked: str) -> Snippet:
    """Turn ``snippet()`` output into plain one-line text plus highlight spans.

    Whitespace runs collapse to one space (chunks are multi-line Markdown;
    snippets are shown on one line), and offsets are computed after that.
    """
    text = ""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for piece in _MARKS.split(_WHITESPACE.sub(" ", marked)):
        if piece == _OPEN:
            start = len(text)
        elif piece == _CLOSE:
            if start is not None and len(text) > start:
                spans.append((start, len(text)))
            start = None
        else:
            # A space right after a marker may follow a space before it.
            text += piece[1:] if piece.startswith(" ") and (not text or text.endswith(" ")) \
                else piece
    stripped = text.rstrip()
    return Snippet(stripped, tuple((s, min(e, len(stripped))) for s, e in spans
                                   if s < len(stripped)))


def _leading_snippet(text: str) -> Snippet:
    """The start of a chunk as a one-line snippet without highlights."""
    plain = parse_marked(text.replace(_OPEN, "").replace(_CLOSE, "")).text
    if len(plain) > FALLBACK_SNIPPET_CHARS:
        plain = plain[:FALLBACK_SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return Snippet(plain, ())
