"""The pieces every encoder graph is made of, written with ``onnx.helper``.

Each architecture module (``onnx_bert``, ``onnx_mpnet``) assembles its encoder
from these parts. They keep the op pattern a PyTorch export produces, because
onnxruntime's transformer optimizer fuses exactly that pattern (one
EmbedLayerNormalization, SkipLayerNormalization, Gelu, Attention).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lore.errors import ConfigError

OPSET = 17                   # LayerNormalization is a standard op from 17 on
IR_VERSION = 8               # the oldest IR that carries opset 17: loads in older runtimes
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
MASK_FILL = -10000.0         # what BERT adds to the scores of padding positions

Weights = dict[str, npt.NDArray[Any]]
ARCHITECTURES = ("bert", "mpnet")


@dataclass(frozen=True)
class EncoderConfig:
    """The few numbers of a Hugging Face ``config.json`` that shape the encoder.

    ``model_type`` picks the graph: ``bert`` (absolute positions from 0, token
    types) or ``mpnet`` (positions from ``pad_token_id + 1``, no token types,
    a relative-position attention bias shared by every layer).
    """

    model_type: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pad_token_id: int = 0
    relative_buckets: int = 0

    @classmethod
    def from_file(cls, path: Path) -> EncoderConfig:
        """Read ``config.json``; refuse architectures this converter does not build."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        model_type = raw.get("model_type")
        act = raw.get("hidden_act", "gelu")
        position = raw.get("position_embedding_type", "absolute")
        if model_type not in ARCHITECTURES or act != "gelu" or position != "absolute":
            raise ConfigError(
                f"{path}: lore converts BERT and MPNet encoders with gelu and their own "
                f"positions, not model_type={model_type!r} hidden_act={act!r} "
                f"positions={position!r}. Use the sentence-transformers provider for this "
                "model instead."
            )
        return cls(
            model_type=model_type,
            vocab_size=int(raw["vocab_size"]),
            hidden_size=int(raw["hidden_size"]),
            num_layers=int(raw["num_hidden_layers"]),
            num_heads=int(raw["num_attention_heads"]),
            intermediate_size=int(raw["intermediate_size"]),
            max_positions=int(raw["max_position_embeddings"]),
            type_vocab_size=int(raw.get("type_vocab_size", 2)),
            layer_norm_eps=float(raw.get("layer_norm_eps", 1e-12)),
            pad_token_id=int(raw.get("pad_token_id") or 0),
            relative_buckets=int(raw.get("relative_attention_num_buckets", 0)),
        )

    @property
    def usable_positions(self) -> int:
        """How many tokens fit: MPNet's first ``pad_token_id + 1`` position rows are unused."""
        if self.model_type == "mpnet":
            return self.max_positions - self.pad_token_id - 1
        return self.max_positions


