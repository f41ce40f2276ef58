"""Names as fusion evidence: a candidate only the vector leg found, lacking the query's names.

``shaping.is_name`` tells a term written as a name (gene, work item id) from
a word; ``shaping.name_shortfall`` takes from a vector-only candidate the part
of its vector contribution that the names it lacks account for; the engine
adds that as the ``names`` boost.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import replace

import pytest

from lore.documents.model import Chunk, Document
from lore.search.engine import search_store
from lore.search.fusion import LegResult, add_boost, fuse
from lore.search.hits import Hit
from lore.search.shaping import is_name, name_shortfall
from lore.settings import SearchSettings, Settings
from lore.store.base import Restriction, SearchReads
from lore.store.catalog import Catalog


@pytest.mark.parametrize("term", ['"BRCA1"', '"IL-6"', '"TNF-alpha"', '"DNA"', '"ADR-0013"',
                                  '"mRNA"', '"UUIDv7"', "p53", '"0309"'])
def test_names_are_terms_written_with_a_digit_or_an_inner_capital(term: str) -> None:
    assert is_name(term)


@pytest.mark.parametrize("term", ['"levels"', '"Carriers"', '"apoptosis"', '"leaderboards"',
                                  '"bots"', '"red blood"', '"checker\'s"', '"A"', '"I"',
                                  '"¿Cada"', '"«Über»"', '"O\'Brien"'])
def test_words_in_any_case_a_sentence_writes_them_are_not_names(term: str) -> None:
    assert not is_name(term)


class _Holders:
    """``term_coverage`` over a fixed table: document -> the terms it holds, all of equal IDF."""

    def __init__(self, holds: dict[int, set[str]]) -> None:
        self.holds = holds
        self.asked: list[list[str]] = []

    def term_coverage(self, terms: Sequence[str], document_ids: Collection[int]
                      ) -> dict[int, float]:
        self.asked.append(list(terms))
        return {d: len(self.holds.get(d, set()) & set(terms)) / len(terms) for d in document_ids}


def _legs() -> list[LegResult]:
    # chunk c is document c; 1 and 2 are vector-only, 3 and 4 the keyword leg's
    return [LegResult("keyword", [(3, 5.0), (4, 1.0)]),
            LegResult("vector", [(2, 0.80), (1, 0.79), (3, 0.50), (4, 0.40)])]


def test_a_vector_only_candidate_holding_the_names_overtakes_one_lacking_them() -> None:
    weights = {"keyword": 0.55, "vector": 0.45}
    fused = fuse(_legs(), weights, k=10, method="score")
    order = [f.chunk_id for f in fused]
    assert order.index(2) < order.index(1)        # nearer in meaning: first without the evidence
    store = _Holders({1: {'"BRCA1"', '"carriers"'}, 2: {'"cancer"'}})
    amounts = name_shortfall(store, ['"BRCA1"', '"carriers"'], fused, {c: c for c in range(5)},
                             0.25)
    vector_of = {f.chunk_id: f.legs["vector"].contribution for f in fused}
    assert amounts == {1: 0.0, 2: pytest.approx(-0.75 * vector_of[2])}
    assert store.asked == [['"BRCA1"']]           # coverage of the names alone
    order = [f.chunk_id for f in add_boost(fused, "names", amounts)]
    assert order.index(1) < order.index(2)


def test_partly_held_names_cost_their_share() -> None:
    fused = fuse(_legs(), {"keyword": 0.55, "vector": 0.45}, k=10, method="score")
    store = _Holders({1: {'"BRCA1"'}, 2: set()})
    amounts = name_shortfall(store, ['"BRCA1"', '"TP53"', '"levels"'], fused,
                             {c: c for c in range(5)}, 0.0)
    vector_of = {f.chunk_id: f.legs["vector"].contribution for f in fused}
    assert amounts == {1: pytest.approx(-0.5 * vector_of[1]), 2: pytest.approx(-vector_of[2])}


@pytest.mark.parametrize(("terms", "floor", "legs"), [
    (['"carriers"', '"dangerous"'], 0.25, _legs()),                    # no names: a paraphrase
    (['"BRCA1"'], 1.0, _legs()),                                       # turned off
    (['"BRCA1"'], 0.25, [LegResult("vector", [(1, 0.9), (2, 0.5)])]),  # nothing but vector
])
def test_no_shortfall_without_names_when_off_or_with_only_vector_candidates(
        terms: list[str], floor: float, legs: list[LegResult]) -> None:
    fused = fuse(legs, {"keyword": 0.55, "vector": 0.45}, k=10, method="score")
    assert name_shortfall(_Holders({}), terms, fused, {c: c for c in range(5)}, floor) == {}


# --- through the engine -------------------------------------------------------------------

_DOCS = {
    "brca.md": "BRCA1 mutation carriers have a higher risk of breast cancer.",
    "variant.md": "Carriers of a common variant were followed for ten years.",
    "family.md": "Women with a family history of breast cancer were screened yearly.",
}


class _FixedVectors:
    """A vector leg that ranks documents by fixed cosines, whatever the query."""

    def __init__(self, cosines: dict[int, float]) -> None:
        self.cosines = cosines

    def prepare(self, text: str) -> None:
        """Nothing to start."""

    def run(self, store: SearchReads, text: str, *, restriction: Restriction | None,
            candidates: int) -> LegResult:
        ranked = sorted(self.cosines.items(), key=lambda item: -item[1])
        return LegResult("vector", ranked[:candidates])


@pytest.fixture
def store() -> Iterator[Catalog]:
    catalog = Catalog.memory()
    for path, text in _DOCS.items():
        doc = Document(path=path, doc_id=path[:-3], uid=None, title=path[:-3], doctype="note",
                       metadata={}, links=(), body=text, content_hash=path, size=len(text),
                       mtime_ns=0)
        catalog.replace_document(doc, [Chunk(0, (), text, "section", len(text.split()))], "test")
    yield catalog
    catalog.close()


def _search(store: Catalog, query: str, floor: float | None = None) -> list[Hit]:
    """Search with the fixed vector leg; ``floor`` None: the default ``vector_name_floor``."""
    chunk_of = {identity.path: chunk for identity in store.document_identities()
                for chunk, _ in store.document_chunks([identity.id])}
    # the family history is nearest in meaning, the common variant next, the BRCA1 paper last
    leg = _FixedVectors({chunk_of["family.md"]: 0.90, chunk_of["variant.md"]: 0.85,
                         chunk_of["brca.md"]: 0.30})
    search = SearchSettings()
    settings = Settings(search=search if floor is None else replace(search,
                                                                   vector_name_floor=floor))
    return search_store(store, query, settings=settings, explain=True, mode="hybrid",
                        vector_leg=leg).hits


def test_a_claim_naming_a_gene_ranks_the_keyword_match_above_a_near_text_without_it(
        store: Catalog) -> None:
    off = [hit.path for hit in _search(store, "BRCA1 carriers", 1.0)]
    assert off.index("family.md") < off.index("variant.md")
    hits = _search(store, "BRCA1 carriers")
    assert [hit.path for hit in hits].index("variant.md") < \
        [hit.path for hit in hits].index("family.md")
    boosts = {hit.path: hit.explain["boosts"] for hit in hits if hit.explain}
    assert boosts["family.md"]["names"] < 0
    assert "names" not in boosts["variant.md"] and "names" not in boosts["brca.md"]


@pytest.mark.parametrize("query", ["carriers of breast cancer risk",
                                   "CARRIERS OF BRCA1"])   # shouted: capitals say nothing
def test_a_query_without_names_ranks_as_before(store: Catalog, query: str) -> None:
    assert [h.path for h in _search(store, query)] == [h.path for h in _search(store, query, 1.0)]
    assert all("names" not in (h.explain or {}).get("boosts", {}) for h in _search(store, query))
