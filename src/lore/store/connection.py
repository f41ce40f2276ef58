"""How lore talks to SQLite: one connection policy and one transaction helper.

Connections run in autocommit mode (``isolation_level=None``) so that Python's
sqlite3 module never opens or commits a transaction behind our back; every
write that must be atomic goes through ``atomic``. WAL lets searches read while
a sync writes, and ``synchronous=NORMAL`` keeps each commit atomic while
skipping the fsync per commit (derived data: a power cut may lose the last
commits, never consistency).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from lore.documents.cjk import cjk_index_text
from lore.documents.hanfold import fold_table

BUSY_TIMEOUT_MS = 10_000


def connect(path: Path | str, *, any_thread: bool = False) -> sqlite3.Connection:
    """Open a SQLite file (or ``":memory:"``) with lore's connection policy.

    Args:
        path: the database file.
        any_thread: allow use from threads other than the opening one, one
            thread at a time (a server hands pooled connections to its workers).
    """
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                           check_same_thread=not any_thread)
    try:
        if str(path) != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = NORMAL")
        register_functions(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def connect_read_only(path: Path) -> sqlite3.Connection:
    """Open a catalog that cannot be written (read-only mount, no write permission).

    ``mode=ro`` still needs the WAL's shared-memory file; on a read-only file
    system that cannot be created, and ``immutable=1`` (no locking, no WAL) is
    the only way in. It is safe there because nobody can write the file either.

    Raises:
        sqlite3.DatabaseError: the file cannot be read at all.
    """
    quoted = quote(str(Path(path).absolute()))
    last: sqlite3.Error | None = None
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        conn = sqlite3.connect(f"file:{quoted}?{flags}", uri=True, isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            register_functions(conn)
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            last = exc
    assert last is not None
    raise last


def register_functions(conn: sqlite3.Connection) -> None:
    """Give ``conn`` the SQL functions the catalog's triggers call.

    ``lore_cjk(text)`` writes the CJK bigrams of a text into the FTS tables'
    cjk columns (``lore.documents.cjk``); it is deterministic, so a delete
    recomputes exactly what the insert wrote. The Chinese folding table it
    uses is loaded here, once per process: an error raised inside a trigger
    reaches Python only as "user-defined function raised exception", so a
    missing table is reported now, with its fix, before anything is written.

    Raises:
        MissingDependencyError: the Chinese folding table is missing or foreign.
    """
    fold_table()
    conn.create_function("lore_cjk", 1, _cjk_or_empty, deterministic=True)


def _cjk_or_empty(text: str | None) -> str:
    return cjk_index_text(text) if text else ""


@contextmanager
def atomic(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in one transaction: all of its writes commit, or none do.

    The outermost call takes the write lock up front (``BEGIN IMMEDIATE``), so
    a concurrent writer waits at the start instead of failing at the first
    write. Nested calls become savepoints; SQLite resolves a repeated
    savepoint name to the innermost one, so no counter is needed.
    """
    if conn.in_transaction:
        conn.execute("SAVEPOINT lore_nested")
        try:
            yield conn
            conn.execute("RELEASE lore_nested")
        except BaseException:
            # Some errors (disk full, interrupt) end the whole transaction;
            # then there is no savepoint left to roll back to.
            if conn.in_transaction:
                conn.execute("ROLLBACK TO lore_nested")
                conn.execute("RELEASE lore_nested")
            raise
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
