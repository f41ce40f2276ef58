"""Cross-lingual search with multilingual-e5-small: questions in Chinese and Spanish
find the English note that answers them, first.

The keyword leg cannot match across languages, so the vector leg must carry
these queries. One distractor shares a word with the Spanish question (a
restaurant called "Casa de Tomates"), so the keyword leg has a confident but
wrong answer: fusion must not put it above the vector leg's right one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _model_notes import notes_index

if TYPE_CHECKING:
    from lore.index import Index

NOTES = {
    "search-index.md": (
        "Rebuilding the search index",
        ("When search results look stale or miss new notes, rebuild the search index from "
         "the files with `lore index --rebuild`. A large folder takes a few minutes.")),
    "tomatoes.md": (
        "Watering tomato plants",
        ("Tomato plants need deep watering two or three times a week, more often in a heat "
         "wave. Water the soil, not the leaves, early in the morning.")),
    "coffee.md": (
        "Office coffee machine",
        ("The coffee machine on the third floor is descaled every Friday. Report faults to "
         "facilities.")),
    "budget.md": (
        "Quarterly budget review",
        ("Finance reviews each team's budget at the end of every quarter and asks for a "
         "forecast of the next one.")),
    "passwords.md": (
        "Password rotation",
        ("Passwords of service accounts are rotated every 90 days by the platform team; "
         "never share them in chat.")),
    "onboarding.md": (
        "Onboarding checklist",
        ("New hires get a laptop, a badge and their accounts on the first day, and a "
         "mentor for the first month.")),
    "backups.md": (
        "Database backups",
        ("Nightly backups of the production database are kept for 30 days and restored "
         "once a quarter as a drill.")),
    "offsite.md": (
        "Team offsite in Madrid",
        ("The offsite dinner is booked at Casa de Tomates on Thursday; the bus leaves the "
         "hotel at seven.")),
}
CHINESE = ("搜索结果过时了，怎么重建搜索索引？", "search-index.md")
SPANISH = ("¿Cada cuántos días hay que regar los tomates?", "tomatoes.md")


@pytest.fixture(scope="module")
def index(e5_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """The notes indexed with multilingual-e5-small (int8, the default precision)."""
    with notes_index("multilingual-e5-small", e5_home, NOTES, tmp_path_factory.mktemp("notes")) as opened:
        yield opened


def _first(index: Index, question: str, mode: str) -> str:
    hits = index.search(question, mode=mode, limit=3)
    assert hits, (mode, question)
    return Path(hits[0].path).name


@pytest.mark.model
@pytest.mark.parametrize(("question", "answer"), [CHINESE, SPANISH])
def test_the_vector_leg_finds_the_english_answer_first(index: Index, question: str,
                                                       answer: str) -> None:
    assert _first(index, question, "vector") == answer


@pytest.mark.model
def test_hybrid_search_finds_the_english_answer_to_a_chinese_question(index: Index) -> None:
    question, answer = CHINESE
    assert _first(index, question, "hybrid") == answer


@pytest.mark.model
def test_hybrid_search_keeps_a_strong_cross_lingual_hit_above_keyword_noise(
        index: Index) -> None:
    # The keyword leg's only hit holds one of the question's eight words: fusion
    # moves most of the keyword weight to the vector leg (search.keyword_full_coverage).
    question, answer = SPANISH
    assert _first(index, question, "hybrid") == answer
    hits = index.search(question, mode="hybrid", limit=3, explain=True)
    noise = next(h for h in hits if Path(h.path).name == "offsite.md")
    assert noise.explain is not None and "keyword" in noise.explain["legs"]


@pytest.mark.model
def test_without_adaptive_fusion_the_keyword_noise_wins(index: Index) -> None:
    # The failure the adaptive weights fix, kept visible: a one-hit keyword leg gets
    # full weight under plain min-max fusion.
    plain = replace(index.settings, search=replace(index.settings.search,
                                                   keyword_full_coverage=0.0))
    question, _ = SPANISH
    from lore.search.engine import search_store

    leg = index._vector_leg([])
    hits = search_store(index._store, question, settings=plain, limit=3, vector_leg=leg)
    assert Path(hits[0].path).name == "offsite.md"
