"""The BM25 leg: column weights, filter restriction, limits; snippets and highlights."""

from __future__ import annotations

import pytest

from lore.search.fts import match_terms
from lore.search.keyword import keyword_leg, parse_marked, snippets
from lore.search.query import parse_query
from lore.store import keyword_reads
from lore.store.base import Restriction, Store
from lore.store.catalog import Catalog


def match(text: str) -> list[str]:
    """The query's alternatives as FTS5 strings, as the engine passes them."""
    return match_terms(parse_query(text, ()))


def paths(store: Store, chunk_ids: list[int]) -> list[str]:
    """The document path of each chunk id, in order."""
    rows = store.hit_rows(chunk_ids)
    return [rows[cid].path for cid in chunk_ids]


def test_column_weights_decide_title_versus_body(mini_store: Store) -> None:
        # "embedding" is in the title of the cache task and in the body of the ADR.
    title_first = keyword_leg(mini_store, match("embedding"), weights=(10.0, 1.0, 0.1), limit=10)
    body_first = keyword_leg(mini_store, match("embedding"), weights=(0.1, 1.0, 10.0), limit=10)
    assert paths(mini_store, [c for c, _ in title_first.ranked])[0].startswith("items/KABSD-TSK-0001")
    assert paths(mini_store, [c for c, _ in body_first.ranked])[0] == "decisions/ADR-0001_sqlite.md"


def test_scores_are_positive_and_descending(mini_store: Store) -> None:
    leg = keyword_leg(mini_store, match("cache vectors"), weights=(3, 2, 1), limit=10)
    scores = [s for _, s in leg.ranked]
    assert leg.name == "keyword"
    assert len(scores) >= 3
    assert all(s > 0 for s in scores)
    assert scores == sorted(scores, reverse=True)


def test_limit_cuts_the_ranking(mini_store: Store) -> None:
    full = keyword_leg(mini_store, match("cache"), weights=(3, 2, 1), limit=100)
    top2 = keyword_leg(mini_store, match("cache"), weights=(3, 2, 1), limit=2)
    assert len(full.ranked) > 2
    assert top2.ranked == full.ranked[:2]


def test_filter_restricts_to_matching_documents(mini_store: Store) -> None:
    leg = keyword_leg(mini_store, match("cache"), weights=(3, 2, 1), limit=100,
                      restriction=Restriction({"type": ("task",), "state": ("done",)}))
    assert set(paths(mini_store, [c for c, _ in leg.ranked])) == {
        "items/KABSD-TSK-0001_cache.md"}


def test_headings_are_searched(mini_store: Store) -> None:
    leg = keyword_leg(mini_store, match("cache"), weights=(3, 2, 1), limit=100)
    assert "notes/README.md" in paths(mini_store, [c for c, _ in leg.ranked])


def test_no_terms_no_hits(mini_store: Store) -> None:
    assert keyword_leg(mini_store, [], weights=(3, 2, 1), limit=10).ranked == []


def test_common_terms_only_score_rows_with_rarer_terms(mini_catalog: Catalog,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    terms = match("cache sidecar")
    exact = keyword_leg(mini_catalog, terms, weights=(3, 2, 1), limit=10)
    assert mini_catalog.common_terms(terms) == set()  # 7 chunks: too few rows to bother
    monkeypatch.setattr(keyword_reads, "COMMON_MIN_ROWS", 0)
    # "cache" is in 5 of the 7 chunks: common; "sidecar" in one.
    assert mini_catalog.common_terms(terms) == {'"cache"'}
    assert mini_catalog.common_terms(match("cache")) == set()  # nothing rarer to restrict to
    pruned = keyword_leg(mini_catalog, terms, weights=(3, 2, 1), limit=10)
    assert len(exact.ranked) > 1
    assert pruned.ranked == exact.ranked[:1]  # the sidecar chunk, with the same score
    assert paths(mini_catalog, [pruned.ranked[0][0]]) == ["items/KABSD-TSK-0002_store.md"]


def test_snippets_mark_the_matched_terms(mini_store: Store) -> None:
    leg = keyword_leg(mini_store, match("sidecar index"), weights=(3, 2, 1), limit=10)
    found = snippets(mini_store, match("sidecar index"), [c for c, _ in leg.ranked])
    sidecar = found[leg.ranked[0][0]]
    marked = [sidecar.text[s:e].lower() for s, e in sidecar.highlights]
    assert sidecar.text == "Store vectors in a sidecar index."
    assert marked == ["sidecar", "index"]


def test_snippet_without_a_match_is_the_chunk_start(mini_store: Store) -> None:
    record = mini_store.get_document("ADR-0001")
    assert record is not None
    chunk = record.chunks[0]
    found = snippets(mini_store, [], [chunk.id])
    assert found[chunk.id].text == chunk.text
    assert found[chunk.id].highlights == ()


@pytest.mark.parametrize("marked, text, spans", [
    ("a \x02b\x03  c\n\nd", "a b c d", ((2, 3),)),
    ("\x02x\x03", "x", ((0, 1),)),
    ("no marks", "no marks", ()),
    ("\x03stray close \x02open", "stray close open", ()),
])
def test_parse_marked(marked: str, text: str, spans: tuple[tuple[int, int], ...]) -> None:
    snippet = parse_marked(marked)
    assert snippet.text == text
    assert snippet.highlights == spans
