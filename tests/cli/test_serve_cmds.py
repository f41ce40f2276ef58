"""`lore serve` as a real process, and the CLI answering through it.

The server runs as a subprocess on 127.0.0.1 (port 0); `lore search/show/
related/status` find it through server.json and must print exactly what the
in-process run (`--no-server`) prints for a fixed set of queries.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _backlog import write_backlog
from _served import running_server
from click.testing import CliRunner

from lore.cli import main
from lore.remote import RemoteIndex, ServerInfo, write_server_file

pytest.importorskip("uvicorn")

QUERIES = [["vector", "cache"], ["type:ADR", "loopback"], ["T-3"], ["sqlite", "wal", "--", "-checklist"],
           ['"release checklist"'], ["embedding", "model", "download", "--explain"],
           ["faiss", "--filter", "state=Done", "--limit", "3"], ["work", "--chunks"],
           ["serving", "--expand"]]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Path]:
    """`lore serve ROOT --port 0` running in a subprocess until the test ends."""
    with running_server(write_backlog(tmp_path / "notes")) as root:
        yield root


def run(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_through_the_server_gives_the_in_process_hits(
        served: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remote_calls: list[str] = []
    original = RemoteIndex._call

    def counting(self: RemoteIndex, method: str, path: str, body: Any = None) -> Any:
        remote_calls.append(path)
        return original(self, method, path, body)

    monkeypatch.setattr(RemoteIndex, "_call", counting)
    root = str(served)
    for query in QUERIES:
        through = run("search", "--root", root, "--json", *query)
        local = run("search", "--root", root, "--json", "--no-server", *query)
        assert through == local, query
        assert through, query
    assert remote_calls.count("/search") == len(QUERIES)
    for args in (["show", "T-3"], ["show", "tasks/T-3.md"], ["related", "F-1", "--depth", "2"],
                 ["search", "vector cache", "--context", "--budget", "200"]):
        assert run(*args, "--root", root, "--json") == run(*args, "--root", root, "--json",
                                                           "--no-server")
    status = run("status", "--root", root, "--json")
    assert status["server"].startswith("http://127.0.0.1:")
    assert status["documents"] == run("status", "--root", root, "--json",
                                      "--no-server")["documents"]


def test_errors_through_the_server_read_like_in_process(served: Path) -> None:
    for args in (["show", "NOPE-1"], ["related", "NOPE-1"]):
        through = CliRunner().invoke(main, [*args, "--root", str(served)])
        local = CliRunner().invoke(main, [*args, "--root", str(served), "--no-server"])
        assert through.exit_code == local.exit_code == 1
        assert "NOPE-1" in through.output


def test_a_stale_server_file_falls_back_to_in_process(tmp_path: Path) -> None:
    root = write_backlog(tmp_path / "notes", tasks=2)
    assert CliRunner().invoke(main, ["index", str(root)]).exit_code == 0
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    write_server_file(root / ".lore", ServerInfo(url="http://127.0.0.1:9", token=None,
                                                 pid=dead.pid, root=str(root)))
    assert run("search", "sqlite", "--root", str(root), "--json")
    write_server_file(root / ".lore", ServerInfo(url="http://127.0.0.1:9", token=None,
                                                 pid=os.getpid(), root=str(root)))
    assert run("search", "sqlite", "--root", str(root), "--json")   # refused: in-process


def test_serve_refuses_a_public_bind_without_a_token(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", str(tmp_path), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--token-env" in result.output
    result = CliRunner().invoke(main, ["serve", str(tmp_path), "--host", "0.0.0.0",
                                       "--token-env", "LORE_TEST_UNSET_TOKEN"])
    assert result.exit_code == 2 and "LORE_TEST_UNSET_TOKEN" in result.output


def test_the_listening_socket_answers_without_waiting_for_delayed_acks() -> None:
    from lore.cli.serve_cmds import _bind

    sock = _bind("127.0.0.1", 0)
    with sock, socket.create_connection(sock.getsockname()) as client:
        accepted, _ = sock.accept()
        with accepted:    # Nagle off on every connection the server accepts
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert client.fileno() >= 0
