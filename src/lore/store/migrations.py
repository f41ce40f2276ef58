"""Numbered schema migrations for the catalog.

The schema changes only here, one numbered step at a time. The number of the
last applied step lives in ``PRAGMA user_version`` (part of the database
header, so it commits or rolls back with the step itself): a crash during a
migration leaves the catalog at the previous version, never half-migrated.
An index written by a newer lore is refused rather than guessed at, because an
older lore would silently ignore (or corrupt) tables it does not know.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator

from lore.documents.cjk import cjk_index_text, cjk_runs, run_tokens
from lore.errors import IndexCorruptError
from lore.store.connection import atomic, register_functions
from lore.store.fts_rows import route_writes_through_views
from lore.store.shapes import add_shape_columns

log = logging.getLogger(__name__)

Step = str | Callable[[sqlite3.Connection], None]

SCHEMA_V1 = """
CREATE TABLE documents(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  doc_id TEXT NOT NULL, uid TEXT, title TEXT NOT NULL, doctype TEXT NOT NULL,
  metadata TEXT NOT NULL,
  body TEXT NOT NULL,
  content_hash TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
  chunker_version TEXT NOT NULL, indexed_at REAL NOT NULL);
CREATE INDEX documents_doc_id ON documents(doc_id COLLATE NOCASE);
CREATE INDEX documents_uid ON documents(uid COLLATE NOCASE);

-- AUTOINCREMENT: chunk ids are never reused, so a vector key names one chunk forever.
CREATE TABLE chunks(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL, kind TEXT NOT NULL,
  heading_path TEXT NOT NULL,
  text TEXT NOT NULL, token_estimate INTEGER NOT NULL,
  UNIQUE(document_id, ordinal));

CREATE VIRTUAL TABLE chunks_fts USING fts5(title, headings, body,
  tokenize='porter unicode61 remove_diacritics 2');

-- The triggers keep FTS in step with chunks, including the cascade delete of a
-- document, so no code path can forget it. The document row is written first,
-- so the insert trigger sees the current title.
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, title, headings, body) VALUES (
    new.id,
    (SELECT title FROM documents WHERE id = new.document_id),
    coalesce((SELECT group_concat(value, ' > ')
              FROM (SELECT value FROM json_each(new.heading_path) ORDER BY key)), ''),
    new.text);
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
  DELETE FROM chunks_fts WHERE rowid = old.id;
END;

