"""OpenAI-compatible ``/embeddings`` endpoints (OpenAI, Azure-style proxies, vLLM, llama.cpp).

The request is ``{"model", "input", "dimensions"?}`` to ``base_url +
"/embeddings"``; the reply's ``data`` items are put back in ``index`` order,
because the API does not promise to keep input order.
"""

from __future__ import annotations

import os

from lore.embed._http import JsonEndpoint, RemoteEmbedder, remote_space, to_matrix
from lore.embed.base import EmbeddingSpace, Vectors
from lore.errors import ConfigError, ProviderError
from lore.settings import ProviderSettings

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
# Only OpenAI's v3 models accept "dimensions" (they can shorten their output);
# other servers reject unknown fields, so it is sent to those models only.
_SHORTENABLE_PREFIX = "text-embedding-3"


class OpenAIEmbedder(RemoteEmbedder):
    """Embeddings from an OpenAI-compatible HTTP API.

    Args:
        space: the configured space (see ``remote_space``).
        base_url: API root, e.g. ``https://api.openai.com/v1``.
        api_key: bearer token, or None for servers without auth.
        timeout_s: per-request timeout.
    """

    def __init__(self, space: EmbeddingSpace, *, base_url: str = DEFAULT_BASE_URL,
                 api_key: str | None = None, timeout_s: float = 30.0) -> None:
        url = base_url.rstrip("/") + "/embeddings"
        super().__init__(space, url)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._endpoint = JsonEndpoint(url, headers=headers, timeout_s=timeout_s,
                                      hint=f"model {space.model!r}")
        self._send_dimensions = space.model.startswith(_SHORTENABLE_PREFIX)

    @classmethod
    def from_settings(cls, p: ProviderSettings) -> OpenAIEmbedder:
        """Build from settings; reads the API key from the variable ``api_key_env`` names.

        Without ``api_key_env``, the official endpoint reads ``OPENAI_API_KEY``
        and any other ``base_url`` is called without a key (local servers).

        Raises:
            ConfigError: ``dimensions`` unset, or the key variable is empty.
        """
        space = remote_space(p)
        base_url = p.base_url or DEFAULT_BASE_URL
        key_env = p.api_key_env or (DEFAULT_KEY_ENV if p.base_url is None else None)
        api_key = None
        if key_env:
            api_key = os.environ.get(key_env)
            if not api_key:
                raise ConfigError(
                    f"provider 'openai' reads its API key from the environment variable "
                    f"{key_env}, which is not set; export {key_env}=... or set api_key_env "
                    f"to the variable that holds the key"
                )
        return cls(space, base_url=base_url, api_key=api_key, timeout_s=p.timeout_s)

    def _embed_batch(self, texts: list[str]) -> Vectors:
        body: dict[str, object] = {"model": self.space.model, "input": texts}
        if self._send_dimensions:
            body["dimensions"] = self.dimensions
        reply = self._endpoint.post(body)
        data = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise ProviderError(f"{self.source}: the reply has no 'data' list of objects; "
                                f"is base_url an OpenAI-compatible API?")
        try:
            ordered = sorted(data, key=lambda d: int(d["index"]))
            rows = [d["embedding"] for d in ordered]
            indexes = [int(d["index"]) for d in ordered]
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(f"{self.source}: 'data' items lack index/embedding; is "
                                f"base_url an OpenAI-compatible API?") from exc
        # Each input must come back exactly once: a repeated or missing index would
        # pair vectors with the wrong texts, and they would be stored and cached so.
        if indexes != list(range(len(texts))):
            raise ProviderError(f"{self.source}: the reply's 'index' values are not 0..{len(texts) - 1} "
                                "once each, so vectors cannot be matched to their texts; the "
                                "server is not a faithful OpenAI-compatible API")
        return to_matrix(rows, len(texts), self.dimensions, self.source)
