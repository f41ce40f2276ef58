"""Turn a BERT checkpoint (safetensors + config.json) into ONNX files, without torch.

The usual route to ONNX is ``torch.onnx.export`` through transformers: a
multi-gigabyte install to trace a graph whose shape we know by heart. Here the
encoder is written directly with ``onnx.helper`` from the weights, in the same
op pattern a PyTorch export produces, so onnxruntime's transformer optimizer
recognises and fuses it (attention, skip-LayerNorm, GELU). int8 comes from
onnxruntime's dynamic quantization with per-channel weight scales: per-tensor
scales cost too much fidelity (cosine to fp32 down to 0.90 on SciFact).

Pooling stays outside the graph (see ``lore.embed.onnx``): the graph's output
is ``last_hidden_state``, so one file serves mean and CLS pooling alike.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lore._optional import require
from lore.errors import ConfigError

log = logging.getLogger(__name__)

OPSET = 17                   # LayerNormalization is a standard op from 17 on
IR_VERSION = 8               # the oldest IR that carries opset 17: loads in older runtimes
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
MASK_FILL = -10000.0         # what BERT adds to the scores of padding positions

Weights = dict[str, npt.NDArray[Any]]


@dataclass(frozen=True)
class BertConfig:
    """The few numbers of a Hugging Face ``config.json`` that shape the encoder."""

    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float

    @classmethod
    def from_file(cls, path: Path) -> BertConfig:
        """Read ``config.json``; refuse architectures this converter does not build."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        model_type = raw.get("model_type")
        act = raw.get("hidden_act", "gelu")
        position = raw.get("position_embedding_type", "absolute")
        if model_type != "bert" or act != "gelu" or position != "absolute":
            raise ConfigError(
                f"{path}: lore converts BERT encoders with gelu and absolute positions, "
                f"not model_type={model_type!r} hidden_act={act!r} positions={position!r}. "
                "Use the sentence-transformers provider for this model instead."
            )
        return cls(
            vocab_size=int(raw["vocab_size"]),
            hidden_size=int(raw["hidden_size"]),
            num_layers=int(raw["num_hidden_layers"]),
            num_heads=int(raw["num_attention_heads"]),
            intermediate_size=int(raw["intermediate_size"]),
            max_positions=int(raw["max_position_embeddings"]),
            type_vocab_size=int(raw.get("type_vocab_size", 2)),
            layer_norm_eps=float(raw.get("layer_norm_eps", 1e-12)),
        )


def read_pooling(model_dir: Path) -> str:
    """The pooling named by a sentence-transformers folder: ``"mean"`` or ``"cls"``.

    Folders without ``1_Pooling/config.json`` (plain transformers checkpoints)
    get mean pooling, sentence-transformers' own default.
    """
    path = model_dir / "1_Pooling" / "config.json"
    if not path.exists():
        return "mean"
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("pooling_mode_cls_token"):
        return "cls"
    if raw.get("pooling_mode_mean_tokens"):
        return "mean"
    raise ConfigError(f"{path}: only mean or CLS pooling is supported; use the "
                      "sentence-transformers provider for this model.")


def read_max_tokens(model_dir: Path, default: int) -> int:
    """``max_seq_length`` from ``sentence_bert_config.json``, else ``default``."""
    path = model_dir / "sentence_bert_config.json"
    if not path.exists():
        return default
    return int(json.loads(path.read_text(encoding="utf-8")).get("max_seq_length", default))


def load_weights(path: Path) -> Weights:
    """Read safetensors as numpy arrays, dropping a leading ``bert.`` from the names."""
    from safetensors.numpy import load_file

    return {name.removeprefix("bert."): array for name, array in load_file(str(path)).items()}


class _Graph:
    """Collects nodes and initializers; names every value uniquely."""

    def __init__(self, weights: Weights) -> None:
        from onnx import helper, numpy_helper

        self._helper = helper
        self._numpy_helper = numpy_helper
        self._weights = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def weight(self, name: str, transpose: bool = False) -> str:
        """Add a checkpoint tensor as an initializer (transposed for ``x @ W.T``)."""
        try:
            array = self._weights[name]
        except KeyError as exc:
            raise ConfigError(f"the checkpoint has no tensor {name!r}: it is not a BERT "
                              "encoder lore can convert") from exc
        data = np.ascontiguousarray(array.T if transpose else array, dtype=np.float32)
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


