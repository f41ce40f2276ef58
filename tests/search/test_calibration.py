"""Calibrated scores: probabilities that grow with the evidence, never rising down the ranking.

The end-to-end checks on kano (keyword mode) are in ``test_engine_backlog.py``;
here the evidence is set by hand, and a real embedding model checks the
vector-leg cases that a keyword-only index cannot reach.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _model_notes import notes_index

from lore.search.calibration import (
    VECTOR_FLOOR,
    Evidence,
    calibrated_scores,
    probability,
    weak_match,
)

if TYPE_CHECKING:
    from lore.index import Index


def test_probability_grows_with_each_kind_of_evidence() -> None:
    base = Evidence(cosine=0.4, coverage=0.3, pinned=False, rank=3)
    assert probability(Evidence(0.6, 0.3, False, 3)) > probability(base)
    assert probability(Evidence(0.4, 0.9, False, 3)) > probability(base)
    assert probability(Evidence(0.4, 0.3, True, 3)) > probability(base)
    assert probability(Evidence(0.4, 0.3, False, 1)) > probability(base)
    assert all(0.0 < probability(e) < 1.0 for e in (base, Evidence(None, 0.0, False, 50)))


def test_scores_never_rise_down_the_ranking() -> None:
    # A weak hit at rank 1 above a strong one at rank 2: the second takes the first's score.
    evidence = [Evidence(0.35, 0.1, False, 1), Evidence(0.8, 1.0, False, 2),
                Evidence(0.3, 0.0, False, 3)]
    scores = calibrated_scores(evidence)
    assert scores[0] == round(probability(evidence[0]), 4)
    assert scores[1] == scores[0] and scores[2] < scores[1]


def test_vector_only_hits_and_weak_queries() -> None:
    near = Evidence(cosine=0.7, coverage=0.0, pinned=False, rank=1)
    far = Evidence(cosine=VECTOR_FLOOR - 0.01, coverage=0.0, pinned=False, rank=2)
    assert near.vector_only and not near.no_real_match
    assert far.vector_only and far.no_real_match
    assert not Evidence(cosine=0.1, coverage=0.2, pinned=False, rank=1).vector_only
    assert weak_match([far]) and weak_match([])
    assert not weak_match([near])
    assert not weak_match([Evidence(cosine=None, coverage=0.8, pinned=False, rank=1)])
    assert not weak_match([Evidence(cosine=None, coverage=0.0, pinned=True, rank=1)])


NOTES = {
    "release.md": ("Release checklist", ("Tag the version, build the wheel and publish the "
                   "changelog before announcing a release.")),
    "sandbox.md": ("Backlog sandbox", ("Tests create a throwaway backlog in a temporary folder "
                   "so they never write into the real one.")),
    "conflicts.md": ("Conflict guard", ("An item that is in progress and owned by one agent "
                     "cannot be claimed by another until it is released.")),
    "tokens.md": ("Token window", ("Each embedding model has a maximum number of tokens per "
                  "input; longer chunks are cut at that window.")),
}


@pytest.fixture(scope="module")
def index(minilm_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """The notes indexed with all-MiniLM-L6-v2 (int8), embedding cache off."""
    with notes_index("all-MiniLM-L6-v2", minilm_home, NOTES, tmp_path_factory.mktemp("notes")) as opened:
        yield opened


@pytest.mark.model
@pytest.mark.parametrize("mode", ["vector", "hybrid", "keyword"])
def test_real_scores_are_monotone_in_rank_in_every_mode(index: Index, mode: str) -> None:
    hits = index.search("agents working on the same item at once", mode=mode, limit=10)
    scores = [h.score for h in hits]
    assert scores and all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)


@pytest.mark.model
def test_a_paraphrase_found_by_meaning_alone_is_marked_vector_only(index: Index) -> None:
    hits = index.search("how many words fit into the encoder", limit=3)
    assert hits[0].path == "tokens.md"
    assert hits[0].vector_only and hits[0].to_json()["vector_only"] is True
    keyword = index.search("maximum number of tokens per input", limit=3)
    assert keyword[0].path == "tokens.md" and not keyword[0].vector_only


@pytest.mark.model
@pytest.mark.parametrize("query", ["banana smoothie recipe", "🚀", "zzqx flurble"])
def test_a_nonsense_query_is_flagged_with_vectors(index: Index, query: str) -> None:
    hits = index.search(query)
    assert hits.weak_match
    # weak hits are called the nearest there are; no hits at all need no such notice
    assert any("No strong match" in n for n in hits.notices) == bool(hits)
    assert all(not h.vector_only or h.score < 0.5 for h in hits)
