"""The MPNet encoder graph (all-mpnet-base-v2): BERT's block plus a relative-position bias.

Two things differ from BERT, both folded into shapes the optimizer knows:

- Positions start at ``pad_token_id + 1`` (2): the position table is stored
  already sliced, so row 0 is the first token's and the embedding is BERT's
  pattern; MPNet has no token types, so a zero table stands in for them.
- Every layer adds the same (heads, query, key) bias to its attention scores,
  looked up from 32 relative-position buckets (T5's bidirectional, log-spaced
  scheme, max distance 128). The bucket of every relative distance is computed
  here in numpy, so the graph only gathers one small table by ``k - q``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from lore.embed.onnx_graph import (
    BlockNames,
    EncoderConfig,
    Graph,
    Weights,
    embeddings,
    encoder_block,
    finish,
    mask_bias,
)

MAX_DISTANCE = 128          # MPNet's (and T5's) bucket horizon
# Weights kept float in the int8 file: the feed-forward outputs, whose GELU
# inputs have outliers (see ``onnx_convert.quantize_int8``).
FLOAT_WEIGHTS = r"encoder\.layer\.\d+\.output\.dense\.weight"


def relative_buckets(distances: npt.NDArray[np.int64], num_buckets: int) -> npt.NDArray[np.int64]:
    """The bucket of each relative distance ``key - query`` (MPNet's ``relative_position_bucket``).

    Half the buckets are for keys before the query, half for keys after; within
    a half, distances below a quarter of the buckets are exact, longer ones
    share log-spaced buckets up to ``MAX_DISTANCE``.
    """
    half = num_buckets // 2
    n = -distances
    ret = np.where(n < 0, half, 0).astype(np.int64)
    n = np.abs(n)
    exact = half // 2
    scaled = np.log(np.maximum(n, 1).astype(np.float32) / exact) / math.log(MAX_DISTANCE / exact)
    large = exact + (scaled * (half - exact)).astype(np.int64)
    large = np.minimum(large, half - 1)
    return ret + np.where(n < exact, n, large)


def build(cfg: EncoderConfig, weights: Weights) -> Any:
    """The MPNet encoder as an ``onnx.ModelProto`` with BERT's inputs and output."""
    g = Graph(weights, "MPNet")
    first = cfg.pad_token_id + 1
    positions = g.tensor("embeddings.position_embeddings.first_token",
                         g.array("embeddings.position_embeddings.weight")[first:])
    types = g.tensor("embeddings.token_type_zeros",
                     np.zeros((max(cfg.type_vocab_size, 1), cfg.hidden_size), np.float32))
    x = embeddings(g, positions, types, cfg.usable_positions, cfg.layer_norm_eps)
    bias = g.op("Add", mask_bias(g), _position_bias(g, cfg))
    for i in range(cfg.num_layers):
        x = _layer(g, x, bias, f"encoder.layer.{i}", cfg)
    return finish(g, x, cfg.hidden_size, "mpnet_encoder")


def _position_bias(g: Graph, cfg: EncoderConfig) -> str:
    """(1, heads, seq, seq): the learned bias of each head for each key-query distance."""
    span = cfg.usable_positions
    distances = np.arange(-(span - 1), span, dtype=np.int64)          # k - q, ascending
    table = g.array("encoder.relative_attention_bias.weight")[
        relative_buckets(distances, cfg.relative_buckets)]            # (2*span-1, heads)
    by_distance = g.tensor("encoder.relative_attention_bias.by_distance", table)
    length = g.op("Squeeze", g.seq_len(), g.const([0], np.int64))
    steps = g.op("Range", g.const(0, np.int64), length, g.const(1, np.int64))
    keys = g.op("Unsqueeze", steps, g.const([0], np.int64))              # (1, seq)
    queries = g.op("Unsqueeze", steps, g.const([1], np.int64))           # (seq, 1)
    index = g.op("Add", g.op("Sub", keys, queries), g.const(span - 1, np.int64))
    values = g.op("Gather", by_distance, index, axis=0)                  # (seq, seq, heads)
    return g.op("Unsqueeze", g.op("Transpose", values, perm=[2, 0, 1]),
                g.const([0], np.int64))


def _layer(g: Graph, x: str, bias: str, p: str, cfg: EncoderConfig) -> str:
    """One MPNet block: BERT's, with its tensors under other names."""
    return encoder_block(g, x, bias, BlockNames(
        qkv={n: f"{p}.attention.attn.{n[0]}" for n in ("query", "key", "value")},
        attention_out=f"{p}.attention.attn.o", attention_norm=f"{p}.attention.LayerNorm",
        intermediate=f"{p}.intermediate.dense", output=f"{p}.output.dense",
        output_norm=f"{p}.output.LayerNorm"), cfg)
