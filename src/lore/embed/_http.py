"""What every HTTP embedding provider shares: retries, splitting, parsing, redaction.

Remote providers differ only in the request body and where the vectors sit
in the reply. The rest is here, once:

- a timeout on every request (``timeout_s``, 30 s by default);
- up to ``RETRIES`` retries with exponential backoff on connection errors and
  5xx replies, and on 429 after waiting what ``Retry-After`` asks;
- a batch the server refuses as too large (413, or a 400/422 whose message
  talks about context length) is split in half and retried, down to a
  single text, which then fails with advice to lower ``max_tokens``;
- errors become ``ProviderError`` naming the endpoint and what to check.
  Texts and API keys never appear in errors or logs.

``RemoteEmbedder`` and ``remote_space`` are the common base of the network
providers (SageMaker included, which uses boto3 rather than HTTP directly).
"""

from __future__ import annotations

import email.utils
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import numpy as np

from lore.embed.base import EmbeddingSpace, EmbedKind, SpaceBound, Vectors
from lore.errors import ConfigError, ProviderError
from lore.redact import redact_url, scrub, strings_in
from lore.settings import ProviderSettings

logger = logging.getLogger(__name__)

RETRIES = 2
BACKOFF_S = 0.5          # first retry waits this, then doubles
MAX_RETRY_AFTER_S = 60.0  # a longer Retry-After is capped, not obeyed blindly
_TOO_LONG = re.compile(r"context.length|too long|maximum|too many tokens|too large",
                       re.IGNORECASE)
_SECRET_HEADERS = frozenset({"authorization", "api-key", "x-api-key"})


class PayloadTooLarge(ProviderError):
    """The server refused a batch as too large; the caller splits it."""


def mentions_too_long(message: str) -> bool:
    """Whether a server's error text says the input exceeded the model's context."""
    return _TOO_LONG.search(message) is not None


def _sleep(seconds: float) -> None:
    """Wait between retries (a seam: tests replace it to record the waits)."""
    time.sleep(seconds)


