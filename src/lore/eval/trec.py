"""Write TREC run files, so lore's rankings can be checked with trec_eval or ranx.

Each line is ``qid Q0 docid rank score tag``, ranks from 1. trec_eval re-sorts
a query's lines by score (ties by document id, descending), so two documents
with equal scores may be scored in an order other than lore's; lore's own
metrics use the list order.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path


def format_run_lines(run: Mapping[str, Sequence[tuple[str, float]]], tag: str) -> list[str]:
    """The lines of a run file (without newlines), queries in the order given.

    Args:
        run: ``{query id: [(document id, score), ...]}`` best first.
        tag: the run name in the sixth column (no whitespace).

    Raises:
        ValueError: the tag or an id contains whitespace, which would shift columns.
    """
    _check_token(tag, "run tag")
    lines = []
    for qid, ranked in run.items():
        _check_token(qid, "query id")
        for rank, (docid, score) in enumerate(ranked, start=1):
            _check_token(docid, "document id")
            lines.append(f"{qid} Q0 {docid} {rank} {score:.6f} {tag}")
    return lines


def write_run(path: Path, run: Mapping[str, Sequence[tuple[str, float]]], tag: str) -> Path:
    """Write a TREC run file atomically (a reader never sees half a file).

    Args:
        path: destination; parent folders are created.
        run: ``{query id: [(document id, score), ...]}`` best first.
        tag: the run name written on every line.

    Returns:
        The path written.
    """
    lines = format_run_lines(run, tag)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in lines)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _check_token(value: str, what: str) -> None:
    if not value or any(ch.isspace() for ch in value):
        raise ValueError(f"{what} {value!r} is empty or contains whitespace; TREC columns are "
                         "space-separated")
