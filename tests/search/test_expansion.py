"""Keyword-leg expansion: IDF from the store, words from the feedback documents, merged scores.

Expected values are worked out by hand from ``MINI_DOCS`` (6 chunks; every
chunk's title is indexed with it) and from the hand-built inputs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import pytest

from lore.search.expansion import expand_keyword_leg, expanded_leg, expansion_terms
from lore.search.fts import quote_fts
from lore.search.fusion import LegResult
from lore.settings import SearchSettings, Settings
from lore.store.base import Store


def test_term_weights_are_idf_over_chunks(mini_store: Store) -> None:
    # "cache": both chunks of TSK-0001 (title), TSK-0002's Notes, the ADR, the README's
    # heading: 5 of 6 chunks. "sidecar": one. "zzqx": none.
    weights = mini_store.term_weights([quote_fts("cache"), quote_fts("sidecar"),
                                       quote_fts("zzqx")])
    assert weights == {quote_fts("cache"): pytest.approx(math.log(1 + 6 / 6)),
                       quote_fts("sidecar"): pytest.approx(math.log(1 + 6 / 2)),
                       quote_fts("zzqx"): pytest.approx(math.log(1 + 6 / 1))}


class _Idf:
    """A store that knows only IDFs (what ``expansion_terms`` asks of it)."""

    def __init__(self, idf: dict[str, float]) -> None:
        self.idf = idf
        self.asked: list[str] = []

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        self.asked.extend(terms)
        return {t: self.idf.get(t[1:-1], 1.0) for t in terms}


def test_expansion_words_weigh_frequency_times_idf_without_query_or_stop_words() -> None:
    store = _Idf({"sidecar": 3.0, "vectors": 1.0, "faiss": 2.0})
    texts = ["The sidecar sidecar holds vectors vectors vectors 2024 and the indexes.",
             "A faiss sidecar."]
    words = expansion_terms(store, [quote_fts("index")], texts, terms=3)  # type: ignore[arg-type]
    # sidecar: (2/7 + 1/2) * 3; faiss: 1/2 * 2; vectors: 3/7 * 1. "indexes" shares the
    # query word's stem, "the" / "and" are stopwords, "2024" is a number.
    assert words == [quote_fts("sidecar"), quote_fts("faiss"), quote_fts("vectors")]
    assert quote_fts("indexes") not in store.asked and quote_fts("the") not in store.asked


def test_expanded_leg_adds_the_weighted_expansion_per_document() -> None:
    keyword = LegResult("keyword", [(1, 4.0), (3, 1.0)])
    expansion = LegResult("keyword", [(4, 10.0), (2, 6.0)])  # chunk 4 is document 30's
    owners = {1: 10, 2: 20, 3: 30, 4: 30}
    leg = expanded_leg(keyword, expansion, owners, weight=0.5, limit=10, per_document=True)
    # document 30 keeps the chunk the original leg ranked it by
    assert leg.ranked == [(3, 6.0), (1, 4.0), (2, 3.0)]
    assert expanded_leg(keyword, expansion, owners, weight=0.5, limit=2,
                        per_document=False).ranked == [(4, 5.0), (1, 4.0)]


def test_expansion_finds_documents_that_share_the_feedback_vocabulary(mini_store: Store) -> None:
    settings = Settings(search=dataclasses.replace(
        SearchSettings(), expansion_weight=0.5, expansion_terms=64))
    terms = [quote_fts("invalidation")]
    leg = LegResult("keyword", mini_store.keyword_ranking(
        terms, weights=(3.0, 2.0, 1.0), limit=10, restriction=None, per_document=True,
        share=0.5))
    owners = mini_store.chunk_owners([cid for cid, _ in leg.ranked])
    paths = {cid: row.path for cid, row in mini_store.hit_rows(
        [cid for cid, _ in leg.ranked]).items()}
    assert list(paths.values()) == ["items/KABSD-TSK-0001_cache.md"]
    legs, owned = expand_keyword_leg(
        mini_store, terms, None, [leg], owners, feedback=list(owners.values()),
        settings=settings, candidates=10, per_document=True)
    found = [row.path for row in mini_store.hit_rows([c for c, _ in legs[0].ranked]).values()]
    assert found[0] == "items/KABSD-TSK-0001_cache.md"
    # TSK-0001's words ("vectors", "cache", ...) are in TSK-0002, which lacks the query word
    assert "items/KABSD-TSK-0002_store.md" in found
    assert set(owned) >= {cid for cid, _ in legs[0].ranked}
