"""Weighted RRF on hand-built rankings, pins, tie-breaking, boosts."""

from __future__ import annotations

import pytest

from lore.search.fusion import (
    LegResult,
    adapt_weights,
    add_boost,
    doctype_boosts,
    fuse,
    spread_weights,
)


def test_weighted_rrf_matches_the_formula() -> None:
    k = 60
    keyword = LegResult("keyword", [(10, 9.0), (20, 5.0), (30, 1.0)])
    vector = LegResult("vector", [(30, 0.9), (10, 0.8)])
    fused = fuse([keyword, vector], {"keyword": 1.0, "vector": 0.5}, k=k)
    scores = {f.chunk_id: f.score for f in fused}
    assert scores[10] == pytest.approx(1.0 / (k + 1) + 0.5 / (k + 2))
    assert scores[20] == pytest.approx(1.0 / (k + 2))
    assert scores[30] == pytest.approx(1.0 / (k + 3) + 0.5 / (k + 1))
    assert [f.chunk_id for f in fused] == sorted(scores, key=lambda c: -scores[c])


def test_explain_records_ranks_and_contributions() -> None:
    fused = fuse([LegResult("keyword", [(1, 3.5), (2, 1.0)]), LegResult("id", [(2, 1.0)])],
                 {"keyword": 1.0, "id": 2.0}, k=10)
    by_id = {f.chunk_id: f.explain() for f in fused}
    assert by_id[2]["legs"] == {
        "id": {"rank": 1, "score": 1.0, "contribution": pytest.approx(2.0 / 11)},
        "keyword": {"rank": 2, "score": 1.0, "contribution": pytest.approx(1.0 / 12)},
    }
    assert by_id[1]["legs"].keys() == {"keyword"}
    assert by_id[2]["score"] == pytest.approx(2.0 / 11 + 1.0 / 12)


def test_missing_weight_defaults_to_one_and_duplicates_count_once() -> None:
    fused = fuse([LegResult("other", [(5, 1.0), (5, 0.5), (6, 0.1)])], {}, k=0)
    scores = {f.chunk_id: f.score for f in fused}
    assert scores == {5: pytest.approx(1.0), 6: pytest.approx(1.0 / 3)}


def test_pinned_leg_outranks_higher_scores() -> None:
    # Chunk 1 is first in two legs (score 2/61); the pinned id hit has 1/61.
    legs = [LegResult("keyword", [(1, 1.0)]), LegResult("vector", [(1, 1.0)]),
            LegResult("id", [(2, 1.0)])]
    fused = fuse(legs, {"id": 1.0}, k=60, pin_legs=("id",))
    assert [f.chunk_id for f in fused] == [2, 1]
    assert fused[0].pinned and not fused[1].pinned
    assert fused[0].score < fused[1].score


def test_pin_tiers_follow_the_order_of_the_pinning_legs() -> None:
    # The anchor (5) is an exact-id hit and also last in the graph leg; the graph's
    # answers (6, 7) rank above it in the graph leg's own order, whatever the scores.
    legs = [LegResult("keyword", [(5, 9.0), (7, 1.0)]), LegResult("id", [(5, 1.0)]),
            LegResult("graph", [(7, 1.0), (6, 0.5), (5, 0.3)])]
    fused = fuse(legs, {"id": 2.0}, k=60, pin_legs=("graph", "id"), method="score")
    assert [f.chunk_id for f in fused] == [7, 6, 5]
    assert [f.pin for f in fused] == [(0, 1), (0, 2), (0, 3)]
    only_id = fuse(legs[:2], {}, k=60, pin_legs=("graph", "id"))
    assert [f.pin for f in only_id] == [(1, 1), None]


def test_ties_break_by_best_rank_then_chunk_id() -> None:
    # 7 and 3 both score 1/(k+1) + 1/(k+2); 6 and 8 one rank-1 hit; 4 and 9 one rank-2 hit.
    legs = [LegResult("a", [(7, 1.0), (4, 1.0)]), LegResult("b", [(3, 1.0), (9, 1.0)]),
            LegResult("c", [(8, 1.0), (7, 1.0)]), LegResult("d", [(6, 1.0), (3, 1.0)])]
    expected = [3, 7, 6, 8, 4, 9]
    assert [f.chunk_id for f in fuse(legs, {}, k=60)] == expected
    assert [f.chunk_id for f in fuse(list(reversed(legs)), {}, k=60)] == expected


