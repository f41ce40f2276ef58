"""A model-free embedder: signed feature hashing of words, word pairs and n-grams.

It needs no weights and no network, is deterministic across machines and
Python versions (zlib.crc32, not ``hash()``), and keeps lexical similarity:
texts that share words, word pairs or word pieces get close vectors. That
makes it the offline last resort and the test double every room uses.

Features of a text (lower-cased, split on ``\\w+``):

- each word (weight 1);
- each pair of adjacent words (weight ``BIGRAM_WEIGHT``), so phrases count;
- the character 3-5-grams of each word with ``<``/``>`` boundary marks,
  weighted ``1/sqrt(count)`` so a long word's pieces together weigh as much as
  the word itself; they let ``index``/``indexing`` or ``ADR-0009``/``adr``
  meet.

Each feature is hashed to a dimension and a sign (the sign keeps collisions
from piling up into false similarity). Per-word features are computed once
into a vocabulary of flat arrays; a batch is then array gathers and one
``numpy.bincount`` (see bench/hashing_bench.py for the speed).
"""

from __future__ import annotations

import math
import re
import threading
import zlib

import numpy as np
import numpy.typing as npt

from lore.embed.base import EmbeddingSpace, EmbedKind, SpaceBound, Vectors
from lore.errors import ConfigError
from lore.settings import ProviderSettings

MODEL_ID = "feature-hashing-v1"   # change whenever the features or weights change
DEFAULT_DIMENSIONS = 384
BIGRAM_WEIGHT = 0.7
NGRAM_SIZES = (3, 4, 5)
_NGRAM_SEED = 0x5BD1E995          # a separate crc32 stream, so the n-gram "cat" != the word "cat"
_EMPTY = "\x00empty"              # stands in for a text without words, so its vector is not zero
_NO_WORDS = [_EMPTY]
_VOCAB_LIMIT = 200_000            # words; the vocabulary starts over when it grows past this
_BLOCK = 512                     # texts per bincount
_WORD = re.compile(r"\w+")
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


class HashingEmbedder(SpaceBound):
    """Feature-hashing embedder (see the module docstring).

    Args:
        dimensions: output size (default 384).
        query_prefix / document_prefix: recorded in the space; applied by the runner.
        max_tokens: words kept per text (the runner truncates to it).
    """

    def __init__(self, dimensions: int = DEFAULT_DIMENSIONS, *, query_prefix: str = "",
                 document_prefix: str = "", max_tokens: int = 256) -> None:
        if dimensions < 2:
            raise ConfigError(f"hashing dimensions must be at least 2, got {dimensions}; "
                              f"set [embed.primary] dimensions (e.g. 384).")
        if max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1, got {max_tokens}.")
        self._space = EmbeddingSpace(
            provider="hashing", model=MODEL_ID, revision="", dimensions=dimensions,
            precision="fp32", pooling="hash", normalize=True, query_prefix=query_prefix,
            document_prefix=document_prefix, max_tokens=max_tokens,
        )
        self._vocab = _Vocabulary(dimensions)
        self._lock = threading.Lock()  # the vocabulary grows during embed (server threads)

    @classmethod
    def from_settings(cls, p: ProviderSettings) -> HashingEmbedder:
        """Build from provider settings; ``p.model`` is ignored (there is no model)."""
        dims = DEFAULT_DIMENSIONS if p.dimensions is None else p.dimensions
        return cls(dims, query_prefix=p.query_prefix,
                   document_prefix=p.document_prefix, max_tokens=p.max_tokens)


    def count_tokens(self, texts: list[str]) -> list[int]:
        """Exact counts: a token here is a ``\\w+`` word."""
        return [len(_WORD.findall(t)) for t in texts]

    def truncate(self, texts: list[str], max_tokens: int) -> list[str]:
        """Cut each text right after its ``max_tokens``-th word."""
        out = []
        for text in texts:
            end = None
            for n, match in enumerate(_WORD.finditer(text), start=1):
                if n == max_tokens:
                    end = match.end()
                    break
            out.append(text if end is None else text[:end])
        return out

    def embed(self, texts: list[str], kind: EmbedKind) -> Vectors:
        """L2-normalised float32 vectors, shape (len(texts), dimensions).

        ``kind`` does not change the features; queries and documents differ
        only through the prefixes the runner prepends.
        """
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        with self._lock:
            if len(self._vocab) > _VOCAB_LIMIT:
                self._vocab = _Vocabulary(self.dimensions)
            # Blocks keep the scatter arrays small enough to stay in the CPU cache.
            for start in range(0, len(texts), _BLOCK):
                self._embed_block(texts[start:start + _BLOCK], out[start:start + _BLOCK])
        return out

    def _embed_block(self, texts: list[str], out: Vectors) -> None:
        """Write the vectors of ``texts`` into ``out`` with one ``bincount``."""
        dims = self.dimensions
        vocab = self._vocab
        word_id = vocab.__getitem__  # computes and stores the features of new words
        ids: list[int] = []
        counts: list[int] = []
        for text in texts:
            words = _WORD.findall(text.lower()) or _NO_WORDS
            counts.append(len(words))
            ids.extend(map(word_id, words))
        word_ids = np.array(ids, dtype=np.int64)
        word_rows = np.repeat(np.arange(len(texts), dtype=np.int64), counts)

        # Gather every word's stored features: position = word start + offset in word.
        sizes = vocab.sizes[word_ids]
        ends = np.cumsum(sizes)
        pos = np.arange(ends[-1]) + np.repeat(vocab.starts[word_ids] - (ends - sizes), sizes)
        flat = vocab.feature_dims[pos] + np.repeat(word_rows * dims, sizes)
        pair_flat, pair_weights = _bigram_features(vocab.hashes[word_ids], word_rows, dims)
        matrix = np.bincount(np.concatenate([flat, pair_flat]),
                             weights=np.concatenate([vocab.feature_weights[pos], pair_weights]),
                             minlength=len(texts) * dims).reshape(len(texts), dims)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        np.divide(matrix, np.maximum(norms, 1e-12), out=out, casting="same_kind")


