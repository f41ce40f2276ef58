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
    UnknownEmbedderError,
)
from lore.settings import Settings

if TYPE_CHECKING:
    from lore.index import Index, open_index

logging.getLogger("lore").addHandler(logging.NullHandler())

# name -> module: re-exported on first use, so `import lore` (and so every
# `lore` command, `--help` included) does not pay for numpy, SQLite or parsers.
_LAZY = {
    "Index": "lore.index",
    "open_index": "lore.index",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lore' has no attribute {name!r}")

__all__ = [
    "ConfigError",
    "DocumentError",
    "EmbedderMismatchError",
    "Index",
    "IndexCorruptError",
    "IndexNotFoundError",
    "LoreError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "ProviderError",
    "QueryError",
    "Settings",
    "UnknownEmbedderError",
    "open_index",
]
