"""The ONNX provider: space identity, pooling, tokenizer handling, validation, checksums.

Most tests run a tiny random BERT pulled once per module; the ``model``-marked
ones use the real all-MiniLM-L6-v2 from ``$LORE_TEST_MODELS``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from _tiny_bert import random_weights, reference_forward, write_tiny_bert

from lore.embed.base import TokenCounter
from lore.embed.models import ModelFiles, pull_model
from lore.embed.onnx import OnnxEmbedder
from lore.embed.runner import EmbeddingRunner
from lore.errors import ConfigError, ModelNotFoundError
from lore.settings import ProviderSettings

TEXTS = ["the quick brown fox", "vitamin risk of bone cancer in patients with a gene",
         "a", "lore index vector search decision record for the work item model"]


def _pull(name: str, source: Path, home: Path) -> ModelFiles:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LORE_HOME", str(home))
        return pull_model(name, "all", source)


@pytest.fixture(scope="module")
def tiny(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelFiles:
    """The tiny mean-pooling model, pulled (fp32 + int8) into a module-wide LORE_HOME."""
    return _pull("tiny-bert", tiny_bert_dir, tmp_path_factory.mktemp("home"))


@pytest.fixture
def embedder(tiny: ModelFiles) -> OnnxEmbedder:
    return OnnxEmbedder(tiny, precision="fp32")


def _reference(texts: list[str], files: ModelFiles, pooling: str) -> np.ndarray:
    """What the model should output, by the numpy forward pass and our own pooling math."""
    from lore.embed.tokenize import encode, load_tokenizer

    inputs = encode(load_tokenizer(files.tokenizer_path, files.max_tokens), texts)
    mask = inputs["attention_mask"]
    hidden = reference_forward(random_weights(0), inputs["input_ids"], mask)
    if pooling == "cls":
        pooled = hidden[:, 0]
    else:
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def test_space_records_weights_precision_pooling_and_limits(tiny: ModelFiles) -> None:
    fp32 = OnnxEmbedder(tiny, precision="fp32").space
    int8 = OnnxEmbedder(tiny, precision="int8").space
    assert fp32.revision == tiny.files["model.fp32.onnx"] != int8.revision
    assert (fp32.provider, fp32.model, fp32.precision, int8.precision) == (
        "onnx", "tiny-bert", "fp32", "int8")
    assert (fp32.dimensions, fp32.pooling, fp32.max_tokens) == (32, "mean", 48)
    assert fp32.id != int8.id


def test_mean_pooled_vectors_match_the_reference(embedder: OnnxEmbedder, tiny: ModelFiles) -> None:
    got = embedder.embed(TEXTS, "document")
    np.testing.assert_allclose(got, _reference(TEXTS, tiny, "mean"), atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_cls_pooling_takes_the_first_token(tmp_path: Path) -> None:
    files = _pull("tiny-cls", write_tiny_bert(tmp_path / "src", pooling="cls"), tmp_path)
    got = OnnxEmbedder(files, precision="fp32").embed(TEXTS, "document")
    assert files.pooling == "cls"
    np.testing.assert_allclose(got, _reference(TEXTS, files, "cls"), atol=1e-4)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_a_vector_is_the_same_alone_in_any_batch_and_at_any_thread_count(
        tiny: ModelFiles, precision: str) -> None:
    # Bitwise: a cached vector, a re-indexed one and a fresh one must never disagree.
    texts = TEXTS + ["the cell", "a gene", "the dog", "vitamin risk of bone cancer"]
    alone = np.vstack([OnnxEmbedder(tiny, precision=precision, threads=1).embed([t], "document")
                       for t in texts])
    rng = np.random.default_rng(7)
    for threads in (1, 2, 3):
        embedder = OnnxEmbedder(tiny, precision=precision, threads=threads)
        for _ in range(3):
            picked = rng.choice(len(texts), size=int(rng.integers(2, 12)), replace=True)
            got = embedder.embed([texts[i] for i in picked], "document")
            assert np.array_equal(got, alone[picked]), (threads, picked)


def test_embedding_is_deterministic(embedder: OnnxEmbedder, tiny: ModelFiles) -> None:
    again = OnnxEmbedder(tiny, precision="fp32")
    assert np.array_equal(embedder.embed(TEXTS, "query"), again.embed(TEXTS, "query"))


def test_the_shipped_fixed_padding_and_truncation_are_replaced(embedder: OnnxEmbedder) -> None:
    # tokenizer.json pads and truncates to 16; the model's window is 48.
    long_text = " ".join(["the quick brown fox"] * 8)
    assert embedder.count_tokens(["a", long_text]) == [3, 34]
    cut = embedder.truncate([long_text], 16)[0]
    assert embedder.count_tokens([cut]) == [16] and long_text.startswith(cut)
    assert not np.allclose(embedder.embed([long_text], "document"),
                           embedder.embed([cut], "document"), atol=1e-3)


def test_truncate_cuts_on_token_boundaries_and_keeps_short_texts(embedder: OnnxEmbedder) -> None:
    texts = ["cells", "proteins jumps over the lazy dog"]
    assert isinstance(embedder, TokenCounter)
    cut = embedder.truncate(texts, 4)
    assert cut[0] == "cells"
    assert all(n <= 4 for n in embedder.count_tokens(cut))
    assert cut[1] == "proteins"     # [CLS] protein ##s [SEP]


def test_runner_prepends_the_space_prefixes(tiny: ModelFiles) -> None:
    prefixed = EmbeddingRunner(OnnxEmbedder(tiny, precision="int8", query_prefix="search note ",
                                            document_prefix="work item "))
    plain = EmbeddingRunner(OnnxEmbedder(tiny, precision="int8"))
    assert prefixed.space.query_prefix == "search note "
    assert prefixed.space.id != plain.space.id
    query = prefixed.embed(["vector index"], "query")
    np.testing.assert_allclose(query, plain.embed(["search note vector index"], "document"),
                               atol=1e-6)
    assert not np.allclose(query, prefixed.embed(["vector index"], "document"), atol=1e-3)


def test_configured_dimensions_are_validated(tiny: ModelFiles) -> None:
    assert OnnxEmbedder(tiny, precision="fp32", dimensions=32).dimensions == 32
    with pytest.raises(ConfigError, match="outputs 32"):
        OnnxEmbedder(tiny, precision="fp32", dimensions=384)


@pytest.mark.parametrize("max_tokens", [2, 65])
def test_max_tokens_must_fit_the_position_table(tiny: ModelFiles, max_tokens: int) -> None:
    with pytest.raises(ConfigError, match="3 to 64"):
        OnnxEmbedder(tiny, precision="fp32", max_tokens=max_tokens)


def test_a_precision_that_was_not_pulled_names_the_command(tiny_bert_dir: Path,
                                                           tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LORE_HOME", str(tmp_path))
        files = pull_model("tiny-fp32", "fp32", tiny_bert_dir)
    with pytest.raises(ModelNotFoundError,
                       match="lore models pull tiny-fp32 --precision int8"):
        OnnxEmbedder(files, precision="int8")


def test_from_settings_with_a_model_path(tiny: ModelFiles) -> None:
    p = ProviderSettings(model_path=str(tiny.dir), precision="int8", threads=1, max_tokens=40)
    embedder = OnnxEmbedder.from_settings(p)
    assert embedder.space.precision == "int8" and embedder.threads == 1
    assert embedder.max_tokens == 40
    assert embedder.embed(["note"], "query").shape == (1, 32)


def test_a_raw_checkpoint_as_model_path_says_how_to_convert_it(tiny_bert_dir: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="lore models pull NAME --from"):
        OnnxEmbedder.from_settings(ProviderSettings(model_path=str(tiny_bert_dir)))


def test_an_unknown_model_names_the_pull_command() -> None:
    with pytest.raises(ModelNotFoundError, match="lore models pull no-such-model"):
        OnnxEmbedder.from_settings(ProviderSettings(model="no-such-model"))


def test_damaged_weights_are_refused_on_load(tiny: ModelFiles, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny.dir, copy)
    onnx_file = copy / "model.fp32.onnx"
    data = bytearray(onnx_file.read_bytes())
    data[-100] ^= 0xFF
    onnx_file.write_bytes(bytes(data))
    files = ModelFiles.load(copy)
    assert files is not None
    embedder = OnnxEmbedder(files, precision="fp32")   # construction reads the manifest only
    with pytest.raises(ModelNotFoundError, match="lore models pull tiny-bert"):
        embedder.embed(["note"], "query")


def test_the_onnx_path_never_imports_torch(tiny: ModelFiles) -> None:
    code = ("import sys; from pathlib import Path; from lore.embed.models import ModelFiles; "
            "from lore.embed.onnx import OnnxEmbedder; "
            f"e = OnnxEmbedder(ModelFiles.load(Path({str(tiny.dir)!r})), precision='int8'); "
            "e.embed(['hi'], 'query'); "
            "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert out.stdout.strip() == "[]"


@pytest.fixture
def minilm(minilm_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("LORE_HOME", str(minilm_home))
    yield minilm_home


def _sentences(scifact_dir: Path) -> list[str]:
    """SciFact abstracts and queries: real text of both lengths."""
    from itertools import islice

    from lore.eval.beir import iter_corpus, load_queries

    docs = [f"{d.title} {d.text}" for d in islice(iter_corpus(scifact_dir), 12)]
    return docs + list(load_queries(scifact_dir).values())[:12]


@pytest.mark.model
def test_int8_agrees_with_fp32_on_real_text(minilm: Path, scifact_dir: Path) -> None:
    texts = _sentences(scifact_dir)
    fp32 = OnnxEmbedder.from_settings(ProviderSettings(precision="fp32")).embed(texts, "document")
    int8 = OnnxEmbedder.from_settings(ProviderSettings(precision="int8")).embed(texts, "document")
    assert (fp32 * int8).sum(axis=1).min() >= 0.98


@pytest.mark.model
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_a_real_vector_is_the_same_alone_and_in_a_batch(minilm: Path, precision: str) -> None:
    texts = ["how do I rebuild the search index?", "Vitamin D and the risk of bone fractures",
             "Sourdough bread needs a long, cold fermentation at a steady temperature.",
             "index", "how do I rebuild the search index?",
             " ".join(["Embedding spaces are keyed by model, precision and prefixes."] * 40)]
    runner = EmbeddingRunner(OnnxEmbedder.from_settings(ProviderSettings(precision=precision)))
    batched = runner.embed(texts, "document")
    alone = np.vstack([runner.embed([t], "document") for t in texts])
    assert np.array_equal(batched, alone)


@pytest.mark.model
def test_real_model_ranks_a_paraphrase_above_an_unrelated_text(minilm: Path) -> None:
    runner = EmbeddingRunner(OnnxEmbedder.from_settings(ProviderSettings()))
    q = runner.embed(["how do I rebuild the search index?"], "query")[0]
    docs = runner.embed(["Steps to regenerate the search index from scratch",
                         "Sourdough bread needs a long, cold fermentation"], "document")
    near, far = docs @ q
    assert near > far + 0.2
