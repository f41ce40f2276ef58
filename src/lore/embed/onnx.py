"""The default provider: a pulled BERT model run by onnxruntime, without torch.

Construction only reads the manifest (dimensions, pooling, checksums), so
building the embedder, its space id and ``lore --help`` stay cheap. The
tokenizer and the onnxruntime session are created on the first embed, after
the model files are checked against their sha256.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from lore.embed.base import EmbeddingSpace, EmbedKind, SpaceBound, Vectors
from lore.embed.models import ModelFiles, ensure_model
from lore.embed.tokenize import TokenBudget, encode, load_tokenizer
from lore.errors import ConfigError, ModelNotFoundError, ProviderError
from lore.settings import ProviderSettings

log = logging.getLogger(__name__)



class OnnxEmbedder(SpaceBound):
    """Sentence embeddings from a pulled ONNX model (mean or CLS pooling).

    Args:
        files: the pulled model (see ``lore.embed.models``).
        precision: "fp32" or "int8"; that file must have been pulled.
        threads: onnxruntime intra-op threads (None: every core).
        query_prefix / document_prefix: override the model's own prefixes.
        max_tokens: input limit in tokens (None: the model's trained length).
        dimensions: expected output size; a mismatch is a ConfigError.
    """

    def __init__(self, files: ModelFiles, *, precision: str, threads: int | None = None,
                 query_prefix: str = "", document_prefix: str = "",
                 max_tokens: int | None = None, dimensions: int | None = None) -> None:
        if precision not in files.precisions:
            raise ModelNotFoundError(
                f"model {files.name} has no {precision} file (pulled: "
                f"{', '.join(files.precisions) or 'none'}); run `lore models pull {files.name} "
                f"--precision {precision}`."
            )
        if dimensions is not None and dimensions != files.hidden_size:
            raise ConfigError(
                f"[embed.primary] dimensions = {dimensions}, but {files.name} outputs "
                f"{files.hidden_size}; remove the setting or set it to {files.hidden_size}."
            )
        tokens = max_tokens or files.max_tokens
        if not 2 < tokens <= files.max_positions:
            raise ConfigError(
                f"[embed.primary] max_tokens = {tokens}, but {files.name} takes 3 to "
                f"{files.max_positions} tokens; choose a value in that range."
            )
        if threads is not None and threads < 1:
            raise ConfigError(f"[embed.primary] threads = {threads}; use 1 or more, or leave "
                              f"it unset to use every core.")
        self.files = files
        self.threads = threads
        self._space = EmbeddingSpace(
            provider="onnx", model=files.name, revision=files.revision(precision),
            dimensions=files.hidden_size, precision=precision, pooling=files.pooling,
            normalize=True, query_prefix=query_prefix or files.query_prefix,
            document_prefix=document_prefix or files.document_prefix, max_tokens=tokens,
        )
        self._session: Any = None
        self._tokenizer: Any = None
        self._budget: TokenBudget | None = None

    @classmethod
    def from_settings(cls, p: ProviderSettings, *, offline: bool = False) -> OnnxEmbedder:
        """Build from provider settings, pulling the catalogue model on first use.

        Args:
            p: ``model`` (catalogue name) or ``model_path`` (a pulled model folder),
                ``precision``, ``threads``, prefixes, ``max_tokens``, ``dimensions``.
            offline: forbid the network when pulling (``[embed] offline``, which
                ``lore.config`` also sets from ``HF_HUB_OFFLINE``).
        """
        if p.model_path:
            files = _files_at(Path(p.model_path).expanduser())
            if p.precision not in files.precisions:
                raise ModelNotFoundError(
                    f"{p.model_path} has no {p.precision} model; pulled there: "
                    f"{', '.join(files.precisions) or 'none'}.")
        else:
            files = ensure_model(p.model, p.precision, offline=offline)
        return cls(files, precision=p.precision, threads=p.threads,
                   query_prefix=p.query_prefix, document_prefix=p.document_prefix,
                   max_tokens=p.max_tokens, dimensions=p.dimensions)


    def count_tokens(self, texts: list[str]) -> list[int]:
        """Exact token counts with the model's tokenizer (special tokens included)."""
        return self._token_budget().count_tokens(texts)

    def truncate(self, texts: list[str], max_tokens: int) -> list[str]:
        """Each text cut to at most ``max_tokens`` tokens, on a token boundary."""
        return self._token_budget().truncate(texts, max_tokens)

    def embed(self, texts: list[str], kind: EmbedKind) -> Vectors:
        """Pooled, L2-normalised float32 vectors, one row per text.

        fp32 runs the whole list at once. int8 runs one text at a time: its
        dynamic quantization picks one activation scale per tensor, i.e. per
        batch, so in a batch a text's vector would depend on its neighbours
        (cosine down to 0.987 on SciFact). Alone, a vector is a function of its
        text only, and no padding is computed. ``kind`` changes nothing here:
        the runner has already prepended the query or document prefix.
        """
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        rows = 1 if self.space.precision == "int8" else len(texts)
        vectors = np.vstack([self._run(texts[i:i + rows]) for i in range(0, len(texts), rows)])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)

    def _run(self, texts: list[str]) -> Vectors:
        """One session run: tokenize, encode, pool (not yet normalised)."""
        session = self._load()
        inputs = encode(self._tokenizer, texts)
        try:
            hidden = session.run(None, inputs)[0]
        except Exception as exc:  # onnxruntime raises its own untyped runtime errors
            path = self.files.onnx_path(self.space.precision)
            raise ProviderError(f"onnxruntime failed on {path}: {exc}. Re-run "
                                f"`lore models pull {self.files.name} --force`.") from exc
        return _pool(hidden, inputs["attention_mask"], self.space.pooling)

    def _token_budget(self) -> TokenBudget:
        if self._budget is None:
            self._budget = TokenBudget(self._load_tokenizer())
        return self._budget

    def _load_tokenizer(self) -> Any:
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.files.tokenizer_path, self.max_tokens)
        return self._tokenizer

    def _load(self) -> Any:
        """The onnxruntime session, created (after a checksum check) on first use."""
        if self._session is not None:
            return self._session
        import onnxruntime as ort

        precision = self.space.precision
        self.files.verify(precision)
        self._load_tokenizer()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or 0   # 0: onnxruntime uses every core
        options.inter_op_num_threads = 1
        options.log_severity_level = 3                     # errors only; warnings go unread
        path = self.files.onnx_path(precision)
        log.debug("loading %s", path)
        self._session = ort.InferenceSession(str(path), options,
                                             providers=["CPUExecutionProvider"])
        return self._session


def _pool(hidden: Any, mask: Any, pooling: str) -> Vectors:
    """Mean over real tokens (padding excluded), or the first ([CLS]) token."""
    if pooling == "cls":
        return np.asarray(hidden[:, 0], dtype=np.float32)
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    return (summed / np.maximum(weights.sum(axis=1), 1e-9)).astype(np.float32)


def _files_at(directory: Path) -> ModelFiles:
    """The pulled model in ``directory`` (``model_path``), or an error saying how to make one."""
    files = ModelFiles.load(directory)
    if files is None:
        raise ModelNotFoundError(
            f"{directory} holds no pulled model (no manifest.json). Convert a model folder "
            f"with `lore models pull NAME --from {directory}`, then point model_path at "
            f"the folder it prints, or unset model_path."
        )
    return files
