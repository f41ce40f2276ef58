"""The store seam: what search, sync and the embedding pass ask of a storage backend.

Ranking code (``lore.search``) never runs a statement; it asks a ``Store`` a
question and gets plain Python values back. Each backend answers with its
own SQL: the embedded SQLite catalog (``lore.store.catalog.Catalog`` with its
FTS5 index and vector sidecar) is the default; a server backend implements
the same protocol. One method per question the search asks, named after the
question, so a second backend is written against a short, concrete list.

Vocabulary shared by every backend:

- **chunk id / document id**: integer row ids, stable for the life of a
  row; a document keeps its id across edits and renames, its chunks get
  fresh ids on every edit.
- **keyword term**: one alternative of a keyword query as
  ``lore.search.fts`` writes it: a double-quoted string (inner quotes
  doubled; several words inside are a phrase), optionally followed by ``*``
  for a prefix match. Nothing else ever reaches a store, so a backend parses
  exactly this shape (SQLite hands the OR of the terms to FTS5 as is).
- **restriction**: which documents a hit may come from (``Restriction``).
- **document key**: the vector-index key of a document's pooled vector
  (``lore.store.keys``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from lore.errors import IndexCorruptError

if TYPE_CHECKING:
    from lore.documents.model import Chunk, Document
    from lore.embed.base import EmbeddingSpace
    from lore.store.records import DocumentRecord
    from lore.store.vectors import VectorSearch
    from lore.types import Floats, Keys

Filters = Mapping[str, Sequence[str]]
T = TypeVar("T")

SPACE_META = "space_id"   # the meta key naming the active embedding space, in every backend


@dataclass(frozen=True)
class Restriction:
    """The documents a hit may come from: those passing ``filters``, minus the excluded.

    Attributes:
        filters: lower-cased field key -> accepted values; AND across keys,
            OR within a key, compared case-insensitively. Empty: every document.
        exclusion: keyword terms; a document with any chunk matching one of
            them is removed ("-sqlite" means "not about sqlite").
    """

    filters: Filters
    exclusion: tuple[str, ...] = ()


class FileState(NamedTuple):
    """What the store knows about a file, enough to tell whether it changed."""

    size: int
    mtime_ns: int
    content_hash: str
    chunker_version: str


class HitRow(NamedTuple):
    """What a hit shows about its chunk and document (JSON columns still encoded)."""

    ordinal: int
    kind: str
    heading_path: str
    path: str
    doc_id: str
    title: str
    doctype: str
    metadata: str


class DocumentIdentity(NamedTuple):
    """Who a document is, for resolving links: row id, path, ids, title, type."""

    id: int
    path: str
    doc_id: str
    uid: str | None
    title: str
    doctype: str


class FirstChunk(NamedTuple):
    """A document's front matter and first chunk (empty text for a chunkless one)."""

    metadata: dict[str, Any]
    text: str
    kind: str


def active_space_of(space_id: str | None, spaces: Mapping[str, str]) -> EmbeddingSpace | None:
    """The active space from its id (``meta.space_id``) and the registered descriptors.

    Raises:
        IndexCorruptError: the active space is not registered.
    """
    if space_id is None:
        return None
    descriptor = spaces.get(space_id)
    if descriptor is None:
        raise IndexCorruptError(f"The index's active space {space_id} is not registered; "
                                "run `lore repair` to restore it from the stored vectors.")
    from lore.embed.base import EmbeddingSpace

    return EmbeddingSpace(**json.loads(descriptor))


