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

from lore.documents.cjk import cjk_runs
from lore.documents.hanfold import fold_han
from lore.search.fusion import LegResult
from lore.search.query import ParsedQuery
from lore.store.base import Restriction, SearchReads

# Snippet markers: control characters that Markdown text practically never
# contains, turned into offsets (``Hit.highlights``) and removed.
_OPEN, _CLOSE = "\x02", "\x03"
_MARKS = re.compile(f"([{_OPEN}{_CLOSE}])")
_WHITESPACE = re.compile(r"\s+")
SNIPPET_TOKENS = 24
CJK_CONTEXT_CHARS = 40
FALLBACK_SNIPPET_CHARS = 200


@dataclass(frozen=True)
class Snippet:
    """Plain snippet text and the character spans of the matched terms in it."""

    text: str
    highlights: tuple[tuple[int, int], ...]


def keyword_leg(store: SearchReads, terms: Sequence[str], *,
                weights: tuple[float, float, float], limit: int,
                restriction: Restriction | None = None, per_document: bool = True,
                share: float = 0.5, pairs: Sequence[str] = (),
                pair_weight: float = 0.0) -> LegResult:
    """Run the BM25 leg: the best ``limit`` documents (or chunks) with positive scores.

    Args:
        store: the index's store.
        terms: the query's alternatives as keyword terms (``lore.search.fts.match_terms``).
        weights: BM25 weights for the title, headings and body columns.
        limit: how many candidates to return (``settings.search.candidates``).
        restriction: restricts matches to chunks of the allowed documents.
        per_document: rank documents, each represented by its best chunk (False:
            rank chunks, for one hit per chunk).
        share: the document-level part of a document's score
            (``settings.search.document_share``; ``lore.store.bm25``).
    """
    if not terms:
        return LegResult("keyword", [])
    return LegResult("keyword", store.keyword_ranking(
        terms, weights=weights, limit=limit, restriction=restriction,
        per_document=per_document, share=share, pairs=pairs, pair_weight=pair_weight))


def snippets(store: SearchReads, terms: Sequence[str], chunk_ids: Iterable[int], *,
             words: Sequence[str] = ()) -> dict[int, Snippet]:
    """A snippet for each chunk: around the matched terms, else the chunk's start.

    Computed only for the hits that are shown, because marking re-reads and
    re-tokenizes each chunk.

    Args:
        store: the index's store.
        terms: the keyword terms whose matches to mark (none: leading snippets).
        chunk_ids: the chunks to describe.
        words: text to mark wherever it occurs (``highlight_words``): CJK words,
            which the index matches inside longer tokens, so FTS5 cannot mark them.
    """
    ids = list(dict.fromkeys(chunk_ids))
    if not ids:
        return {}
    marked = store.marked_snippets(terms, ids, marks=(_OPEN, _CLOSE), tokens=SNIPPET_TOKENS)
    found = {cid: parse_marked(text) for cid, text in marked.items()}
    missing = [i for i in ids if i not in found or words]
    if missing:
        for cid, text in store.chunk_texts(missing).items():
            shown = found.get(cid) or _leading_snippet(text)
            found[cid] = mark_words(shown, text, words) if words else shown
    return found


def highlight_words(parsed: ParsedQuery) -> list[str]:
    """The query's CJK runs, longest first: what ``snippets`` marks by substring."""
    runs = {run for text in (*parsed.terms, *parsed.phrases) for run in cjk_runs(text)}
    return sorted(runs, key=lambda run: (-len(run), run))


def mark_words(snippet: Snippet, text: str, words: Sequence[str]) -> Snippet:
    """``snippet`` with every occurrence of ``words`` marked too; when none occurs in
    it, a window of ``text`` around the first occurrence instead (if there is one).

    Words and text are compared with Chinese folded (``lore.documents.hanfold``), as the
    index matched them, so ``温柔`` marks ``溫柔``; folding keeps every offset in place.
    """
    folded_words = [fold_han(word) for word in words]
    shown = fold_han(snippet.text)
    if not any(word in shown for word in folded_words):
        plain = _WHITESPACE.sub(" ", text).strip()
        folded = fold_han(plain)
        hits = [folded.find(word) for word in folded_words if word in folded]
        if not hits:
            return snippet
        start = max(0, min(hits) - CJK_CONTEXT_CHARS)
        end = min(len(plain), min(hits) + 2 * CJK_CONTEXT_CHARS)
        window = ("…" if start else "") + plain[start:end] + ("…" if end < len(plain) else "")
        snippet, shown = Snippet(window, ()), fold_han(window)
    spans = list(snippet.highlights)
    for word in folded_words:   # longest first: a shorter word inside a marked one stays unmarked
        at = shown.find(word)
        while at >= 0:
            span = (at, at + len(word))
            if not any(s < span[1] and span[0] < e for s, e in spans):
                spans.append(span)
            at = shown.find(word, at + len(word))
    return Snippet(snippet.text, tuple(sorted(spans)))


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
