"""The default provider: a pulled BERT model run by onnxruntime, without torch.

Construction only reads the manifest (dimensions, pooling, checksums), so
building the embedder, its space id and ``lore --help`` stay cheap. The
tokenizer and the onnxruntime session are created on the first embed, after
the model files are checked against their sha256.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np

from lore.embed.base import EmbeddingSpace, EmbedKind, SpaceBound, Vectors
from lore.embed.models import ModelFiles, ensure_model
from lore.embed.tokenize import TokenBudget, load_tokenizer
from lore.errors import ConfigError, ModelNotFoundError, ProviderError
from lore.settings import ProviderSettings

log = logging.getLogger(__name__)



class OnnxEmbedder(SpaceBound):
    """Sentence embeddings from a pulled ONNX model (mean or CLS pooling).

    Args:
        files: the pulled model (see ``lore.embed.models``).
        precision: "fp32" or "int8"; that file must have been pulled.
        threads: parallel single-threaded runs (None: one per core).
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
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()  # one session and one pool, even under server threads

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

        A text's vector never depends on the other texts of the call, so it is
        the same alone, in any batch and from any thread count (a cache entry
        or a re-index can then never disagree with a fresh run). int8 runs each
        text alone: its dynamic quantization picks one activation scale per
        tensor, i.e. per batch, so in a batch a vector would move with its
        neighbours (cosine down to 0.987 on SciFact). fp32 batches only texts
        of the same token length, so no padding is computed. The runs go to
        ``threads`` parallel single-threaded onnxruntime runs: for inputs of up
        to a few hundred tokens that keeps the cores busier than one run split
        across them (bench/embed_bench.py). ``kind`` changes nothing here: the
        runner has already prepended the query or document prefix.
        """
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        self._load()
        encodings = self._tokenizer.encode_batch(texts)
        groups = _same_length_groups([len(e.ids) for e in encodings],
                                     1 if self.space.precision == "int8" else len(texts))
        runs = [[encodings[i] for i in group] for group in groups]
        workers = self._workers()
        if workers > 1 and len(runs) > 1:
            pooled = list(self._executor(workers).map(self._run, runs))
        else:
            pooled = [self._run(run) for run in runs]
        vectors = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for group, rows in zip(groups, pooled):
            vectors[group] = rows
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)

    def _run(self, encodings: Sequence[Any]) -> Vectors:
        """One session run over texts of one token length (no padding): encode, pool."""
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.ones_like(ids)
        inputs = {"input_ids": ids, "attention_mask": mask,
                  "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        try:
            hidden = self._session.run(None, inputs)[0]
        except Exception as exc:  # onnxruntime raises its own untyped runtime errors
            path = self.files.onnx_path(self.space.precision)
            raise ProviderError(f"onnxruntime failed on {path}: {exc}. Re-run "
                                f"`lore models pull {self.files.name} --force`.") from exc
        return _pool(hidden, mask, self.space.pooling)

    def _workers(self) -> int:
        """How many runs go in parallel: ``threads``, else one per core."""
        return self.threads or os.cpu_count() or 1

    def _executor(self, workers: int) -> ThreadPoolExecutor:
        """The worker threads (onnxruntime releases the GIL while it runs)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(workers, thread_name_prefix="lore-onnx")
            return self._pool

    def _token_budget(self) -> TokenBudget:
        if self._budget is None:
            self._budget = TokenBudget(self._load_tokenizer())
        return self._budget

    def _load_tokenizer(self) -> Any:
        if self._tokenizer is None:
            tokenizer = load_tokenizer(self.files.tokenizer_path, self.max_tokens)
            tokenizer.no_padding()  # runs hold texts of one length: nothing to pad
            self._tokenizer = tokenizer
        return self._tokenizer

    def _load(self) -> Any:
        """The onnxruntime session, created (after a checksum check) on first use."""
        if self._session is not None:
            return self._session
        import onnxruntime as ort

        with self._lock:
            if self._session is not None:   # another thread loaded it meanwhile
                return self._session
            precision = self.space.precision
            self.files.verify(precision)
            self._load_tokenizer()
            options = ort.SessionOptions()
            # One thread per run; parallelism comes from parallel runs (see ``embed``).
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.log_severity_level = 3                 # errors only; warnings go unread
            path = self.files.onnx_path(precision)
            log.debug("loading %s", path)
            self._session = ort.InferenceSession(str(path), options,
                                                 providers=["CPUExecutionProvider"])
            return self._session


def _same_length_groups(lengths: list[int], most: int) -> list[list[int]]:
    """Indices of ``lengths`` grouped by equal length, at most ``most`` per group."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    groups = []
    for _, same in groupby(order, key=lengths.__getitem__):
        members = list(same)
        groups += [members[i:i + most] for i in range(0, len(members), most)]
    return groups


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