class SearchReads(Protocol):
    """The questions a search asks, each answered in one round trip."""

    def read_snapshot(self) -> AbstractContextManager[None]:
        """Every read inside sees the same committed state (no half of a sync)."""
        ...

    def known_field_keys(self, candidates: Collection[str]) -> set[str]:
        """Which of ``candidates`` (lower-cased) are field keys of some document."""
        ...

    def keyword_ranking(self, terms: Sequence[str], *, weights: tuple[float, float, float],
                        limit: int, restriction: Restriction | None,
                        per_document: bool = False, share: float = 0.5,
                        pairs: Sequence[str] = (),
                        pair_weight: float = 0.0) -> list[tuple[int, float]]:
        """The best ``limit`` chunks matching any term, as (chunk id, score), best first.

        ``weights`` weigh the title, heading and body fields; higher scores
        are better; a repeated term counts once per repetition. With
        ``per_document``, documents are ranked instead, each by ``share`` times
        its document-level BM25 plus ``1 - share`` times its best chunk's, and
        represented by that chunk. ``pairs`` (phrases of neighbouring query words)
        add ``pair_weight`` times their BM25 to each matching row's score (term
        proximity; both stores apply them). The result holds
        exactly the top ``min(limit, matching)``: a backend may skip scoring rows that match
        only very common terms only where that provably changes nothing
        (``lore.store.bm25``).
        """
        ...

    def marked_snippets(self, terms: Sequence[str], chunk_ids: Sequence[int], *,
                        marks: tuple[str, str], tokens: int) -> dict[int, str]:
        """For the chunks that match a term: about ``tokens`` words around the match,
        each matched word wrapped in ``marks``. Chunks that match nothing are absent."""
        ...

    def chunk_texts(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        """Chunk id -> full chunk text (ids that no longer exist are absent)."""
        ...

    def id_matches(self, candidate: str, *, form: str, restriction: Restriction | None,
                   prefer: Sequence[int]) -> list[tuple[int, str]]:
        """(chunk id, doc id), one per document ``candidate`` names in ``form``, by path.

        Forms (``lore.store.lookups``): "exact" id or uid (case-insensitive),
        "id_at_uid" (``ID@uidprefix``), "suffix" (``TSK-0350``, ``0350``),
        "uid_prefix", "stem" (file name stem or path). The chunk is the
        earliest of the document's chunks in ``prefer``, else its first.
        """
        ...

    def word_tokens(self, words: Sequence[str]) -> dict[str, str]:
        """Word -> the one token the keyword index reads it as (stemmed, folded); words
        read as no token or as several are absent."""
        ...

    def unmatched_words(self, words: Sequence[str]) -> dict[str, str]:
        """Word -> its token, for those of ``words`` whose token no document holds (a
        typo candidate, ``lore.search.typos``); cheap, since every search asks."""
        ...

    def token_vocabulary(self) -> list[tuple[str, int]]:
        """Every token of the keyword index with how many documents hold it (read once
        per catalog state, and only when a query has an unmatched word)."""
        ...

    def field_keys(self) -> list[str]:
        """Every field key of some document, lower-cased, sorted."""
        ...

    def unknown_field_values(self, key: str, values: Sequence[str]) -> list[str]:
        """Those of ``values`` (lower-cased) that no document has for ``key``."""
        ...

    def field_values(self, key: str, *, limit: int) -> tuple[list[str], int]:
        """Up to ``limit`` distinct values of ``key``, sorted, and how many there are."""
        ...

    def field_spellings(self, key: str, values: Sequence[str]) -> dict[str, str]:
        """Each of ``values`` of ``key`` (lower-cased, as stored) as the files write it
        (``userstory`` -> ``UserStory``); values no document holds are left out."""
        ...

    def listing(self, restriction: Restriction, *, limit: int) -> list[int]:
        """The first chunk of each document passing ``restriction``, by path."""
        ...

    def chunk_owners(self, chunk_ids: Sequence[int]) -> dict[int, int]:
        """Chunk id -> document id."""
        ...

    def doctypes(self, document_ids: Collection[int]) -> dict[int, str]:
        """Document id -> normalised document type."""
        ...

    def document_dates(self, document_ids: Collection[int],
                       keys: Sequence[str]) -> dict[int, tuple[str, tuple[object, ...]]]:
        """Document id -> (path, the raw front matter values of ``keys``, None where absent)."""
        ...

    def hit_rows(self, chunk_ids: Sequence[int]) -> dict[int, HitRow]:
        """Chunk id -> what its hit shows."""
        ...

    def first_chunk(self, document_id: int) -> FirstChunk:
        """A document's front matter with its first chunk."""
        ...

    def chunk_text_at(self, path: str, ordinal: int) -> str:
        """The text of chunk ``ordinal`` of the document at ``path`` ("" when gone)."""
        ...

    def document_identities(self) -> list[DocumentIdentity]:
        """Every document's identity (for link resolution)."""
        ...

    def stored_links(self) -> list[tuple[int, str, str]]:
        """Every link as (source document id, kind, target as written)."""
        ...

    def catalog_fact(self, name: str, build: Callable[[], T]) -> T:
        """``build()``, a fact of the whole catalog (the resolved link graph), kept
        while the catalog state stands where the store caches facts (``name`` keys it).

        Call it inside ``read_snapshot``: the SQLite store keeps facts only
        there (outside one, ``build`` runs every time); PostgreSQL keeps them
        per state either way."""
        ...

    def allowed_chunks(self, restriction: Restriction) -> list[tuple[int, int]]:
        """(chunk id, document id) of every chunk of the allowed documents, by chunk id."""
        ...

    def document_chunks(self, document_ids: Sequence[int]) -> list[tuple[int, int]]:
        """(chunk id, document id) of the given documents' chunks, by document then chunk."""
        ...

    def get_document(self, key: int | str) -> DocumentRecord | None:
        """One document by row id (int), else by path, doc id or uid (str)."""
        ...

    # Document shapes, set at sync (``lore.documents.hubs``, ``lore.documents.neardup``).

    def hub_documents(self, document_ids: Collection[int]) -> set[int]:
        """Which of ``document_ids`` are hubs (pages that mostly list links)."""
        ...

    def all_hubs(self) -> set[int]:
        """Every hub document's id."""
        ...

    def copy_groups(self, document_ids: Collection[int]) -> dict[int, int]:
        """Document id -> its group of near-identical documents, for those that have copies."""
        ...

    def copies(self, document_ids: Collection[int],
               restriction: Restriction | None = None) -> dict[int, list[str]]:
        """Document id -> paths of its near-identical copies that ``restriction`` allows."""
        ...

    def chunk_headings(self, chunk_ids: Collection[int]) -> dict[int, tuple[str, tuple[str, ...]]]:
        """Chunk id -> (its document's doctype, its heading path)."""
        ...

    def first_chunks(self, document_ids: Sequence[int],
                     restriction: Restriction | None = None) -> dict[int, int]:
        """Document id -> its first chunk, for those of ``document_ids`` that pass."""
        ...

    def term_coverage(self, terms: Sequence[str],
                      document_ids: Collection[int]) -> dict[int, float]:
        """Document id -> IDF-weighted share of the keyword ``terms`` it contains (0..1)."""
        ...


class SyncWrites(Protocol):
    """What a sync needs: change detection and transactional document writes."""

    def transaction(self) -> AbstractContextManager[object]:
        """All writes inside commit together or not at all; nesting is allowed."""
        ...

    def writer_lock(self) -> AbstractContextManager[None]:
        """Held for a whole sync: one writer per index at a time (others wait, then fail)."""
        ...

    def document_states(self) -> dict[str, FileState]:
        """Path -> what was indexed."""
        ...

    def replace_document(self, doc: Document, chunks: Sequence[Chunk],
                         chunker_version: str) -> list[int]:
        """Write a new or changed document with its chunks, links and fields; new chunk ids."""
        ...

    def update_file_state(self, path: str, size: int, mtime_ns: int) -> None:
        """Record a new size/mtime for a file whose content did not change."""
        ...

    def rename(self, old_path: str, new_path: str) -> None:
        """Move a document to a new path, keeping its row id."""
        ...

    def delete_documents(self, paths: Iterable[str]) -> int:
        """Delete documents by path with everything that hangs off them."""
        ...

    def refresh_copies(self) -> int:
        """Regroup near-identical documents after a sync's writes; how many have copies."""
        ...

    def duplicate_doc_ids(self) -> dict[str, list[str]]:
        """Doc ids held by more than one file -> their paths."""
        ...

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A stored fact about the index (chunker version, last sync, active space)."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Set a stored fact about the index."""
        ...


class VectorStore(Protocol):
    """Embedding spaces, the durable vectors, and the searchable vector index."""

    def register_space(self, space_id: str, descriptor: str) -> None:
        """Record an embedding space (idempotent)."""
        ...

    def spaces(self) -> dict[str, str]:
        """Registered space id -> descriptor."""
        ...

    def active_space(self) -> EmbeddingSpace | None:
        """The space searches use, or None before the first embedding pass."""
        ...

    def activate_space(self, space_id: str) -> None:
        """Make ``space_id`` the active space and drop every other space's vectors."""
        ...

    def pending_chunks(self, space_id: str, limit: int | None = None) -> list[tuple[int, str]]:
        """Chunks without a vector in the space: (chunk id, text to embed)."""
        ...

    def store_vectors(self, space_id: str, ids: Sequence[int] | Keys, vectors: Floats) -> int:
        """Store one vector per chunk id; return how many were kept."""
        ...

    def iter_vectors(self, space_id: str,
                     batch_size: int = 4096) -> Iterator[tuple[Keys, Floats]]:
        """Every stored chunk vector of a space, in batches by chunk id."""
        ...

    def vectors_for(self, space_id: str, ids: Sequence[int] | Keys) -> tuple[Keys, Floats]:
        """The stored vectors of the given chunk ids that have one."""
        ...

    def vector_count(self, space_id: str) -> int:
        """How many chunk vectors a space holds."""
        ...

    def pending_count(self, space_id: str) -> int:
        """How many chunks have no vector in the space yet."""
        ...

    def vector_index(self, space: EmbeddingSpace) -> VectorSearch:
        """The searchable index of the space: chunk vectors and pooled document vectors."""
        ...

    def refresh_vector_index(self, space: EmbeddingSpace) -> VectorIndexReport:
        """Bring the space's vector index in line with the stored vectors (after writes)."""
        ...


class VectorIndexReport(NamedTuple):
    """What ``refresh_vector_index`` did.

    Attributes:
        removed: chunk keys dropped because their vector is gone.
        pooled: document vectors (re)computed.
        total: keys the index now holds (chunk and document keys).
        rebuilt: whether the index was rebuilt from the stored vectors.
    """

    removed: int
    pooled: int
    total: int
    rebuilt: bool


class Store(SearchReads, SyncWrites, VectorStore, Protocol):
    """A complete storage backend: search reads, sync writes, vectors, housekeeping."""

    read_only: bool
    """Opened from a place lore cannot write (read-only mount, permissions): search only."""

    def generation(self) -> int:
        """A number that changes whenever another connection commits a change.

        A long-lived ``Index`` compares it between searches and reloads the vector
        index it holds when another process wrote the store.
        """
        ...

    def stats(self) -> dict[str, Any]:
        """Counts for ``lore status``: documents, chunks, links, doc types, spaces."""
        ...

    def verify(self) -> list[str]:
        """Problems found checking the store against itself (empty: consistent)."""
        ...

    def pin_snapshot(self) -> None:
        """From now until ``close``, read the state committed now (a read-only reader)."""
        ...

    def close(self) -> None:
        """Release the connection; the store cannot be used afterwards."""
        ...
