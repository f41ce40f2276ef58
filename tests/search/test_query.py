"""parse_query: inline filters only for known keys, phrases, exclusions, ids."""

from __future__ import annotations

import pytest

from lore.search.query import (
    candidate_field_keys,
    clean_text,
    is_id_like,
    normalize_filters,
    parse_query,
)

KNOWN = {"type", "state", "links.blocks"}


def test_known_key_becomes_a_filter_and_leaves_the_text() -> None:
    parsed = parse_query("type:ADR vector store", KNOWN)
    assert parsed.filters == {"type": ["adr"]}
    assert parsed.terms == ["vector", "store"]
    assert parsed.text == "vector store"


def test_unknown_key_stays_text() -> None:
    parsed = parse_query("note: foo", KNOWN)
    assert parsed.filters == {}
    assert parsed.terms == ["note", "foo"]
    assert "note:" in parsed.text


def test_url_is_not_a_filter() -> None:
    parsed = parse_query("https://example.com/a", KNOWN)
    assert parsed.filters == {}
    assert parsed.text == "https://example.com/a"


def test_filter_keys_are_case_insensitive_and_values_merge() -> None:
    parsed = parse_query("Type:ADR type:Task State:Done", KNOWN)
    assert parsed.filters == {"type": ["adr", "task"], "state": ["done"]}
    assert parsed.terms == parsed.phrases == []


def test_quoted_filter_value_and_dotted_key() -> None:
    parsed = parse_query('state:"In Progress" links.blocks:KABSD-TSK-0001 x', KNOWN)
    assert parsed.filters == {"state": ["in progress"], "links.blocks": ["kabsd-tsk-0001"]}
    assert parsed.terms == ["x"]


def test_negated_filter_stays_an_exclusion() -> None:
    parsed = parse_query("-type:adr foo", KNOWN)
    assert parsed.filters == {}
    assert parsed.excluded == ["type:adr"]
    assert parsed.terms == ["foo"]


def test_phrases_exclusions_and_prefixes() -> None:
    parsed = parse_query('"local first" -sqlite -"vector store" embed*', KNOWN)
    assert parsed.phrases == ["local first"]
    assert parsed.excluded == ["sqlite", "vector store"]
    assert parsed.terms == ["embed*"]


@pytest.mark.parametrize(("text", "positive"), [
    ('sqlite -docker "write ahead"', "sqlite write ahead"),
    ('"local first" -sqlite -"vector store" embed*', "local first embed"),
    ("type:ADR cach* -note:old state:done", "cach"),       # filters leave, star goes
    ('note:"two words" why?', "note:two words why?"),        # unknown key: text, unquoted
    ("-docker -\"only excluded\"", ""),
    ("How does the cache expire?", "How does the cache expire?"),
])
def test_positive_text_is_what_the_query_asks_for(text: str, positive: str) -> None:
    assert parse_query(text, KNOWN).positive == positive


@pytest.mark.parametrize(("text", "terms"), [
    ("Differentiated E2f-1, -2, -3 TKO cells", ["Differentiated", "E2f-1", "-2", "-3", "TKO",
                                              "cells"]),
    ("freezer at -18 degrees", ["freezer", "at", "-18", "degrees"]),
])
def test_minus_before_a_digit_is_a_sign_not_an_exclusion(text: str, terms: list[str]) -> None:
    # "-2" read as an exclusion removed every document holding the number 2.
    parsed = parse_query(text, KNOWN)
    assert parsed.excluded == []
    assert parsed.terms == terms


def test_minus_before_a_word_still_excludes_next_to_a_signed_number() -> None:
    parsed = parse_query("-docker -5 celsius", KNOWN)
    assert parsed.excluded == ["docker"]
    assert parsed.terms == ["-5", "celsius"]


def test_unbalanced_quote_runs_to_the_end() -> None:
    parsed = parse_query('find "unbalanced phrase', KNOWN)
    assert parsed.terms == ["find"]
    assert parsed.phrases == ["unbalanced phrase"]


@pytest.mark.parametrize("text", ["", "   ", "-", "!!! ???", "😀 🎉", '""', "-- *"])
def test_nothing_searchable(text: str) -> None:
    parsed = parse_query(text, KNOWN)
    assert parsed.terms == parsed.phrases == []
    assert parsed.filters == {}


def test_sentence_punctuation_is_trimmed_from_words() -> None:
    parsed = parse_query("(cache), invalidation.", KNOWN)
    assert parsed.terms == ["cache", "invalidation"]


def test_ids_are_collected_and_stay_in_the_text() -> None:
    parsed = parse_query("see (KABSD-TSK-0350), adr-0009 and KABSD-TSK-0350", KNOWN)
    assert parsed.ids == ["KABSD-TSK-0350", "adr-0009"]
    assert "KABSD-TSK-0350" in parsed.terms


def test_link_style_id_with_uid_suffix_yields_the_id() -> None:
    assert parse_query("KABSD-TSK-0082@019b93bb", KNOWN).ids == ["KABSD-TSK-0082@019b93bb"]


@pytest.mark.parametrize("token", [
    "KABSD-TSK-0350", "ADR-0009", "kabsd-epic-0003", "019c18d9-7d20-71d5-932e-8f82ae7da1d2",
    "01ARZ3NDEKTSV4RRFFQ69G5FAV",
])
def test_id_shapes(token: str) -> None:
    assert is_id_like(token)


@pytest.mark.parametrize("token", ["embedding", "ADR", "0350", "a" * 26, "foo-bar"])
def test_not_ids(token: str) -> None:
    assert not is_id_like(token)


def test_candidate_field_keys_finds_key_prefixes_only() -> None:
    assert candidate_field_keys('type:ADR -state:x "a b" note: c links.blocks:y') == {
        "type", "state", "links.blocks"}


def test_normalize_filters_merges_sources_and_drops_empty() -> None:
    merged = normalize_filters({"Type": ["ADR", "adr"]}, None, {"type": "Task", "x": []})
    assert merged == {"type": ["adr", "task"]}


def test_clean_text_replaces_what_sqlite_cannot_bind() -> None:
    assert clean_text("a\udcffb\x00c") == "a?b c"
