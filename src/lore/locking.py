"""One writer per index: an advisory lock that a second ``lore index`` waits on.

Two syncs of one index would interleave their catalog transactions harmlessly
(SQLite serialises them) but not their sidecar saves: each reconciles against
the catalog it saw and the last save wins, possibly without the other's
vectors. So every writer (``Index.sync``, ``lore repair``) holds
``<index dir>/writer.lock`` for its whole run, and readers take no lock at all
(they never write: see ``lore.vectorize.load_sidecar``).

The lock is ``flock`` on an open file: the kernel drops it when the holder
exits, however it exits (a SIGKILL included), so a crashed writer never leaves
the index locked. A writer that finds the lock taken says so once, with the
holder's pid, and waits up to ``index.lock_timeout_s`` before giving up with
an ``IndexBusyError``.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from lore.errors import IndexBusyError, IndexWriteError

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger(__name__)

LOCK_FILE = "writer.lock"
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_NOT_ALLOWED = (errno.EROFS, errno.EACCES, errno.EPERM)
_POLL_S = 0.05


class WriterLock:
    """Exclusive right to write one index, held as a context manager.

    Args:
        index_dir: the index folder (the lock file lives in it).
        timeout_s: how long to wait for another writer; 0 fails at once.
        on_wait: told once, in words, that this writer is waiting (default: a log warning).
    """

    def __init__(self, index_dir: Path, *, timeout_s: float = 600.0,
                 on_wait: Callable[[str], None] | None = None) -> None:
        self.path = Path(index_dir) / LOCK_FILE
        self.timeout_s = timeout_s
        self.on_wait = on_wait or log.warning
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, waiting for another writer if needed.

        Raises:
            IndexBusyError: another writer held it for longer than ``timeout_s``.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        deadline = time.monotonic() + self.timeout_s
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    self.on_wait(f"another lore process ({self._holder()}) is updating the "
                                 f"index in {self.path.parent}; waiting up to "
                                 f"{self.timeout_s:g} s for it to finish")
                    told = True
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise IndexBusyError(
                        f"The index in {self.path.parent} is still being updated by another "
                        f"lore process ({self._holder()}) after {self.timeout_s:g} s. "
                        "Wait for it to finish (or stop it), then retry; raise "
                        "index.lock_timeout_s to wait longer.") from None
                time.sleep(_POLL_S)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Let the next writer in (closing the file drops the lock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _holder(self) -> str:
        """The holder's pid as written in the lock file, in words."""
        try:
            pid = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            pid = ""
        return f"pid {pid}" if pid.isdigit() else "pid unknown"

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


@contextmanager
def write_errors(index_dir: Path) -> Iterator[None]:
    """Turn a full disk or a refused write during an index update into ``IndexWriteError``.

    Every write is transactional (catalog) or atomic (sidecar), so when one
    fails the index holds the last completed step: the message says so, and
    what to do, instead of a traceback.
    """
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "full" in text:
            raise _write_error(index_dir, "the disk is full", exc) from exc
        if "readonly" in text or "read-only" in text:
            raise _write_error(index_dir, "it is read-only", exc) from exc
        raise
    except OSError as exc:
        if exc.errno in _NO_ROOM:
            raise _write_error(index_dir, "the disk is full", exc) from exc
        if exc.errno in _NOT_ALLOWED:
            raise _write_error(index_dir, "writing is not permitted there", exc) from exc
        raise


def _write_error(index_dir: Path, why: str, exc: BaseException) -> IndexWriteError:
    return IndexWriteError(
        f"Could not update the index in {index_dir}: {why} ({exc}). Nothing was lost: the "
        "index holds everything up to the last completed step and stays searchable. Free "
        "space (or fix permissions), then run `lore index` again to finish.")
