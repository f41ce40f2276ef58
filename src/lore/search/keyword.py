"""The keyword leg: BM25 over ``chunks_fts`` with column weights, and snippets.

Column weights (title, headings, body) come from ``settings.search`` and are
bound as parameters of ``bm25(chunks_fts, ...)``. (FTS5's ``rank MATCH
'bm25(...)'`` override measured ~5x slower on the kano corpus: it evaluates
the rank function through a nested statement per row.) BM25 in FTS5 is
"lower is better"; the leg reports the negated value so that every leg's
scores read "higher is better".

Restrictions on ``rowid`` are written ``+rowid IN (...)``: the unary plus
keeps SQLite from handing the IN list to FTS5 as a rowid constraint, which
makes FTS5 re-run the whole MATCH once per listed rowid (300 ms instead of
1 ms for a filter that passes a few thousand chunks).

Common terms (the "cutoff frequency" of Lucene's common-terms query): BM25
costs time per matching row, and a word in half the chunks ("backlog" in a
backlog) makes every row match while adding almost nothing to any score
(its IDF is near zero). When a query mixes such common terms with rarer
ones, only chunks that match a rarer term are candidates; their scores
still count every term. On the kano corpus this takes "Backlog Structure and
MOC" from 10 ms to 1 ms with the same top 100. A query of common terms only
is run as is.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lore.documents.cjk import cjk_runs
from lore.search.fusion import LegResult
from lore.search.query import ParsedQuery
from lore.store.bm25 import CHUNKS, DocFilter, rank, rank_documents

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


def keyword_leg(conn: sqlite3.Connection, terms: Sequence[str], *,
                weights: tuple[float, float, float], limit: int,
                doc_filter: DocFilter | None = None, per_document: bool = True,
                share: float = 0.5) -> LegResult:
    """Run the BM25 leg: the best ``limit`` documents (or chunks) with positive scores.

    Args:
        conn: a catalog connection.
        terms: the query's alternatives as FTS5 strings (``lore.search.fts.match_terms``).
        weights: BM25 weights for the title, headings and body columns.
        limit: how many candidates to return (``settings.search.candidates``).
        doc_filter: restricts matches to chunks of the allowed documents.
        per_document: rank documents (each represented by its best chunk);
            False ranks chunks, for one hit per chunk.
        share: the document-level part of a document's score (``lore.store.bm25``).
    """
    if not terms:
        return LegResult("keyword", [])
    if not per_document:
        return LegResult("keyword", rank(conn, CHUNKS, terms, weights=(*weights, weights[2]),
                                         limit=limit, doc_filter=doc_filter))
    ranked = rank_documents(conn, terms, weights=weights, share=share, limit=limit,
                            doc_filter=doc_filter)
    return LegResult("keyword", [(hit.chunk_id, hit.score) for hit in ranked])


def snippets(conn: sqlite3.Connection, match: str | None, chunk_ids: Iterable[int], *,
             words: Sequence[str] = ()) -> dict[int, Snippet]:
    """A snippet for each chunk: around the matched terms, else the chunk's start.

    Computed only for the hits that are shown, because ``snippet()`` re-reads
    and re-tokenizes each chunk.

    Args:
        conn: a catalog connection.
        match: the FTS5 expression whose terms to mark, or ``None``.
        chunk_ids: the chunks to describe.
        words: text to mark wherever it occurs (``highlight_words``): CJK words,
            which FTS5 matches inside longer tokens and so cannot mark itself.
    """
    ids = list(dict.fromkeys(chunk_ids))
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    found: dict[int, Snippet] = {}
    if match is not None:
        rows = conn.execute(
            f"SELECT rowid, snippet(chunks_fts, 2, ?, ?, '…', ?) FROM chunks_fts"
            f" WHERE chunks_fts MATCH ? AND +rowid IN ({marks})",
            [_OPEN, _CLOSE, SNIPPET_TOKENS, match, *ids])
        found = {int(rowid): parse_marked(text) for rowid, text in rows}
    missing = [i for i in ids if i not in found or words]
    if missing:
        marks = ", ".join("?" for _ in missing)
        for rowid, text in conn.execute(f"SELECT id, text FROM chunks WHERE id IN ({marks})",
                                        missing):
            shown = found.get(int(rowid)) or _leading_snippet(text)
            found[int(rowid)] = mark_words(shown, text, words) if words else shown
    return found


def highlight_words(parsed: ParsedQuery) -> list[str]:
    """The query's CJK runs, longest first: what ``snippets`` marks by substring."""
    runs = {run for text in (*parsed.terms, *parsed.phrases) for run in cjk_runs(text)}
    return sorted(runs, key=lambda run: (-len(run), run))


def mark_words(snippet: Snippet, text: str, words: Sequence[str]) -> Snippet:
    """``snippet`` with every occurrence of ``words`` marked too; when none occurs in
    it, a window of ``text`` around the first occurrence instead (if there is one)."""
    if not any(word in snippet.text for word in words):
        plain = _WHITESPACE.sub(" ", text).strip()
        hits = [plain.find(word) for word in words if word in plain]
        if not hits:
            return snippet
        start = max(0, min(hits) - CJK_CONTEXT_CHARS)
        end = min(len(plain), min(hits) + 2 * CJK_CONTEXT_CHARS)
        window = ("…" if start else "") + plain[start:end] + ("…" if end < len(plain) else "")
        snippet = Snippet(window, ())
    spans = list(snippet.highlights)
    for word in words:   # longest first: a shorter word inside a marked one stays unmarked
        at = snippet.text.find(word)
        while at >= 0:
            span = (at, at + len(word))
            if not any(s < span[1] and span[0] < e for s, e in spans):
                spans.append(span)
            at = snippet.text.find(word, at + len(word))
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
