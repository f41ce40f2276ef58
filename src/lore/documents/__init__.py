"""The canonical side: walk a root, read and parse its files, cut them into chunks."""

from __future__ import annotations

from lore.documents.chunking import CHUNKER_VERSION, chunk_document
from lore.documents.doctypes import load_document
from lore.documents.model import Chunk, Document, Link
from lore.documents.sources import Skipped, SourceFile, walk

__all__ = [
    "CHUNKER_VERSION",
    "Chunk",
    "Document",
    "Link",
    "Skipped",
    "SourceFile",
    "chunk_document",
    "load_document",
    "walk",
]
