"""Live index: filesystem events, debounced into incremental syncs.

``Watcher`` runs watchfiles (inotify / FSEvents / ReadDirectoryChangesW, no
polling) on the root in a background thread. Events are grouped until a
check finds no new change (watchfiles looks every ``quiet_ms``) or
``max_wait_ms`` passed, then one sync runs: a ``git checkout`` of 500 files
is one burst and so one sync, and a single save waits 100 to 200 ms for its
sync. The server shows the new text to keyword search as soon as the catalog
is committed, before the changed chunks are embedded. Directories created
later are watched too (the watch is recursive). The index folder itself and
VCS folders are ignored, so a sync never triggers the next one. While nothing
changes the thread sleeps in the OS, so idle CPU stays near zero.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lore._optional import require

log = logging.getLogger(__name__)

QUIET_MS = 100        # a burst ends after a step this long with no new change
MAX_WAIT_MS = 5_000   # ... or after this long, so a never-ending stream still syncs


class Watcher:
    """Watch ``root`` and call ``sync`` after each burst of changes.

    Args:
        root: the folder of documents.
        index_dir: the index folder (its own writes are ignored).
        sync: what to run after a burst (e.g. ``IndexService.sync``); its
            exceptions are logged and the watch goes on.
        quiet_ms: silence that ends a burst.
        max_wait_ms: the longest a burst is held before syncing anyway.

    Raises:
        MissingDependencyError: watchfiles (extra ``serve``) is not installed.
    """

    def __init__(self, root: Path, index_dir: Path, sync: Callable[[], Any], *,
                 quiet_ms: int = QUIET_MS, max_wait_ms: int = MAX_WAIT_MS) -> None:
        self._watchfiles = require("watchfiles", extra="serve", purpose="watching a folder")
        self.root = Path(root).absolute()
        self.index_dir = Path(index_dir).absolute()
        self._sync = sync
        self._quiet_ms = quiet_ms
        self._max_wait_ms = max_wait_ms
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self.bursts = 0      # bursts seen (= syncs started)
        self.errors = 0      # syncs that raised

    def start(self) -> Watcher:
        """Start watching in a daemon thread; returns once the watch is set up."""
        self._thread = threading.Thread(target=self.run, name="lore-watch", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching (a sync in progress finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Watch until ``stop``; runs in the calling thread."""
        ignored = self._watchfiles.DefaultFilter(ignore_paths=[str(self.index_dir)])
        watcher = self._watchfiles.watch(
            self.root, watch_filter=ignored, debounce=self._max_wait_ms, step=self._quiet_ms,
            stop_event=self._stop, rust_timeout=1_000, yield_on_timeout=True,
            raise_interrupt=False)
        for changes in watcher:
            self._ready.set()       # the first (timeout) yield: the watch is in place
            if not changes:
                continue
            self.bursts += 1
            log.info("%d file events; syncing", len(changes))
            try:
                self._sync()
            except Exception:  # a failed sync must not end the watch
                self.errors += 1
                log.exception("sync after file changes failed; watching on")
        self._ready.set()
