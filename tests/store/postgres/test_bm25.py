"""BM25 on tsvector hit counts: the FTS5 formula, phrases and prefixes counted as FTS5 counts them."""

from __future__ import annotations

import math

import pytest

from lore.store.postgres.bm25 import K1, TermHits, bm25, term_frequency


def test_one_term_scores_as_fts5_does() -> None:
    term = TermHits(("cach",), prefix=False, documents=3)
    score = bm25([term], [True], {"cach": 2.0}, tokens=10, chunks=100, avgdl=20.0)
    idf = math.log((100 - 3 + 0.5) / (3 + 0.5))
    norm = K1 * (1 - 0.75 + 0.75 * 10 / 20)
    assert score == pytest.approx(idf * 2.0 * (K1 + 1) / (2.0 + norm))


def test_rarer_terms_and_shorter_chunks_score_higher() -> None:
    rare, common = TermHits(("a",), False, 2), TermHits(("b",), False, 60)
    hits = {"a": 1.0, "b": 1.0}
    assert bm25([rare], [True], hits, 10, chunks=100, avgdl=10) > \
        bm25([common], [True], hits, 10, chunks=100, avgdl=10)
    assert bm25([rare], [True], hits, 5, chunks=100, avgdl=10) > \
        bm25([rare], [True], hits, 50, chunks=100, avgdl=10)
    # A term in most chunks still adds a little, never a penalty (FTS5's 1e-6 floor).
    assert bm25([TermHits(("c",), False, 90)], [True], {"c": 1.0}, 10, chunks=100,
                avgdl=10) > 0


def test_unmatched_terms_add_nothing() -> None:
    term = TermHits(("x",), False, 5)
    assert bm25([term], [False], {"x": 3.0}, 10, chunks=50, avgdl=10) == 0.0


def test_phrases_count_their_rarest_word_and_prefixes_every_covered_lexeme() -> None:
    hits = {"vector": 3.0, "store": 1.0, "stori": 2.0}
    assert term_frequency(TermHits(("vector", "store"), False, 1), hits) == 1.0
    assert term_frequency(TermHits(("stor",), True, 1), hits) == 3.0
    assert term_frequency(TermHits((), False, 0), hits) == 0.0
