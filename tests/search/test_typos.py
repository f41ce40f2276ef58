"""Typo tolerance: an unmatched word is also searched as its nearest indexed word.

The distance rule is checked against a brute-force scan of random vocabularies
(the delete index must find exactly what comparing every token finds); the
engine on both stores (``mini_store``); the kano questions against what the
correctly spelt question finds, judged by the documents' titles.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lore.index import Index
from lore.search import typo_index
from lore.search.engine import search_store
from lore.search.hits import SearchResult
from lore.search.lexicon import english_words, is_english_word
from lore.search.typo_index import TermIndex, osa_distance
from lore.search.typos import correctable, max_edits
from lore.settings import SearchSettings, Settings
from lore.store.base import Store


def run(store: Store, query: str, **search: Any) -> SearchResult:
    settings = Settings(search=SearchSettings(**search))
    return search_store(store, query, settings=settings, mode="keyword", explain=True)


@pytest.mark.parametrize(("word", "edits", "corrected"), [
    ("sql", 0, False),            # shorter than four letters: never
    ("sqlt", 1, True),
    ("sqllite", 1, True),         # 7 letters: one edit
    ("convension", 2, True),      # 8 or more: two edits
    ("mitochondira", 2, True),
    ("12345678", 2, False),       # a number
    ("KABSD-TSK-0350", 2, False),  # an id
    ("covid19", 1, False),        # letters and digits: a code
    ("embed*", 1, False),         # a prefix word
    ("about", 1, False),          # a stopword
    ("检索系统", 1, False),        # CJK: matched by bigrams, not edited
    ("pneumonoultramicroscopicsilicovolcanoconiosis", 2, True),   # 45 letters: a word
    ("x" * 49, 0, False),         # longer than any word: a blob, never edited
])
def test_distance_rule(word: str, edits: int, corrected: bool) -> None:
    assert max_edits(word) == edits
    assert correctable(word) is corrected


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("sqlite", "sqllite", 1), ("search", "serch", 1), ("search", "saerch", 1),
    ("convent", "convens", 1), ("ca", "abc", 3), ("kitten", "sitting", 3), ("", "abc", 3),
    ("abcdef", "badcfe", 3),
])
def test_osa_distance_table(a: str, b: str, distance: int) -> None:
    assert osa_distance(a, b, 5) == distance == osa_distance(b, a, 5)
    assert osa_distance(a, b, distance - 1) == distance   # past the limit: limit + 1


def _reference_osa(a: str, b: str) -> int:
    """The textbook optimal-string-alignment table, no cut-off."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i, j in itertools.product(range(1, len(a) + 1), range(1, len(b) + 1)):
        d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
        if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
            d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


_WORDS = st.text(alphabet="abcdé", min_size=3, max_size=8)


@settings(max_examples=200, deadline=None)
@given(vocabulary=st.lists(_WORDS, min_size=1, max_size=40, unique=True),
       query=st.text(alphabet="abcdéx", min_size=1, max_size=9), edits=st.sampled_from([1, 2]))
def test_index_finds_exactly_the_tokens_within_reach(vocabulary: list[str], query: str,
                                                     edits: int) -> None:
    index = TermIndex.build((token, 1 + i % 3) for i, token in enumerate(vocabulary))
    found = index.nearest(query, edits)
    expected = {t for t in vocabulary if t != query and _reference_osa(query, t) <= edits}
    assert {c.token for c in found} == expected
    assert all(c.distance == _reference_osa(query, c.token) for c in found)
    keys = [(c.distance, -c.documents, c.token) for c in found]
    assert keys == sorted(keys)          # nearest first, then the commonest


def test_nearest_prefers_the_commonest_token_at_the_same_distance() -> None:
    index = TermIndex.build([("search", 40), ("starch", 2), ("perch", 9), ("serc", 1)])
    assert [c.token for c in index.nearest("serch", 1)] == ["search", "perch", "serc"]
    assert index.nearest("serch", 0) == []


def test_a_word_no_token_is_near_in_length_is_not_probed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Probes grow with the word's length squared: a 5,000-letter query word once took
    # minutes. No token within two letters of its length: nothing can be in reach.
    index = TermIndex.build([("search", 4), ("sqlite", 2)])

    def refuse(*_: object) -> set[str]:
        raise AssertionError("probed a word no token can be near")

    monkeypatch.setattr(typo_index, "_probes", refuse)
    assert index.nearest("x" * 5000, 2) == []
    assert index.nearest("searching", 2) == []   # three letters longer than any token
    with pytest.raises(AssertionError):
        index.nearest("searchin", 2)             # two longer: "search" may be in reach


