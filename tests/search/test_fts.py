"""build_match: any text gives a valid FTS5 expression; stopwords, phrases, exclusions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lore.search.fts import (
    STOPWORDS,
    build_exclusion,
    build_match,
    exclusion_terms,
    match_terms,
    proximity_pairs,
    quote_fts,
)
from lore.search.query import parse_query
from lore.store.migrations import migrate

ROWS = [
    ("Embedding cache", "Design > Keys", "The cache keys vectors by content hash."),
    ("Vector store", "", "Vectors live in a sidecar index beside the catalog."),
    ("To be or not", "", "To be, or not to be: that is the question."),
    ("Local first", "", "Local-first software keeps the files as the truth; the cache is derived."),
]


@pytest.fixture(scope="module")
def conn() -> Iterator[sqlite3.Connection]:
    """The catalog's real FTS5 table (same tokenizer), with a few rows."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    migrate(db)
    db.executemany("INSERT INTO chunks_fts(rowid, title, headings, body) VALUES (?, ?, ?, ?)",
                   [(i, *row) for i, row in enumerate(ROWS, start=1)])
    yield db
    db.close()


def search(conn: sqlite3.Connection, text: str) -> list[int]:
    """Row ids matching ``text`` minus rows matching its exclusions."""
    parsed = parse_query(text, ())
    match, exclusion = build_match(parsed), build_exclusion(parsed)
    if match is None:
        return []
    sql = "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?"
    params = [match]
    if exclusion is not None:
        sql += " AND rowid NOT IN (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?)"
        params.append(exclusion)
    return [r[0] for r in conn.execute(sql + " ORDER BY rowid", params)]


# Pieces joined with and without spaces: FTS syntax, quotes, unicode, emoji,
# NUL and lone surrogates (what a mis-decoded argv produces).
ugly = st.lists(st.one_of(
    st.text(alphabet=st.characters(), max_size=8),
    st.sampled_from(['"', "'", "-", "*", "^", ":", "(", ")", "+", "NEAR", "AND", "OR", "NOT",
                     "NEAR(", "{col}:", " ", "😀", "\x00", "\udcff", "é", "漢字", "type:adr"]),
), max_size=12).flatmap(lambda parts: st.sampled_from(["", " "]).map(lambda sep: sep.join(parts)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ugly)
def test_any_text_is_a_valid_match_expression(conn: sqlite3.Connection, text: str) -> None:
    search(conn, text)  # must not raise


def test_quote_fts_doubles_quotes() -> None:
    assert quote_fts('say "hi"') == '"say ""hi"""'


@pytest.mark.parametrize("text", ["", "  ", "!!!", "😀", '"', "-", "- *", "()", "^:"])
def test_nothing_searchable_gives_no_expression(text: str) -> None:
    assert build_match(parse_query(text, ())) is None


def test_terms_are_ored_so_partial_matches_count(conn: sqlite3.Connection) -> None:
    assert search(conn, "cache sidecar") == [1, 2, 4]


def test_stopwords_are_dropped() -> None:
    match = build_match(parse_query("what is the cache for", ()))
    assert match == '"cache"'


def test_all_stopword_query_keeps_its_words(conn: sqlite3.Connection) -> None:
    match = build_match(parse_query("to be or not to be", ()))
    assert match is not None
    assert all(w in STOPWORDS for w in ("to", "be", "or", "not"))
    assert search(conn, "to be or not to be") == [3]


def test_operators_are_plain_words(conn: sqlite3.Connection) -> None:
    # Were NOT an operator this would exclude row 3; as a word it is a stopword.
    assert search(conn, "question NOT") == [3]
    assert search(conn, "cache NEAR vectors") == [1, 2, 4]


def test_phrases_keep_word_order(conn: sqlite3.Connection) -> None:
    assert search(conn, '"content hash"') == [1]
    assert search(conn, '"hash content"') == []


def test_exclusion_subtracts(conn: sqlite3.Connection) -> None:
    assert search(conn, "cache -derived") == [1]
    assert search(conn, 'cache -"content hash"') == [4]


def test_exclusions_alone_search_nothing() -> None:
    parsed = parse_query("-cache -the", ())
    assert build_match(parsed) is None
    assert build_exclusion(parsed) == '"cache" OR "the"'



def test_prefix(conn: sqlite3.Connection) -> None:
    assert search(conn, "sidec*") == [2]
    assert search(conn, "sidec") == []


def test_hyphenated_word_is_a_phrase(conn: sqlite3.Connection) -> None:
    assert search(conn, "local-first") == [4]


def test_proximity_pairs_are_neighbouring_content_words() -> None:
    parsed = parse_query('the effect of aspirin on "heart attack" risk in older adults', ())
    # Stopwords are skipped, a quoted phrase is no bare term: "aspirin risk" neighbour.
    assert proximity_pairs(parsed) == ['"effect aspirin"', '"aspirin risk"', '"risk older"',
                                       '"older adults"']


def test_prefixes_and_cjk_runs_break_the_chain() -> None:
    assert proximity_pairs(parse_query("cache evic* policy lru", ())) == ['"policy lru"']
    assert proximity_pairs(parse_query("検索 engine speed", ())) == ['"engine speed"']
    assert proximity_pairs(parse_query("single", ())) == []
    assert proximity_pairs(parse_query('say "hi""', ())) == []


def test_chinese_terms_are_folded_as_the_index_is() -> None:
    parsed = parse_query('溫柔提醒 補 "批次檢查" -嚴格 lore', ())
    assert match_terms(parsed) == ['"温柔 柔提 提醒"', '"补"*', '"lore"', '"批次 次检 检查"']
    assert exclusion_terms(parsed) == ['"严格"']
    # a phrase mixing scripts is matched as typed, in the body column
    assert match_terms(parse_query('"lore 重構"', ())) == ['"lore 重構"']