def redact(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` safe to log: credentials replaced by ``***``."""
    return {k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}


class JsonEndpoint:
    """POSTs JSON to one URL with timeouts, retries and readable errors.

    Args:
        url: the full endpoint URL (never contains a key).
        headers: extra headers, e.g. ``Authorization``; redacted in logs.
        timeout_s: seconds before a request is abandoned.
        hint: what to check when the endpoint misbehaves, appended to errors.
    """

    def __init__(self, url: str, *, headers: Mapping[str, str] | None = None,
                 timeout_s: float = 30.0, hint: str = "") -> None:
        import httpx

        self.url = redact_url(url)   # as shown in messages; the request uses ``url``
        self._target = url
        self.timeout_s = timeout_s
        self.hint = hint
        self._headers = dict(headers or {})
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s))

    def __repr__(self) -> str:
        return f"JsonEndpoint({self.url!r}, headers={redact(self._headers)})"

    def post(self, body: Mapping[str, Any]) -> Any:
        """POST ``body`` and return the decoded JSON reply.

        Raises:
            PayloadTooLarge: the server refused the batch as too large.
            ProviderError: anything else went wrong, after the retries.
        """
        import httpx

        attempt = 0
        while True:
            logger.debug("POST %s headers=%s", self.url, redact(self._headers))
            try:
                response = self._client.post(self._target, json=body, headers=self._headers)
            except httpx.TimeoutException as exc:
                if isinstance(exc, httpx.ConnectTimeout) and attempt < RETRIES:
                    attempt = self._wait(attempt, None, "connect timeout")
                    continue
                raise self._error(f"no answer within {self.timeout_s:g} s; check that the "
                                  f"server is up, or raise timeout_s") from exc
            except httpx.TransportError as exc:
                if attempt < RETRIES:
                    attempt = self._wait(attempt, None, type(exc).__name__)
                    continue
                raise self._error(f"cannot connect ({type(exc).__name__}); check base_url "
                                  f"and that the server is running") from exc
            status = response.status_code
            if status < 400:
                return self._decode(response)
            # A server may echo the request (texts, the key) in its error body.
            message = scrub(_error_message(response),
                            [*strings_in(body), *self._headers.values(),
                             *(v.split()[-1] for v in self._headers.values() if v.strip())])
            if status == 413 or (status in (400, 422, 500) and mentions_too_long(message)):
                raise PayloadTooLarge(f"{self.url} refused the batch as too large "
                                      f"(HTTP {status}: {message})")
            if (status == 429 or status >= 500) and attempt < RETRIES:
                attempt = self._wait(attempt, response.headers.get("retry-after"),
                                     f"HTTP {status}")
                continue
            raise self._error(f"HTTP {status}: {message}{_status_advice(status)}")

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def _wait(self, attempt: int, retry_after: str | None, why: str) -> int:
        delay = _retry_after_seconds(retry_after)
        if delay is None:
            delay = BACKOFF_S * 2 ** attempt
        logger.info("%s from %s; retry %d/%d in %.1f s", why, self.url, attempt + 1,
                    RETRIES, delay)
        _sleep(delay)
        return attempt + 1

    def _decode(self, response: Any) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise self._error("the reply is not valid JSON; check that base_url points at "
                              "the embeddings API") from exc

    def _error(self, what: str) -> ProviderError:
        hint = f" ({self.hint})" if self.hint else ""
        return ProviderError(f"{self.url}: {what}{hint}")


def embed_splitting(texts: list[str], call: Callable[[list[str]], Vectors],
                    source: str) -> Vectors:
    """``call(texts)``, halving the batch whenever it raises ``PayloadTooLarge``.

    Args:
        texts: the batch.
        call: sends one batch and returns its vectors.
        source: the endpoint, for the error when a single text is too long.
    """
    try:
        return call(texts)
    except PayloadTooLarge as exc:
        if len(texts) <= 1:
            raise ProviderError(
                f"{source} refused a single text as too long; lower max_tokens in the "
                f"provider settings to the model's context size"
            ) from exc
        half = len(texts) // 2
        logger.info("%s: batch of %d too large, splitting in two", source, len(texts))
        return np.vstack([embed_splitting(texts[:half], call, source),
                          embed_splitting(texts[half:], call, source)])


def to_matrix(rows: Any, count: int, dimensions: int, source: str) -> Vectors:
    """Validate a reply's list of vectors and return it as a float32 matrix.

    Raises:
        ProviderError: wrong number of vectors, wrong dimensions, or not numbers.
    """
    if not isinstance(rows, list) or len(rows) != count:
        got = len(rows) if isinstance(rows, list) else type(rows).__name__
        raise ProviderError(f"{source}: expected {count} vectors, got {got}; the server "
                            f"does not speak the expected API")
    try:
        matrix = np.asarray(rows, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ProviderError(f"{source}: the vectors are not lists of numbers") from exc
    if matrix.ndim != 2 or matrix.shape[1] != dimensions:
        got = matrix.shape[1] if matrix.ndim == 2 else "ragged"
        raise ProviderError(
            f"{source}: the model returned {got}-dimensional vectors but the settings say "
            f"{dimensions}; set dimensions to the model's output size (this changes the "
            f"embedding space: rebuild vectors with `lore index --rebuild-vectors`)"
        )
    return matrix


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds asked by a ``Retry-After`` header (delta or HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _error_message(response: Any) -> str:
    """The server's own error text, short: ``error.message`` or the body's start."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        err = data.get("error", data.get("message", data.get("detail")))
        if isinstance(err, dict):
            err = err.get("message", err)
        if err is not None:
            return str(err)[:200]
    return response.text[:200].strip() or "(empty body)"


def _status_advice(status: int) -> str:
    if status in (401, 403):
        return "; the API key was rejected: check the variable named by api_key_env"
    if status == 404:
        return "; check base_url and the model name"
    if status == 429:
        return "; rate limited even after retries: lower batch_size or try later"
    return ""


def remote_space(p: ProviderSettings) -> EmbeddingSpace:
    """The space of a remote model, known without a network call.

    A remote model's output size can only be learnt by calling it, and the
    space id must be known offline (to open an index, to refuse mismatches),
    so remote providers require ``dimensions`` in their settings.
    """
    if p.dimensions is None:
        raise ConfigError(
            f"provider {p.provider!r} needs its output size: set dimensions = N under "
            f"[embed.primary] (or the fallback entry) to the model's vector size, e.g. 1536"
        )
    if p.dimensions < 1:
        raise ConfigError(f"dimensions must be positive, got {p.dimensions}")
    return EmbeddingSpace(
        provider=p.provider, model=p.model, revision=p.revision, dimensions=p.dimensions,
        precision="provider", pooling="provider", normalize=True,
        query_prefix=p.query_prefix, document_prefix=p.document_prefix,
        max_tokens=p.max_tokens,
    )


class RemoteEmbedder(SpaceBound):
    """Base of the network providers: space bookkeeping plus batch splitting.

    Subclasses implement ``_embed_batch(texts) -> Vectors`` (validated with
    :func:`to_matrix`) and raise ``PayloadTooLarge`` when the server refuses a
    batch as too large.
    """

    def __init__(self, space: EmbeddingSpace, source: str) -> None:
        self._space = space
        self.source = redact_url(source)   # named in every error: never with a password


    def embed(self, texts: list[str], kind: EmbedKind) -> Vectors:
        """Vectors for ``texts`` (kind only matters through the runner's prefixes)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return embed_splitting(list(texts), self._embed_batch, self.source)

    def _embed_batch(self, texts: list[str]) -> Vectors:
        raise NotImplementedError