def test_index_leaves_out_what_is_not_a_word() -> None:
    index = TermIndex.build([("covid19", 5), ("ab", 9), ("检索", 3), ("sqlite", 4), ("zero", 0),
                             ("q" * 49, 1)])
    assert set(index.documents) == {"sqlite"}


# --- the engine, on both stores --------------------------------------------------------

def test_a_typo_is_searched_as_the_word_it_resembles(mini_store: Store) -> None:
    typo, clean = run(mini_store, "sqlte keyword"), run(mini_store, "sqlite keyword")
    assert typo.notices == ('Searched "sqlite" for "sqlte".',)
    assert [h.path for h in typo] == [h.path for h in clean]
    assert typo[0].path == "decisions/ADR-0001_sqlite.md"
    assert typo.weak_match is clean.weak_match is False
    assert typo[0].explain is not None
    assert 'Searched "sqlite" for "sqlte".' in typo[0].explain["query"]
    assert run(mini_store, "sqlte keyword", typo_correction=False).notices == ()


def test_a_stemmed_ending_is_kept_on_the_corrected_word(mini_store: Store) -> None:
    found = run(mini_store, "happpens")      # its token "happpen" is one edit off "happen"
    assert found.notices == ('Searched "happens" for "happpens".',)
    assert [h.doc_id for h in found] == ["KABSD-TSK-0001"]


@pytest.mark.parametrize("query", [
    "cache", "caches", "sqlite",                   # known words (or known stems)
    "KABSD-TSK-0009", "98765", "sqt cache",        # an id, a number, a short word
    "sqlt* cache", '"sqlte" cache', "cache -sqlte",  # a prefix, a phrase, an exclusion
    "zzzzqqqq",                                    # nothing within two edits
])
def test_no_correction_where_none_is_due(mini_store: Store, query: str) -> None:
    assert not [n for n in run(mini_store, query).notices if n.startswith("Searched")]


@pytest.mark.parametrize(("query", "typo"), [
    ("catch", "cahce"),      # "catch" is one edit from "cache"'s token, "cahce" one swap
    ("nodes", "ntoes"),      # "nodes" (token "node") is one edit from "notes" ("note")
])
def test_a_real_word_the_corpus_lacks_is_left_as_typed(mini_store: Store, query: str,
                                                       typo: str) -> None:
    assert [n for n in run(mini_store, query).notices if n.startswith("Searched")] == []
    assert [n for n in run(mini_store, typo).notices if n.startswith("Searched")] != []


def test_the_word_list_holds_real_words_not_typos() -> None:
    for word in ("complaints", "Phone", "though", "versus", "spelling", "strangers", "lice"):
        assert is_english_word(word), word
    for typo in ("sqllite", "serch", "convension", "compliants", "reponse", "assosciated"):
        assert not is_english_word(typo), typo
    assert all(len(w) >= 4 and w == w.lower() for w in english_words())


# --- kano: the questions of the issue ---------------------------------------------------

@pytest.mark.parametrize(("typo", "clean", "title_words"), [
    ("sqllite index", "sqlite index", ("sqlite", "index")),
    ("worklog convension", "worklog convention", ("convention",)),
    ("hybrid serch ranking", "hybrid search ranking", ("search",)),
])
def test_kano_typos_find_what_the_spelt_question_finds(kano_index: Index, typo: str, clean: str,
                                                       title_words: tuple[str, ...]) -> None:
    search = dataclasses.replace(kano_index.settings.search)
    got = search_store(kano_index._store, typo, settings=Settings(search=search),
                       mode="keyword", limit=5)
    want = search_store(kano_index._store, clean, settings=Settings(search=search),
                        mode="keyword", limit=5)
    assert len(got.notices) == 1 and got.notices[0].startswith("Searched")
    assert [h.path for h in got] == [h.path for h in want]
    assert all(word in got[0].title.lower() for word in title_words)
    assert got.weak_match is want.weak_match


@pytest.mark.parametrize("query", [
    "customer complaints",     # was searched as "compliants" (token "compliant")
    "phone number",            # was searched as "prone"
    "even though it failed",   # was searched as "through"
])
def test_kano_real_words_are_not_corrected(kano_index: Index, query: str) -> None:
    found = search_store(kano_index._store, query, settings=kano_index.settings,
                         mode="keyword", limit=5)
    assert not [n for n in found.notices if n.startswith("Searched")]
