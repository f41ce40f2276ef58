"""The connection policy and the one transaction helper."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lore.store.connection import atomic, connect


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    c = connect(tmp_path / "db.sqlite")
    c.execute("CREATE TABLE t(x)")
    return c


def values(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute("SELECT x FROM t ORDER BY x")]


def test_connect_sets_wal_foreign_keys_and_autocommit(conn: sqlite3.Connection) -> None:
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    conn.execute("INSERT INTO t VALUES (1)")
    assert not conn.in_transaction  # autocommit: nothing left open behind our back


def test_atomic_commits_or_rolls_back_everything(conn: sqlite3.Connection) -> None:
    with atomic(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        conn.execute("INSERT INTO t VALUES (2)")
    with pytest.raises(RuntimeError), atomic(conn):
        conn.execute("INSERT INTO t VALUES (3)")
        raise RuntimeError("boom")
    assert values(conn) == [1, 2]
    assert not conn.in_transaction


def test_nested_failure_rolls_back_only_the_inner_block(conn: sqlite3.Connection) -> None:
    with atomic(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(KeyboardInterrupt), atomic(conn):
            conn.execute("INSERT INTO t VALUES (2)")
            raise KeyboardInterrupt
        with atomic(conn):
            conn.execute("INSERT INTO t VALUES (3)")
    assert values(conn) == [1, 3]


def test_other_connections_never_see_a_half_done_block(conn: sqlite3.Connection,
                                                       tmp_path: Path) -> None:
    reader = connect(tmp_path / "db.sqlite")
    with atomic(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        assert values(reader) == []
    assert values(reader) == [1]


def test_memory_database_is_allowed() -> None:
    mem = connect(":memory:")
    assert mem.execute("PRAGMA foreign_keys").fetchone()[0] == 1
