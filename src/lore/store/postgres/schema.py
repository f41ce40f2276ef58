"""The PostgreSQL schema: numbered migrations, applied once per database under a lock.

One database holds any number of indexed roots (``lore_roots``); every row
carries its ``root_id`` so roots stay apart and one root's sync never touches
another's rows. Chunk text is searched through a stored ``tsvector`` (title
weight A, headings B, body C) built with the root's text-search configuration
and a GIN index. Vectors live in an untyped ``vector`` column so spaces of any
dimension share the tables; each (root, space) gets its own partial HNSW
index on ``embedding::vector(d)`` (cosine), created when the space is filled.

Migrations are append-only ``(version, SQL)`` steps recorded in
``lore_schema``; concurrent processes serialise on an advisory lock, so two
first-time openers do not both create the tables.
"""

from __future__ import annotations

from typing import Any

from lore.errors import StoreError

MIGRATION_LOCK = 0x6C6F7265   # "lore": the advisory lock key of schema changes

SCHEMA_V1 = """
CREATE TABLE lore_roots(
  id serial PRIMARY KEY, name text NOT NULL UNIQUE, text_config regconfig NOT NULL,
  created_at double precision NOT NULL);
CREATE TABLE lore_documents(
  id bigserial PRIMARY KEY,
  root_id integer NOT NULL REFERENCES lore_roots(id) ON DELETE CASCADE,
  path text NOT NULL, doc_id text NOT NULL, uid text, title text NOT NULL,
  doctype text NOT NULL, metadata text NOT NULL, body text NOT NULL,
  content_hash text NOT NULL, size bigint NOT NULL, mtime_ns bigint NOT NULL,
  chunker_version text NOT NULL, indexed_at double precision NOT NULL,
  UNIQUE(root_id, path));
CREATE INDEX lore_documents_doc_id ON lore_documents(root_id, lower(doc_id));
CREATE INDEX lore_documents_uid ON lore_documents(root_id, lower(uid));
CREATE TABLE lore_chunks(
  id bigserial PRIMARY KEY,
  document_id bigint NOT NULL REFERENCES lore_documents(id) ON DELETE CASCADE,
  root_id integer NOT NULL,
  ordinal integer NOT NULL, kind text NOT NULL, heading_path text NOT NULL,
  text text NOT NULL, token_estimate integer NOT NULL, tsv tsvector NOT NULL,
  token_count integer NOT NULL,
  UNIQUE(document_id, ordinal));
CREATE INDEX lore_chunks_root ON lore_chunks(root_id);
CREATE INDEX lore_chunks_tsv ON lore_chunks USING gin(tsv);
CREATE TABLE lore_links(
  id bigserial PRIMARY KEY,
  document_id bigint NOT NULL REFERENCES lore_documents(id) ON DELETE CASCADE,
  root_id integer NOT NULL, kind text NOT NULL, target text NOT NULL);
CREATE INDEX lore_links_document ON lore_links(document_id);
CREATE INDEX lore_links_root ON lore_links(root_id);
CREATE TABLE lore_fields(
  document_id bigint NOT NULL REFERENCES lore_documents(id) ON DELETE CASCADE,
  root_id integer NOT NULL, key text NOT NULL, value text NOT NULL);
CREATE INDEX lore_fields_kv ON lore_fields(root_id, key, value);
CREATE INDEX lore_fields_document ON lore_fields(document_id);
CREATE TABLE lore_meta(
  root_id integer NOT NULL REFERENCES lore_roots(id) ON DELETE CASCADE,
  key text NOT NULL, value text NOT NULL, PRIMARY KEY(root_id, key));
CREATE TABLE lore_spaces(
  root_id integer NOT NULL REFERENCES lore_roots(id) ON DELETE CASCADE,
  space_id text NOT NULL, descriptor text NOT NULL, created_at double precision NOT NULL,
  PRIMARY KEY(root_id, space_id));
CREATE TABLE lore_chunk_vectors(
  root_id integer NOT NULL, space_id text NOT NULL,
  chunk_id bigint NOT NULL REFERENCES lore_chunks(id) ON DELETE CASCADE,
  embedding vector NOT NULL, PRIMARY KEY(root_id, space_id, chunk_id));
CREATE INDEX lore_chunk_vectors_chunk ON lore_chunk_vectors(chunk_id);
CREATE TABLE lore_document_vectors(
  root_id integer NOT NULL, space_id text NOT NULL,
  document_id bigint NOT NULL REFERENCES lore_documents(id) ON DELETE CASCADE,
  embedding vector NOT NULL, PRIMARY KEY(root_id, space_id, document_id));
"""

# (version, SQL): append only; never edit a step that has shipped.
MIGRATIONS: list[tuple[int, str]] = [
    (1, SCHEMA_V1),
]
LATEST_VERSION = MIGRATIONS[-1][0]


def schema_version(conn: Any) -> int:
    """The last migration applied to this database (0 before the first)."""
    exists = conn.execute("SELECT to_regclass('lore_schema')").fetchone()[0]
    if exists is None:
        return 0
    row = conn.execute("SELECT max(version) FROM lore_schema").fetchone()
    return int(row[0] or 0)


def migrate(conn: Any) -> int:
    """Apply every pending migration, each in its own transaction; return the version.

    Raises:
        StoreError: the database was written by a newer lore.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS lore_schema(version integer PRIMARY KEY, "
                     "applied_at timestamptz NOT NULL DEFAULT now())")
        current = schema_version(conn)
        if current > LATEST_VERSION:
            raise StoreError(f"This database holds lore schema {current}, newer than this "
                             f"lore understands ({LATEST_VERSION}); upgrade lore.")
        for version, sql in MIGRATIONS:
            if version > current:
                conn.execute(sql)
                conn.execute("INSERT INTO lore_schema(version) VALUES (%s)", (version,))
    return LATEST_VERSION
