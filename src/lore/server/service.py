"""One index served to many concurrent callers: pinned readers and one writer.

Every front door of a running server (REST routes, MCP tools, the watcher)
goes through an :class:`IndexService`. It keeps:

- one *writer* ``Index``: syncs run on it, one at a time (a lock);
- a *generation* of reader ``Index`` objects, each with its own SQLite
  connection pinned to the state the last complete sync left
  (``Catalog.pin_snapshot``) and all sharing one model and one loaded vector
  sidecar. A request borrows a reader, so concurrent requests never share a
  connection, and a sync in progress (which commits in batches) is never seen
  half done. When a sync ends, a new generation is built and swapped in; the
  old readers close as their requests return. Reads never wait for a sync.
  Each generation a sync opens also starts, in the background, the in-memory
  copy of the keyword index its readers search (``lore.store.keyword_memory``),
  so a server's first searches after its start-up sync take that path.

A sync made by another process (``lore index`` in a shell) is noticed on the
next request, at most once per ``probe_interval_s``, and a new generation is
built in the background.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lore.errors import (
    EmbedderMismatchError,
    MissingDependencyError,
    ModelNotFoundError,
    ProviderError,
)
from lore.index import Index, open_index
from lore.settings import Settings
from lore.sync import ProgressCallback, SyncReport

log = logging.getLogger(__name__)

DEFAULT_READERS = 4
BORROW_POLL_S = 0.05   # how often a request waiting for a reader looks for a newer generation


@dataclass
class _Generation:
    """The readers pinned to one committed state of the catalog."""

    number: int
    last_sync: float | None
    idle: queue.SimpleQueue[Index] = field(default_factory=queue.SimpleQueue)
    lock: threading.Lock = field(default_factory=threading.Lock)
    retired: bool = False


class IndexService:
    """Thread-safe access to one index for a long-running server.

    Args:
        root: the folder of documents.
        settings: the settings of that folder.
        index_dir: where the index lives (default from the settings).
        readers: how many requests may read at the same time.
        probe_interval_s: how often (at most) to look for syncs by other processes.
    """

    def __init__(self, root: Path, settings: Settings, index_dir: Path | None = None, *,
                 readers: int = DEFAULT_READERS, probe_interval_s: float = 1.0) -> None:
        if readers < 1:
            raise ValueError("readers must be at least 1")
        self.settings = settings
        self._readers = readers
        self._writer = open_index(root, settings=settings, index_dir=index_dir, create=True,
                                  any_thread=True)
        self._probe = open_index(root, settings=settings, index_dir=self._writer.index_dir,
                                 create=False, any_thread=True)
        self.root = self._writer.root
        self.index_dir = self._writer.index_dir
        self._write_lock = threading.Lock()
        self._probe_lock = threading.Lock()
        self._probe_interval_s = probe_interval_s
        self._probed_at = 0.0
        self._closed = False
        self.syncs = 0               # syncs run by this service (tests and status read it)
        # Opened before any sync: no keyword copy yet (see ``_build_generation``).
        self._generation = self._build_generation(1, keyword_copy=False)

    @property
    def generation(self) -> int:
        """The number of the generation new requests read from."""
        return self._generation.number

    @contextmanager
    def reader(self) -> Iterator[Index]:
        """Borrow a reader pinned to the last complete sync; give it back afterwards.

        Waits only when all readers are busy with other requests, never for a sync.
        """
        if self._closed:
            raise RuntimeError("the index service is closed")
        self._probe_other_writers()
        gen, idx = self._borrow()
        try:
            yield idx
        finally:
            with gen.lock:
                if gen.retired:
                    idx.close()
                else:
                    gen.idle.put(idx)

    def _borrow(self) -> tuple[_Generation, Index]:
        """An idle reader of the current generation, waiting while all are busy.

        A swap can retire the generation being waited on: its idle readers are
        closed and its busy ones close on return, so none would ever come back.
        The wait therefore looks at the current generation again every
        ``BORROW_POLL_S``.
        """
        while True:
            gen = self._generation
            try:
                return gen, gen.idle.get(timeout=BORROW_POLL_S)
            except queue.Empty:
                if self._closed:
                    raise RuntimeError("the index service is closed") from None

    def sync(self, progress: ProgressCallback | None = None, *,
             embed_progress: Callable[[int, int], None] | None = None,
             on_start: Callable[[], None] | None = None) -> SyncReport:
        """Run an incremental sync on the writer, then swap in readers that see it.

        Syncs run one at a time; a caller arriving during a sync waits for it
        and then runs its own (cheap when nothing changed). Readers keep
        answering from the previous state meanwhile. When files changed and
        vectors are to be computed, readers are swapped twice: once the
        catalog is committed (keyword search sees the new text at once; new
        chunks are found by keyword only until their vectors exist), and
        again when the vectors are in.

        Args:
            progress: per-file progress callback.
            embed_progress: called as (chunks done, chunks total) while embedding.
            on_start: called once the writer lock is held (tests use it).
        """
        with self._write_lock:
            if on_start is not None:
                on_start()
            report = self._writer.sync(progress, embed_progress=embed_progress,
                                       on_catalog=self._show_catalog)
            self.syncs += 1
            self._swap(self._build_generation(self._generation.number + 1))
        return report

    def _show_catalog(self, report: SyncReport) -> None:
        """Swap in readers of the committed catalog before embedding (see ``sync``)."""
        if report.changed and self.settings.embed.enabled:
            self._swap(self._build_generation(self._generation.number + 1))

    def status(self) -> dict[str, object]:
        """``Index.status`` of the served state, plus what the server knows."""
        with self.reader() as idx:
            info = dict(idx.status())
        info["generation"] = self.generation
        info["syncs"] = self.syncs
        info["syncing"] = self._write_lock.locked()
        return info

    def close(self, timeout_s: float = 10.0) -> None:
        """Close the readers, and the writer once no sync runs (waiting up to ``timeout_s``).

        A sync still running after that is left to finish or to die with the
        process: its batches are transactions, so the next sync picks up.
        """
        idle = self._write_lock.acquire(timeout=timeout_s)
        try:
            self._closed = True
            self._retire(self._generation)
            if idle:
                self._probe.close()
                self._writer.close()
            else:
                log.warning("a sync is still running; closing without waiting for it")
        finally:
            if idle:
                self._write_lock.release()

    # -- generations --------------------------------------------------------

    def _build_generation(self, number: int, *, keyword_copy: bool = True) -> _Generation:
        """Open, pin and warm ``self._readers`` readers (called with no sync running).

        With ``keyword_copy`` the in-memory keyword copy of this state (one per
        catalog file, shared by the readers) starts building in the background,
        so the readers' first searches find it ready. The first generation is
        opened before any sync and does without: a server syncs right after
        opening (``lore serve``, ``lore mcp``), and a copy built meanwhile would
        slow that sync and might copy a state it is about to change.
        """
        first: Index | None = None
        gen = _Generation(number, _last_sync(self._writer))
        for _ in range(self._readers):
            idx = open_index(self.root, settings=self.settings, index_dir=self.index_dir,
                             create=False, any_thread=True)
            idx.pin_snapshot()
            if first is None:
                first = idx
                self._warm(idx)
            else:
                idx.share_loaded(first)
            if keyword_copy:
                idx.prepare_keyword_search(wait=False)
            gen.idle.put(idx)
        return gen

    def _warm(self, idx: Index) -> None:
        """Give ``idx`` the model (loaded once per service) and open this state's vectors."""
        idx.share_loaded(self._writer, vectors=False)
        if not self.settings.embed.enabled or self.settings.search.mode == "keyword":
            return
        try:
            idx.warm()
        except (EmbedderMismatchError, ModelNotFoundError, MissingDependencyError,
                ProviderError) as exc:
            log.warning("vector search unavailable: %s", exc)
        # The writer keeps the model for the syncs and for the next generation.
        self._writer.share_loaded(idx, vectors=False)

    def _swap(self, new: _Generation) -> None:
        old = self._generation
        self._generation = new
        self._retire(old)

    @staticmethod
    def _retire(gen: _Generation) -> None:
        """Mark ``gen`` retired and close its idle readers; busy ones close on return."""
        with gen.lock:
            gen.retired = True
            while True:
                try:
                    gen.idle.get_nowait().close()
                except queue.Empty:
                    break

    def _probe_other_writers(self) -> None:
        """Start a refresh when another process synced since this generation was built."""
        now = time.monotonic()
        if now - self._probed_at < self._probe_interval_s or self._write_lock.locked():
            return
        if not self._probe_lock.acquire(blocking=False):
            return
        try:
            self._probed_at = now
            seen = _last_sync(self._probe)
        finally:
            self._probe_lock.release()
        if seen != self._generation.last_sync:
            threading.Thread(target=self._refresh, name="lore-refresh", daemon=True).start()

    def _refresh(self) -> None:
        """Build a generation over the current state, unless a sync is doing it."""
        if not self._write_lock.acquire(blocking=False):
            return
        try:
            if not self._closed:
                log.info("the index changed outside this server; reloading")
                self._swap(self._build_generation(self._generation.number + 1))
        finally:
            self._write_lock.release()


def _last_sync(idx: Index) -> float | None:
    """When the index was last synced, by whichever process (a change marker)."""
    value = idx.status().get("last_sync")
    return None if value is None else float(value)
