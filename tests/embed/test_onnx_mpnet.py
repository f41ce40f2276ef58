"""The MPNet graph: relative-position buckets, and a tiny random MPNet against transformers.

The bucket values are worked out by hand from MPNet's formula. The tiny model
check runs the reference implementation (transformers' ``MPNetModel`` on torch)
and skips saying so where torch or transformers is missing; CI has both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lore.embed import onnx_convert
from lore.embed.onnx_graph import EncoderConfig
from lore.embed.onnx_mpnet import relative_buckets

ort = pytest.importorskip("onnxruntime")


def test_relative_buckets_follow_mpnet_by_hand() -> None:
    # key - query; keys after the query use buckets 16..31, before it 0..15;
    # below 8 exact, then log-spaced up to 128, capped at the last bucket.
    distances = np.array([0, 1, -1, 7, -7, 8, -8, -12, -20, -127, -128, 500, -500])
    want = [0, 17, 1, 23, 7, 24, 8, 9, 10, 15, 15, 31, 15]
    assert relative_buckets(distances, 32).tolist() == want


def _tiny_mpnet(folder: Path) -> tuple[Any, Any]:
    """A random 2-layer MPNet saved as config.json + model.safetensors; returns (model, torch)."""
    torch = pytest.importorskip("torch", reason="torch runs the reference MPNet")
    transformers = pytest.importorskip("transformers", reason="transformers has MPNetModel")
    from safetensors.torch import save_file

    config = transformers.MPNetConfig(vocab_size=60, hidden_size=32, num_hidden_layers=2,
                                      num_attention_heads=4, intermediate_size=64,
                                      max_position_embeddings=40, layer_norm_eps=1e-5)
    torch.manual_seed(0)
    model = transformers.MPNetModel(config, add_pooling_layer=False).eval()
    with torch.no_grad():   # a trained-looking bias: random, not the zero init
        model.encoder.relative_attention_bias.weight.normal_(0, 1.0)
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({**config.to_dict(), "model_type": "mpnet"}))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              str(folder / "model.safetensors"))
    return model, torch


@pytest.mark.slow   # imports torch and transformers: seconds on a loaded machine
@pytest.mark.parametrize("optimize", [False, True])
def test_tiny_mpnet_matches_transformers(tmp_path: Path, optimize: bool) -> None:
    model, torch = _tiny_mpnet(tmp_path / "mpnet")
    cfg = EncoderConfig.from_file(tmp_path / "mpnet" / "config.json")
    assert (cfg.model_type, cfg.usable_positions) == ("mpnet", 38)
    graph = onnx_convert.build_encoder(
        cfg, onnx_convert.load_weights(tmp_path / "mpnet" / "model.safetensors"))
    if optimize:
        graph = onnx_convert.optimize_encoder(graph, cfg)
    rng = np.random.default_rng(3)
    ids = rng.integers(5, 60, size=(2, 30)).astype(np.int64)   # long enough for log buckets
    ids[:, 0], ids[0, -1] = 0, 2
    mask = np.ones_like(ids)
    ids[1, 17:], mask[1, 17:] = 1, 0                            # padded with <pad> = 1
    ids[1, 16] = 2
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": ids, "attention_mask": mask,
                             "token_type_ids": np.zeros_like(ids)})[0]
    with torch.no_grad():
        want = model(input_ids=torch.from_numpy(ids),
                     attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()
    real = mask.astype(bool)
    np.testing.assert_allclose(got[real], want[real], atol=1e-4)


@pytest.mark.slow
def test_an_mpnet_checkpoint_without_its_bias_table_names_it(tmp_path: Path) -> None:
    _tiny_mpnet(tmp_path / "mpnet")
    cfg = EncoderConfig.from_file(tmp_path / "mpnet" / "config.json")
    weights = onnx_convert.load_weights(tmp_path / "mpnet" / "model.safetensors")
    del weights["encoder.relative_attention_bias.weight"]
    from lore.errors import ConfigError

    with pytest.raises(ConfigError, match="relative_attention_bias.*MPNet"):
        onnx_convert.build_encoder(cfg, weights)


@pytest.mark.model
def test_mpnet_int8_agrees_with_fp32(mpnet_home: Path, scifact_dir: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Its feed-forward outputs stay float: quantized, the cosine to fp32 fell to 0.89."""
    from itertools import islice

    from lore.embed.onnx import OnnxEmbedder
    from lore.eval.beir import iter_corpus
    from lore.settings import ProviderSettings

    monkeypatch.setenv("LORE_HOME", str(mpnet_home))
    texts = [f"{d.title} {d.text}" for d in islice(iter_corpus(scifact_dir), 8)]
    vectors = [OnnxEmbedder.from_settings(ProviderSettings(
        model="all-mpnet-base-v2", precision=p, threads=2)).embed(texts, "document")
        for p in ("fp32", "int8")]
    cosine = (vectors[0] * vectors[1]).sum(axis=1)
    assert cosine.mean() >= 0.99 and cosine.min() >= 0.98, cosine
