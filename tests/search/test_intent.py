"""Decision questions are told from other queries by their wording."""

from __future__ import annotations

import pytest

from lore.search.intent import decision_question


@pytest.mark.parametrize("text", [
    "why did we choose SQLite", "Why do we use UUIDv7 for the uid field",
    "what did we decide about duplicate ids", "what was the rationale for a sidecar index",
    "reason behind per-type folders", "decision on duplicate ids",
    "how come we store ids as UUIDv7", "what made us choose SQLite",
    "what led us to per-product indexes", "what's the reasoning behind the sidecar index",
    "what is the justification for trashing duplicates", "who decided to use sqlite",
    "where did we land on the uid format", "what did we settle on for ids",
    "the thinking behind per-model indexes", "how did we pick the embedding model",
])
def test_decision_wordings(text: str) -> None:
    assert decision_question(text)


@pytest.mark.parametrize("text", [
    "why not", "SQLite index", "what blocks KABSD-TSK-0083", "decisions of KABSD-TSK-0155",
    "how do I rebuild the index", "what made the build fail", "who is the owner of TSK-0350",
    "where is the config file", "UnicodeEncodeError non-UTF8 terminal",
])
def test_other_queries_are_not_decision_questions(text: str) -> None:
    assert not decision_question(text)
