"""BM25 over PostgreSQL tsvectors, scored the way SQLite FTS5's ``bm25()`` scores.

``ts_rank`` ranks differently enough from BM25 (no inverse document frequency)
that the two backends would disagree on many queries. So the keyword leg
fetches, for the chunks matching any term, each term's weighted hit count
(tsvector weights A, B, C carry the title, heading and body weights) and the
chunk's token count, and scores here with FTS5's formula:

    idf(t)   = ln((N - n(t) + 0.5) / (n(t) + 0.5)), at least 1e-6
    score(c) = sum over terms of idf(t) * f(t, c) * (k1 + 1)
                                 / (f(t, c) + k1 * (1 - b + b * |c| / avgdl))

with k1 = 1.2, b = 0.75, N the root's chunks, n(t) the chunks matching t,
f(t, c) the weighted hit count, |c| the chunk's tokens (every column, as FTS5
counts them). A phrase counts its rarest word's hits; a prefix term the hits
of every lexeme it covers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

K1, B = 1.2, 0.75


@dataclass(frozen=True)
class TermHits:
    """One keyword term's part of a query: its lexemes and how to count them.

    Attributes:
        lexemes: the normalised words (one for a word, several for a phrase).
        prefix: whether the last lexeme is a prefix (``word*``).
        documents: how many chunks of the root match the term (n(t)).
    """

    lexemes: tuple[str, ...]
    prefix: bool
    documents: int


def term_frequency(term: TermHits, hits: Mapping[str, float]) -> float:
    """f(t, c): the weighted hits of a chunk's lexemes (``hits``: lexeme -> weighted count)."""
    if not term.lexemes:
        return 0.0
    if term.prefix:
        *words, stem = term.lexemes
        prefixed = sum(n for lexeme, n in hits.items() if lexeme.startswith(stem))
        return min([prefixed, *(hits.get(w, 0.0) for w in words)])
    return min(hits.get(lexeme, 0.0) for lexeme in term.lexemes)


def bm25(terms: Sequence[TermHits], matched: Sequence[bool], hits: Mapping[str, float],
         tokens: int, *, chunks: int, avgdl: float) -> float:
    """The BM25 score of one chunk (higher is better).

    Args:
        terms: the query's terms.
        matched: whether the chunk matches each term (its tsquery).
        hits: the chunk's weighted hit count per lexeme of interest.
        tokens: the chunk's token count.
        chunks: N, the root's chunk count.
        avgdl: the root's average chunk token count.
    """
    norm = K1 * (1 - B + B * tokens / avgdl) if avgdl > 0 else K1
    score = 0.0
    for term, is_match in zip(terms, matched):
        if not is_match:
            continue
        f = term_frequency(term, hits)
        idf = max(math.log((chunks - term.documents + 0.5) / (term.documents + 0.5)), 1e-6)
        score += idf * f * (K1 + 1) / (f + norm)
    return score
