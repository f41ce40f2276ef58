"""The BERT encoder graph (absolute positions from 0, token types, post-LayerNorm).

multilingual-e5-small is this architecture too: a BERT with XLM-R's vocabulary.
"""

from __future__ import annotations

from typing import Any

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
    return encoder_block(g, x, bias, BlockNames(
        qkv={n: f"{p}.attention.self.{n}" for n in ("query", "key", "value")},
        attention_out=f"{p}.attention.output.dense", attention_norm=f"{p}.attention.output.LayerNorm",
        intermediate=f"{p}.intermediate.dense", output=f"{p}.output.dense",
        output_norm=f"{p}.output.LayerNorm"), cfg)
