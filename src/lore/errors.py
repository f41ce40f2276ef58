"""One rooted hierarchy for every error lore raises on purpose.

Every message says what to do next. Front ends catch ``LoreError`` in exactly
one place and turn it into their own error shape (a click exception, an HTTP
problem, an MCP error).

```
LoreError
├── ConfigError                 bad setting: names the file/variable and the key
├── MissingDependencyError      optional package absent (also an ImportError)
├── UnknownEmbedderError        no provider registered under that name
├── EmbedderMismatchError       query/index embedding spaces differ
├── ModelNotFoundError          model files absent: names the command that fetches them
├── ProviderError               an embedding provider failed (network, bad reply)
├── IndexNotFoundError          no index at the given root
├── IndexCorruptError           catalog / FTS / vectors disagree or are unreadable
├── StoreError                  a storage server is unreachable, unfit or busy (URL redacted)
├── QueryError                  a query or filter lore cannot run
└── DocumentError               one file cannot be read or parsed (skipped, reported)
```
"""

from __future__ import annotations


class LoreError(Exception):
    """Base class of every error lore raises deliberately."""


class ConfigError(LoreError):
    """A setting is unknown or has a bad value."""


class MissingDependencyError(LoreError, ImportError):
    """An optional dependency is not installed."""


class UnknownEmbedderError(LoreError):
    """No embedding provider is registered under the requested name."""


class EmbedderMismatchError(LoreError):
    """The embedding space of a query or new vectors differs from the index's."""


class ModelNotFoundError(LoreError):
    """Model files are missing locally."""


class ProviderError(LoreError):
    """An embedding or reranking provider failed."""


class IndexNotFoundError(LoreError):
    """There is no lore index where one was expected."""


class IndexCorruptError(LoreError):
    """The derived index is unreadable or inconsistent; rebuild it."""


class QueryError(LoreError):
    """A query or filter cannot be run."""


class DocumentError(LoreError):
    """A single source file cannot be read or parsed."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StoreError(LoreError):
    """A storage backend cannot be used: unreachable, missing an extension, or held by a writer."""
