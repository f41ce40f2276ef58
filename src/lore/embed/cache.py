"""A content-addressed embedding cache shared by every index on the machine.

Embedding is the slow part of indexing, and the same text is embedded again
whenever an index is rebuilt, a file moves, or two indexes hold the same
document. The cache maps (space id, kind, sha256(text)) to the finished
float32 vector, so none of those cases reaches the provider. The space id
already covers model, prefixes and truncation, so a key never returns a
vector computed differently. Texts themselves are never stored, only hashes.

The file is SQLite in WAL mode with a busy timeout: several ``lore``
processes may read and write it at once. It is disposable (``lore cache
clear``); a schema change simply recreates it.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lore.embed.base import Vectors
from lore.errors import ConfigError

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    space_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    text_sha256 BLOB NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (space_id, kind, text_sha256)
) WITHOUT ROWID
"""
_LOOKUP_CHUNK = 500  # keys per SELECT ... IN (...), under SQLite's variable limit


@dataclass(frozen=True)
class CacheStats:
    """What ``EmbeddingCache.stats`` reports.

    Attributes:
        path: the cache file.
        bytes: size on disk, WAL included.
        entries: vectors per space id.
    """

    path: Path
    bytes: int
    entries: dict[str, int] = field(default_factory=dict)

    @property
    def total_entries(self) -> int:
        """Vectors across all spaces."""
        return sum(self.entries.values())


def text_key(text: str) -> bytes:
    """The cache key of a text: its sha256 digest (32 bytes)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class EmbeddingCache:
    """SQLite-backed vector cache; safe to share between threads and processes.

    Args:
        path: the cache file (default ``lore.paths.embed_cache_file()``); its
            folder is created if needed.
    """

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from lore.paths import embed_cache_file

            path = embed_cache_file()
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False,
                                       isolation_level=None)
            self._open_schema()
        except (sqlite3.Error, OSError) as exc:
            raise ConfigError(
                f"Cannot open the embedding cache at {self.path}: {exc}. Delete the file, "
                f"or move it with LORE_HOME, or set [embed] cache = false."
            ) from exc

    def _open_schema(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            # A cache from another lore version: its layout is unknown, and it
            # is only a cache, so start over rather than migrate.
            logger.info("embedding cache %s has schema %s; recreating it", self.path, version)
            self._db.execute("DROP TABLE IF EXISTS vectors")
        self._db.execute(_SCHEMA)
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def get_many(self, space_id: str, kind: str, texts: Sequence[str]) -> list[Vectors | None]:
        """Cached vectors for ``texts`` (None where absent), in input order.

        Args:
            space_id: ``EmbeddingSpace.id`` of the vectors wanted.
            kind: ``"document"`` or ``"query"``.
            texts: raw texts (before prefixes), as given to the runner.
        """
        keys = [text_key(t) for t in texts]
        found: dict[bytes, bytes] = {}
        with self._lock:
            for start in range(0, len(keys), _LOOKUP_CHUNK):
                chunk = keys[start:start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    "SELECT text_sha256, vector FROM vectors WHERE space_id = ? AND kind = ? "
                    f"AND text_sha256 IN ({marks})", (space_id, kind, *chunk))
                found.update(rows)
        return [np.frombuffer(found[k], dtype=np.float32) if k in found else None for k in keys]

    def put_many(self, space_id: str, kind: str, texts: Sequence[str], vectors: Vectors) -> None:
        """Store one vector per text (replacing any earlier one), in one transaction."""
        if len(texts) != len(vectors):
            raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors")
        rows = [(space_id, kind, text_key(t), np.asarray(v, dtype=np.float32).tobytes())
                for t, v in zip(texts, vectors)]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)",
                                         rows)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                # Only a cache: a full disk or a read-only LORE_HOME costs re-embedding
                # later, never the caller's index or search.
                logger.warning("the embedding cache %s was not updated (%s); the vectors "
                               "are kept in the index, only the cache missed them", self.path,
                               exc)

    def delete_many(self, space_id: str, kind: str, texts: Sequence[str]) -> int:
        """Forget the vectors of ``texts`` (``lore repair`` drops entries it cannot trust)."""
        keys = [(space_id, kind, text_key(t)) for t in texts]
        with self._lock:
            before = self._db.total_changes
            self._db.executemany("DELETE FROM vectors WHERE space_id = ? AND kind = ? "
                                 "AND text_sha256 = ?", keys)
            return self._db.total_changes - before

    def stats(self) -> CacheStats:
        """Entries per space and bytes on disk."""
        with self._lock:
            rows = self._db.execute(
                "SELECT space_id, COUNT(*) FROM vectors GROUP BY space_id ORDER BY space_id")
            entries = {space: count for space, count in rows}
        size = sum(p.stat().st_size for p in self._files() if p.exists())
        return CacheStats(path=self.path, bytes=size, entries=entries)

    def clear(self, space_id: str | None = None) -> int:
        """Delete the vectors of one space, or all of them; return how many went."""
        with self._lock:
            if space_id is None:
                cursor = self._db.execute("DELETE FROM vectors")
            else:
                cursor = self._db.execute("DELETE FROM vectors WHERE space_id = ?", (space_id,))
            removed = cursor.rowcount
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if space_id is None:
                self._db.execute("VACUUM")
        return removed

    def close(self) -> None:
        """Close the connection (the object is unusable afterwards)."""
        with self._lock:
            self._db.close()

    def _files(self) -> list[Path]:
        return [self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")]
