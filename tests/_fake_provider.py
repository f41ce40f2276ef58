"""An OpenAI-compatible embeddings server on 127.0.0.1 that misbehaves on request.

``FakeProvider.mode`` picks the reply; a healthy reply is deterministic (a
vector seeded by the text), so a build against it can be compared with a
clean build. Every request's headers and body are recorded, to check what
was sent where.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

DIMS = 16
FAULTS = ("500", "429", "timeout", "dead", "nonjson", "nan", "wrong_dims", "wrong_count",
          "index0_reversed", "zeros")


def healthy_vector(text: str) -> list[float]:
    """The vector a healthy server returns for ``text`` (deterministic, non-zero)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(DIMS).astype(np.float32).tolist()


class FakeProvider:
    """A threaded HTTP server; ``base_url`` is its OpenAI-style API root."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append({"headers": dict(self.headers), "body": body})
                status, payload = owner.reply(body, dict(self.headers))
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        # Polled every 20 ms, so close() (shutdown) returns at once, not after up to 0.5 s.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)
        self._thread.start()

    def reply(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
        """(status, JSON payload or raw bytes) for the current mode."""
        texts = body["input"]
        rows = [healthy_vector(t) for t in texts]
        mode = self.mode
        if mode == "500":
            return 500, {"error": {"message": "internal error"}}
        if mode == "429":
            return 429, {"error": {"message": "slow down"}}
        if mode == "timeout":
            time.sleep(1.5)
        if mode == "nonjson":
            return 200, b"<html>not json</html>"
        if mode == "echo":  # an error body repeating the request and its credentials
            return 400, {"error": {"message": json.dumps({"body": body, "headers": headers})}}
        if mode == "nan":
            rows[0][0] = float("nan")
        if mode == "wrong_dims":
            rows = [row + [0.5] for row in rows]
        if mode == "wrong_count":
            rows = rows[:-1] if len(rows) > 1 else rows * 2
        if mode == "zeros":
            rows = [[0.0] * DIMS for _ in rows]
        items = [{"object": "embedding", "index": i, "embedding": row}
                 for i, row in enumerate(rows)]
        if mode == "index0_reversed":
            items = [dict(item, index=0) for item in reversed(items)]
        return 200, {"object": "list", "data": items}  # json.dumps writes NaN as NaN

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def dead_url() -> str:
    """An API root on 127.0.0.1 where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def cached_vectors(cache_file: Path) -> int:
    """How many vectors an embedding cache file holds (0 when there is none)."""
    if not cache_file.exists():
        return 0
    conn = sqlite3.connect(cache_file)
    try:
        return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])
    finally:
        conn.close()
