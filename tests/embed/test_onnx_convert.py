"""The torch-free BERT -> ONNX converter, against an independent numpy forward pass.

The tiny random model runs everywhere in about a second. The must-show check
against sentence-transformers on the real all-MiniLM-L6-v2 needs torch,
sentence-transformers and the model's weights, and skips saying which is missing.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _tiny_bert import HIDDEN, LAYERS, VOCAB, random_weights, reference_forward, write_tiny_bert

from lore.embed import onnx_convert
from lore.embed.onnx_convert import (
    EncoderConfig,
    build_encoder,
    convert,
    load_weights,
    read_pooling,
)
from lore.errors import ConfigError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _run(model: Any, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    data = model if isinstance(model, (str, Path)) else model.SerializeToString()
    session = ort.InferenceSession(str(data) if isinstance(data, Path) else data,
                                   providers=["CPUExecutionProvider"])
    return session.run(None, {"input_ids": ids, "attention_mask": mask,
                              "token_type_ids": np.zeros_like(ids)})[0]


@pytest.fixture(scope="module")
def batch() -> tuple[np.ndarray, np.ndarray]:
    """Two rows of different lengths: the second is padded, so masking is exercised."""
    rng = np.random.default_rng(7)
    ids = rng.integers(5, len(VOCAB), size=(2, 11)).astype(np.int64)
    mask = np.ones_like(ids)
    mask[1, 6:] = 0
    ids[1, 6:] = 0
    return ids, mask


def test_graph_matches_numpy_reference(tiny_bert_dir: Path,
                                       batch: tuple[np.ndarray, np.ndarray]) -> None:
    cfg = EncoderConfig.from_file(tiny_bert_dir / "config.json")
    model = build_encoder(cfg, load_weights(tiny_bert_dir / "model.safetensors"))
    ids, mask = batch
    got = _run(model, ids, mask)
    want = reference_forward(random_weights(0), ids, mask)
    assert got.shape == (2, 11, HIDDEN)
    np.testing.assert_allclose(got, want, atol=2e-4)


def test_optimizer_fuses_every_layer_without_changing_outputs(
        tiny_bert_dir: Path, batch: tuple[np.ndarray, np.ndarray]) -> None:
    cfg = EncoderConfig.from_file(tiny_bert_dir / "config.json")
    plain = build_encoder(cfg, load_weights(tiny_bert_dir / "model.safetensors"))
    fused = onnx_convert.optimize_encoder(plain, cfg)
    ops = Counter(n.op_type for n in fused.graph.node)
    assert ops["Attention"] == LAYERS
    assert ops["SkipLayerNormalization"] == 2 * LAYERS
    assert ops["EmbedLayerNormalization"] == 1
    ids, mask = batch
    np.testing.assert_allclose(_run(fused, ids, mask), _run(plain, ids, mask), atol=1e-4)


def test_convert_writes_only_the_requested_precisions(tiny_bert_dir: Path,
                                                      tmp_path: Path) -> None:
    steps: list[str] = []
    written = convert(tiny_bert_dir, tmp_path, ("int8",), report=steps.append)
    assert set(written) == {"int8"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.int8.onnx"]
    assert any("int8" in s for s in steps)


def test_int8_uses_one_weight_scale_per_output_channel(tiny_bert_dir: Path,
                                                       tmp_path: Path) -> None:
    written = convert(tiny_bert_dir, tmp_path, ("fp32", "int8"))
    model = onnx.load(str(written["int8"]))
    scales = {i.name: list(i.dims) for i in model.graph.initializer
              if i.name.endswith("weight_scale")}
    dense = [dims for name, dims in scales.items() if "intermediate.dense" in name]
    assert dense and all(dims == [64] for dims in dense)   # INTERMEDIATE output columns
    ops = Counter(n.op_type for n in model.graph.node)
    assert ops["QAttention"] == LAYERS and ops["MatMulInteger"] > 0


@pytest.mark.parametrize(("key", "value"), [("model_type", "roberta"), ("hidden_act", "relu"),
                                            ("position_embedding_type", "relative_key")])
def test_unsupported_architectures_are_refused(tiny_bert_dir: Path, tmp_path: Path,
                                               key: str, value: str) -> None:
    raw = json.loads((tiny_bert_dir / "config.json").read_text())
    raw[key] = value
    (tmp_path / "config.json").write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match="sentence-transformers provider"):
        EncoderConfig.from_file(tmp_path / "config.json")


def test_a_missing_tensor_names_it(tiny_bert_dir: Path) -> None:
    cfg = EncoderConfig.from_file(tiny_bert_dir / "config.json")
    weights = load_weights(tiny_bert_dir / "model.safetensors")
    del weights["encoder.layer.1.output.dense.bias"]
    with pytest.raises(ConfigError, match="encoder.layer.1.output.dense.bias"):
        build_encoder(cfg, weights)


def test_bert_prefix_is_dropped_from_tensor_names(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    save_file({"bert.embeddings.LayerNorm.bias": np.zeros(3, dtype=np.float32)},
              str(tmp_path / "w.safetensors"))
    assert list(load_weights(tmp_path / "w.safetensors")) == ["embeddings.LayerNorm.bias"]


def test_pooling_is_read_from_the_sentence_transformers_config(tmp_path: Path) -> None:
    assert read_pooling(write_tiny_bert(tmp_path / "cls", pooling="cls")) == "cls"
    assert read_pooling(write_tiny_bert(tmp_path / "mean", pooling="mean")) == "mean"
    assert read_pooling(tmp_path) == "mean"        # no 1_Pooling: the library default
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_max_tokens": True}))
    with pytest.raises(ConfigError, match="mean or CLS"):
        read_pooling(tmp_path)


def _scifact_texts(scifact_dir: Path, n: int) -> list[str]:
    """Real sentences: SciFact queries (short) and abstracts (mostly over 256 tokens)."""
    from itertools import islice

    from lore.eval.beir import iter_corpus, load_queries

    queries = list(load_queries(scifact_dir).values())[:n]
    return queries + [f"{d.title} {d.text}" for d in islice(iter_corpus(scifact_dir), n)]


@pytest.mark.model
@pytest.mark.parametrize(("model", "home"), [("all-MiniLM-L6-v2", "minilm_home"),
                                             ("all-mpnet-base-v2", "mpnet_home")])
def test_fp32_matches_sentence_transformers(model: str, home: str, scifact_dir: Path,
                                            tmp_path: Path,
                                            request: pytest.FixtureRequest) -> None:
    """The must-show check: cosine >= 0.9999 against the torch reference, text by text."""
    pytest.importorskip("torch", reason="torch is needed for the reference embeddings")
    st = pytest.importorskip("sentence_transformers",
                             reason="install lore[sbert] for the reference embeddings")
    from lore.embed.model_sources import locate
    from lore.embed.models import CATALOGUE, ModelFiles
    from lore.embed.onnx import OnnxEmbedder
    from lore.errors import ModelNotFoundError

    models_home: Path = request.getfixturevalue(home)
    try:
        source, _ = locate(CATALOGUE[model], None, tmp_path, offline=True,
                           report=lambda _: None)
    except ModelNotFoundError as exc:
        pytest.skip(f"the original weights are not installed ({exc})")
    texts = _scifact_texts(scifact_dir, 16 if model == "all-MiniLM-L6-v2" else 6)
    reference = st.SentenceTransformer(str(source), device="cpu").encode(
        texts, normalize_embeddings=True)
    files = ModelFiles.load(models_home / "models" / model)
    assert files is not None
    ours = OnnxEmbedder(files, precision="fp32").embed(texts, "document")
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() >= 0.9999, cosine
