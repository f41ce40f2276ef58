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
    assert cjk_index_text("x 重构计画 y 検") == "重构 构计 计画 画 検"
    assert cjk_index_text("no cjk here") == ""


def test_index_text_folds_traditional_chinese_to_simplified() -> None:
    assert cjk_index_text("溫柔提醒") == "温柔 柔提 提醒 醒"
    assert cjk_index_text("x 重構計画 y") == "重构 构计 计画 画"


def test_kana_and_hangul_are_indexed_as_written() -> None:
    assert cjk_index_text("ひらがなとカタカナ") == "ひら らが がな なと とカ カタ タカ カナ ナ"
    assert cjk_index_text("한국어 검색") == "한국 국어 어 검색 색"


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


def test_either_chinese_script_finds_the_other_word_by_word() -> None:
    traditional, simplified = "批次檢查孤兒提交並溫柔提醒", "批次检查孤儿提交并温柔提醒"
    for start in range(len(traditional) - 1):
        for end in range(start + 1, len(traditional) + 1):
            assert _matches(traditional, simplified[start:end]), simplified[start:end]
            assert _matches(simplified, traditional[start:end]), traditional[start:end]
    assert not _matches(traditional, "检察")   # 檢查 is not 检察 in either script


def test_japanese_words_inside_a_sentence_are_found() -> None:
    sentence = "全文検索エンジンを日本語に対応させる"
    assert _matches(sentence, "検索")
    assert _matches(sentence, "エンジン")
    assert _matches(sentence, "日本語")
    assert not _matches(sentence, "英語")
