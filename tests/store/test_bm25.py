"""The keyword rankings against a brute-force BM25 over the same tokens.

The reference re-implements FTS5's bm25() (k1 = 1.2, b = 0.75, IDF
``log((N - n + 0.5) / (n + 0.5))`` floored at 1e-6, column weights summed
into one frequency, the row length over all columns) in plain Python, for
documents (title, body) and chunks (title, headings, body), and mixes them
as ``lore.store.bm25.rank_documents`` documents. For random corpora, queries
(repeated and unknown words included), filters and pruning thresholds, the
ranking must hold exactly the reference's top k (order free only within
float ties).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lore.documents.model import Chunk, Document
from lore.search.fts import match_terms, proximity_pairs
from lore.search.keyword import keyword_leg
from lore.search.query import parse_query
from lore.store import bm25
from lore.store.base import Restriction
from lore.store.catalog import Catalog

# Words the porter stemmer maps to distinct stems, and none of them a stopword.
WORDS = ["kiwi", "mango", "plum", "fig", "pear", "yam", "okra", "leek", "corn", "bean"]
WEIGHTS = (3.0, 2.0, 1.0)
TYPES = ["task", "bug"]


def occurrences(tokens: list[str], phrase: tuple[str, ...]) -> int:
    """How often ``phrase`` occurs in ``tokens`` as consecutive tokens."""
    n = len(phrase)
    return sum(tuple(tokens[i:i + n]) == phrase for i in range(len(tokens) - n + 1))


def bm25_scores(rows: dict[int, list[tuple[list[str], float]]],
                query: list[str], pairs: Sequence[tuple[str, str]] = (),
                pair_weight: float = 0.0) -> dict[int, float]:
    """FTS5's bm25() for every row matching a query word: row -> [(column tokens, weight)];
    plus ``pair_weight`` times the bm25() of the word pairs as phrases."""
    total = len(rows)
    lengths = {r: sum(len(tokens) for tokens, _ in cols) for r, cols in rows.items()}
    avgdl = sum(lengths.values()) / total

    def part(phrases: list[tuple[str, ...]], cols: list[tuple[list[str], float]],
             length: int) -> float:
        score = 0.0
        for phrase in phrases:     # a repeated query word counts again, as in FTS5
            hits = sum(any(occurrences(tokens, phrase) for tokens, _ in c)
                       for c in rows.values())
            freq = sum(weight * occurrences(tokens, phrase) for tokens, weight in cols)
            idf = max(math.log((total - hits + 0.5) / (hits + 0.5)), 0) or 1e-6
            score += idf * freq * 2.2 / (freq + 1.2 * (0.25 + 0.75 * length / avgdl))
        return score

    scores: dict[int, float] = {}
    for r, cols in rows.items():
        if not any(w in tokens for w in query for tokens, _ in cols):
            continue
        scores[r] = (part([(w,) for w in query], cols, lengths[r])
                     + pair_weight * part(list(pairs), cols, lengths[r]))
    return scores


corpora = st.lists(st.tuples(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),                    # title
    st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12),
             min_size=1, max_size=3),                                             # chunks
    st.sampled_from(TYPES)), min_size=1, max_size=14)


def build(corpus: list[tuple[list[str], list[list[str]], str]]) -> Catalog:
    catalog = Catalog.memory()
    for i, (title, chunks, doctype) in enumerate(corpus):
        body = "\n\n".join(" ".join(words) for words in chunks)
        doc = Document(path=f"d{i:02}.md", doc_id=f"d{i:02}", uid=None, title=" ".join(title),
                       doctype=doctype, metadata={"type": doctype}, links=(), body=body,
                       content_hash=str(i), size=len(body), mtime_ns=0)
        catalog.replace_document(doc, [Chunk(j, (), " ".join(words), "section", len(words))
                                       for j, words in enumerate(chunks)], "test")
    return catalog


def top_set_ok(got: list[int], expected: dict[int, float], k: int) -> None:
    """``got`` is a valid top ``k`` of ``expected``: right size, nothing better left out."""
    assert len(got) == min(k, len(expected)), (got, expected)
    assert len(set(got)) == len(got)
    if not got:
        return
    worst_taken = min(expected[r] for r in got)
    best_left = max((s for r, s in expected.items() if r not in got), default=-1.0)
    assert best_left <= worst_taken + 1e-9, (got, expected)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpus=corpora,
       query=st.lists(st.sampled_from([*WORDS, "zzqqxxtypo"]), min_size=1, max_size=6),
       k=st.integers(min_value=1, max_value=8),
       types=st.one_of(st.none(), st.lists(st.sampled_from(TYPES), min_size=1, unique=True)),
       fraction=st.sampled_from([0.0, 0.3, 0.6, 2.0]),
       pair_weight=st.sampled_from([0.0, 0.1, 0.7]))
def test_rankings_hold_the_brute_force_top_k(corpus: list[tuple[list[str], list[list[str]], str]],
                                             query: list[str], k: int, types: list[str] | None,
                                             fraction: float, pair_weight: float) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bm25, "COMMON_MIN_ROWS", 0)     # prune whenever a term is common enough
        mp.setattr(bm25, "COMMON_FRACTION", fraction)
        check(corpus, query, k, types, pair_weight)


def test_word_pairs_lift_the_document_holding_them_in_order() -> None:
    corpus = [(["fig"], [["kiwi", "plum", "mango"]], "task"),    # "kiwi plum" in order
              (["fig"], [["plum", "mango", "kiwi"]], "task")]    # both words, apart
    catalog = build(corpus)
    try:
        terms = match_terms(parse_query("kiwi plum", ()))
        pairs = proximity_pairs(parse_query("kiwi plum", ()))
        assert pairs == ['"kiwi plum"']
        plain = keyword_leg(catalog, terms, weights=WEIGHTS, limit=2, share=0.5)
        near = keyword_leg(catalog, terms, weights=WEIGHTS, limit=2, share=0.5,
                           pairs=pairs, pair_weight=0.5)
        assert plain.ranked[0][1] == pytest.approx(plain.ranked[1][1])
        assert near.ranked[0][1] > near.ranked[1][1] == pytest.approx(plain.ranked[1][1])
        check(corpus, ["kiwi", "plum"], 2, None, 0.5)
    finally:
        catalog.close()


def check(corpus: list[tuple[list[str], list[list[str]], str]], query: list[str], k: int,
          types: list[str] | None, pair_weight: float = 0.0) -> None:
    allowed = {i for i, (_, _, t) in enumerate(corpus) if types is None or t in types}
    documents = {i + 1: [(title, 3.0), ([w for c in chunks for w in c], 1.0)]
                 for i, (title, chunks, _) in enumerate(corpus)}
    chunk_rows: dict[int, list[tuple[list[str], float]]] = {}
    owner: dict[int, int] = {}
    for i, (title, chunks, _) in enumerate(corpus):
        for words in chunks:
            owner[len(owner) + 1] = i + 1
            chunk_rows[len(chunk_rows) + 1] = [(title, 3.0), ([], 2.0), (words, 1.0)]
    # Neighbouring query words, as ``proximity_pairs`` pairs them (no stopword here).
    pairs = list(itertools.pairwise(query))
    doc_scores = bm25_scores(documents, query, pairs, pair_weight)
    chunk_scores = bm25_scores(chunk_rows, query, pairs, pair_weight)
    best_chunk: dict[int, float] = {}
    for chunk, score in chunk_scores.items():
        best_chunk[owner[chunk]] = max(best_chunk.get(owner[chunk], 0.0), score)
    mixed = {d: 0.5 * doc_scores.get(d, 0.0) + 0.5 * best_chunk.get(d, 0.0)
             for d in set(doc_scores) | set(best_chunk) if d - 1 in allowed}
    chunks_allowed = {c: s for c, s in chunk_scores.items() if owner[c] - 1 in allowed}

    catalog = build(corpus)
    try:
        terms = match_terms(parse_query(" ".join(query), ()))
        restriction = Restriction({"type": tuple(types)}) if types else None
        per_doc = keyword_leg(catalog, terms, weights=WEIGHTS, limit=k,
                              restriction=restriction, share=0.5,
                              pairs=proximity_pairs(parse_query(" ".join(query), ())),
                              pair_weight=pair_weight)
        got_docs = [owner[c] for c, _ in per_doc.ranked]
        top_set_ok(got_docs, mixed, k)
        for (chunk, score), doc in zip(per_doc.ranked, got_docs):
            assert score == pytest.approx(mixed[doc], rel=1e-9, abs=1e-12)
            if doc in best_chunk:      # the representative is the document's best chunk
                assert chunk_scores[chunk] == pytest.approx(best_chunk[doc], rel=1e-9)
        per_chunk = keyword_leg(catalog, terms, weights=WEIGHTS, limit=k,
                                restriction=restriction, per_document=False,
                                pairs=proximity_pairs(parse_query(" ".join(query), ())),
                                pair_weight=pair_weight)
        top_set_ok([c for c, _ in per_chunk.ranked], chunks_allowed, k)
    finally:
        catalog.close()


def test_the_vocabulary_stems_to_distinct_tokens() -> None:
    catalog = build([(WORDS, [WORDS], "task")])
    try:
        catalog.conn.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, 'chunks_fts',"
                             " 'row')")
        stems = {term for (term,) in catalog.conn.execute("SELECT term FROM temp.v")}
        assert len(stems) == len(WORDS)
    finally:
        catalog.close()

