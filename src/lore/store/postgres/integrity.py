"""``lore verify`` on a PostgreSQL store: one root's rows checked against each other.

The checks mirror the local index's (``lore.verify``) where the PostgreSQL
store has the same part, with the same check names:

- catalog: documents, chunks, links, fields and vectors of this root point
  at rows of this root (roots sharing a database never mix);
- fts: every document and chunk with words has its BM25 postings, and no
  postings outlive their chunk (``lore.store.postgres.terms``);
- space: the active space record names a registered space with a valid
  descriptor;
- vectors: every stored vector has the space's dimensions and belongs to a
  chunk of this root; pooled document vectors belong to documents with
  chunk vectors; each filled space has its HNSW indexes.

PostgreSQL keeps the vectors itself, so there is no sidecar to compare, and
the embedding cache is the local user's, not the store's: neither is checked
here (the report says so in a note). Nothing is written.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from lore.embed.base import EmbeddingSpace
from lore.store.base import SPACE_META
from lore.verify import Finding, VerifyReport


class PostgresStore(Protocol):
    """What the checks use of ``lore.store.postgres.PostgresStore`` (which calls them)."""

    name: str

    @property
    def root_id(self) -> int: ...

    def stats(self) -> dict[str, Any]: ...

    def query_one(self, sql: str, params: dict[str, object]) -> object: ...

    def get_meta(self, key: str, default: str | None = None) -> str | None: ...

    def spaces(self) -> dict[str, str]: ...

    def vector_count(self, space_id: str) -> int: ...

    def pooled_count(self, space_id: str) -> int: ...

    def hnsw_indexes(self, space_id: str) -> list[str]: ...

_CATALOG = {
    "chunks belong to a document of another root":
        "SELECT count(*) FROM lore_chunks c JOIN lore_documents d ON d.id = c.document_id"
        " WHERE c.root_id = %(root)s AND d.root_id <> c.root_id",
    "links or fields belong to a document of another root":
        "SELECT (SELECT count(*) FROM lore_links l JOIN lore_documents d ON d.id = l.document_id"
        " WHERE l.root_id = %(root)s AND d.root_id <> l.root_id) + (SELECT count(*) FROM"
        " lore_fields f JOIN lore_documents d ON d.id = f.document_id"
        " WHERE f.root_id = %(root)s AND d.root_id <> f.root_id)",
    "vectors belong to no registered space":
        "SELECT count(*) FROM lore_chunk_vectors v WHERE v.root_id = %(root)s AND NOT EXISTS"
        " (SELECT 1 FROM lore_spaces s WHERE s.root_id = v.root_id AND s.space_id = v.space_id)",
    "vectors belong to a chunk of another root":
        "SELECT count(*) FROM lore_chunk_vectors v JOIN lore_chunks c ON c.id = v.chunk_id"
        " WHERE v.root_id = %(root)s AND c.root_id <> v.root_id",
}
_FTS = {
    "documents with words have no postings":
        "SELECT count(*) FROM lore_documents d WHERE d.root_id = %(root)s AND d.token_count > 0"
        " AND NOT EXISTS (SELECT 1 FROM lore_document_terms t WHERE t.document_id = d.id)",
    "chunks with words have no postings":
        "SELECT count(*) FROM lore_chunks c WHERE c.root_id = %(root)s AND c.token_count > 0"
        " AND NOT EXISTS (SELECT 1 FROM lore_chunk_terms t WHERE t.document_id = c.document_id"
        " AND t.chunk_id = c.id)",
    "postings name a chunk that is gone":
        "SELECT count(DISTINCT t.chunk_id) FROM lore_chunk_terms t WHERE t.root_id = %(root)s"
        " AND NOT EXISTS (SELECT 1 FROM lore_chunks c WHERE c.id = t.chunk_id)",
}


def verify_store(store: PostgresStore) -> VerifyReport:
    """Check one root of a PostgreSQL store (read only); see the module docstring."""
    report = VerifyReport()
    counts = store.stats()
    _counted(store, report, "catalog", _CATALOG,
             f"{counts['documents']} documents, {counts['chunks']} chunks and "
             f"{counts['links']} links of root {store.name!r} agree")
    _counted(store, report, "fts", _FTS, "every document and chunk has its BM25 postings")
    space = _check_space(store, report)
    if space is not None:
        _check_vectors(store, space, report)
    report.notes.append("PostgreSQL holds the vectors itself (no sidecar), and the embedding "
                        "cache is this machine's, not the store's: neither is checked here")
    return report


def _count(store: PostgresStore, sql: str, params: dict[str, object]) -> int:
    return int(str(store.query_one(sql, params)))


def _counted(store: PostgresStore, report: VerifyReport, check: str,
             queries: dict[str, str], fine: str) -> None:
    problems = []
    for what, sql in queries.items():
        n = _count(store, sql, {"root": store.root_id})
        if n:
            problems.append(f"{n} {what}")
    report.findings.append(Finding(check, not problems, "; ".join(problems) or fine,
                                   repairable=False))


def _check_space(store: PostgresStore, report: VerifyReport) -> EmbeddingSpace | None:
    space_id = store.get_meta(SPACE_META)
    spaces = store.spaces()
    if space_id is None and not spaces:
        report.findings.append(Finding("space", True, "no vectors yet (keyword-only index)"))
        return None
    try:
        space = EmbeddingSpace(**json.loads(spaces[space_id or ""]))
    except (KeyError, TypeError, ValueError):
        report.findings.append(Finding(
            "space", False, f"the active space record {space_id!r} names no registered space "
            f"with a valid descriptor ({len(spaces)} registered). Run `lore index "
            "--rebuild-vectors` to embed into the configured space again", repairable=False))
        return None
    ok = space.id == space_id
    report.findings.append(Finding("space", ok, f"active space {space.describe()}" if ok else
                                   f"the record {space_id!r} holds space {space.id!r}",
                                   repairable=False))
    return space if ok else None


def _check_vectors(store: PostgresStore, space: EmbeddingSpace, report: VerifyReport) -> None:
    args = {"root": store.root_id, "space": space.id, "dims": space.dimensions}
    scope = "root_id = %(root)s AND space_id = %(space)s"
    wrong = _count(
        store, "SELECT (SELECT count(*) FROM lore_chunk_vectors WHERE " + scope +
        " AND vector_dims(embedding) <> %(dims)s) + (SELECT count(*) FROM"
        " lore_document_vectors WHERE " + scope + " AND vector_dims(embedding) <> %(dims)s)",
        args)
    stray = _count(
        store, "SELECT count(*) FROM lore_document_vectors v WHERE v.root_id = %(root)s AND"
        " v.space_id = %(space)s AND NOT EXISTS (SELECT 1 FROM lore_chunk_vectors c JOIN"
        " lore_chunks k ON k.id = c.chunk_id WHERE k.document_id = v.document_id"
        " AND c.root_id = v.root_id AND c.space_id = v.space_id)", args)
    chunks, pooled = store.vector_count(space.id), store.pooled_count(space.id)
    indexes = _count(store, "SELECT count(*) FROM pg_indexes WHERE indexname = ANY(%(n)s)",
                     {"n": store.hnsw_indexes(space.id)})
    problems = []
    if wrong:
        problems.append(f"{wrong} stored vectors are not {space.dimensions}-d")
    if stray:
        problems.append(f"{stray} document vectors have no chunk vectors under them")
    if chunks and indexes < 2:
        problems.append(f"{2 - indexes} of the space's 2 HNSW indexes are missing")
    report.findings.append(Finding(
        "vectors", not problems, "; ".join(problems) + ". Run `lore index --rebuild-vectors`"
        if problems else f"{chunks} chunk and {pooled} document vectors are sound and "
        "indexed", repairable=False))
    pending = _count(
        store, "SELECT count(*) FROM lore_chunks c WHERE c.root_id = %(root)s AND NOT EXISTS"
        " (SELECT 1 FROM lore_chunk_vectors v WHERE v.chunk_id = c.id"
        " AND v.space_id = %(space)s)", args)
    if pending:
        report.notes.append(f"{pending} chunks have no vector yet; `lore index` embeds them")