class Graph:
    """Collects nodes and initializers; names every value uniquely.

    Args:
        weights: the checkpoint's tensors by name; ``weight()`` looks them up.
        family: the architecture's name, for the error about a missing tensor.
    """

    def __init__(self, weights: Weights, family: str = "BERT") -> None:
        from onnx import helper, numpy_helper

        self._helper = helper
        self._numpy_helper = numpy_helper
        self._weights = weights
        self._family = family
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def array(self, name: str) -> npt.NDArray[Any]:
        """A checkpoint tensor, or an error naming it."""
        try:
            return self._weights[name]
        except KeyError as exc:
            raise ConfigError(f"the checkpoint has no tensor {name!r}: it is not a "
                              f"{self._family} encoder lore can convert") from exc

    def weight(self, name: str, transpose: bool = False) -> str:
        """Add a checkpoint tensor as an initializer (transposed for ``x @ W.T``)."""
        array = self.array(name)
        return self.tensor(name, array.T if transpose else array)

    def tensor(self, name: str, array: npt.NDArray[Any]) -> str:
        """Add a float32 initializer computed from the checkpoint (a slice, a table)."""
        data = np.ascontiguousarray(array, dtype=np.float32)
        self.initializers.append(self._numpy_helper.from_array(data, name))
        return name

    def const(self, value: Any, dtype: Any = np.float32) -> str:
        """Add a small constant (scalar or shape) as an initializer."""
        self._count += 1
        name = f"const_{self._count}"
        self.initializers.append(self._numpy_helper.from_array(np.array(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        """Append one node and return the name of its (single) output."""
        self._count += 1
        out = f"{op_type.lower()}_{self._count}"
        self.nodes.append(self._helper.make_node(op_type, list(inputs), [out],
                                                 name=f"{op_type}_{self._count}", **attrs))
        return out

    def linear(self, x: str, prefix: str) -> str:
        """``x @ W.T + b`` for a torch ``Linear`` stored under ``prefix``."""
        y = self.op("MatMul", x, self.weight(f"{prefix}.weight", transpose=True))
        return self.op("Add", y, self.weight(f"{prefix}.bias"))

    def layer_norm(self, x: str, prefix: str, eps: float) -> str:
        return self.op("LayerNormalization", x, self.weight(f"{prefix}.weight"),
                       self.weight(f"{prefix}.bias"), axis=-1, epsilon=eps)

    def seq_len(self) -> str:
        """The sequence length of the input, as a 1-element int64 tensor."""
        length = self.op("Gather", self.op("Shape", "input_ids"), self.const(1, np.int64), axis=0)
        return self.op("Unsqueeze", length, self.const([0], np.int64))


def embeddings(g: Graph, positions: str, token_types: str, max_positions: int,
               eps: float) -> str:
    """Word + position + token-type embeddings, then LayerNorm.

    Args:
        g: the graph.
        positions / token_types: initializer names of the two tables (position
            row 0 is the first token's: an architecture whose positions start
            elsewhere passes its table already sliced).
        max_positions: rows of the position table.
        eps: LayerNorm epsilon.
    """
    words = g.op("Gather", g.weight("embeddings.word_embeddings.weight"), "input_ids", axis=0)
    types = g.op("Gather", token_types, "token_type_ids", axis=0)
    # positions[:, :seq_len] sliced from a constant, as torch exports BERT: the
    # optimizer folds exactly this shape into one EmbedLayerNormalization.
    table = g.const(np.arange(max_positions)[None, :], np.int64)
    ids = g.op("Slice", table, g.const([0], np.int64), g.seq_len(), g.const([1], np.int64),
               g.const([1], np.int64))
    pos = g.op("Gather", positions, ids, axis=0)
    summed = g.op("Add", g.op("Add", words, types), pos)
    return g.layer_norm(summed, "embeddings.LayerNorm", eps)


def mask_bias(g: Graph) -> str:
    """(batch, 1, 1, seq) additive mask: 0 for tokens, MASK_FILL for padding."""
    # Two single-axis Unsqueezes, as torch exports them: the attention fusion
    # matches exactly this chain.
    expanded = g.op("Unsqueeze", g.op("Unsqueeze", "attention_mask", g.const([1], np.int64)),
                    g.const([2], np.int64))
    mask = g.op("Cast", expanded, to=1)  # 1 = FLOAT
    return g.op("Mul", g.op("Sub", g.const(1.0), mask), g.const(MASK_FILL))


def attention(g: Graph, x: str, bias: str, names: dict[str, str], num_heads: int,
              hidden: int) -> str:
    """Multi-head self-attention, before the output projection.

    Args:
        x: the layer input (batch, seq, hidden).
        bias: added to the scaled scores before the softmax (mask, relative positions).
        names: the ``Linear`` prefixes of ``query``, ``key`` and ``value``.
    """
    head_dim = hidden // num_heads
    split = g.const([0, 0, num_heads, head_dim], np.int64)

    def heads(which: str, perm: list[int]) -> str:
        return g.op("Transpose", g.op("Reshape", g.linear(x, names[which]), split), perm=perm)

    q = heads("query", [0, 2, 1, 3])
    k = heads("key", [0, 2, 3, 1])
    v = heads("value", [0, 2, 1, 3])
    scores = g.op("Div", g.op("MatMul", q, k), g.const(math.sqrt(head_dim)))
    probs = g.op("Softmax", g.op("Add", scores, bias), axis=-1)
    context = g.op("Transpose", g.op("MatMul", probs, v), perm=[0, 2, 1, 3])
    return g.op("Reshape", context, g.const([0, 0, hidden], np.int64))


@dataclass(frozen=True)
class BlockNames:
    """Where one architecture keeps a block's tensors (prefixes of its ``Linear``/LayerNorm)."""

    qkv: dict[str, str]        # "query"/"key"/"value" -> Linear prefix
    attention_out: str
    attention_norm: str
    intermediate: str
    output: str
    output_norm: str


def encoder_block(g: Graph, x: str, bias: str, names: BlockNames, cfg: EncoderConfig) -> str:
    """One post-LayerNorm transformer block in the op pattern of a PyTorch export.

    BERT and MPNet blocks compute the same thing and differ only in tensor names.
    """
    merged = attention(g, x, bias, names.qkv, cfg.num_heads, cfg.hidden_size)
    attn = g.op("Add", g.linear(merged, names.attention_out), x)
    x1 = g.layer_norm(attn, names.attention_norm, cfg.layer_norm_eps)
    h = gelu(g, g.linear(x1, names.intermediate))
    out = g.op("Add", g.linear(h, names.output), x1)
    return g.layer_norm(out, names.output_norm, cfg.layer_norm_eps)


def gelu(g: Graph, h: str) -> str:
    """Exact (erf) GELU in torch's export pattern, which the optimizer fuses."""
    erf = g.op("Erf", g.op("Div", h, g.const(math.sqrt(2.0))))
    return g.op("Mul", g.op("Mul", h, g.op("Add", erf, g.const(1.0))), g.const(0.5))


def finish(g: Graph, x: str, hidden: int, name: str) -> Any:
    """Wrap the nodes into a checked ``onnx.ModelProto`` with lore's inputs and output."""
    import onnx
    from onnx import TensorProto, helper

    g.nodes.append(helper.make_node("Identity", [x], [OUTPUT_NAME], name="output"))
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
              for n in INPUT_NAMES]
    output = helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT,
                                           ["batch", "sequence", hidden])
    graph = helper.make_graph(g.nodes, name, inputs, [output], g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="lore", ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model
