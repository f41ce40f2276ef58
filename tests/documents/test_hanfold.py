"""Traditional -> Simplified Chinese folding: the table, its properties, and its errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lore.documents import hanfold
from lore.documents.hanfold import fold_han, fold_table, parse_table
from lore.errors import MissingDependencyError
from lore.store.connection import connect


def test_traditional_characters_fold_and_simplified_ones_stay() -> None:
    assert fold_han("溫柔提醒，批次檢查，補票") == "温柔提醒，批次检查，补票"
    assert fold_han("温柔提醒，批次检查，补票") == "温柔提醒，批次检查，补票"
    assert fold_han("裏 裡 里") == "里 里 里"           # variants fold to one character


def test_other_scripts_are_left_alone() -> None:
    text = "ASCII, café, ひらがな カタカナ 한국어 🚀 検索"
    assert fold_han(text) == text


def test_folding_keeps_length_and_is_idempotent_over_the_whole_table() -> None:
    table = fold_table()
    assert len(table) > 4000
    for source, target in table.items():
        assert len(target) == 1, chr(source)
        assert fold_han(target) == target, (chr(source), target)


def test_the_first_candidate_wins_and_chains_are_closed() -> None:
    table = parse_table("乾\t干 乾\n薴\t苧\n苧\t苎\n兩\t两\nab\tc\n")
    assert table == {ord("乾"): "干", ord("薴"): "苎", ord("苧"): "苎", ord("兩"): "两"}


def test_targets_outside_the_cjk_ranges_are_dropped() -> None:
    # U+30000 and up (CJK extension G) are not in lore's CJK runs.
    assert parse_table("\u4e00\t\U00030000\n") == {}


@pytest.fixture
def fresh_table() -> Iterator[None]:
    """Forget the loaded table before and after the test (it is cached per process)."""
    fold_table.cache_clear()
    yield
    fold_table.cache_clear()


def _fake_module(root: Path, name: str, table: str | None) -> None:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    if table is not None:
        (package / "dictionary").mkdir()
        (package / "dictionary" / "TSCharacters.txt").write_text(table, encoding="utf-8")


@pytest.mark.parametrize(("table", "says"), [
    (None, "has no dictionary/TSCharacters.txt"),             # e.g. the OpenCC binding
    ("溫\t温\n", "another version of dictionary/TSCharacters.txt"),
])
def test_a_foreign_table_is_refused_with_the_fix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_table: None,
        table: str | None, says: str) -> None:
    _fake_module(tmp_path, "fake_opencc", table)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(hanfold, "MODULE", "fake_opencc")
    try:
        with pytest.raises(MissingDependencyError, match=says) as info:
            fold_han("溫")
    finally:
        sys.modules.pop("fake_opencc", None)
    assert "pip install --force-reinstall 'opencc-python-reimplemented==0.1.7'" in str(info.value)


def test_a_missing_table_is_refused_before_an_index_is_written(
        monkeypatch: pytest.MonkeyPatch, fresh_table: None) -> None:
    monkeypatch.setattr(hanfold, "MODULE", "no_such_module_for_lore_tests")
    with pytest.raises(MissingDependencyError, match="it is not installed"):
        connect(":memory:")


def test_a_connection_folds_in_its_sql_function() -> None:
    conn = connect(":memory:")
    assert conn.execute("SELECT lore_cjk('溫柔')").fetchone()[0] == "温柔 柔"
    conn.close()
