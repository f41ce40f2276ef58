"""The sentence-transformers provider (extra ``sbert``): any model that library loads, on torch.

It is the reference the ONNX provider is checked against, and the way to use
models the ONNX converter does not build. torch and sentence-transformers
take seconds to import, so both load on the first embed. A local model
folder gives dimensions, pooling and a weights checksum without importing
them; a hub name needs the model loaded to know its dimensions, unless
``dimensions`` is set.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from lore._optional import require
from lore.embed.base import EmbeddingSpace, EmbedKind, SpaceBound, Vectors
from lore.embed.tokenize import TokenBudget
from lore.errors import ConfigError, ProviderError
from lore.settings import ProviderSettings

log = logging.getLogger(__name__)



class SentenceTransformerEmbedder(SpaceBound):
    """Embeddings from ``sentence_transformers.SentenceTransformer`` on the CPU.

    Args:
        model: a local model folder or a hub model name.
        cache_folder: where hub models are cached (None: the library's own,
            ``SENTENCE_TRANSFORMERS_HOME`` or the hub cache).
        revision: a hub revision to pin; recorded in the space.
        dimensions: expected output size (checked when the model loads).
        query_prefix / document_prefix: recorded in the space.
        max_tokens: the model's sequence limit is set to this.
        offline: load from local files only, never the network.
        device: torch device ("cpu" by default: lore does not assume a GPU).
    """

    def __init__(self, model: str, *, cache_folder: str | None = None, revision: str = "",
                 dimensions: int | None = None, query_prefix: str = "",
                 document_prefix: str = "", max_tokens: int = 256,
                 offline: bool = False, device: str = "cpu") -> None:
        if max_tokens < 1:
            raise ConfigError(f"[embed.primary] max_tokens = {max_tokens}; use 1 or more.")
        self.model_name = model
        self._max_tokens = max_tokens
        self.cache_folder = cache_folder
        self.offline = offline
        self.device = device
        self._model: Any = None
        self._budget: TokenBudget | None = None
        local = Path(model).expanduser()
        self._pinned = None if local.is_dir() else (revision or None)
        info = _read_local(local) if local.is_dir() else {}
        found = info.get("dimensions") or dimensions
        if found is None:
            found = self._load().get_sentence_embedding_dimension()
        if dimensions is not None and dimensions != found:
            raise ConfigError(f"[embed.primary] dimensions = {dimensions}, but {model} outputs "
                              f"{found}; remove the setting or set it to {found}.")
        self._space = EmbeddingSpace(
            provider="sentence-transformers", model=model,
            revision=revision or info.get("revision", ""), dimensions=int(found),
            precision="fp32", pooling=info.get("pooling", "sentence-transformers"),
            normalize=True, query_prefix=query_prefix, document_prefix=document_prefix,
            max_tokens=max_tokens,
        )

    @classmethod
    def from_settings(cls, p: ProviderSettings, *,
                      offline: bool = False) -> SentenceTransformerEmbedder:
        """Build from settings: ``model_path`` is a model folder, or the cache for ``model``.

        Args:
            p: the provider settings.
            offline: local files only (``[embed] offline``, which ``lore.config``
                also sets from ``HF_HUB_OFFLINE``).
        """
        model, cache = p.model, None
        if p.model_path:
            path = Path(p.model_path).expanduser()
            if (path / "config.json").is_file() or (path / "modules.json").is_file():
                model = str(path)
            else:
                cache = str(path)
        return cls(model, cache_folder=cache, revision=p.revision, dimensions=p.dimensions,
                   query_prefix=p.query_prefix, document_prefix=p.document_prefix,
                   max_tokens=p.max_tokens, offline=offline)


    def count_tokens(self, texts: list[str]) -> list[int]:
        """Exact token counts with the model's own (fast) tokenizer."""
        return self._token_budget().count_tokens(texts)

    def truncate(self, texts: list[str], max_tokens: int) -> list[str]:
        """Each text cut to at most ``max_tokens`` tokens, on a token boundary."""
        return self._token_budget().truncate(texts, max_tokens)

    def embed(self, texts: list[str], kind: EmbedKind) -> Vectors:
        """L2-normalised float32 vectors, one ``encode`` call for the whole list."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self._load().encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                      normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def _token_budget(self) -> TokenBudget:
        if self._budget is None:
            backend = getattr(self._load().tokenizer, "backend_tokenizer", None)
            if backend is None:
                raise ProviderError(f"{self.model_name} has no fast tokenizer, so lore cannot "
                                    f"count its tokens; use a model with a tokenizer.json.")
            self._budget = TokenBudget(backend)
        return self._budget

    def _load(self) -> Any:
        """The SentenceTransformer, imported and loaded on first use."""
        if self._model is not None:
            return self._model
        st = require("sentence_transformers", extra="sbert", package="sentence-transformers",
                     purpose="the sentence-transformers provider")
        try:
            model = st.SentenceTransformer(self.model_name, device=self.device,
                                           cache_folder=self.cache_folder,
                                           revision=self._pinned,
                                           local_files_only=self.offline)
        except OSError as exc:
            where = " (offline: only local files were tried)" if self.offline else ""
            raise ProviderError(f"sentence-transformers could not load {self.model_name}"
                                f"{where}: {exc}. Check the name, or point model_path at a "
                                f"local model folder.") from exc
        model.max_seq_length = self._max_tokens
        self._model = model
        return model


def _read_local(folder: Path) -> dict[str, Any]:
    """Dimensions, pooling and a weights checksum of a local model folder.

    Only JSON files are read and the weights hashed; neither torch nor
    sentence-transformers is imported.
    """
    from lore.embed.models import sha256_file

    pooling_file = folder / "1_Pooling" / "config.json"
    pooling, dims = "mean", None
    if pooling_file.is_file():
        raw = json.loads(pooling_file.read_text(encoding="utf-8"))
        modes = [k.removeprefix("pooling_mode_").removesuffix("_token").removesuffix("_tokens")
                 for k, v in raw.items() if k.startswith("pooling_mode_") and v]
        pooling = "+".join(modes) or "mean"
        dims = raw.get("word_embedding_dimension") if len(modes) == 1 else None
    if _has_dense(folder):
        dims = None   # a Dense layer changes the output size: ask the loaded model
    weights = next((folder / n for n in ("model.safetensors", "pytorch_model.bin")
                    if (folder / n).is_file()), None)
    return {"dimensions": dims, "pooling": pooling,
            "revision": sha256_file(weights) if weights else ""}


def _has_dense(folder: Path) -> bool:
    modules = folder / "modules.json"
    if not modules.is_file():
        return False
    return any(m.get("type", "").endswith(".Dense")
               for m in json.loads(modules.read_text(encoding="utf-8")))