def test_equal_scores_prefer_the_better_best_rank() -> None:
    # k = 0: chunk 2 at rank 1 of weight 1 scores 1/1; chunk 1 at rank 2 of weight 2 scores 2/2.
    fused = fuse([LegResult("a", [(2, 1.0)]), LegResult("b", [(9, 1.0), (1, 1.0)])],
                 {"a": 1.0, "b": 2.0}, k=0)
    by_id = {f.chunk_id: f for f in fused}
    assert by_id[1].score == by_id[2].score
    assert [f.chunk_id for f in fused] == [9, 2, 1]


def test_boosts_add_record_and_resort() -> None:
    fused = fuse([LegResult("keyword", [(1, 1.0), (2, 1.0)])], {}, k=60)
    boosted = add_boost(fused, "doctype", {2: 0.01, 1: 0.0})
    assert [f.chunk_id for f in boosted] == [2, 1]
    assert boosted[0].boosts == {"doctype": 0.01}
    assert boosted[0].score == pytest.approx(1.0 / 62 + 0.01)
    assert boosted[1].boosts == {}


def test_doctype_boosts_match_case_insensitively() -> None:
    assert doctype_boosts({1: "ADR", 2: "Task", 3: "Note"}, {"adr": 0.02, "Task": -0.01}) == {
        1: 0.02, 2: -0.01}


def test_empty_input() -> None:
    assert fuse([], {}, k=60) == []
    assert fuse([LegResult("keyword", [])], {}, k=60) == []


def test_collapse_gives_a_document_both_legs_contributions() -> None:
    from lore.search.fusion import collapse_to_documents

    # doc 1 = chunks 10, 11; doc 2 = chunk 20; doc 3 = chunk 30
    owners = {10: 1, 11: 1, 20: 2, 30: 3}
    keyword = LegResult("keyword", [(10, 9.0), (20, 8.0), (11, 7.0)])
    vector = LegResult("vector", [(30, 0.9), (11, 0.8), (20, 0.7)])
    collapsed = collapse_to_documents([keyword, vector], owners)
    # doc 1 is represented by chunk 10 (rank 0 in keyword beats rank 1 in vector)
    assert collapsed[0].ranked == [(10, 9.0), (20, 8.0)]
    assert collapsed[1].ranked == [(30, 0.9), (10, 0.8), (20, 0.7)]
    fused = fuse(collapsed, {}, k=60)
    by_chunk = {f.chunk_id: f.score for f in fused}
    assert by_chunk[10] == pytest.approx(1 / 61 + 1 / 62)
    assert by_chunk[20] == pytest.approx(1 / 62 + 1 / 63)
    assert by_chunk[30] == pytest.approx(1 / 61)
    assert [f.chunk_id for f in fused] == [10, 20, 30]
    # per chunk, doc 1's two sections would have split its credit and lost to doc 2
    split = {f.chunk_id: f.score for f in fuse([keyword, vector], {}, k=60)}
    assert split[10] < split[20]


def test_collapse_drops_unknown_chunks() -> None:
    from lore.search.fusion import collapse_to_documents

    (leg,) = collapse_to_documents([LegResult("keyword", [(1, 1.0), (2, 0.5)])], {2: 7})
    assert leg.ranked == [(2, 0.5)]


def test_score_fusion_is_a_weighted_sum_of_min_max_scores() -> None:
    keyword = LegResult("keyword", [(1, 12.0), (2, 8.0), (3, 2.0)])
    vector = LegResult("vector", [(3, 0.9), (1, 0.5), (4, 0.4)])
    fused = fuse([keyword, vector], {"keyword": 0.6, "vector": 0.4}, k=60, method="score")
    by_chunk = {f.chunk_id: f.score for f in fused}
    assert by_chunk[1] == pytest.approx(0.6 * 1.0 + 0.4 * (0.5 - 0.4) / 0.5)
    assert by_chunk[2] == pytest.approx(0.6 * (8 - 2) / 10)
    assert by_chunk[3] == pytest.approx(0.6 * 0.0 + 0.4 * 1.0)
    assert by_chunk[4] == pytest.approx(0.0)
    assert [f.chunk_id for f in fused] == [1, 3, 2, 4]
    assert fused[0].legs["vector"].contribution == pytest.approx(0.4 * 0.2)


def test_score_fusion_single_hit_leg_gives_full_weight() -> None:
    (entry,) = fuse([LegResult("listing", [(5, 3.0)])], {"listing": 1.0}, k=60, method="score")
    assert entry.score == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown fusion"):
        fuse([], {}, k=60, method="borda")


@pytest.mark.parametrize(("coverage", "keyword", "vector"), [
    (1.0, 0.55, 0.45), (0.3, 0.55, 0.45),      # at or above full_at: unchanged
    (0.15, 0.275, 0.725), (0.0, 0.0, 1.0)])     # below: moved in proportion
