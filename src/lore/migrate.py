"""Copy an index from one store to another without embedding anything again.

``lore migrate --to postgresql://...`` moves a local index into a shared
PostgreSQL database, ``--from`` brings one back. Every document is copied
with its chunks (same text, headings, kinds and token estimates), links and
front matter; every stored vector is copied as its float32 bytes under the
new chunk ids, with its embedding space; the active space, chunker version
and last-sync facts follow. No provider is built and no text is embedded, so
a migration costs no model time and the vectors are bit-for-bit the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from lore.documents.model import Chunk, ChunkKind, Document
from lore.errors import StoreError
from lore.store.base import Store
from lore.sync import FILE_WARNINGS_META

COPIED_META = ("chunker_version", "last_sync", FILE_WARNINGS_META)
BATCH = 200          # documents per target transaction

Progress = Callable[[int, int], None]


@dataclass
class MigrateReport:
    """What a migration copied.

    Attributes:
        documents: documents copied (with their chunks, links and fields).
        chunks: chunks copied.
        vectors: chunk vectors copied, over every space.
        spaces: the embedding spaces copied; the active one first.
        seconds: wall time.
    """

    documents: int = 0
    chunks: int = 0
    vectors: int = 0
    spaces: list[str] = field(default_factory=list)
    seconds: float = 0.0


def copy_index(source: Store, target: Store, *, progress: Progress | None = None) -> MigrateReport:
    """Copy everything ``source`` holds into the empty ``target``.

    Args:
        source: the store to read.
        target: an empty store of the same root (nothing indexed yet).
        progress: called as ``progress(documents done, documents total)``.

    Raises:
        StoreError: ``target`` already holds documents.
    """
    started = time.perf_counter()
    if target.document_states():
        raise StoreError("The target store already holds an index for this root; migrate "
                         "into an empty one (another index.store_name, or drop that root first).")
    states = source.document_states()
    report = MigrateReport()
    new_ids: dict[int, int] = {}
    with target.writer_lock():
        paths = sorted(states)
        for start in range(0, len(paths), BATCH):
            with target.transaction():
                for path in paths[start:start + BATCH]:
                    new_ids.update(_copy_document(source, target, path,
                                                  states[path].chunker_version))
                    report.documents += 1
            if progress is not None:
                progress(report.documents, len(paths))
        report.chunks = len(new_ids)
        for key in COPIED_META:
            value = source.get_meta(key)
            if value is not None:
                target.set_meta(key, value)
        report.vectors, report.spaces = _copy_vectors(source, target, new_ids)
    report.seconds = time.perf_counter() - started
    return report


def _copy_document(source: Store, target: Store, path: str,
                   chunker_version: str) -> dict[int, int]:
    """Copy one document; return its old chunk id -> new chunk id."""
    record = source.get_document(path)
    if record is None:      # deleted while we copied; the next sync settles it
        return {}
    doc = Document(path=record.path, doc_id=record.doc_id, uid=record.uid, title=record.title,
                   doctype=record.doctype, metadata=record.metadata, links=record.links,
                   body=record.body, content_hash=record.content_hash, size=record.size,
                   mtime_ns=record.mtime_ns)
    chunks = [Chunk(c.ordinal, c.heading_path, c.text, cast(ChunkKind, c.kind), c.token_estimate)
              for c in record.chunks]
    ids = target.replace_document(doc, chunks, chunker_version)
    return {old.id: new for old, new in zip(record.chunks, ids)}


def _copy_vectors(source: Store, target: Store,
                  new_ids: dict[int, int]) -> tuple[int, list[str]]:
    """Copy every space's stored vectors under the new chunk ids; activate the active space."""
    active = source.active_space()
    spaces = source.spaces()
    order = sorted(spaces, key=lambda s: s != (active.id if active else None))
    copied = 0
    for space_id in order:
        target.register_space(space_id, spaces[space_id])
        for keys, vectors in source.iter_vectors(space_id):
            keep = [n for n, key in enumerate(keys.tolist()) if key in new_ids]
            if keep:
                copied += target.store_vectors(space_id, [new_ids[int(keys[n])] for n in keep],
                                               vectors[keep])
    if active is not None:
        target.activate_space(active.id)
        target.refresh_vector_index(active)
    return copied, order
