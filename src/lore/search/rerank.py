"""Second-stage reranking: a pluggable scorer over the fused top candidates.

Off by default. A reranker sees at most ``candidates`` (query, passage) pairs
and a time budget; when it fails or runs out of time the fused order stands,
and the hits say so in their explain record, because a slow or dead reranker
must never cost the user their results.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lore._optional import require
from lore.errors import ConfigError, ProviderError

log = logging.getLogger(__name__)


class Reranker(Protocol):
    """Scores passages against a query; higher is more relevant."""

    name: str

    def score(self, query: str, passages: Sequence[str]) -> list[float]: ...


@dataclass(frozen=True)
class RerankOutcome:
    """The new order of the candidates, and whether reranking actually ran."""

    order: list[int]           # indices into the candidate list, best first
    scores: list[float] | None  # reranker scores aligned with ``order`` (None when skipped)
    applied: bool
    reason: str = ""


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder, loaded on first use.

    Needs the ``sbert`` extra and a local model (``model`` may be a path); the
    hub is only contacted when not offline.
    """

    def __init__(self, model: str, *, offline: bool = True, batch_size: int = 16) -> None:
        self.name = f"cross-encoder:{model}"
        self._model_name = model
        self._offline = offline
        self._batch_size = batch_size
        self._model: Any = None

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if self._model is None:
            st = require("sentence_transformers", extra="sbert",
                         purpose="the cross-encoder reranker")
            kwargs = {"local_files_only": True} if self._offline else {}
            try:
                self._model = st.CrossEncoder(self._model_name, **kwargs)
            except OSError as exc:
                raise ProviderError(
                    f"Cannot load cross-encoder '{self._model_name}': {exc}. "
                    "Point rerank.model at a local model directory."
                ) from exc
        pairs = [(query, passage) for passage in passages]
        return [float(s) for s in self._model.predict(pairs, batch_size=self._batch_size)]


class HttpReranker:
    """A ``/rerank`` endpoint (TEI, Infinity, Jina/Cohere-compatible wire format).

    Request ``{"query", "texts"|"documents"}``; accepts a list of
    ``{"index", "score"|"relevance_score"}`` or ``{"results": [...]}``.
    """

    def __init__(self, base_url: str, *, model: str | None = None, timeout_s: float = 10.0) -> None:
        if not base_url:
            raise ConfigError("The HTTP reranker needs a base URL: set rerank.base_url.")
        self.name = f"http:{base_url}"
        self._url = base_url.rstrip("/") + "/rerank"
        self._model = model
        self._timeout = timeout_s

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        import httpx

        body: dict[str, Any] = {"query": query, "texts": list(passages),
                                "documents": list(passages)}
        if self._model:
            body["model"] = self._model
        try:
            reply = httpx.post(self._url, json=body, timeout=self._timeout)
            reply.raise_for_status()
            data = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"Reranker at {self._url} failed: {exc}. "
                                "Check that it is running, or disable reranking.") from exc
        items = data.get("results", data) if isinstance(data, dict) else data
        scores = [0.0] * len(passages)
        try:
            for item in items:
                value = item.get("score", item.get("relevance_score"))
                scores[int(item["index"])] = float(value)
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
            raise ProviderError(f"Reranker at {self._url} sent an unexpected reply shape.") from exc
        return scores


def rerank(reranker: Reranker, query: str, passages: Sequence[str], *,
           time_budget_s: float) -> RerankOutcome:
    """Reorder ``passages`` by ``reranker``, or keep their order on failure or overrun.

    Args:
        reranker: the scorer.
        query: the user's query text.
        passages: candidate texts, in fused order (already cut to the candidate budget).
        time_budget_s: scores arriving later than this are discarded.
    """
    started = time.perf_counter()
    try:
        scores = reranker.score(query, passages)
    except ProviderError as exc:
        log.warning("reranker %s failed; keeping fused order: %s", reranker.name, exc)
        return RerankOutcome(list(range(len(passages))), None, False, f"failed: {exc}")
    elapsed = time.perf_counter() - started
    if elapsed > time_budget_s:
        return RerankOutcome(list(range(len(passages))), None, False,
                             f"over time budget ({elapsed:.2f}s > {time_budget_s:.2f}s)")
    order = sorted(range(len(passages)), key=lambda i: (-scores[i], i))
    return RerankOutcome(order, [scores[i] for i in order], True)