class _Vocabulary(dict[str, int]):
    """word -> id, with every word's features in flat, growable arrays.

    Looking up an unknown word (``vocab[word]``) computes its unigram and
    n-gram features once and appends them; a batch then gathers the features
    of all its words with array indexing instead of a Python loop.
    """

    def __init__(self, dims: int) -> None:
        super().__init__()
        self.dims = dims
        self.hashes = np.empty(1024, dtype=np.uint64)
        self.starts = np.empty(1024, dtype=np.int64)
        self.sizes = np.empty(1024, dtype=np.int64)
        self.feature_dims = np.empty(16384, dtype=np.int64)
        self.feature_weights = np.empty(16384, dtype=np.float64)
        self.used = 0

    def __missing__(self, word: str) -> int:
        word_hash = zlib.crc32(word.encode())
        marked = f"<{word}>".encode()
        grams = [marked[i:i + size] for size in NGRAM_SIZES
                 for i in range(len(marked) - size + 1)]
        hashes = [word_hash] + [zlib.crc32(g, _NGRAM_SEED) for g in grams]
        gram_weight = 1.0 / math.sqrt(len(grams)) if grams else 0.0
        weights = [1.0] + [gram_weight] * len(grams)
        wid, start, size = len(self), self.used, len(hashes)
        if wid == len(self.hashes):
            self.hashes = np.resize(self.hashes, 2 * wid)
            self.starts = np.resize(self.starts, 2 * wid)
            self.sizes = np.resize(self.sizes, 2 * wid)
        if start + size > len(self.feature_dims):
            grown = 2 * max(len(self.feature_dims), size)
            self.feature_dims = np.resize(self.feature_dims, grown)
            self.feature_weights = np.resize(self.feature_weights, grown)
        self.hashes[wid], self.starts[wid], self.sizes[wid] = word_hash, start, size
        self.feature_dims[start:start + size] = [h % self.dims for h in hashes]
        self.feature_weights[start:start + size] = [
            -w if h & 0x80000000 else w for h, w in zip(hashes, weights)]
        self.used += size
        self[word] = wid
        return wid


def _bigram_features(word_hashes: npt.NDArray[np.uint64], word_rows: npt.NDArray[np.int64],
                     dims: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Flat (row * dims + dim) indices and signed weights of adjacent word pairs.

    The pair hash mixes the two word hashes with the splitmix64 finaliser, in
    numpy, so pairs need no per-pair Python work and no cache.
    """
    same_text = word_rows[:-1] == word_rows[1:]
    left = word_hashes[:-1][same_text]
    right = word_hashes[1:][same_text]
    with np.errstate(over="ignore"):
        x = (left * np.uint64(0x9E3779B97F4A7C15) + right) & _MASK64
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    flat = (x % np.uint64(dims)).astype(np.int64) + word_rows[:-1][same_text] * dims
    signs = np.where(x >> np.uint64(63) == 0, BIGRAM_WEIGHT, -BIGRAM_WEIGHT)
    return flat, signs.astype(np.float32)