def test_adapt_weights_moves_keyword_weight_to_the_vector_leg(coverage: float, keyword: float,
                                                              vector: float) -> None:
    weights = adapt_weights({"keyword": 0.55, "vector": 0.45, "id": 2.0}, coverage, 0.3)
    assert weights == {"keyword": pytest.approx(keyword), "vector": pytest.approx(vector),
                       "id": 2.0}
    assert adapt_weights({"keyword": 0.55, "vector": 0.45}, coverage, 0.0) == \
        {"keyword": 0.55, "vector": 0.45}


def test_a_one_hit_keyword_leg_no_longer_buries_a_strong_vector_hit() -> None:
    keyword = LegResult("keyword", [(1, 2.0)])                      # matches 1 word of 8
    vector = LegResult("vector", [(2, 0.85), (1, 0.40), (3, 0.30)])
    plain = fuse([keyword, vector], {"keyword": 0.55, "vector": 0.45}, k=10, method="score")
    assert plain[0].chunk_id == 1
    adapted = fuse([keyword, vector], adapt_weights({"keyword": 0.55, "vector": 0.45},
                                                    0.12, 0.3), k=10, method="score")
    assert adapted[0].chunk_id == 2


def _z_from_minimum(scores: list[float]) -> list[float]:
    """(score - min) / population standard deviation, written out independently."""
    mean = sum(scores) / len(scores)
    sd = (sum((s - mean) ** 2 for s in scores) / len(scores)) ** 0.5
    return [(s - min(scores)) / sd for s in scores]


def test_spread_weights_favour_the_leg_whose_top_hit_stands_out() -> None:
    # one BM25 hit far above 19 alike; 20 cosines evenly spaced
    keyword_scores = [10.0] + [1.0] * 19
    vector_scores = [0.9 - 0.01 * i for i in range(20)]
    standout = LegResult("keyword", list(enumerate(keyword_scores, start=1)))
    flat = LegResult("vector", list(enumerate(vector_scores, start=100)))
    weights = spread_weights({"keyword": 0.5, "vector": 0.5, "id": 2.0}, [standout, flat], 0.5)
    assert weights["keyword"] > 0.5 > weights["vector"]
    assert weights["keyword"] + weights["vector"] == pytest.approx(1.0)   # boosts keep units
    assert weights["id"] == 2.0
    # a leg's spread is its best candidate's z-score measured from its worst
    ratio = (max(_z_from_minimum(keyword_scores)) / max(_z_from_minimum(vector_scores))) ** 0.5
    assert weights["keyword"] / weights["vector"] == pytest.approx(ratio)


def test_spread_exponent_one_ranks_as_z_scores_from_each_legs_minimum() -> None:
    keyword = LegResult("keyword", [(1, 12.0), (2, 11.5), (3, 4.0), (4, 3.0), (5, 2.0)])
    vector = LegResult("vector", [(3, 0.71), (5, 0.70), (2, 0.52), (6, 0.50)])
    weights = spread_weights({"keyword": 0.55, "vector": 0.45}, [keyword, vector], 1.0)
    fused = fuse([keyword, vector], weights, k=10, method="score")
    z: dict[int, float] = {}
    for leg, w in ((keyword, 0.55), (vector, 0.45)):
        for (cid, _), value in zip(leg.ranked, _z_from_minimum([s for _, s in leg.ranked]),
                                   strict=True):
            z[cid] = z.get(cid, 0.0) + w * value
    assert [f.chunk_id for f in fused] == sorted(z, key=lambda c: -z[c])
    plain = fuse([keyword, vector], {"keyword": 0.55, "vector": 0.45}, k=10, method="score")
    assert [f.chunk_id for f in plain] != [f.chunk_id for f in fused]   # the case matters


@pytest.mark.parametrize("legs", [
    [LegResult("keyword", [(1, 3.0), (2, 1.0)])],                               # no vector leg
    [LegResult("keyword", [(1, 3.0)]), LegResult("vector", [(2, 0.9), (3, 0.1)])],  # one hit
    [LegResult("keyword", [(1, 2.0), (2, 2.0)]), LegResult("vector", [(2, 0.9), (3, 0.1)])],
])
def test_spread_weights_leave_weights_alone_without_two_spreads(legs: list[LegResult]) -> None:
    weights = {"keyword": 0.55, "vector": 0.45}
    assert spread_weights(weights, legs, 0.5) == weights
    two = [LegResult("keyword", [(1, 3.0), (2, 1.0), (4, 0.5)]),
           LegResult("vector", [(2, 0.9), (3, 0.1), (5, 0.05)])]
    assert spread_weights(weights, two, 0.0) == weights
