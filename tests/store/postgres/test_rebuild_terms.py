"""The PostgreSQL store's one path that rebuilds keyword rows from stored rows (the schema
steps' ``reindex_all_terms``; ``lore repair`` is local-only) writes what a sync writes:
postings, tsvectors, lengths and hub flags of a rebuilt root equal a fresh root's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from _cjk_notes import NOTES

from lore.index import open_index
from lore.settings import EmbedSettings, IndexSettings, Settings
from lore.store.postgres import terms
from lore.store.postgres.connection import connect

# Every keyword row of a root, keyed by path (and chunk ordinal), never by row id.
ROWS = {
    "documents": "SELECT d.path, d.tsv::text, d.token_count, d.hub FROM lore_documents d"
                 " WHERE d.root_id = %(root)s",
    "chunks": "SELECT d.path, c.ordinal, c.tsv::text, c.token_count FROM lore_chunks c"
              " JOIN lore_documents d ON d.id = c.document_id WHERE c.root_id = %(root)s",
    "document terms": "SELECT d.path, t.lexeme, t.a, t.b, t.c, t.len FROM lore_document_terms t"
                      " JOIN lore_documents d ON d.id = t.document_id WHERE t.root_id = %(root)s",
    "chunk terms": "SELECT d.path, c.ordinal, t.lexeme, t.a, t.b, t.c, t.len"
                   " FROM lore_chunk_terms t JOIN lore_chunks c ON c.id = t.chunk_id"
                   " JOIN lore_documents d ON d.id = c.document_id WHERE t.root_id = %(root)s",
}
WIPE = ("DELETE FROM lore_document_terms WHERE root_id = %(root)s",
        "DELETE FROM lore_chunk_terms WHERE root_id = %(root)s",
        ("UPDATE lore_documents SET tsv = '', token_count = 0, hub = false"
         " WHERE root_id = %(root)s"),
        "UPDATE lore_chunks SET tsv = '', token_count = 0 WHERE root_id = %(root)s")


@pytest.fixture
def database(pg_url: str) -> Iterator[str]:
    """A database of its own: the rebuild rewrites every root it holds."""
    name = f"lore_rebuild_{uuid.uuid4().hex[:8]}"
    admin = connect(pg_url)
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield urlunsplit(urlsplit(pg_url)._replace(path=f"/{name}"))
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def indexed(folder: Path, url: str) -> int:
    """Sync ``NOTES`` in ``folder`` into the store; the root's id."""
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(index=IndexSettings(store=url), embed=EmbedSettings(enabled=False))
    with open_index(folder, settings=settings) as index:
        index.sync()
    conn = connect(url)
    try:
        return int(conn.execute("SELECT id FROM lore_roots WHERE name = %s",
                                (folder.name,)).fetchone()[0])
    finally:
        conn.close()


def keyword_rows(conn: object, root: int) -> dict[str, list[tuple[object, ...]]]:
    return {what: sorted(tuple(r) for r in conn.execute(sql, {"root": root}))  # type: ignore[attr-defined]
            for what, sql in ROWS.items()}


def test_rebuilt_keyword_rows_equal_a_fresh_roots(database: str, tmp_path: Path) -> None:
    rebuilt, fresh = indexed(tmp_path / "rebuilt", database), indexed(tmp_path / "fresh", database)
    conn = connect(database)
    try:
        expected = keyword_rows(conn, fresh)
        assert any("提醒" in str(row) for row in expected["chunk terms"])
        assert any(row[-1] for row in expected["documents"])   # hub.md is a hub
        with conn.transaction():
            for sql in WIPE:
                conn.execute(sql, {"root": rebuilt})
        assert keyword_rows(conn, rebuilt) != expected
        with conn.transaction():
            terms.reindex_all_terms(conn)
        assert keyword_rows(conn, rebuilt) == expected
    finally:
        conn.close()
