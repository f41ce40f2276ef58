"""A re-index started from the page, run in the background, with progress to poll.

The page's "Re-index" button must not hold an HTTP request open for the
length of a first index (minutes on a real corpus), so the sync runs in a
thread and the page polls ``state()``; one job runs at a time per server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

# A job body: called with (phase, done, total) updates; returns the sync report's dict.
Progress = Callable[[str, int, int], None]
JobBody = Callable[[Progress], dict[str, Any]]


class ReindexJob:
    """One background re-index at a time, and what the last one did."""

    def __init__(self, body: JobBody) -> None:
        self._body = body
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"running": False, "phase": "idle", "done": 0,
                                       "total": 0, "started_at": None, "finished_at": None,
                                       "report": None, "error": None}

    def start(self) -> bool:
        """Start a re-index; False when one is already running."""
        with self._lock:
            if self._state["running"]:
                return False
            self._state.update(running=True, phase="files", done=0, total=0,
                               started_at=time.time(), finished_at=None, report=None,
                               error=None)
        threading.Thread(target=self._run, name="lore-web-reindex", daemon=True).start()
        return True

    def state(self) -> dict[str, Any]:
        """A snapshot of the current or last job."""
        with self._lock:
            return dict(self._state)

    def _progress(self, phase: str, done: int, total: int) -> None:
        with self._lock:
            self._state.update(phase=phase, done=done, total=total)

    def _run(self) -> None:
        report: dict[str, Any] | None = None
        error: str | None = None
        try:
            report = self._body(self._progress)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never lost in a thread
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._state.update(running=False, phase="done" if error is None else "failed",
                               finished_at=time.time(), report=report, error=error)
