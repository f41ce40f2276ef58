"""Numbered migrations: applied once, atomically, and newer indexes refused."""

from __future__ import annotations

import sqlite3

import pytest

from lore.errors import IndexCorruptError
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
