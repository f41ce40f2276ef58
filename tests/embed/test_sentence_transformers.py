"""The sentence-transformers provider: lazy loading, local folders, settings, and agreement.

Only the last tests need torch and sentence-transformers (extra ``sbert``);
the rest check that construction never needs them for a local folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from lore.embed.models import pull_model, sha256_file
from lore.embed.sentence_transformers import SentenceTransformerEmbedder
from lore.errors import ConfigError, MissingDependencyError
from lore.settings import ProviderSettings

TEXTS = ["the quick brown fox", "a", "vitamin risk of bone cancer in patients with a gene "
         "study " * 6]


@pytest.fixture
def no_sbert(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make sentence-transformers unimportable, as in an install without the extra."""
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)


def test_a_local_folder_is_described_without_importing_the_library(
        tiny_bert_dir: Path, no_sbert: None) -> None:
    embedder = SentenceTransformerEmbedder(str(tiny_bert_dir), max_tokens=40)
    space = embedder.space
    assert (space.provider, space.dimensions, space.pooling, space.max_tokens) == (
        "sentence-transformers", 32, "mean", 40)
    assert space.revision == sha256_file(tiny_bert_dir / "model.safetensors")


def test_the_first_embed_says_how_to_install_the_extra(tiny_bert_dir: Path,
                                                       no_sbert: None) -> None:
    embedder = SentenceTransformerEmbedder(str(tiny_bert_dir))
    with pytest.raises(MissingDependencyError, match=r"pip install 'lore\[sbert\]'"):
        embedder.embed(["hi"], "query")


def test_a_hub_name_needs_the_library_unless_dimensions_are_given(no_sbert: None) -> None:
    with pytest.raises(MissingDependencyError, match="sbert"):
        SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2")
    lazy = SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2",
                                       dimensions=384, revision="abc123")
    assert (lazy.dimensions, lazy.space.revision) == (384, "abc123")


def test_configured_dimensions_must_match_a_local_folder(tiny_bert_dir: Path,
                                                         no_sbert: None) -> None:
    with pytest.raises(ConfigError, match="outputs 32"):
        SentenceTransformerEmbedder(str(tiny_bert_dir), dimensions=384)


def test_a_dense_layer_defers_dimensions_to_the_setting(tiny_bert_dir: Path, tmp_path: Path,
                                                        no_sbert: None) -> None:
    import shutil

    folder = tmp_path / "dense"
    shutil.copytree(tiny_bert_dir, folder)
    modules = json.loads((folder / "modules.json").read_text())
    modules.append({"idx": 2, "name": "2", "path": "2_Dense",
                    "type": "sentence_transformers.models.Dense"})
    (folder / "modules.json").write_text(json.dumps(modules))
    assert SentenceTransformerEmbedder(str(folder), dimensions=16).dimensions == 16


def test_from_settings_reads_model_path_as_model_or_cache(
        tiny_bert_dir: Path, tmp_path: Path, no_sbert: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    local = SentenceTransformerEmbedder.from_settings(
        ProviderSettings(provider="sentence-transformers", model_path=str(tiny_bert_dir)))
    assert local.model_name == str(tiny_bert_dir) and local.cache_folder is None
    assert not local.offline
    cached = SentenceTransformerEmbedder.from_settings(
        ProviderSettings(provider="sentence-transformers", model="org/model", dimensions=8,
                         model_path=str(tmp_path)), offline=True)
    assert (cached.model_name, cached.cache_folder, cached.offline) == (
        "org/model", str(tmp_path), True)


def test_offline_comes_from_settings_not_the_environment(
        tiny_bert_dir: Path, no_sbert: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LORE_EMBED__OFFLINE", "1")
    built = SentenceTransformerEmbedder.from_settings(
        ProviderSettings(provider="sentence-transformers", model_path=str(tiny_bert_dir)))
    assert not built.offline


def test_agrees_with_the_onnx_provider_on_the_same_weights(tiny_bert_dir: Path) -> None:
    pytest.importorskip("torch", reason="torch is needed to run sentence-transformers")
    pytest.importorskip("sentence_transformers", reason="install lore[sbert]")
    from lore.embed.onnx import OnnxEmbedder

    reference = SentenceTransformerEmbedder(str(tiny_bert_dir), max_tokens=48, offline=True)
    onnx = OnnxEmbedder(pull_model("tiny", "fp32", tiny_bert_dir), precision="fp32")
    assert reference.count_tokens(TEXTS) == onnx.count_tokens(TEXTS)
    assert reference.truncate(TEXTS, 8) == onnx.truncate(TEXTS, 8)
    cosine = (reference.embed(TEXTS, "document") * onnx.embed(TEXTS, "document")).sum(axis=1)
    assert cosine.min() >= 0.9999, cosine
    np.testing.assert_allclose(np.linalg.norm(reference.embed(TEXTS, "query"), axis=1), 1.0,
                               atol=1e-5)
