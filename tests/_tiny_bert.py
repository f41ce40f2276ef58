"""A tiny random BERT in sentence-transformers layout, and a numpy reference forward pass.

Tests of the converter, the model puller and the ONNX provider use it: it
converts in about a second and needs no download. The reference forward pass
is written independently of ``lore.embed.onnx_convert`` (plain numpy, the
formulas of the BERT paper), so agreement between the two means something.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

HIDDEN, LAYERS, HEADS, INTERMEDIATE, POSITIONS = 32, 2, 4, 64, 64
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "a", "of", "and", "to", "in", "is", "was", "for", "on", "with", "as", "by", "at",
         "from", "cell", "cells", "protein", "gene", "vitamin", "risk", "bone", "cancer", "study",
         "patients", "search", "index", "vector", "note", "work", "item", "decision", "record",
         "embedding", "model", "lore", "quick", "brown", "fox", "jumps", "over", "lazy", "dog"]
VOCAB = SPECIAL + WORDS + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"] + list(
    "abcdefghijklmnopqrstuvwxyz0123456789.,!?-")


def write_tiny_bert(folder: Path, *, pooling: str = "mean", seed: int = 0,
                    max_seq_length: int = 48) -> Path:
    """Write config, random weights, tokenizer and sentence-transformers files to ``folder``.

    The tokenizer is saved with fixed padding and truncation to 16 tokens, the
    way real checkpoints ship theirs, so tests can see lore replace both.
    """
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    config = {"model_type": "bert", "architectures": ["BertModel"], "hidden_act": "gelu",
              "hidden_size": HIDDEN, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
              "intermediate_size": INTERMEDIATE, "max_position_embeddings": POSITIONS,
              "type_vocab_size": 2, "vocab_size": len(VOCAB), "layer_norm_eps": 1e-12,
              "position_embedding_type": "absolute", "pad_token_id": 0}
    (folder / "config.json").write_text(json.dumps(config))
    save_file(random_weights(seed), str(folder / "model.safetensors"))
    _write_tokenizer(folder / "tokenizer.json")
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean"}))
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False}))
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"}]))
    return folder


def random_weights(seed: int) -> dict[str, np.ndarray]:
    """BERT tensors under their Hugging Face names, with the usual small init scale."""
    rng = np.random.default_rng(seed)

    def tensor(*shape: int, scale: float = 0.2) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w = {"embeddings.word_embeddings.weight": tensor(len(VOCAB), HIDDEN),
         "embeddings.position_embeddings.weight": tensor(POSITIONS, HIDDEN),
         "embeddings.token_type_embeddings.weight": tensor(2, HIDDEN),
         "embeddings.LayerNorm.weight": 1 + tensor(HIDDEN, scale=0.05),
         "embeddings.LayerNorm.bias": tensor(HIDDEN, scale=0.05)}
    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        for name, (out, inp) in {"attention.self.query": (HIDDEN, HIDDEN),
                                 "attention.self.key": (HIDDEN, HIDDEN),
                                 "attention.self.value": (HIDDEN, HIDDEN),
                                 "attention.output.dense": (HIDDEN, HIDDEN),
                                 "intermediate.dense": (INTERMEDIATE, HIDDEN),
                                 "output.dense": (HIDDEN, INTERMEDIATE)}.items():
            w[f"{p}.{name}.weight"] = tensor(out, inp)
            w[f"{p}.{name}.bias"] = tensor(out, scale=0.05)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[f"{p}.{ln}.weight"] = 1 + tensor(HIDDEN, scale=0.05)
            w[f"{p}.{ln}.bias"] = tensor(HIDDEN, scale=0.05)
    return w


def reference_forward(weights: dict[str, np.ndarray], ids: np.ndarray,
                      mask: np.ndarray) -> np.ndarray:
    """last_hidden_state of BERT, in float64 numpy, for checking the ONNX graph."""
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    erf = np.vectorize(math.erf)

    def layer_norm(x: np.ndarray, prefix: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * w[f"{prefix}.weight"] + w[f"{prefix}.bias"]

    def dense(x: np.ndarray, prefix: str) -> np.ndarray:
        return x @ w[f"{prefix}.weight"].T + w[f"{prefix}.bias"]

    batch, seq = ids.shape
    x = (w["embeddings.word_embeddings.weight"][ids]
         + w["embeddings.position_embeddings.weight"][np.arange(seq)][None]
         + w["embeddings.token_type_embeddings.weight"][np.zeros_like(ids)])
    x = layer_norm(x, "embeddings.LayerNorm")
    bias = (1.0 - mask[:, None, None, :]) * -10000.0
    d = HIDDEN // HEADS
    for i in range(LAYERS):
        p = f"encoder.layer.{i}"

        def heads(name: str, x: np.ndarray = x, p: str = p) -> np.ndarray:
            return dense(x, f"{p}.attention.self.{name}").reshape(batch, seq, HEADS, d) \
                .transpose(0, 2, 1, 3)

        scores = heads("query") @ heads("key").transpose(0, 1, 3, 2) / math.sqrt(d) + bias
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ heads("value")).transpose(0, 2, 1, 3).reshape(batch, seq, HIDDEN)
        x = layer_norm(dense(context, f"{p}.attention.output.dense") + x,
                       f"{p}.attention.output.LayerNorm")
        h = dense(x, f"{p}.intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
        x = layer_norm(dense(h, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    return x


def _write_tokenizer(path: Path) -> None:
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    vocab = {token: i for i, token in enumerate(VOCAB)}
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.enable_truncation(max_length=16)
    tokenizer.enable_padding(length=16, pad_id=0, pad_token="[PAD]")
    tokenizer.save(str(path))
