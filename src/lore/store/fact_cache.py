"""Catalog facts kept between searches while the catalog does not change.

A hybrid search asks the catalog the same corpus questions every time: which
document owns a chunk, a document's chunks, path, type, hub flag, copy group
and dates, how many chunks there are, how many chunks hold a term. Their
answers change only when the catalog does, so the SQLite store keeps the
ones it has read and asks SQLite only for the ids it has not seen.

**Never a stale answer.** The facts belong to one catalog state, named by
``(PRAGMA data_version, connection.total_changes)``: the first moves when
another connection commits, the second when this one writes (a rolled-back
write moves it too, which only costs a re-read). A read snapshot checks the
state once, right after ``BEGIN`` (that ``PRAGMA`` is what starts the
snapshot, so the state checked is the state read) and drops every fact of
another state. Facts are served and stored only inside such a checked
snapshot, and only while this connection has written nothing since; any
other read goes to SQLite as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

V = TypeVar("V")
K = TypeVar("K", bound=Hashable)

MAX_TERMS = 50_000   # term counts kept per state; past this the table starts over


class FactTable(Generic[K, V]):
    """Key -> fact, filled from SQLite for the keys not seen yet (absent keys remembered)."""

    def __init__(self) -> None:
        self.rows: dict[K, V | None] = {}

    def get(self, keys: Collection[K], fetch: Callable[[list[K]], dict[K, V]]) -> dict[K, V]:
        """The facts of ``keys`` that exist; ``fetch`` reads the unseen ones in one call."""
        missing = [k for k in keys if k not in self.rows]
        if missing:
            found = fetch(missing)
            for key in missing:
                self.rows[key] = found.get(key)
        return {k: v for k in keys if (v := self.rows[k]) is not None}


class FactCache:
    """The facts of one catalog state, and whether the current read may use them."""

    def __init__(self) -> None:
        self._state: tuple[int, int] | None = None
        self._depth = 0          # open checked snapshots (a snapshot may be nested)
        self._tables: dict[str, FactTable[Any, Any]] = {}

    @contextmanager
    def checked(self, conn: sqlite3.Connection) -> Iterator[None]:
        """A read snapshot's block: check the state first, drop the facts of another.

        Call it inside the snapshot's transaction: its ``PRAGMA data_version``
        then starts (or reads within) that snapshot, so the state checked is
        the state every later read of the block sees.
        """
        (version,) = conn.execute("PRAGMA data_version").fetchone()
        state = (int(version), conn.total_changes)
        if state != self._state:
            self._tables.clear()
            self._state = state
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def keeps(self, conn: sqlite3.Connection) -> bool:
        """Whether this read may use (and store) facts: inside a checked snapshot
        in which this connection wrote nothing (its own uncommitted rows are not
        in the facts)."""
        return self._depth > 0 and self._state is not None and conn.total_changes == self._state[1]

    def table(self, conn: sqlite3.Connection, name: str) -> FactTable[Any, Any] | None:
        """The named table of facts, or None when this read must go to SQLite (``keeps``)."""
        if not self.keeps(conn):
            return None
        table = self._tables.get(name)
        if table is None or (name == "terms" and len(table.rows) > MAX_TERMS):
            table = self._tables[name] = FactTable()
        return table


def catalog_fact(cache: FactCache, conn: sqlite3.Connection, name: str,
                 build: Callable[[], V]) -> V:
    """``build()``, a fact of the whole catalog, kept while the read may use facts."""
    fact: V = cached(cache, conn, "catalog:" + name, [0], lambda _: {0: build()})[0]
    return fact


def cached(cache: FactCache, conn: sqlite3.Connection, name: str, keys: Collection[K],
           fetch: Callable[[list[K]], dict[K, V]]) -> dict[K, V]:
    """``fetch(keys)``, through the named table of ``cache`` when the read may use it."""
    table = cache.table(conn, name)
    if table is None:
        return fetch(list(keys))
    found: dict[K, V] = table.get(keys, fetch)
    return found
