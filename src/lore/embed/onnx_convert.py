"""Turn a BERT or MPNet checkpoint (safetensors + config.json) into ONNX files, without torch.

The usual route to ONNX is ``torch.onnx.export`` through transformers: a
multi-gigabyte install to trace a graph whose shape we know by heart. Here the
encoder is written directly with ``onnx.helper`` from the weights (one module
per architecture: ``onnx_bert``, ``onnx_mpnet``, parts in ``onnx_graph``), in the
same op pattern a PyTorch export produces, so onnxruntime's transformer optimizer
recognises and fuses it (attention, skip-LayerNorm, GELU). int8 comes from
onnxruntime's dynamic quantization with per-channel weight scales: per-tensor
scales cost too much fidelity (cosine to fp32 down to 0.90 on SciFact).

Pooling stays outside the graph (see ``lore.embed.onnx``): the graph's output
is ``last_hidden_state``, so one file serves mean and CLS pooling alike.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lore._optional import require
from lore.embed.onnx_graph import EncoderConfig, Weights
from lore.errors import ConfigError

log = logging.getLogger(__name__)

BUILDERS = {"bert": "lore.embed.onnx_bert", "mpnet": "lore.embed.onnx_mpnet"}


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
    """Read safetensors as numpy arrays, dropping a leading ``bert.``/``mpnet.`` from the names."""
    from safetensors.numpy import load_file

    return {name.removeprefix("bert.").removeprefix("mpnet."): array
            for name, array in load_file(str(path)).items()}


def build_encoder(cfg: EncoderConfig, weights: Weights) -> Any:
    """The encoder as an ``onnx.ModelProto`` (inputs int64, dynamic batch and length).

    Args:
        cfg: the model's shape, from ``config.json``; ``model_type`` picks the graph.
        weights: the checkpoint's tensors (see ``load_weights``).
    """
    return importlib.import_module(BUILDERS[cfg.model_type]).build(cfg, weights)


def optimize_encoder(model: Any, cfg: EncoderConfig) -> Any:
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


def quantize_int8(fp32_path: Path, int8_path: Path, float_weights: str = "") -> None:
    """Dynamic int8 quantization with per-channel weight scales.

    Only products with a weight are quantized: where attention stays unfused
    (MPNet: its relative-position bias does not match the fusion pattern), the
    query-key and probability-value products are MatMuls of two activations
    and stay float. An architecture may also keep some weights float
    (``float_weights``): all-mpnet-base-v2's feed-forward outputs read GELU
    activations with outliers that one dynamic scale per tensor cannot hold
    (cosine to fp32 0.89 on SciFact abstracts with them quantized, 0.995
    without). Fused BERT graphs have neither, so their files are unchanged.

    Args:
        fp32_path: the float model to read.
        int8_path: where to write the quantized model.
        float_weights: a regular expression; MatMuls whose weight name matches stay float.
    """
    import onnx
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32_path), load_external_data=False).graph
    weights = {init.name for init in graph.initializer}
    kept = re.compile(float_weights) if float_weights else None
    float_matmuls = [node.name for node in graph.node if node.op_type == "MatMul" and (
        not any(name in weights for name in node.input)
        or (kept is not None and any(kept.fullmatch(name) for name in node.input)))]

    # The quantizer advises (on the root logger) a pre-processing pass meant for
    # graphs without fused ops; ours is fused already, so the advice is dropped.
    advice = _DropMessage("Please consider to run pre-processing")
    logging.getLogger().addFilter(advice)
    try:
        # Shape inference cannot type the outputs of contrib ops; they are float.
        quantize_dynamic(fp32_path, int8_path, per_channel=True, weight_type=QuantType.QInt8,
                         nodes_to_exclude=float_matmuls,
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
    cfg = EncoderConfig.from_file(model_dir / "config.json")
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
        builder = importlib.import_module(BUILDERS[cfg.model_type])
        quantize_int8(fp32, written["int8"], getattr(builder, "FLOAT_WEIGHTS", ""))
    if "fp32" not in precisions:
        fp32.unlink()
        del written["fp32"]
    return written
