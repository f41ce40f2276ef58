"""The PostgreSQL schema: numbered migrations, applied once per database under a lock.

One database holds any number of indexed roots (``lore_roots``); every row
carries its ``root_id`` so roots stay apart and one root's sync never touches
another's rows. Chunk text is searched through a stored ``tsvector`` (title
weight A, headings B, body C) built with the root's text-search configuration
and a GIN index. Vectors live in an untyped ``vector`` column so spaces of any
dimension share the tables; each (root, space) gets its own partial HNSW
index on ``embedding::vector(d)`` (cosine), created when the space is filled.

Migrations are append-only ``(version, steps)`` entries (SQL, or a function
for a data rewrite, run after all pending SQL: it writes rows as the current
code writes them) recorded in ``lore_schema``; concurrent processes
serialise on an advisory lock, so two first-time openers do not both create
the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lore.errors import StoreError
from lore.store.postgres.terms import reindex_all_terms

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

# Version 2: BM25 as the local index computes it. Document-level statistics
# (lore_documents.token_count and .tsv for phrases, lore_document_terms) beside
# the chunks' own; postings with exact per-column hit counts, covered by their
# primary key so a ranking reads the index only (lore.store.postgres.terms);
# hub flags written at sync as the local index writes them; and the
# "lore_english" configuration: Porter stemming without stopwords, as FTS5's
# porter tokenizer (PostgreSQL's "english" is Snowball's Porter2 and drops
# stopwords), the default of new roots.
SCHEMA_V2 = """
CREATE TEXT SEARCH DICTIONARY lore_porter (TEMPLATE = snowball, Language = porter);
CREATE TEXT SEARCH CONFIGURATION lore_english (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION lore_english ALTER MAPPING FOR asciiword, word, numword,
  asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart WITH lore_porter;
ALTER TABLE lore_documents ADD COLUMN token_count integer NOT NULL DEFAULT 0,
  ADD COLUMN tsv tsvector NOT NULL DEFAULT '', ADD COLUMN hub boolean NOT NULL DEFAULT false;
CREATE TABLE lore_document_terms(
  root_id integer NOT NULL,
  document_id bigint NOT NULL REFERENCES lore_documents(id) ON DELETE CASCADE,
  lexeme text COLLATE "C" NOT NULL, a integer NOT NULL, b integer NOT NULL, c integer NOT NULL,
  len integer NOT NULL, PRIMARY KEY(root_id, lexeme, document_id) INCLUDE (a, b, c, len));
CREATE INDEX lore_document_terms_document ON lore_document_terms(document_id);
CREATE TABLE lore_chunk_terms(
  root_id integer NOT NULL,
  document_id bigint NOT NULL REFERENCES lore_documents(id) ON DELETE CASCADE,
  chunk_id bigint NOT NULL,
  lexeme text COLLATE "C" NOT NULL, a integer NOT NULL, b integer NOT NULL, c integer NOT NULL,
  len integer NOT NULL,
  PRIMARY KEY(root_id, lexeme, chunk_id) INCLUDE (document_id, a, b, c, len));
CREATE INDEX lore_documents_length ON lore_documents(root_id, token_count);
CREATE INDEX lore_chunks_length ON lore_chunks(root_id, token_count);
CREATE INDEX lore_chunk_terms_document ON lore_chunk_terms(document_id);
"""

# Version 4: every id lookup form an index lookup (lore.store.postgres.ids), where
# the suffix, uid-prefix and file-stem forms were LIKE scans of a root's documents.
# An id's tail is a prefix of the reversed id; a uid prefix a text_pattern_ops
# range whatever the database's collation; a file stem (the text between a '/',
# or the start, and a later '.') one of the path's stems, a stored generated
# column (any writer keeps it, and a plan that filters a root's rows reads it
# instead of cutting every path) with a GIN index; one pass over the path, which
# costs a sync of 25,000 documents about a second. Each stem is prefixed with the
# root's id, so a stem every root has ("README") finds one root's documents.
# Without GIN's pending list (fastupdate): a search would read every entry a
# sync added since the last vacuum, one by one.
SCHEMA_V4 = """
CREATE FUNCTION lore_path_stems(root_id integer, path text) RETURNS text[] LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  stems text[] := '{}';
  starts integer[] := '{0}';
  start integer;
BEGIN
  FOR at IN 1 .. length(path) LOOP
    IF substr(path, at, 1) = '.' THEN
      FOREACH start IN ARRAY starts LOOP
        stems := stems || (root_id || ':' || substr(path, start + 1, at - start - 1));
      END LOOP;
    ELSIF substr(path, at, 1) = '/' THEN
      starts := starts || at;
    END IF;
  END LOOP;
  RETURN stems;
END
$$;
ALTER TABLE lore_documents ADD COLUMN path_stems text[]
  GENERATED ALWAYS AS (lore_path_stems(root_id, path)) STORED;
CREATE INDEX lore_documents_id_tail
  ON lore_documents(root_id, reverse(lower(doc_id)) text_pattern_ops);
CREATE INDEX lore_documents_uid_prefix ON lore_documents(root_id, lower(uid) text_pattern_ops);
CREATE INDEX lore_documents_path ON lore_documents(root_id, lower(path));
CREATE INDEX lore_documents_stems ON lore_documents USING gin(path_stems)
  WITH (fastupdate = off);
"""

# Version 5: phrases and term proximity as the local index counts them. Postings hold their lexeme's
# positions (lore.store.postgres.terms.position), so a phrase and a pair of
# neighbouring query words (term proximity, search.proximity_weight) are counted
# as FTS5 counts them, not bounded by their rarest word; every document's
# postings are rewritten (kano's 770: 17 s under load, ~20 ms each). File stems compare
# without case, as SQLite's LIKE compares them: the stems are cut from
# lower(path) (lore.store.postgres.ids), which rewrites lore_documents once.
POSITIONS_V5 = """
ALTER TABLE lore_document_terms ADD COLUMN IF NOT EXISTS pos integer[] NOT NULL DEFAULT '{}';
ALTER TABLE lore_chunk_terms ADD COLUMN IF NOT EXISTS pos integer[] NOT NULL DEFAULT '{}';
"""
STEMS_V5 = """
ALTER TABLE lore_documents DROP COLUMN path_stems;
ALTER TABLE lore_documents ADD COLUMN path_stems text[]
  GENERATED ALWAYS AS (lore_path_stems(root_id, lower(path))) STORED;
CREATE INDEX lore_documents_stems ON lore_documents USING gin(path_stems)
  WITH (fastupdate = off);
"""

Step = str | Callable[[Any], None]

# (version, steps): append only; never edit a step that has shipped.
MIGRATIONS: list[tuple[int, list[Step]]] = [
    (1, [SCHEMA_V1]),
    (2, [SCHEMA_V2, reindex_all_terms]),
    # Version 3: the CJK bigrams hold Chinese folded to Simplified (lore.documents.hanfold).
    # It rewrote only documents with CJK text; it names the whole rewrite now, which
    # every later version runs anyway: a database older than 3 is rewritten once.
    (3, [reindex_all_terms]),
    (4, [SCHEMA_V4]),
    (5, [POSITIONS_V5, STEMS_V5, reindex_all_terms]),
    # Version 6: lexemes are FTS5's porter stems for lore_english roots, words cut and
    # folded as unicode61 folds them (lore.store.postgres.stems, .fold): every posting
    # and tsvector is rewritten.
    (6, [reindex_all_terms]),
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
    """Apply every pending migration (one transaction: the versions' SQL, then their
    data rewrites); return the version.

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
        rewrites: list[Callable[[Any], None]] = []
        for version, steps in MIGRATIONS:
            if version > current:
                for step in steps:
                    if callable(step):
                        rewrites.append(step)
                    else:
                        conn.execute(step)
                conn.execute("INSERT INTO lore_schema(version) VALUES (%s)", (version,))
        # A rewrite writes rows as this lore writes them, so it runs on the latest
        # tables: after every pending version's SQL, in the same transaction.
        for rewrite in dict.fromkeys(rewrites):
            rewrite(conn)
    return LATEST_VERSION
