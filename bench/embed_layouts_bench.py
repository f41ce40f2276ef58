"""How to lay out onnxruntime runs on the cores, and which layouts keep a vector batch-free.

Measured in one run, on the same texts (SciFact abstracts cut to 256 tokens,
the shape of an index's chunks), each layout warm (session built, one text
embedded untimed), no embedding cache:

  int8-alone-split     int8, one text per run, one run at a time split over
                       every core (intra-op threads): lore before this bench
  int8-alone-parallel  int8, one text per run, one single-threaded run per
                       core in parallel: what lore ships (``OnnxEmbedder``)
  int8-batched         int8, length-sorted padded batches of 32 split over
                       every core: fastest-looking, but a vector then depends
                       on its batch (dynamic quantization: one activation
                       scale per batch)
  fp32-same-length     fp32, batches of texts of one token length (no padding),
                       one single-threaded run per core: what lore ships for fp32
  fp32-batched         fp32, padded batches of 32 split over every core
  w8-same-length       weight-only int8 (MatMulNBits, 8 bits, block 32,
                       accuracy_level 4: activations quantized per block and
                       row), same-length batches in parallel; only when
                       onnxruntime's quantizer can be imported (it needs onnx_ir)

For each: texts/s and CPU cores kept busy; bitwise agreement and the lowest
cosine between a text embedded alone and in the layout's batches; mean and
lowest cosine to the fp32 reference.

    LORE_HOME=... python bench/embed_layouts_bench.py [--texts 200] [--threads N]
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import resource
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from _shared import SCIFACT

from lore.embed.models import ensure_model
from lore.embed.onnx import OnnxEmbedder
from lore.embed.tokenize import load_tokenizer
from lore.eval.beir import iter_corpus

MODEL = "all-MiniLM-L6-v2"
CHECKED = 40  # texts also embedded alone, to compare with their batched vectors
Embed = Callable[[list[Any]], np.ndarray]


def session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(sess: Any, encodings: list[Any]) -> np.ndarray:
    """One padded run over ``encodings``; mean-pooled, normalised rows."""
    width = max(len(e.ids) for e in encodings)
    ids = np.array([e.ids + [0] * (width - len(e.ids)) for e in encodings], dtype=np.int64)
    mask = np.array([[1] * len(e.ids) + [0] * (width - len(e.ids)) for e in encodings],
                    dtype=np.int64)
    hidden = sess.run(None, {"input_ids": ids, "attention_mask": mask,
                             "token_type_ids": np.zeros_like(ids)})[0]
    pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def padded_batches(sess: Any) -> Embed:
    def embed(encodings: list[Any]) -> np.ndarray:
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        out = np.empty((len(encodings), 384), dtype=np.float32)
        for start in range(0, len(order), 32):
            idx = order[start:start + 32]
            out[idx] = run(sess, [encodings[i] for i in idx])
        return out
    return embed


def alone_split(sess: Any) -> Embed:
    return lambda encodings: np.vstack([run(sess, [e]) for e in encodings])


def same_length_parallel(sess: Any, threads: int, most: int) -> Embed:
    pool = ThreadPoolExecutor(threads)

    def embed(encodings: list[Any]) -> np.ndarray:
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        groups: list[list[int]] = []
        for _, same in itertools.groupby(order, key=lambda i: len(encodings[i].ids)):
            members = list(same)
            groups += [members[i:i + most] for i in range(0, len(members), most)]
        out = np.empty((len(encodings), 384), dtype=np.float32)
        for group, rows in zip(groups, pool.map(
                lambda g: run(sess, [encodings[i] for i in g]), groups)):
            out[group] = rows
        return out
    return embed


def weight_only_int8(fp32: Path, folder: Path) -> Path | None:
    """The fp32 model with MatMulNBits 8-bit weights, or None without the quantizer."""
    try:
        import onnx
        from onnxruntime.quantization.matmul_nbits_quantizer import (
            DefaultWeightOnlyQuantConfig,
            MatMulNBitsQuantizer,
        )
    except ImportError as exc:
        print(f"w8-same-length skipped: {exc}")
        return None
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=4,
                                          bits=8)
    quantizer = MatMulNBitsQuantizer(onnx.load(fp32), algo_config=config)
    quantizer.process()
    path = folder / "w8.onnx"
    onnx.save(quantizer.model.model, path)
    return path


def measure(embed: Embed, encodings: list[Any]) -> tuple[np.ndarray, float, float]:
    """Vectors, wall seconds and CPU seconds (all threads) of one pass."""
    embed(encodings[:1])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu, start = usage.ru_utime + usage.ru_stime, time.perf_counter()
    vectors = embed(encodings)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return vectors, wall, usage.ru_utime + usage.ru_stime - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=200)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    files = ensure_model(MODEL, "int8", auto_pull=False)
    tokenizer = load_tokenizer(files.tokenizer_path, 256)
    tokenizer.no_padding()
    texts = [f"{d.title} {d.text}" for d in itertools.islice(iter_corpus(SCIFACT), args.texts)]
    encodings = tokenizer.encode_batch(texts)
    tokens = sum(len(e.ids) for e in encodings)
    print(f"{len(texts)} SciFact abstracts, {tokens / len(texts):.0f} tokens on average "
          f"(at most 256), {args.threads} threads; figures under the machine's present load")
    t = args.threads
    int8, fp32 = files.onnx_path("int8"), files.onnx_path("fp32")

    def shipped(precision: str) -> Embed:
        embedder = OnnxEmbedder(ensure_model(MODEL, precision, auto_pull=False),
                                precision=precision, threads=t)
        return lambda encodings: embedder.embed([texts[encodings_index[id(e)]]
                                                 for e in encodings], "document")

    encodings_index = {id(e): i for i, e in enumerate(encodings)}
    with tempfile.TemporaryDirectory() as tmp:
        layouts: dict[str, Callable[[], Embed]] = {
            "fp32-batched": lambda: padded_batches(session(fp32, t)),
            "fp32-same-length": lambda: shipped("fp32"),
            "int8-alone-split": lambda: alone_split(session(int8, t)),
            "int8-alone-parallel": lambda: shipped("int8"),
            "int8-batched": lambda: padded_batches(session(int8, t)),
        }
        w8 = weight_only_int8(fp32, Path(tmp))
        if w8 is not None:
            layouts["w8-same-length"] = lambda: same_length_parallel(session(w8, 1), t, 32)
        rows: dict[str, tuple[np.ndarray, float, float, int, float]] = {}
        for name, build in layouts.items():
            embed = build()
            vectors, wall, cpu = measure(embed, encodings)
            alone = np.vstack([embed([e]) for e in encodings[:CHECKED]])
            same = int(np.all(alone == vectors[:CHECKED], axis=1).sum())
            rows[name] = (vectors, len(texts) / wall, cpu / wall, same,
                          float((alone * vectors[:CHECKED]).sum(1).min()))
            print(f"measured {name}", flush=True)
    reference, base = rows["fp32-batched"][0], rows["int8-alone-split"][1]
    checked = min(CHECKED, len(texts))
    print(f"{'layout':20} {'texts/s':>8} {'x split':>8} {'cores':>6} {'alone==batch':>13} "
          f"{'min cos alone':>14} {'cos fp32 mean/min':>18}")
    for name, (vectors, rate, cores, same, cos_alone) in rows.items():
        cos_ref = (vectors * reference).sum(1)
        print(f"{name:20} {rate:8.1f} {rate / base:8.2f} {cores:6.2f} {same:>9}/{checked:<3} "
              f"{cos_alone:14.6f} {cos_ref.mean():9.5f}/{cos_ref.min():.5f}")


if __name__ == "__main__":
    main()
