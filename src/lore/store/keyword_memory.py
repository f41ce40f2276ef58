"""When keyword rankings come from memory, and when from FTS5.

A copy of the FTS5 tables (``lore.store.bm25_memory``) answers a query in
about a millisecond instead of ten, but building it costs seconds (SciFact's
5,183 documents: 1.5 s of one core on a quiet machine, 55 MB), so it is
built only where it pays:

- never for a one-shot ``lore search``: a catalog starts the build in a
  background thread at a keyword search ``BUILD_AFTER_S`` or more after its
  first one (a notebook or script holding an ``Index``; one search may rank
  twice, when it widens its candidates, but within milliseconds), or when
  asked: at once in the background (``request``; a server and MCP do this
  whenever a sync opens readers, their start-up sync included, so their first
  searches find the copy ready) or in the caller's thread (``prepare``); before that it
  uses a copy only if one is already held;
- never past ``MAX_TOKENS`` tokens in both tables together (about 23 bytes
  of memory a token, so at most about 230 MB): above it FTS5 always answers;
- one copy per catalog file in a process, shared by every connection open on
  it (a server's pinned readers), built by one thread at a time.

A copy answers only the snapshot it was copied from: every search compares
FTS5's structure and averages records (``bm25_memory.read_fingerprint``,
one small read) with the copy's, so after a write or a sync FTS5 answers
until a new copy is ready, never a stale copy. A connection with a write
transaction of its own open could see rows FTS5 has not flushed yet, so its
searches always go to FTS5. A rebuild starts at most once per ten build times,
so a watcher syncing every few seconds spends at most a tenth of a core on it;
a request in between is kept and built when the pause is over. A rebuild keeps
the query tokenizer, and its cache of tokenized words, while the tables'
tokenizer configuration is unchanged (``bm25_memory.load_copy``).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import weakref
from pathlib import Path

from lore.store.bm25_memory import KeywordCopy, load_copy, read_fingerprint
from lore.store.connection import connect_read_only
from lore.store.fts_postings import table_tokens

log = logging.getLogger(__name__)

MAX_TOKENS = 10_000_000      # both FTS5 tables together; above it FTS5 always answers
BUILD_AFTER_S = 1.0          # a build starts this long after a catalog's first keyword search
REBUILD_PAUSE = 10.0         # a rebuild waits this many build times after the last start


class KeywordMemory:
    """The in-memory copy of one catalog file's FTS5 tables, and its builds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._copy: KeywordCopy | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None   # a wanted build waiting out the pause
        self._wanted: tuple[object, ...] | None = None   # a snapshot asked for, not copied yet
        self._refused: tuple[object, ...] | None = None   # a snapshot past MAX_TOKENS
        self._started = 0.0
        self._took = 0.0

    def holds_copy(self) -> bool:
        """Whether a copy of some snapshot is held."""
        return self._copy is not None

    def current(self, fingerprint: tuple[object, ...]) -> KeywordCopy | None:
        """The copy, if it was copied from the snapshot ``fingerprint`` names."""
        copy = self._copy
        return copy if copy is not None and copy.fingerprint == fingerprint else None

    def request(self, fingerprint: tuple[object, ...]) -> None:
        """Ask for a copy of the snapshot ``fingerprint`` names, built in the background.

        The build starts at once, unless one runs (then it starts when that one
        ends with a copy of another snapshot) or the last one started less than
        ``REBUILD_PAUSE`` build times ago (then it starts when the pause is
        over): any number of requests meanwhile make one build. A snapshot
        refused as too large is never built.
        """
        with self._lock:
            if fingerprint == self._refused:
                return
            self._wanted = fingerprint
            self._start_wanted()

    def _start_wanted(self) -> None:
        """Start the wanted build now, or arrange for it after the pause (lock held)."""
        if self._wanted is None or self._thread is not None or self._timer is not None:
            return
        wait = self._started + REBUILD_PAUSE * self._took - time.monotonic()
        if wait > 0:
            self._timer = threading.Timer(wait, self._pause_over)
            self._timer.daemon = True
            self._timer.start()
            return
        self._wanted = None
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._build, name="lore-keyword-copy",
                                        daemon=True)
        self._thread.start()

    def _pause_over(self) -> None:
        with self._lock:
            self._timer = None
            self._start_wanted()

    def prepare(self) -> bool:
        """Build a copy of the current snapshot now, in this thread (waiting for a
        background build first); whether one is there afterwards."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()
        with self._lock:
            self._started = time.monotonic()
            self._thread = threading.current_thread()
        self._build()
        return self._copy is not None

    def _build(self) -> None:
        copy: KeywordCopy | None = None
        try:
            copy = self._load()
        finally:   # whatever happened, the next request may build again
            with self._lock:
                if copy is not None:   # a search still holding the old copy keeps using it
                    self._copy = copy
                self._took = time.monotonic() - self._started
                self._thread = None
                made = copy.fingerprint if copy is not None else None
                if self._wanted in (self._refused, made):
                    self._wanted = None   # asked for during this build, and what it made
                self._start_wanted()

    def _load(self) -> KeywordCopy | None:
        """A copy of the catalog's current snapshot, or None (refused, failed)."""
        copy: KeywordCopy | None = None
        try:
            conn = connect_read_only(self.path)
            try:
                total = sum(table_tokens(conn, t) for t in ("documents_fts", "chunks_fts"))
                if total > MAX_TOKENS:
                    self._refused = read_fingerprint(conn)
                    log.info("keyword search stays in FTS5: %d tokens > %d", total,
                             MAX_TOKENS)
                else:   # the old copy's query tokenizer, and its cache, carry over
                    held = self._copy
                    copy = load_copy(conn, held.tokenizer if held is not None else None)
            finally:
                conn.close()
        except (sqlite3.Error, OSError, ValueError, MemoryError) as exc:
            # A failed build (the file gone, out of memory) leaves FTS5 answering.
            log.warning("keyword copy of %s not built: %s", self.path, exc)
        return copy


_SHARED: weakref.WeakValueDictionary[str, KeywordMemory] = weakref.WeakValueDictionary()
_SHARED_LOCK = threading.Lock()


def shared_memory(path: Path) -> KeywordMemory:
    """The one ``KeywordMemory`` of a catalog file in this process (kept while any
    catalog on it holds it)."""
    key = str(Path(path).resolve())
    with _SHARED_LOCK:
        memory = _SHARED.get(key)
        if memory is None:
            memory = KeywordMemory(Path(key))
            _SHARED[key] = memory
        return memory