def _embeddings(g: _Graph, cfg: BertConfig) -> str:
    """Word + position + token-type embeddings, then LayerNorm."""
    words = g.op("Gather", g.weight("embeddings.word_embeddings.weight"), "input_ids", axis=0)
    types = g.op("Gather", g.weight("embeddings.token_type_embeddings.weight"),
                 "token_type_ids", axis=0)
    # positions[:, :seq_len] sliced from a constant, as torch exports BERT: the
    # optimizer folds exactly this shape into one EmbedLayerNormalization.
    seq_len = g.op("Gather", g.op("Shape", "input_ids"), g.const(1, np.int64), axis=0)
    ends = g.op("Unsqueeze", seq_len, g.const([0], np.int64))
    table = g.const(np.arange(cfg.max_positions)[None, :], np.int64)
    positions = g.op("Slice", table, g.const([0], np.int64), ends, g.const([1], np.int64),
                     g.const([1], np.int64))
    pos = g.op("Gather", g.weight("embeddings.position_embeddings.weight"), positions, axis=0)
    summed = g.op("Add", g.op("Add", words, types), pos)
    return g.layer_norm(summed, "embeddings.LayerNorm", cfg.layer_norm_eps)


def _mask_bias(g: _Graph) -> str:
    """(batch, 1, 1, seq) additive mask: 0 for tokens, MASK_FILL for padding."""
    # Two single-axis Unsqueezes, as torch exports them: the attention fusion
    # matches exactly this chain.
    expanded = g.op("Unsqueeze", g.op("Unsqueeze", "attention_mask", g.const([1], np.int64)),
                    g.const([2], np.int64))
    mask = g.op("Cast", expanded, to=1)  # 1 = FLOAT
    return g.op("Mul", g.op("Sub", g.const(1.0), mask), g.const(MASK_FILL))


def _layer(g: _Graph, x: str, mask_bias: str, i: int, cfg: BertConfig) -> str:
    """One transformer block in the op pattern of a PyTorch BERT export."""
    p = f"encoder.layer.{i}"
    head_dim = cfg.hidden_size // cfg.num_heads
    split = g.const([0, 0, cfg.num_heads, head_dim], np.int64)

    def heads(name: str, perm: list[int]) -> str:
        return g.op("Transpose", g.op("Reshape", g.linear(x, f"{p}.attention.self.{name}"), split),
                    perm=perm)

    q = heads("query", [0, 2, 1, 3])
    k = heads("key", [0, 2, 3, 1])
    v = heads("value", [0, 2, 1, 3])
    scores = g.op("Div", g.op("MatMul", q, k), g.const(math.sqrt(head_dim)))
    probs = g.op("Softmax", g.op("Add", scores, mask_bias), axis=-1)
    context = g.op("Transpose", g.op("MatMul", probs, v), perm=[0, 2, 1, 3])
    merged = g.op("Reshape", context, g.const([0, 0, cfg.hidden_size], np.int64))
    attn = g.op("Add", g.linear(merged, f"{p}.attention.output.dense"), x)
    x1 = g.layer_norm(attn, f"{p}.attention.output.LayerNorm", cfg.layer_norm_eps)

    h = g.linear(x1, f"{p}.intermediate.dense")
    erf = g.op("Erf", g.op("Div", h, g.const(math.sqrt(2.0))))
    gelu = g.op("Mul", g.op("Mul", h, g.op("Add", erf, g.const(1.0))), g.const(0.5))
    out = g.op("Add", g.linear(gelu, f"{p}.output.dense"), x1)
    return g.layer_norm(out, f"{p}.output.LayerNorm", cfg.layer_norm_eps)


