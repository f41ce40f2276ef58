"""Exact token counts and truncation with a model's own ``tokenizers`` tokenizer.

The runner decides what to cut before a provider sees a text; with the model's
tokenizer at hand that decision is exact rather than a characters-per-token
guess. Both local providers (ONNX and sentence-transformers) wrap their
``tokenizers.Tokenizer`` in :class:`TokenBudget`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt


def load_tokenizer(path: Path, max_tokens: int) -> Any:
    """A tokenizer for model input: truncate at ``max_tokens``, pad to the longest in a batch.

    Checkpoints often ship ``tokenizer.json`` with fixed padding to 128 tokens
    and truncation at 128; both are replaced here, so short batches stay short
    and long texts keep the model's full window. The pad token is the one the
    file names (``[PAD]`` for BERT, ``<pad>`` for MPNet and XLM-R).

    Args:
        path: a ``tokenizer.json`` file.
        max_tokens: the model's input limit, special tokens included.
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=max_tokens)
    pad_token = (tokenizer.padding or {}).get("pad_token") or (
        "[PAD]" if tokenizer.token_to_id("[PAD]") is not None else "<pad>")
    pad_id = tokenizer.token_to_id(pad_token)
    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token=pad_token)
    return tokenizer


def encode(tokenizer: Any, texts: list[str]) -> dict[str, npt.NDArray[np.int64]]:
    """Model inputs for a batch: ``input_ids``, ``attention_mask``, ``token_type_ids``."""
    encodings = tokenizer.encode_batch(texts)
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


class TokenBudget:
    """Implements :class:`lore.embed.base.TokenCounter` with a real tokenizer.

    Works on an unpadded, untruncated copy, so counts are true lengths
    (special tokens included: they take room in the model's window too).

    Args:
        tokenizer: a ``tokenizers.Tokenizer``; it is copied, not changed.
    """

    def __init__(self, tokenizer: Any) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_str(tokenizer.to_str())
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens per text, special tokens included."""
        return [len(e.ids) for e in self._tokenizer.encode_batch(texts)]

    def truncate(self, texts: list[str], max_tokens: int) -> list[str]:
        """Each text cut after the last whole token that fits in ``max_tokens``.

        The cut falls on a token boundary taken from the tokenizer's character
        offsets, so re-tokenizing the result gives the same leading tokens.
        """
        out = []
        for text, enc in zip(texts, self._tokenizer.encode_batch(texts)):
            if len(enc.ids) <= max_tokens:
                out.append(text)
                continue
            content = [i for i, special in enumerate(enc.special_tokens_mask) if not special]
            keep = max_tokens - (len(enc.ids) - len(content))
            out.append(text[:enc.offsets[content[keep - 1]][1]] if keep > 0 else "")
        return out
