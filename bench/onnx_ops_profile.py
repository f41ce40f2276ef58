"""Where onnxruntime's time goes inside one embedding: kernel time per operator type.

``index_profile_bench.py`` shows that about 90 % of a first index's CPU is
onnxruntime runs; this opens the box. It embeds SciFact passages (title and
abstract, cut at the model's 256-token window) one text per run, as lore's
int8 path does, with onnxruntime's own profiler on, and sums the kernel time
of every node by operator type (QAttention, DynamicQuantizeMatMul, ...).

Warm / cold: one untimed run first; the session is built as lore builds it
(one intra-op thread). Shares are what to trust: the profiler adds overhead
and absolute kernel times grow with the machine's load.

The model, precision and window are ``embed.primary``'s as loaded (``LORE_*``
variables and the config file apply, ``bench/_shared.py``); ``--precision``
fixes the precision over them.

Usage:
  LORE_HOME=... python bench/onnx_ops_profile.py [--texts 60] [--precision int8]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from itertools import islice
from pathlib import Path

import numpy as np
from _shared import SCIFACT, lore_settings

from lore.eval.beir import iter_corpus
from lore.paths import models_dir
from lore.settings import Settings


def profile_settings(precision: str | None) -> Settings:
    """lore's settings as loaded, with ``precision`` (when given) over them."""
    return lore_settings(fixed={"embed.primary.precision": precision} if precision else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=60)
    parser.add_argument("--precision", choices=["int8", "fp32"],
                        help="default: embed.primary.precision as loaded (int8 unless set)")
    args = parser.parse_args()
    primary = profile_settings(args.precision).embed.primary

    import onnxruntime as ort
    from tokenizers import Tokenizer

    folder = Path(primary.model_path).expanduser() if primary.model_path \
        else models_dir() / primary.model
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(primary.max_tokens)
    tokenizer.no_padding()
    texts = [f"{d.title} {d.text}" for d in islice(iter_corpus(SCIFACT), args.texts)]
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "ort")
        session = ort.InferenceSession(str(folder / f"model.{primary.precision}.onnx"), options,
                                       providers=["CPUExecutionProvider"])
        tokens = 0
        for text in [texts[0], *texts]:   # the first run is a warm-up, profiled but small
            ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
            tokens += ids.shape[1]
            session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                               "token_type_ids": np.zeros_like(ids)})
        events = json.loads(Path(session.end_profiling()).read_text())
    per_op: Counter[str] = Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            per_op[event["args"]["op_name"]] += event["dur"]
    total = sum(per_op.values())
    print(f"{primary.model} {primary.precision}: {len(texts)} texts, {tokens} tokens, "
          f"kernel time {total / 1e6:.2f} s (profiler on; one text per run on one intra-op "
          "thread, as lore runs it)")
    for op, micros in per_op.most_common():
        print(f"  {op:28} {100 * micros / total:5.1f}%")


if __name__ == "__main__":
    main()
