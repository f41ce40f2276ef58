"""Remote providers (openai, ollama, sagemaker) and their shared HTTP logic.

The HTTP providers talk to a real server on 127.0.0.1 (an ``http.server`` in a
thread, ephemeral port) whose behaviour each test scripts; SageMaker gets a
fake boto3 module. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from lore.embed import _http
from lore.embed.ollama import OllamaEmbedder
from lore.embed.openai_http import OpenAIEmbedder
from lore.embed.sagemaker import SageMakerEmbedder
from lore.errors import ConfigError, MissingDependencyError, ProviderError
from lore.settings import ProviderSettings

DIMS = 4
KEY = "sk-test-very-secret-key"
Reply = tuple[int, dict[str, str], bytes]


def vector_for(text: str) -> list[float]:
    """A deterministic vector per text, so tests can check order and content."""
    seed = sum(text.encode())
    return [float(seed % 97), float(len(text)), 1.0, float(seed % 13)]


def openai_reply(texts: list[str], *, dims: int = DIMS, reverse: bool = True) -> Reply:
    data = [{"object": "embedding", "index": i, "embedding": vector_for(t)[:dims]
             + [0.5] * (dims - DIMS)} for i, t in enumerate(texts)]
    if reverse:  # the API does not promise input order; the provider must sort by index
        data.reverse()
    return 200, {}, json.dumps({"data": data, "model": "m"}).encode()


@dataclass
class Server:
    """A scripted local HTTP server; ``handler(request_json, headers) -> Reply``."""

    url: str
    handler: Callable[[Any, dict[str, str]], Reply] = field(
        default=lambda body, headers: openai_reply(body["input"]))
    requests: list[tuple[str, Any, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.loads(raw)
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append((self.path, body, headers))
            status, extra, payload = state.handler(body, headers)
            try:
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **extra}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the retry waits instead of sleeping."""
    waits: list[float] = []
    monkeypatch.setattr(_http, "_sleep", waits.append)
    return waits


