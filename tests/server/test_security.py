"""The guard, against a live server on 127.0.0.1: token, Host/Origin, body size, rate."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from click.testing import CliRunner

from lore.cli import main
from lore.server.security import SecurityPolicy, is_loopback
from lore.server.service import IndexService

LiveServer = Callable[..., str]


def test_a_non_loopback_bind_without_a_token_refuses_to_start(backlog: object) -> None:
    with pytest.raises(ValueError, match="without a token"):
        SecurityPolicy.for_bind("0.0.0.0")
    result = CliRunner().invoke(main, ["serve", str(backlog), "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--token-env" in result.output
    assert SecurityPolicy.for_bind("0.0.0.0", token="s3cret").token == "s3cret"


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert is_loopback("127.0.0.5")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


def test_token_is_required_and_compared(service: IndexService, live_server: LiveServer) -> None:
    url = live_server(service, SecurityPolicy(token="right-token", rate_per_s=0))
    assert httpx.get(f"{url}/status").status_code == 401
    wrong = httpx.get(f"{url}/status", headers={"Authorization": "Bearer wrong-token"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{url}/status",
                     headers={"Authorization": "Bearer right-token"}).status_code == 200
    assert httpx.post(f"{url}/mcp", json={}).status_code == 401     # MCP sits behind it too
    assert httpx.get(f"{url}/healthz").status_code == 200           # liveness stays open


def test_foreign_host_or_origin_is_refused(service: IndexService,
                                           live_server: LiveServer) -> None:
    url = live_server(service)
    rebound = httpx.get(f"{url}/status", headers={"Host": "attacker.example:8321"})
    assert rebound.status_code == 403
    assert rebound.json()["error"]["code"] == "host_not_allowed"
    page = httpx.post(f"{url}/search", json={"query": "x"},
                      headers={"Origin": "http://attacker.example"})
    assert page.status_code == 403
    assert page.json()["error"]["code"] == "origin_not_allowed"
    assert httpx.get(f"{url}/status", headers={"Origin": url}).status_code == 200
    assert httpx.get(f"{url}/status", headers={"Host": "localhost"}).status_code == 200


def test_oversized_body_is_413_declared_or_streamed(service: IndexService,
                                                   live_server: LiveServer) -> None:
    url = live_server(service, SecurityPolicy(max_body_bytes=2_000, rate_per_s=0))
    big = {"query": "x" * 5_000}
    declared = httpx.post(f"{url}/search", json=big)
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "body_too_large"

    def chunks():  # no Content-Length: the guard counts as the body arrives
        for _ in range(10):
            yield b" " * 500

    streamed = httpx.post(f"{url}/search", content=chunks(),
                          headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_rate_limit_answers_429_with_retry_after(service: IndexService,
                                                 live_server: LiveServer) -> None:
    # One token per 10 s: a loaded machine cannot refill the bucket mid-test.
    url = live_server(service, SecurityPolicy(rate_per_s=0.1, burst=3))
    codes = [httpx.get(f"{url}/healthz").status_code for _ in range(6)]
    assert codes[:3] == [200, 200, 200]
    assert 429 in codes[3:]
    limited = httpx.get(f"{url}/healthz")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_logs_carry_no_query_text_or_token(service: IndexService, live_server: LiveServer,
                                           caplog: pytest.LogCaptureFixture) -> None:
    url = live_server(service, SecurityPolicy(token="tok-123456", rate_per_s=0))
    secret_query = "platypus-secret-query"
    with caplog.at_level(logging.INFO):
        auth = {"Authorization": "Bearer tok-123456"}
        assert httpx.post(f"{url}/search", json={"query": secret_query},
                          headers=auth).status_code == 200
        assert httpx.post(f"{url}/search", json={"query": secret_query}).status_code == 401
        assert httpx.post(f"{url}/search", json={"query": secret_query, "limit": -1},
                          headers=auth).status_code == 422
    assert "refused POST /search" in caplog.text          # refusals are logged...
    assert secret_query not in caplog.text and "tok-123456" not in caplog.text   # ...bare
