"""Ollama's ``/api/embed`` endpoint (a local server, but still a network call).

``POST {base_url}/api/embed {"model", "input": [...]}`` answers
``{"embeddings": [[...], ...]}`` in input order.
"""

from __future__ import annotations

from lore.embed._http import JsonEndpoint, RemoteEmbedder, remote_space, to_matrix
from lore.embed.base import EmbeddingSpace, Vectors
from lore.errors import ProviderError
from lore.settings import ProviderSettings

DEFAULT_BASE_URL = "http://127.0.0.1:11434"


class OllamaEmbedder(RemoteEmbedder):
    """Embeddings from an Ollama server.

    Args:
        space: the configured space (see ``remote_space``).
        base_url: server root (default ``http://127.0.0.1:11434``).
        timeout_s: per-request timeout.
    """

    def __init__(self, space: EmbeddingSpace, *, base_url: str = DEFAULT_BASE_URL,
                 timeout_s: float = 30.0) -> None:
        url = base_url.rstrip("/") + "/api/embed"
        super().__init__(space, url)
        self._endpoint = JsonEndpoint(
            url, timeout_s=timeout_s,
            hint=f"is `ollama serve` running and `ollama pull {space.model}` done?")

    @classmethod
    def from_settings(cls, p: ProviderSettings) -> OllamaEmbedder:
        """Build from settings (``dimensions`` is required, see ``remote_space``)."""
        return cls(remote_space(p), base_url=p.base_url or DEFAULT_BASE_URL,
                   timeout_s=p.timeout_s)

    def _embed_batch(self, texts: list[str]) -> Vectors:
        reply = self._endpoint.post({"model": self.space.model, "input": texts})
        rows = reply.get("embeddings") if isinstance(reply, dict) else None
        if rows is None:
            raise ProviderError(f"{self.source}: the reply has no 'embeddings'; is this an "
                                f"Ollama server (version 0.3.4 or later)?")
        return to_matrix(rows, len(texts), self.dimensions, self.source)
