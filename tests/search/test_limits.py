"""Queries and filters from the Python API are checked before any work (#14 item 4)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lore.errors import QueryError
from lore.index import open_index
from lore.search.limits import MAX_QUERY_CHARS, check_filters, check_query
from lore.settings import EmbedSettings, Settings

KEYWORD_ONLY = Settings(embed=EmbedSettings(enabled=False))


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "a.md").write_text("---\ntype: ADR\n---\n# Use SQLite\nword1 word2\n")
    return root


def test_huge_quoted_and_unquoted_queries_are_refused_quickly(notes: Path) -> None:
    phrase = '"' + " ".join(f"word{i % 5000}" for i in range(50_000)) + '"'   # ~350 KB
    plain = " ".join(f"w{i}" for i in range(150_000))                         # ~1 MB
    with open_index(notes, settings=KEYWORD_ONLY) as index:
        index.sync()
        for query in (phrase, plain):
            started = time.process_time()
            with pytest.raises(QueryError, match="Shorten it"):
                index.search(query)
            assert time.process_time() - started < 1
        assert index.search(" ".join(["word1"] * (MAX_QUERY_CHARS // 6)))  # at the limit: runs


@pytest.mark.parametrize("filters", [{"type": None}, {"type": [1.5, None]}, {"type": [{}]},
                                     {1: ["a"]}, "type:ADR", {"type": [True]}])
def test_bad_filter_types_are_query_errors(notes: Path, filters: object) -> None:
    with open_index(notes, settings=KEYWORD_ONLY) as index:
        index.sync()
        with pytest.raises(QueryError, match="filter"):
            index.search("sqlite", filters=filters)  # type: ignore[arg-type]


def test_single_values_and_numbers_are_accepted() -> None:
    assert check_filters({"type": "ADR", "priority": [1, 2.5]}) == {
        "type": ["ADR"], "priority": ["1", "2.5"]}
    assert check_filters(None) is None
    with pytest.raises(QueryError, match="string"):
        check_query(b"bytes")
