"""The full-text rows of chunks and documents, defined once for every writer.

``chunks_fts`` and ``documents_fts`` hold rows derived from ``chunks`` and
``documents``. What a row holds (title, heading path, text, and the CJK
bigrams of all of them, Chinese folded, from ``lore_cjk``) is defined in one
place per table: the views ``chunks_fts_rows`` and ``documents_fts_rows``
(migration 5, ``VIEWS``). Every writer goes through them: the triggers that
follow each sync's writes, ``lore repair``'s rebuild, and ``lore verify``'s
comparison of stored rows with what their chunk gives. The statements are
built here from the FTS table's own column list, so neither a column nor an
expression can exist in one writer and not the other (the rebuild once wrote
chunk rows without their ``cjk`` column, and a repaired index lost Chinese).

A change to what a row holds is a new migration that replaces a view; the
triggers, the rebuild and the check follow it unchanged.
"""

from __future__ import annotations

import sqlite3

from lore.store.connection import atomic

# table -> the table whose rows it indexes (one FTS row per source row, same id).
SOURCES = {"chunks_fts": "chunks", "documents_fts": "documents"}
# Contentless tables keep no text: a row is removed by handing FTS5 its values again.
_CONTENTLESS = frozenset({"documents_fts"})

VIEWS = """
CREATE VIEW chunks_fts_rows(id, title, headings, body, cjk) AS
  SELECT id, title, headings, body, lore_cjk(title || ' ' || headings || ' ' || body)
  FROM (SELECT c.id AS id, d.title AS title, c.text AS body,
          coalesce((SELECT group_concat(value, ' > ')
                    FROM (SELECT value FROM json_each(c.heading_path) ORDER BY key)), '')
            AS headings
        FROM chunks c JOIN documents d ON d.id = c.document_id);
CREATE VIEW documents_fts_rows(id, title, body, cjk) AS
  SELECT id, title, body, lore_cjk(title || ' ' || body) FROM documents;
"""


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """The FTS table's own columns, which its view names too."""
    return [str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")]


def insert_rows_sql(conn: sqlite3.Connection, table: str, where: str = "") -> str:
    """``INSERT`` into ``table`` of its rows from its view (those matching ``where``)."""
    cols = ", ".join(_columns(conn, table))
    return f"INSERT INTO {table}(rowid, {cols}) SELECT id, {cols} FROM {table}_rows{where}"


def delete_rows_sql(conn: sqlite3.Connection, table: str, where: str) -> str:
    """Remove ``table``'s rows matching ``where`` while their source rows still exist."""
    if table not in _CONTENTLESS:
        return f"DELETE FROM {table} WHERE rowid IN (SELECT id FROM {SOURCES[table]}{where})"
    cols = ", ".join(_columns(conn, table))
    return (f"INSERT INTO {table}({table}, rowid, {cols}) "
            f"SELECT 'delete', id, {cols} FROM {table}_rows{where}")


def route_writes_through_views(conn: sqlite3.Connection) -> None:
    """Migration 5: create the views and rewrite the triggers to read them.

    The rows stay as they are (the views give what version 4's triggers
    wrote). A document's old values are read before its row changes (BEFORE
    triggers), so a contentless row is removed with exactly what was indexed.
    """
    for statement in VIEWS.strip().split(";\n"):
        conn.execute(statement)
    for name in ("chunks_fts_insert", "documents_fts_insert", "documents_fts_delete",
                 "documents_fts_update"):
        conn.execute(f"DROP TRIGGER {name}")
    new, old = " WHERE id = new.id", " WHERE id = old.id"
    triggers = {
        "chunks_fts_insert AFTER INSERT ON chunks": insert_rows_sql(conn, "chunks_fts", new),
        "documents_fts_insert AFTER INSERT ON documents":
            insert_rows_sql(conn, "documents_fts", new),
        "documents_fts_delete BEFORE DELETE ON documents":
            delete_rows_sql(conn, "documents_fts", old),
        "documents_fts_unindex BEFORE UPDATE OF title, body ON documents":
            delete_rows_sql(conn, "documents_fts", old),
        "documents_fts_update AFTER UPDATE OF title, body ON documents":
            insert_rows_sql(conn, "documents_fts", new),
    }
    for head, body in triggers.items():
        conn.execute(f"CREATE TRIGGER {head} BEGIN {body}; END")


def rebuild(conn: sqlite3.Connection) -> None:
    """Recreate every row of both FTS tables from their views, in one commit."""
    with atomic(conn):
        for table in SOURCES:
            if table in _CONTENTLESS:
                conn.execute(f"INSERT INTO {table}({table}) VALUES ('delete-all')")
            else:
                conn.execute(f"DELETE FROM {table}")
            conn.execute(insert_rows_sql(conn, table))


def problems(conn: sqlite3.Connection) -> list[str]:
    """Rows missing, extra, or (where FTS5 keeps the text) different from their view's.

    A contentless table cannot be read back, so only its row ids are compared.
    """
    found = []
    for table, source in SOURCES.items():
        kind = source[:-1]
        counts = {
            f"{source} have no full-text row":
                f"SELECT count(*) FROM {source} WHERE id NOT IN (SELECT rowid FROM {table})",
            f"full-text rows have no {kind}":
                f"SELECT count(*) FROM {table} WHERE rowid NOT IN (SELECT id FROM {source})",
        }
        if table not in _CONTENTLESS:
            differs = " OR ".join(f"f.{c} IS NOT r.{c}" for c in _columns(conn, table))
            counts[f"full-text rows differ from their {kind}"] = (
                f"SELECT count(*) FROM {table} f JOIN {table}_rows r ON r.id = f.rowid"
                f" WHERE {differs}")
        for what, sql in counts.items():
            n = int(conn.execute(sql).fetchone()[0])
            if n:
                found.append(f"{n} {what}")
    return found