def build_encoder(cfg: BertConfig, weights: Weights) -> Any:
    """The BERT encoder as an ``onnx.ModelProto`` (inputs int64, dynamic batch and length).

    Args:
        cfg: the model's shape, from ``config.json``.
        weights: the checkpoint's tensors (see ``load_weights``).
    """
    import onnx
    from onnx import TensorProto, helper

    g = _Graph(weights)
    x = _embeddings(g, cfg)
    mask_bias = _mask_bias(g)
    for i in range(cfg.num_layers):
        x = _layer(g, x, mask_bias, i, cfg)
    g.nodes.append(helper.make_node("Identity", [x], [OUTPUT_NAME], name="output"))

    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
              for name in INPUT_NAMES]
    output = helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT,
                                           ["batch", "sequence", cfg.hidden_size])
    graph = helper.make_graph(g.nodes, "bert_encoder", inputs, [output], g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="lore", ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model


def optimize_encoder(model: Any, cfg: BertConfig) -> Any:
    """Fuse attention, skip-LayerNorm and GELU with onnxruntime's offline optimizer.

    ``opt_level=0`` keeps to the portable Python fusions: the saved file does not
    depend on the CPU it was converted on.
    """
    from onnx import helper
    from onnxruntime.transformers.optimizer import optimize_model

    # The optimizer's shape inference needs sympy (a lore dependency). Fail with
    # the fix rather than fall back to an unfused graph: that would be other
    # bytes, hence another embedding space than every other install produces.
    require("sympy", purpose="onnxruntime's graph optimizer (model conversion)")

    # It warns that the producer is not "pytorch"; the graph follows torch's
    # export pattern on purpose, and the fusion counts are logged below.
    optimizer_log = logging.getLogger("onnxruntime.transformers.optimizer")
    level = optimizer_log.level
    optimizer_log.setLevel(logging.ERROR)
    try:
        optimized = optimize_model(model, model_type="bert", num_heads=cfg.num_heads,
                                   hidden_size=cfg.hidden_size, opt_level=0)
    finally:
        optimizer_log.setLevel(level)
    log.info("fused operators: %s", optimized.get_fused_operator_statistics())
    model = optimized.model
    # The fused ops live in onnxruntime's contrib domain; declare it so that
    # shape inference (which quantization runs) knows where to look them up.
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


def quantize_int8(fp32_path: Path, int8_path: Path) -> None:
    """Dynamic int8 quantization with per-channel weight scales.

    Args:
        fp32_path: the float model to read.
        int8_path: where to write the quantized model.
    """
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantizer advises (on the root logger) a pre-processing pass meant for
    # graphs without fused ops; ours is fused already, so the advice is dropped.
    advice = _DropMessage("Please consider to run pre-processing")
    logging.getLogger().addFilter(advice)
    try:
        # Shape inference cannot type the outputs of contrib ops; they are float.
        quantize_dynamic(fp32_path, int8_path, per_channel=True, weight_type=QuantType.QInt8,
                         extra_options={"DefaultTensorType": TensorProto.FLOAT})
    finally:
        logging.getLogger().removeFilter(advice)


class _DropMessage(logging.Filter):
    """Drops log records whose message starts with a given text."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)


def converter_versions() -> str:
    """The onnx and onnxruntime versions in use: a new version may write different bytes."""
    from importlib.metadata import version

    return f"onnx {version('onnx')}, onnxruntime {version('onnxruntime')}"


def convert(model_dir: Path, out_dir: Path, precisions: tuple[str, ...], *,
            optimize: bool = True, report: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Convert a checkpoint folder into ``model.<precision>.onnx`` files in ``out_dir``.

    Args:
        model_dir: folder with ``config.json`` and ``model.safetensors``.
        out_dir: an existing folder to write into.
        precisions: any of ``"fp32"``, ``"int8"`` (int8 is derived from fp32).
        optimize: run the transformer optimizer on the fp32 graph first.
        report: told each step, for a progress display.

    Returns:
        precision -> path of the written file.
    """
    import onnx

    step = report or (lambda _: None)
    cfg = BertConfig.from_file(model_dir / "config.json")
    step("building the ONNX graph")
    model = build_encoder(cfg, load_weights(model_dir / "model.safetensors"))
    if optimize:
        step("fusing attention and layer norms")
        model = optimize_encoder(model, cfg)
    fp32 = out_dir / "model.fp32.onnx"
    onnx.save_model(model, str(fp32))
    written = {"fp32": fp32}
    if "int8" in precisions:
        step("quantizing to int8 (per-channel)")
        written["int8"] = out_dir / "model.int8.onnx"
        quantize_int8(fp32, written["int8"])
    if "fp32" not in precisions:
        fp32.unlink()
        del written["fp32"]
    return written
