"""The BERT encoder graph (absolute positions from 0, token types, post-LayerNorm).

multilingual-e5-small is this architecture too: a BERT with XLM-R's vocabulary.
"""

from __future__ import annotations

from typing import Any

from lore.embed.onnx_graph import (
    EncoderConfig,
    Graph,
    Weights,
    attention,
    embeddings,
    finish,
    gelu,
    mask_bias,
)


def build(cfg: EncoderConfig, weights: Weights) -> Any:
    """The BERT encoder as an ``onnx.ModelProto`` (inputs int64, dynamic batch and length)."""
    g = Graph(weights, "BERT")
    x = embeddings(g, g.weight("embeddings.position_embeddings.weight"),
                   g.weight("embeddings.token_type_embeddings.weight"), cfg.max_positions,
                   cfg.layer_norm_eps)
    bias = mask_bias(g)
    for i in range(cfg.num_layers):
        x = _layer(g, x, bias, f"encoder.layer.{i}", cfg)
    return finish(g, x, cfg.hidden_size, "bert_encoder")


def _layer(g: Graph, x: str, bias: str, p: str, cfg: EncoderConfig) -> str:
    """One transformer block in the op pattern of a PyTorch BERT export."""
    names = {n: f"{p}.attention.self.{n}" for n in ("query", "key", "value")}
    merged = attention(g, x, bias, names, cfg.num_heads, cfg.hidden_size)
    attn = g.op("Add", g.linear(merged, f"{p}.attention.output.dense"), x)
    x1 = g.layer_norm(attn, f"{p}.attention.output.LayerNorm", cfg.layer_norm_eps)
    h = gelu(g, g.linear(x1, f"{p}.intermediate.dense"))
    out = g.op("Add", g.linear(h, f"{p}.output.dense"), x1)
    return g.layer_norm(out, f"{p}.output.LayerNorm", cfg.layer_norm_eps)
