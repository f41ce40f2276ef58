"""lore: local-first hybrid search for a folder of Markdown notes, backlog items and ADRs."""

from __future__ import annotations

import logging

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

logging.getLogger("lore").addHandler(logging.NullHandler())

__all__ = [
    "ConfigError",
    "DocumentError",
    "EmbedderMismatchError",
    "IndexCorruptError",
    "IndexNotFoundError",
    "LoreError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "ProviderError",
    "QueryError",
    "Settings",
    "UnknownEmbedderError",
]
