"""What the catalog hands back when asked for a document: plain frozen records.

Callers (``Index.get``, the CLI's ``show``, the HTTP server) get these rather
than SQLite rows, so they never depend on column order or JSON encoding.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from lore.documents.model import Link, LinkKind


@dataclass(frozen=True)
class ChunkRecord:
    """One stored chunk: its id (the vector key), position and text."""

    id: int
    ordinal: int
    kind: str
    heading_path: tuple[str, ...]
    text: str
    token_estimate: int


@dataclass(frozen=True)
class DocumentRecord:
    """One stored document, as indexed.

    Attributes:
        id: the catalog row id (stable across edits and renames).
        path: root-relative posix path.
        metadata: front matter plus lore's derived ``type`` and ``title``.
        links: typed outgoing links, targets as written.
        chunks: the document's chunks in order.
        indexed_at: when this version was written (Unix time).
    """

    id: int
    path: str
    doc_id: str
    uid: str | None
    title: str
    doctype: str
    metadata: dict[str, Any]
    links: tuple[Link, ...]
    body: str
    content_hash: str
    size: int
    mtime_ns: int
    indexed_at: float
    chunks: tuple[ChunkRecord, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with stable field names (for ``--json`` and HTTP)."""
        return {
            "id": self.id, "path": self.path, "doc_id": self.doc_id, "uid": self.uid,
            "title": self.title, "doctype": self.doctype, "metadata": self.metadata,
            "links": [{"kind": link.kind, "target": link.target} for link in self.links],
            "body": self.body, "content_hash": self.content_hash, "size": self.size,
            "mtime_ns": self.mtime_ns, "indexed_at": self.indexed_at,
            "chunks": [{"id": c.id, "ordinal": c.ordinal, "kind": c.kind,
                        "heading_path": list(c.heading_path), "text": c.text,
                        "token_estimate": c.token_estimate} for c in self.chunks],
        }


def document_record(row: Mapping[str, Any], links: Iterable[tuple[str, str]],
                    chunks: Iterable[ChunkRecord]) -> DocumentRecord:
    """Build a record from a ``documents`` row (by column name) and its children."""
    return DocumentRecord(
        id=int(row["id"]), path=row["path"], doc_id=row["doc_id"], uid=row["uid"],
        title=row["title"], doctype=row["doctype"], metadata=json.loads(row["metadata"]),
        links=tuple(Link(cast(LinkKind, kind), target) for kind, target in links),
        body=row["body"], content_hash=row["content_hash"], size=int(row["size"]),
        mtime_ns=int(row["mtime_ns"]), indexed_at=float(row["indexed_at"]),
        chunks=tuple(chunks),
    )
