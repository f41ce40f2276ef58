"""lore: local-first hybrid search for a folder of Markdown notes, backlog items and ADRs."""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from lore.errors import (
    ConfigError,
    DocumentError,
    EmbedderMismatchError,
    IndexCorruptError,
    IndexNotFoundError,
    LoreError,
    MissingDependencyError,
    ModelNotFoundError,
    ProviderError,
    QueryError,
    StoreError,
    UnknownEmbedderError,
)

if TYPE_CHECKING:
    from lore.index import Index, open_index
    from lore.search.expand import ContextPack
    from lore.search.graph import Neighbour
    from lore.search.hits import Hit, SearchResult
    from lore.settings import Settings
    from lore.store.records import DocumentRecord
    from lore.sync import SyncReport

logging.getLogger("lore").addHandler(logging.NullHandler())

# name -> module: re-exported on first use, so `import lore` (and so every
# `lore` command, `--help` included) does not pay for numpy, SQLite or parsers.
_LAZY = {
    "ContextPack": "lore.search.expand",
    "DocumentRecord": "lore.store.records",
    "Hit": "lore.search.hits",
    "Index": "lore.index",
    "Neighbour": "lore.search.graph",
    "SearchResult": "lore.search.hits",
    "Settings": "lore.settings",
    "SyncReport": "lore.sync",
    "open_index": "lore.index",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lore' has no attribute {name!r}")

__all__ = [
    "ConfigError",
    "ContextPack",
    "DocumentError",
    "DocumentRecord",
    "EmbedderMismatchError",
    "Hit",
    "Index",
    "IndexCorruptError",
    "IndexNotFoundError",
    "LoreError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "Neighbour",
    "ProviderError",
    "QueryError",
    "SearchResult",
    "Settings",
    "StoreError",
    "SyncReport",
    "UnknownEmbedderError",
    "open_index",
]
