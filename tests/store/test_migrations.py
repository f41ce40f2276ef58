"""Numbered migrations: applied once, atomically, and newer indexes refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lore.documents.cjk import cjk_runs, has_cjk, run_tokens
from lore.errors import IndexCorruptError
from lore.index import open_index
from lore.paths import CATALOG_FILE
from lore.settings import EmbedSettings, Settings
from lore.store import connection, migrations
from lore.store.connection import connect
from lore.store.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    SCHEMA_V1,
    migrate,
    schema_version,
    split_statements,
)


@pytest.fixture
def conn() -> sqlite3.Connection:
    return connect(":memory:")


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_new_database_gets_the_whole_schema(conn: sqlite3.Connection) -> None:
    assert schema_version(conn) == 0
    assert migrate(conn) == LATEST_VERSION == MIGRATIONS[-1][0]
    assert {"documents", "chunks", "chunks_fts", "links", "fields", "meta", "spaces",
            "chunk_vectors"} <= tables(conn)


def test_migrate_twice_changes_nothing(conn: sqlite3.Connection) -> None:
    migrate(conn)
    before = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    assert migrate(conn) == LATEST_VERSION
    assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == before


def test_index_from_a_newer_lore_is_refused(conn: sqlite3.Connection) -> None:
    migrate(conn)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    with pytest.raises(IndexCorruptError, match="newer lore") as info:
        migrate(conn)
    assert "lore index" in str(info.value)


def test_failed_step_rolls_back_with_its_version(conn: sqlite3.Connection) -> None:
    steps = [(1, "CREATE TABLE a(x);"),
             (2, "CREATE TABLE b(x);\nCREATE TABLE a(y);")]  # the second statement fails
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, steps)
    assert schema_version(conn) == 1
    assert "a" in tables(conn) and "b" not in tables(conn)
    assert not conn.in_transaction


def test_steps_apply_in_order_and_only_once(conn: sqlite3.Connection) -> None:
    calls: list[int] = []

    def add_column(c: sqlite3.Connection) -> None:
        calls.append(schema_version(c))
        c.execute("ALTER TABLE a ADD COLUMN y")

    steps = [(1, "CREATE TABLE a(x);"), (2, add_column)]
    assert migrate(conn, steps) == 2
    assert migrate(conn, steps) == 2
    assert calls == [1]
    assert [r[1] for r in conn.execute("PRAGMA table_info(a)")] == ["x", "y"]


def test_split_statements_keeps_trigger_bodies_whole() -> None:
    statements = list(split_statements(SCHEMA_V1))
    triggers = [s for s in statements if s.startswith("CREATE TRIGGER")]
    assert len(triggers) == SCHEMA_V1.count("CREATE TRIGGER") == 2
    assert all(t.rstrip().endswith("END;") for t in triggers)
    assert all(sqlite3.complete_statement(s) for s in statements)


def test_split_statements_rejects_a_truncated_script() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        list(split_statements("CREATE TABLE a(x);\nCREATE TABLE b(x"))


OLD_CJK_NOTES = {
    "hant.md": "# 提醒\n\n開發時常常先上車後補票：溫柔提醒，不是嚴格執行。\n",
    "hans.md": "# 检查\n\n批次检查孤儿提交。\n",
    "ja.md": "# 検索\n\n全文検索エンジンを日本語に対応させる。\n",
    "en.md": "# Plain\n\nNothing but English here.\n",
}


def _unfolded_cjk(text: str | None) -> str:
    """``lore_cjk`` as schema version 3 wrote it: bigrams of the runs as written."""
    return " ".join(t for run in cjk_runs(text or "") for t in run_tokens(run))


def _fts_terms(conn: sqlite3.Connection, table: str) -> set[str]:
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{table}_v "
                 f"USING fts5vocab(main, {table}, row)")
    return {term for (term,) in conn.execute(f"SELECT term FROM temp.{table}_v")}


def test_an_index_from_version_3_gets_folded_cjk_columns_and_keeps_its_chunks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, index_dir = tmp_path / "notes", tmp_path / "index"
    root.mkdir()
    for name, text in OLD_CJK_NOTES.items():
        (root / name).write_text(text, encoding="utf-8")
    settings = Settings(embed=EmbedSettings(enabled=False))
    with monkeypatch.context() as old_lore:   # the lore before folding
        old_lore.setattr(migrations, "MIGRATIONS", MIGRATIONS[:3])
        old_lore.setattr(connection, "_cjk_or_empty", _unfolded_cjk)
        with open_index(root, settings=settings, index_dir=index_dir) as index:
            index.sync()
            assert index.search("温柔提醒", mode="keyword") == []
        conn = connect(index_dir / CATALOG_FILE)
        assert schema_version(conn) == 3
        chunks_before = conn.execute("SELECT id, text FROM chunks ORDER BY id").fetchall()

    with open_index(root, settings=settings, index_dir=index_dir) as index:
        assert schema_version(conn) == LATEST_VERSION
        report = index.sync()
        assert report.updated == [] and report.new_chunk_ids == []
        assert conn.execute("SELECT id, text FROM chunks ORDER BY id").fetchall() == chunks_before
        for table in ("documents_fts", "chunks_fts"):
            cjk = {t for t in _fts_terms(conn, table) if has_cjk(t)}
            assert {"温柔", "补票", "检查", "検索", "日本"} <= cjk
            assert not {"溫柔", "補票"} & cjk
        assert [h.path for h in index.search("温柔提醒", mode="keyword")] == ["hant.md"]
        assert [h.path for h in index.search("批次檢查", mode="keyword")] == ["hans.md"]
        assert [h.path for h in index.search("検索", mode="keyword")] == ["ja.md"]

        # The contentless document table was told the values it held: deleting
        # every CJK file leaves no CJK term behind in either table.
        for name in ("hant.md", "hans.md", "ja.md"):
            (root / name).unlink()
        index.sync()
        for table in ("documents_fts", "chunks_fts"):
            assert not {t for t in _fts_terms(conn, table) if has_cjk(t)}
