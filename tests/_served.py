"""A real `lore serve ROOT --port 0` subprocess for tests of clients that find it by server.json."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lore.remote import read_server_file

SRC = Path(__file__).resolve().parents[1] / "src"


@contextmanager
def running_server(root: Path) -> Iterator[Path]:
    """Serve ``root`` (indexing it first if needed) until the block ends; yields ``root``."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", "from lore.cli import main; main()", "serve",
                             str(root), "--port", "0"], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while read_server_file(root / ".lore") is None:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "lore serve did not start"
        time.sleep(0.1)
    try:
        yield root
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert read_server_file(root / ".lore") is None, proc.stderr.read().decode() if proc.stderr else ""
