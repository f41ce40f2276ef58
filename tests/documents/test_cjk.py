"""CJK runs: bigram index text, and the query terms that match it."""

from __future__ import annotations

import sqlite3

from lore.documents.cjk import cjk_index_text, cjk_runs, has_cjk, run_bigrams, split_cjk
from lore.search.fts import match_terms, or_expression
from lore.search.query import parse_query


def test_runs_are_split_out_of_mixed_text() -> None:
    assert cjk_runs("lore の検索は重構された v2") == ["の検索は重構された"]
    assert split_cjk("abc重構def") == [("abc", False), ("重構", True), ("def", False)]
    assert not has_cjk("plain ascii, äöü")


def test_index_text_holds_bigrams_and_the_last_character() -> None:
    assert run_bigrams("重構計画") == ["重構", "構計", "計画"]
    assert cjk_index_text("x 重構計画 y 検") == "重構 構計 計画 画 検"
    assert cjk_index_text("no cjk here") == ""


def _matches(document: str, query: str) -> bool:
    """Whether ``query``'s terms match ``document``'s CJK index text in a real FTS5 table."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(cjk, tokenize='porter unicode61')")
    db.execute("INSERT INTO t(rowid, cjk) VALUES (1, ?)", (cjk_index_text(document),))
    match = or_expression(match_terms(parse_query(query, ())))
    assert match is not None
    return bool(db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (match,)).fetchone()[0])


def test_every_substring_of_a_run_is_found_and_nothing_else() -> None:
    text = "我們決定重構索引模組"
    for start in range(len(text)):
        for end in range(start + 1, len(text) + 1):
            assert _matches(text, text[start:end]), text[start:end]
    assert not _matches(text, "索模")     # characters of the run, but not adjacent
    assert not _matches(text, "重建")


def test_japanese_words_inside_a_sentence_are_found() -> None:
    sentence = "全文検索エンジンを日本語に対応させる"
    assert _matches(sentence, "検索")
    assert _matches(sentence, "エンジン")
    assert _matches(sentence, "日本語")
    assert not _matches(sentence, "英語")
