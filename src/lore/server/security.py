"""The guard in front of every route: Host/Origin, bearer token, body size, rate limit.

It is one ASGI middleware, so REST, ``/v1`` and MCP (``/mcp``) pass the same
checks in the same order:

1. **Host** must name this server (loopback names, the bind address, and any
   ``--allow-host``), and a browser's **Origin**, when sent, must too: a web
   page on another site that rebinds its DNS name to 127.0.0.1 is refused.
2. With a token configured, every route but ``/healthz`` needs
   ``Authorization: Bearer <token>``, compared in constant time.
3. A **rate limit** per client address (token bucket) answers 429 with
   ``Retry-After``.
4. A body larger than ``max_body_bytes`` is refused with 413, by its
   ``Content-Length`` or, when streamed, as soon as it grows past the limit.

Refusals are logged with the client, method, path and status, never with
the body, the query text or the token.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lore.server.errors import error_body

log = logging.getLogger(__name__)

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
OPEN_PATHS = frozenset({"/healthz"})
DEFAULT_MAX_BODY = 1_048_576


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or name) only listens on this machine."""
    if host.strip("[]") in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SecurityPolicy:
    """What the guard lets through.

    Attributes:
        token: the bearer token every request must carry, or None (loopback only).
        allowed_hosts: host names (no port) accepted in Host and Origin.
        max_body_bytes: the largest request body.
        rate_per_s: sustained requests per second per client; 0 turns the limit off.
        burst: requests a client may make at once before the rate applies.
    """

    token: str | None = None
    allowed_hosts: frozenset[str] = LOOPBACK_NAMES
    max_body_bytes: int = DEFAULT_MAX_BODY
    rate_per_s: float = 50.0
    burst: int = 100

    @classmethod
    def for_bind(cls, host: str, *, token: str | None = None,
                 extra_hosts: Iterable[str] = (), **limits: Any) -> SecurityPolicy:
        """The policy of a server bound to ``host``: loopback names, the host, extras.

        Raises:
            ValueError: ``host`` is not a loopback address and there is no token.
        """
        if not token and not is_loopback(host):
            raise ValueError(
                f"Refusing to listen on {host} without a token: anyone who can reach it could "
                "read the index. Set a token with --token-env VAR (export VAR=<secret>), or "
                "bind to 127.0.0.1.")
        hosts = set(LOOPBACK_NAMES) | {host.strip("[]").lower()}
        hosts |= {h.strip().strip("[]").lower() for h in extra_hosts if h.strip()}
        hosts.discard("0.0.0.0")
        hosts.discard("::")
        return cls(token=token or None, allowed_hosts=frozenset(hosts), **limits)


_BAD_HOST = ("The Host header does not name this server. Use the address it listens on, or "
             "start it with --allow-host NAME.")
_BAD_ORIGIN = "Requests from a page on another site are not allowed."
_BAD_TOKEN = ("Missing or wrong bearer token; send 'Authorization: Bearer <token>' (the token "
              "the server was started with).")
_TOO_MANY = "Too many requests from this client; slow down."


def _too_large(limit: int) -> str:
    return f"The request body is larger than {limit} bytes."


@dataclass
class _Buckets:
    """Token buckets per client; old idle clients are forgotten."""

    rate: float
    burst: int
    state: dict[str, tuple[float, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, client: str) -> float:
        """0 when ``client`` may go on, else seconds until it may."""
        now = time.monotonic()
        with self.lock:
            tokens, last = self.state.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self.state[client] = (tokens - 1.0, now)
                return 0.0
            self.state[client] = (tokens, now)
            if len(self.state) > 10_000:
                self.state = {k: v for k, v in self.state.items() if now - v[1] < 60}
            return (1.0 - tokens) / self.rate


class Guard:
    """ASGI middleware enforcing a :class:`SecurityPolicy` on http and websocket scopes."""

    def __init__(self, app: ASGIApp, policy: SecurityPolicy) -> None:
        self.app = app
        self.policy = policy
        self._buckets = _Buckets(policy.rate_per_s, policy.burst) if policy.rate_per_s > 0 \
            else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            status, code, message, headers = refusal
            log.info("refused %s %s from %s: %d %s", scope.get("method", "WS"), scope["path"],
                     _client(scope), status, code)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": code})
            else:
                await _send_error(send, status, message, code, headers)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        await self._call_with_body_limit(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[int, str, str, dict[str, str]] | None:
        """(status, code, message, headers) of the first check ``scope`` fails, or None."""
        headers = _headers(scope)
        if _hostname(headers.get("host", "")) not in self.policy.allowed_hosts:
            return 403, "host_not_allowed", _BAD_HOST, {}
        origin = headers.get("origin")
        if origin is not None and origin != "null" \
                and _hostname(urlsplit(origin).netloc) not in self.policy.allowed_hosts:
            return 403, "origin_not_allowed", _BAD_ORIGIN, {}
        if self.policy.token and scope["path"] not in OPEN_PATHS \
                and not _token_matches(headers.get("authorization", ""), self.policy.token):
            return 401, "invalid_api_key", _BAD_TOKEN, {"WWW-Authenticate": "Bearer"}
        if self._buckets is not None:
            wait = self._buckets.take(_client(scope))
            if wait > 0:
                return (429, "rate_limit_exceeded", _TOO_MANY,
                        {"Retry-After": str(max(1, round(wait + 0.5)))})
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() \
                and int(declared) > self.policy.max_body_bytes:
            return 413, "body_too_large", _too_large(self.policy.max_body_bytes), {}
        return None

    async def _call_with_body_limit(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; a streamed body that outgrows the limit gets 413, the app a disconnect.

        The 413 is sent from here and whatever the app answers afterwards is
        dropped: an exception would not do, frameworks turn errors while
        reading a body into their own 400.
        """
        limit = self.policy.max_body_bytes
        seen = 0
        refused = False
        started = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    if not started:
                        await _send_error(send, 413, _too_large(limit), "body_too_large", {})
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _hostname(netloc: str) -> str:
    """The host part of ``host[:port]`` / ``[v6]:port``, lower-cased."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1:].split("]", 1)[0]
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def _token_matches(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    # compare_digest on bytes of equal type is constant-time in the token's content.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _send_error(send: Send, status: int, message: str, code: str,
                      headers: dict[str, str]) -> None:
    payload = json.dumps(error_body(message, _type_of(status), code=code)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def _type_of(status: int) -> str:
    return {401: "authentication_error", 403: "permission_error", 413: "invalid_request_error",
            429: "rate_limit_error"}.get(status, "invalid_request_error")