def openai(server: Server, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> OpenAIEmbedder:
    monkeypatch.setenv("TEST_EMBED_KEY", KEY)
    settings = {"provider": "openai", "model": "local-model", "dimensions": DIMS,
                "base_url": server.url + "/v1", "api_key_env": "TEST_EMBED_KEY", **changes}
    return OpenAIEmbedder.from_settings(ProviderSettings(**settings))


# --- openai ---------------------------------------------------------------------------


def test_openai_success_sorts_by_index_and_sends_the_key(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["alpha", "beta text", "gamma"]
    out = openai(server, monkeypatch).embed(texts, "document")
    np.testing.assert_array_equal(out, np.array([vector_for(t) for t in texts], np.float32))
    path, body, headers = server.requests[0]
    assert path == "/v1/embeddings"
    assert body == {"model": "local-model", "input": texts}
    assert headers["authorization"] == f"Bearer {KEY}"


def test_openai_sends_dimensions_only_to_models_that_accept_it(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    openai(server, monkeypatch, model="text-embedding-3-small").embed(["x"], "query")
    assert server.requests[0][1]["dimensions"] == DIMS


def test_openai_requires_dimensions(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="dimensions"):
        OpenAIEmbedder.from_settings(ProviderSettings(provider="openai",
                                                      base_url="http://127.0.0.1:9"))


def test_openai_missing_key_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        OpenAIEmbedder.from_settings(ProviderSettings(provider="openai", dimensions=8))
    with pytest.raises(ConfigError, match="MY_KEY_VAR"):
        OpenAIEmbedder.from_settings(ProviderSettings(
            provider="openai", dimensions=8, base_url="http://x", api_key_env="MY_KEY_VAR"))


def test_429_waits_what_retry_after_asks(server: Server, monkeypatch: pytest.MonkeyPatch,
                                         sleeps: list[float]) -> None:
    replies = iter([(429, {"Retry-After": "1"}, b'{"error": {"message": "slow down"}}')])
    server.handler = lambda body, h: next(replies, None) or openai_reply(body["input"])
    openai(server, monkeypatch).embed(["a"], "query")
    assert sleeps == [1.0]
    assert len(server.requests) == 2


def test_5xx_retries_twice_with_backoff_then_fails(
        server: Server, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> None:
    server.handler = lambda body, h: (503, {}, b'{"error": "overloaded"}')
    with pytest.raises(ProviderError, match="HTTP 503: overloaded") as err:
        openai(server, monkeypatch).embed(["a"], "query")
    assert sleeps == [_http.BACKOFF_S, _http.BACKOFF_S * 2]
    assert len(server.requests) == 1 + _http.RETRIES
    assert server.url in str(err.value) and KEY not in str(err.value)


def test_413_splits_the_batch_until_it_fits(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(body: Any, headers: dict[str, str]) -> Reply:
        if len(body["input"]) > 2:
            return 413, {}, b"payload too large"
        return openai_reply(body["input"])

    server.handler = handler
    texts = [f"text number {i}" for i in range(7)]
    out = openai(server, monkeypatch).embed(texts, "document")
    np.testing.assert_array_equal(out, np.array([vector_for(t) for t in texts], np.float32))
    sizes = [len(body["input"]) for _, body, _ in server.requests]
    assert sizes[0] == 7 and max(s for s in sizes if s <= 2) == 2


def test_context_length_400_also_splits_and_a_single_text_fails(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    message = b'{"error": {"message": "This model\'s maximum context length is 8192 tokens"}}'
    server.handler = lambda body, h: (400, {}, message)
    with pytest.raises(ProviderError, match="single text.*max_tokens"):
        openai(server, monkeypatch).embed(["a", "b"], "document")
    assert [len(b["input"]) for _, b, _ in server.requests] == [2, 1]


def test_timeout_is_a_provider_error(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(body: Any, headers: dict[str, str]) -> Reply:
        time.sleep(1.0)
        return openai_reply(body["input"])

    server.handler = slow
    with pytest.raises(ProviderError, match="no answer within 0.2 s"):
        openai(server, monkeypatch, timeout_s=0.2).embed(["a"], "query")
    assert len(server.requests) == 1  # a read timeout is not retried


def test_malformed_json_is_a_provider_error(server: Server,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    server.handler = lambda body, h: (200, {}, b"<html>not json")
    with pytest.raises(ProviderError, match="not valid JSON"):
        openai(server, monkeypatch).embed(["a"], "query")


def test_reply_without_data_is_a_provider_error(server: Server,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    server.handler = lambda body, h: (200, {}, b'{"object": "list"}')
    with pytest.raises(ProviderError, match="no 'data'"):
        openai(server, monkeypatch).embed(["a"], "query")


def test_wrong_dimensions_name_expected_and_got(server: Server,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    server.handler = lambda body, h: openai_reply(body["input"], dims=DIMS + 2)
    with pytest.raises(ProviderError, match=f"{DIMS + 2}-dimensional.*say {DIMS}"):
        openai(server, monkeypatch).embed(["a"], "query")


def test_rejected_key_points_at_api_key_env_and_is_never_logged(
        server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    server.handler = lambda body, h: (401, {}, b'{"error": {"message": "bad key"}}')
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError, match="api_key_env") as err:
        openai(server, monkeypatch).embed(["the private text"], "query")
    assert KEY not in str(err.value) and KEY not in caplog.text
    assert "the private text" not in caplog.text
    assert "***" in caplog.text  # the header was logged, redacted


def test_connection_refused_retries_then_fails(sleeps: list[float],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    embedder = OpenAIEmbedder.from_settings(ProviderSettings(
        provider="openai", dimensions=DIMS, base_url=f"http://127.0.0.1:{port}/v1"))
    with pytest.raises(ProviderError, match="cannot connect"):
        embedder.embed(["a"], "query")
    assert len(sleeps) == _http.RETRIES


# --- ollama ---------------------------------------------------------------------------


def test_ollama_success(server: Server) -> None:
    server.handler = lambda body, h: (
        200, {}, json.dumps({"embeddings": [vector_for(t) for t in body["input"]]}).encode())
    embedder = OllamaEmbedder.from_settings(ProviderSettings(
        provider="ollama", model="nomic-embed-text", dimensions=DIMS, base_url=server.url))
    out = embedder.embed(["one", "two"], "document")
    np.testing.assert_array_equal(out, np.array([vector_for("one"), vector_for("two")],
                                                np.float32))
    path, body, _ = server.requests[0]
    assert path == "/api/embed" and body == {"model": "nomic-embed-text",
                                             "input": ["one", "two"]}


def test_ollama_wrong_reply_shape(server: Server) -> None:
    server.handler = lambda body, h: (200, {}, b'{"embedding": [1, 2]}')
    embedder = OllamaEmbedder.from_settings(ProviderSettings(
        provider="ollama", dimensions=DIMS, base_url=server.url))
    with pytest.raises(ProviderError, match="no 'embeddings'"):
        embedder.embed(["x"], "query")


def test_ollama_requires_dimensions() -> None:
    with pytest.raises(ConfigError, match="dimensions"):
        OllamaEmbedder.from_settings(ProviderSettings(provider="ollama"))


# --- shared helpers -------------------------------------------------------------------


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert _http._retry_after_seconds("2.5") == 2.5
    assert _http._retry_after_seconds("100000") == _http.MAX_RETRY_AFTER_S
    assert _http._retry_after_seconds(None) is None
    assert _http._retry_after_seconds("soon") is None
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    seconds = _http._retry_after_seconds(when)
    assert seconds is not None and 25 <= seconds <= 30


def test_redact_hides_credentials_only() -> None:
    assert _http.redact({"Authorization": "Bearer x", "Accept": "json"}) == {
        "Authorization": "***", "Accept": "json"}


def test_to_matrix_rejects_ragged_and_short_replies() -> None:
    with pytest.raises(ProviderError, match="expected 2 vectors, got 1"):
        _http.to_matrix([[1.0, 2.0]], 2, 2, "src")
    with pytest.raises(ProviderError):
        _http.to_matrix([[1.0, 2.0], [1.0]], 2, 2, "src")
    with pytest.raises(ProviderError, match="lists of numbers"):
        _http.to_matrix([["a", "b"], ["c", "d"]], 2, 2, "src")


# --- sagemaker ------------------------------------------------------------------------


class FakeSageMaker:
    """Stands in for a boto3 sagemaker-runtime client."""

    def __init__(self, errors: types.ModuleType, fail: Exception | None = None,
                 max_batch: int = 100) -> None:
        self.errors, self.fail, self.max_batch = errors, fail, max_batch
        self.calls: list[dict[str, Any]] = []

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.fail is not None:
            raise self.fail
        inputs = json.loads(kwargs["Body"])["inputs"]
        if len(inputs) > self.max_batch:
            raise self.errors.ClientError({"Error": {"Code": "ModelError", "Message": "big"},
                                           "OriginalStatusCode": 413}, "InvokeEndpoint")
        body = json.dumps([vector_for(t) for t in inputs]).encode()
        return {"Body": types.SimpleNamespace(read=lambda: body)}


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """Install fake boto3/botocore modules; ``.client`` is what boto3.client returns."""
    errors = types.ModuleType("botocore.exceptions")

    class BotoCoreError(Exception):
        pass

    class NoCredentialsError(BotoCoreError):
        pass

    class ClientError(Exception):
        def __init__(self, response: dict[str, Any], operation: str) -> None:
            super().__init__(operation)
            self.response = response

    errors.BotoCoreError = BotoCoreError  # type: ignore[attr-defined]
    errors.NoCredentialsError = NoCredentialsError  # type: ignore[attr-defined]
    errors.ClientError = ClientError  # type: ignore[attr-defined]
    config = types.ModuleType("botocore.config")
    config.Config = lambda **kw: kw  # type: ignore[attr-defined]
    state = types.SimpleNamespace(errors=errors, client=FakeSageMaker(errors), created=[])
    boto3 = types.ModuleType("boto3")

    def client(service: str, **kwargs: Any) -> FakeSageMaker:
        state.created.append((service, kwargs))
        return state.client

    boto3.client = client  # type: ignore[attr-defined]
    for name, module in {"boto3": boto3, "botocore": types.ModuleType("botocore"),
                         "botocore.exceptions": errors, "botocore.config": config}.items():
        monkeypatch.setitem(sys.modules, name, module)
    return state


SAGEMAKER = ProviderSettings(provider="sagemaker", model="bge-small", dimensions=DIMS,
                             endpoint_name="tei-endpoint", region="eu-west-1")


def test_sagemaker_without_boto3_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'lore\[sagemaker\]'"):
        SageMakerEmbedder.from_settings(SAGEMAKER)


def test_sagemaker_success_uses_tei_wire_format(fake_aws: types.SimpleNamespace) -> None:
    out = SageMakerEmbedder.from_settings(SAGEMAKER).embed(["a", "bb"], "document")
    np.testing.assert_array_equal(out, np.array([vector_for("a"), vector_for("bb")],
                                                np.float32))
    call = fake_aws.client.calls[0]
    assert call["EndpointName"] == "tei-endpoint"
    assert json.loads(call["Body"]) == {"inputs": ["a", "bb"]}
    assert fake_aws.created[0][0] == "sagemaker-runtime"
    assert fake_aws.created[0][1]["region_name"] == "eu-west-1"


def test_sagemaker_missing_credentials_is_a_soft_provider_error(
        fake_aws: types.SimpleNamespace) -> None:
    fake_aws.client.fail = fake_aws.errors.NoCredentialsError()
    with pytest.raises(ProviderError, match="no credentials"):
        SageMakerEmbedder.from_settings(SAGEMAKER).embed(["a"], "query")


def test_sagemaker_413_splits(fake_aws: types.SimpleNamespace) -> None:
    fake_aws.client.max_batch = 1
    out = SageMakerEmbedder.from_settings(SAGEMAKER).embed(["a", "b", "c"], "document")
    assert out.shape == (3, DIMS)
    assert len(json.loads(fake_aws.client.calls[0]["Body"])["inputs"]) == 3


def test_sagemaker_other_client_errors_name_the_endpoint(
        fake_aws: types.SimpleNamespace) -> None:
    fake_aws.client.fail = fake_aws.errors.ClientError(
        {"Error": {"Code": "ValidationError", "Message": "Endpoint not found"}}, "Invoke")
    with pytest.raises(ProviderError, match="tei-endpoint.*ValidationError"):
        SageMakerEmbedder.from_settings(SAGEMAKER).embed(["a"], "query")


def test_sagemaker_requires_an_endpoint_name(fake_aws: types.SimpleNamespace) -> None:
    from dataclasses import replace

    with pytest.raises(ConfigError, match="endpoint_name"):
        SageMakerEmbedder.from_settings(replace(SAGEMAKER, endpoint_name=None))