CREATE TABLE links(document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  kind TEXT NOT NULL, target TEXT NOT NULL);
CREATE INDEX links_document ON links(document_id);
CREATE INDEX links_target ON links(target COLLATE NOCASE);
CREATE TABLE fields(document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  key TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX fields_kv ON fields(key, value);
CREATE INDEX fields_document ON fields(document_id);
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE spaces(space_id TEXT PRIMARY KEY, descriptor TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE chunk_vectors(space_id TEXT NOT NULL,
  chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
  vector BLOB NOT NULL, PRIMARY KEY(space_id, chunk_id));
CREATE INDEX chunk_vectors_chunk ON chunk_vectors(chunk_id);
"""

# Version 3: keyword search by document and in every script.
# - documents_fts ranks whole documents (document-level BM25 statistics); it is
#   contentless (the text is in documents already), so its delete trigger hands
#   FTS5 the old values, as contentless tables require.
# - both FTS tables get a cjk column: the character bigrams of CJK runs, written
#   by lore_cjk() (lore.documents.cjk, registered on every lore connection by
#   lore.store.connection), so Chinese and Japanese words inside unspaced text match.
_HEADINGS = ("coalesce((SELECT group_concat(value, ' > ')"
             " FROM (SELECT value FROM json_each(new.heading_path) ORDER BY key)), '')")
_TITLE = "(SELECT title FROM documents WHERE id = new.document_id)"
SCHEMA_V3 = f"""
DROP TRIGGER chunks_fts_insert;
DROP TRIGGER chunks_fts_delete;
DROP TABLE chunks_fts;
CREATE VIRTUAL TABLE chunks_fts USING fts5(title, headings, body, cjk,
  tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, title, headings, body, cjk) VALUES (
    new.id, {_TITLE}, {_HEADINGS}, new.text,
    lore_cjk({_TITLE} || ' ' || {_HEADINGS} || ' ' || new.text));
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
  DELETE FROM chunks_fts WHERE rowid = old.id;
END;
INSERT INTO chunks_fts(rowid, title, headings, body, cjk)
  SELECT c.id, d.title, h.headings, c.text, lore_cjk(d.title || ' ' || h.headings || ' ' || c.text)
  FROM chunks c JOIN documents d ON d.id = c.document_id
  JOIN (SELECT c2.id AS id, coalesce((SELECT group_concat(value, ' > ') FROM
        (SELECT value FROM json_each(c2.heading_path) ORDER BY key)), '') AS headings
        FROM chunks c2) h ON h.id = c.id;

CREATE VIRTUAL TABLE documents_fts USING fts5(title, body, cjk, content='',
  tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
  INSERT INTO documents_fts(rowid, title, body, cjk)
    VALUES (new.id, new.title, new.body, lore_cjk(new.title || ' ' || new.body));
END;
CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
  INSERT INTO documents_fts(documents_fts, rowid, title, body, cjk)
    VALUES ('delete', old.id, old.title, old.body, lore_cjk(old.title || ' ' || old.body));
END;
CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, body ON documents BEGIN
  INSERT INTO documents_fts(documents_fts, rowid, title, body, cjk)
    VALUES ('delete', old.id, old.title, old.body, lore_cjk(old.title || ' ' || old.body));
  INSERT INTO documents_fts(rowid, title, body, cjk)
    VALUES (new.id, new.title, new.body, lore_cjk(new.title || ' ' || new.body));
END;
INSERT INTO documents_fts(rowid, title, body, cjk)
  SELECT id, title, body, lore_cjk(title || ' ' || body) FROM documents;
"""



def fold_cjk_columns(conn: sqlite3.Connection) -> None:
    """Version 4: the cjk columns hold Chinese folded to Simplified (``lore.documents.hanfold``).

    Only rows whose CJK text changes are rewritten, so an index without
    Traditional Chinese costs one read of its text and no write; vectors,
    chunks and row ids are untouched. ``chunks_fts`` stores its values, so
    an UPDATE re-derives the column; ``documents_fts`` is contentless and
    must be told the exact values it was given, which version 3 derived
    without folding.
    """
    conn.execute("UPDATE chunks_fts SET cjk = lore_cjk(title || ' ' || headings || ' ' || body)"
                 " WHERE cjk <> '' AND cjk <> lore_cjk(title || ' ' || headings || ' ' || body)")
    for rowid, title, body in conn.execute("SELECT id, title, body FROM documents").fetchall():
        text = f"{title} {body}"
        unfolded = " ".join(t for run in cjk_runs(text) for t in run_tokens(run))
        if unfolded == cjk_index_text(text):
            continue
        conn.execute("INSERT INTO documents_fts(documents_fts, rowid, title, body, cjk)"
                     " VALUES ('delete', ?, ?, ?, ?)", (rowid, title, body, unfolded))
        conn.execute("INSERT INTO documents_fts(rowid, title, body, cjk) VALUES (?, ?, ?, ?)",
                     (rowid, title, body, cjk_index_text(text)))


# (version, step): append only; never edit a step that has shipped.
MIGRATIONS: list[tuple[int, Step]] = [
    (1, SCHEMA_V1),
    (2, add_shape_columns),   # hub flag, near-duplicate fingerprint and group
    (3, SCHEMA_V3),           # CJK bigram column, document-level FTS for keyword scoring
    (4, fold_cjk_columns),    # Traditional and Simplified Chinese folded in the cjk columns
    (5, route_writes_through_views),  # FTS rows defined once, for triggers and repair alike
]

LATEST_VERSION = MIGRATIONS[-1][0]


def schema_version(conn: sqlite3.Connection) -> int:
    """The number of the last migration applied to ``conn`` (0 for a new file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def split_statements(script: str) -> Iterator[str]:
    """Cut a SQL script into complete statements.

    ``executescript`` would commit any open transaction first, so each
    statement runs on its own inside ours; ``sqlite3.complete_statement``
    keeps trigger bodies (which contain ``;``) in one piece.
    """
    pending = ""
    for line in script.splitlines(keepends=True):
        if not pending and (not line.strip() or line.lstrip().startswith("--")):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement at the end of a migration: {pending!r}")


def _apply(conn: sqlite3.Connection, step: Step) -> None:
    if isinstance(step, str):
        for statement in split_statements(step):
            conn.execute(statement)
    else:
        step(conn)


def migrate(conn: sqlite3.Connection,
            migrations: list[tuple[int, Step]] | None = None) -> int:
    """Bring the catalog schema up to date; return the resulting version.

    Each step runs in its own transaction together with the ``user_version``
    bump (``conn`` comes from ``lore.store.connection.connect``).

    Args:
        conn: an open catalog connection with no transaction in progress.
        migrations: the steps to apply (tests pass their own list).

    Raises:
        IndexCorruptError: the catalog was written by a newer lore.
    """
    register_functions(conn)
    steps = MIGRATIONS if migrations is None else migrations
    latest = steps[-1][0] if steps else 0
    # The common case (an up-to-date catalog) takes no write lock, so opening
    # an index to search never waits for a running sync.
    _refuse_newer(schema_version(conn), latest)
    for version, step in steps:
        if schema_version(conn) >= version:
            continue
        # atomic() takes the write lock before the version is re-read, so two
        # processes opening a new index cannot both apply the same step.
        with atomic(conn):
            current = schema_version(conn)
            _refuse_newer(current, latest)
            if current < version:
                log.info("applying catalog migration %d", version)
                _apply(conn, step)
                conn.execute(f"PRAGMA user_version = {int(version)}")
    return schema_version(conn)


def _refuse_newer(current: int, latest: int) -> None:
    if current > latest:
        raise IndexCorruptError(
            f"This index has schema version {current}, but this lore only knows versions "
            f"up to {latest}: it was written by a newer lore. Upgrade lore "
            "(pip install -U lore), or delete the index directory and run "
            "`lore index ROOT` to rebuild it."
        )
