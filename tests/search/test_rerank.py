"""Reranking: reorder by scores, keep fused order on failure or overrun, HTTP wire format."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from lore.errors import MissingDependencyError, ProviderError
from lore.search.rerank import CrossEncoderReranker, HttpReranker, rerank


class LengthReranker:
    """Prefers longer passages: an easy rule to check the new order against."""

    name = "length"

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        return [float(len(p)) for p in passages]


class BrokenReranker:
    name = "broken"

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        raise ProviderError("endpoint down")


def test_rerank_orders_by_score() -> None:
    outcome = rerank(LengthReranker(), "q", ["aa", "aaaa", "a"], time_budget_s=5)
    assert outcome.applied
    assert outcome.order == [1, 0, 2]
    assert outcome.scores == [4.0, 2.0, 1.0]


def test_failure_keeps_fused_order() -> None:
    outcome = rerank(BrokenReranker(), "q", ["x", "y"], time_budget_s=5)
    assert not outcome.applied
    assert outcome.order == [0, 1]
    assert "endpoint down" in outcome.reason


def test_over_budget_keeps_fused_order() -> None:
    outcome = rerank(LengthReranker(), "q", ["a", "bbb"], time_budget_s=-1.0)
    assert not outcome.applied and outcome.order == [0, 1]
    assert "time budget" in outcome.reason


def test_cross_encoder_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(MissingDependencyError, match=r"lore\[sbert\]"):
        CrossEncoderReranker("some/model").score("q", ["p"])


@pytest.fixture
def rerank_server() -> Iterator[tuple[str, list[dict[str, object]]]]:
    seen: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body)
            if body["query"] == "bad":
                payload = b'{"oops": true}'
            else:
                texts = body["texts"]
                payload = json.dumps([{"index": i, "score": float(len(t))}
                                      for i, t in enumerate(texts)]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


def test_http_reranker(rerank_server: tuple[str, list[dict[str, object]]]) -> None:
    url, seen = rerank_server
    scores = HttpReranker(url).score("what", ["ab", "abcd"])
    assert scores == [2.0, 4.0]
    assert seen[0]["texts"] == ["ab", "abcd"]
    with pytest.raises(ProviderError, match="unexpected reply"):
        HttpReranker(url).score("bad", ["x"])


def test_http_reranker_dead_endpoint() -> None:
    with pytest.raises(ProviderError, match="Check that it is running"):
        HttpReranker("http://127.0.0.1:9", timeout_s=0.5).score("q", ["p"])


def test_http_reranker_errors_name_no_url_password() -> None:
    """#14 item 13: a password in rerank.base_url never reaches a message."""
    import socket

    from lore.errors import ProviderError
    from lore.search.rerank import HttpReranker

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reranker = HttpReranker(f"http://user:hunter2pass@127.0.0.1:{port}", timeout_s=0.5)
    with pytest.raises(ProviderError) as caught:
        reranker.score("secret query text", ["a passage"])
    assert "hunter2pass" not in str(caught.value) and "user:***@" in str(caught.value)
    assert "hunter2pass" not in reranker.name
