"""The canonical side's data model: what a file becomes before it is stored.

These are plain frozen dataclasses so that every later stage (catalog, embed,
search) can depend on them without importing any parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ChunkKind = Literal["document", "section", "worklog"]
LinkKind = Literal[
    "parent",      # this item's parent (front matter `parent:`)
    "blocks",      # links.blocks
    "blocked_by",  # links.blocked_by
    "relates",     # links.relates
    "decision",    # front matter `decisions:` / `supersedes` / `superseded_by`
    "mention",     # an ADR id named in the body (``Per ADR-0013, ...``)
    "wiki",        # [[Target]] in the body
    "markdown",    # [text](relative/path.md) in the body
]


@dataclass(frozen=True)
class Link:
    """A typed, directed edge from one document to a target it names.

    ``target`` is kept as written (an id like ``KABSD-TSK-0350``, an ADR id, a
    wiki title or a path relative to the indexed root, already normalised with
    ``/`` separators). It is resolved to a document at query time, so links to
    documents indexed later still work.
    """

    kind: LinkKind
    target: str


@dataclass(frozen=True)
class Chunk:
    """One searchable piece of a document.

    Attributes:
        ordinal: position within the document, from 0.
        heading_path: headings from the top down to this section (may be empty).
        text: the chunk body as indexed for keyword search (no context prefix).
        kind: "document" (whole small doc), "section", or "worklog" (one day).
        token_estimate: approximate token count of ``text`` (see chunking).
    """

    ordinal: int
    heading_path: tuple[str, ...]
    text: str
    kind: ChunkKind
    token_estimate: int

    def context_text(self, title: str) -> str:
        """The text handed to an embedder: title and heading path, then the body."""
        head = " > ".join((title, *self.heading_path)) if title else " > ".join(self.heading_path)
        return f"{head}\n\n{self.text}" if head else self.text


@dataclass(frozen=True)
class Document:
    """A parsed source file.

    Attributes:
        path: path relative to the indexed root, with ``/`` separators.
        doc_id: the primary identifier: front matter ``id`` if present, else an
            ADR id from the file name (``ADR-0009``), else the path.
        uid: front matter ``uid`` if present.
        title: front matter ``title``, else the first heading, else the file stem.
        doctype: normalised type: the front matter ``type`` (e.g. "Task",
            "Feature", "Epic", "Bug", "UserStory"), "ADR" for decision records,
            "Worklog", or "Note" for plain Markdown.
        metadata: every front matter key (JSON-serialisable values), plus derived
            keys lore adds: ``type`` and ``title`` always.
        links: typed outgoing links.
        body: the Markdown body without front matter.
        content_hash: sha256 hex of the raw file bytes.
        size: file size in bytes.
        mtime_ns: modification time in nanoseconds.
        warnings: non-fatal problems found while parsing (malformed front matter...).
    """

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
    warnings: tuple[str, ...] = field(default=())
