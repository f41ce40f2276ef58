"""Fixtures for the server tests: a small linked backlog, a service over it, live servers.

Live servers run uvicorn in a thread on 127.0.0.1 with an OS-chosen port, so
the tests use real HTTP clients (openai, the mcp SDK, schemathesis) without
ever binding anything but loopback.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from _backlog import write_backlog

from lore.config import load_settings
from lore.server.app import create_app
from lore.server.security import SecurityPolicy
from lore.server.service import IndexService


@pytest.fixture
def backlog(tmp_path: Path) -> Path:
    return write_backlog(tmp_path / "backlog")


@pytest.fixture
def service(backlog: Path) -> Iterator[IndexService]:
    """A synced service over ``backlog`` (hashing embedder, from the test user config)."""
    svc = IndexService(backlog, load_settings(backlog).settings, readers=3)
    svc.sync()
    yield svc
    svc.close()


LiveServer = Callable[..., str]


@pytest.fixture
def live_server() -> Iterator[LiveServer]:
    """Start ``create_app(service, policy=...)`` on 127.0.0.1:<free port>; returns the URL."""
    import uvicorn

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(service: IndexService, policy: SecurityPolicy | None = None) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        app = create_app(service, policy=policy or SecurityPolicy(rate_per_s=0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        servers.append((server, thread))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)
