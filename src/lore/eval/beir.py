"""Read a data set in BEIR layout, streaming the corpus.

A BEIR folder holds ``corpus.jsonl[.gz]`` (one ``{"_id", "title", "text"}``
object per line), ``queries.jsonl[.gz]`` (``{"_id", "text"}``) and
``qrels/<split>.tsv`` (``query-id  corpus-id  score``, tab-separated, with a
header line). The corpus is read line by line so that a corpus larger than
memory can still be written out and indexed; queries and qrels are small and
loaded whole. Every parse error names the file and line and says what to fix.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lore.errors import LoreError

Qrels = dict[str, dict[str, int]]
"""query id -> {corpus id -> relevance grade}; grades <= 0 mean judged not relevant."""


class DatasetError(LoreError):
    """A BEIR data set is missing a file or has a malformed line."""


@dataclass(frozen=True)
class CorpusDoc:
    """One corpus entry: BEIR id, title (may be empty) and text."""

    id: str
    title: str
    text: str


def _find_jsonl(dataset_dir: Path, stem: str) -> Path:
    """``stem.jsonl`` or ``stem.jsonl.gz`` inside the data set, else a DatasetError."""
    for name in (f"{stem}.jsonl", f"{stem}.jsonl.gz"):
        path = dataset_dir / name
        if path.is_file():
            return path
    if not dataset_dir.is_dir():
        raise DatasetError(
            f"{dataset_dir} is not a directory: pass a folder in BEIR layout "
            "(corpus.jsonl[.gz], queries.jsonl[.gz], qrels/<split>.tsv)"
        )
    raise DatasetError(
        f"{dataset_dir} has no {stem}.jsonl or {stem}.jsonl.gz: "
        "is this a BEIR data set folder (corpus.jsonl[.gz], queries.jsonl[.gz], qrels/)?"
    )


def _open_text(path: Path) -> IO[str]:
    """Open a plain or gzip-compressed UTF-8 text file."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _iter_json_lines(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for each non-blank line, checking required keys."""
    try:
        with _open_text(path) as handle:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetError(
                        f"{path}:{lineno}: not valid JSON ({exc.msg}); "
                        "each line must be one JSON object"
                    ) from exc
                if not isinstance(obj, dict):
                    raise DatasetError(f"{path}:{lineno}: expected a JSON object, got {obj!r:.60}")
                missing = [key for key in required if key not in obj]
                if missing:
                    raise DatasetError(
                        f"{path}:{lineno}: missing key(s) {', '.join(missing)}; "
                        f"every line needs {', '.join(required)}"
                    )
                yield lineno, obj
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}; check the file is UTF-8 JSON lines") from exc


def iter_corpus(dataset_dir: Path) -> Iterator[CorpusDoc]:
    """Stream the corpus one document at a time, in file order.

    Args:
        dataset_dir: the BEIR data set folder.

    Raises:
        DatasetError: the corpus file is missing, or a line is not a JSON object
            with ``_id`` and ``text`` (the message names the line).
    """
    path = _find_jsonl(dataset_dir, "corpus")
    for _, obj in _iter_json_lines(path, ("_id", "text")):
        yield CorpusDoc(id=str(obj["_id"]), title=str(obj.get("title") or ""), text=str(obj["text"]))


def load_queries(dataset_dir: Path) -> dict[str, str]:
    """All queries as ``{query id: text}``, in file order.

    Raises:
        DatasetError: the file is missing, a line is malformed, or an id repeats.
    """
    path = _find_jsonl(dataset_dir, "queries")
    queries: dict[str, str] = {}
    for lineno, obj in _iter_json_lines(path, ("_id", "text")):
        qid = str(obj["_id"])
        if qid in queries:
            raise DatasetError(f"{path}:{lineno}: query id {qid!r} appears twice; ids must be unique")
        queries[qid] = str(obj["text"])
    return queries


def load_qrels(dataset_dir: Path, split: str = "test") -> Qrels:
    """Relevance judgements of one split: ``{query id: {corpus id: grade}}``.

    The header line (``query-id corpus-id score``) is optional. Columns are
    separated by tabs (any whitespace is accepted, since ids never hold spaces).

    Raises:
        DatasetError: the split file is missing (the message lists the splits
            present) or a line does not have three columns with an integer score.
    """
    qrels_dir = dataset_dir / "qrels"
    path = qrels_dir / f"{split}.tsv"
    if not path.is_file():
        found = sorted(p.stem for p in qrels_dir.glob("*.tsv")) if qrels_dir.is_dir() else []
        have = f"splits present: {', '.join(found)}" if found else f"{qrels_dir} has no .tsv files"
        raise DatasetError(f"no qrels for split {split!r} ({path} is missing); {have}")
    qrels: Qrels = {}
    with _open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                parts = line.split()
            if len(parts) != 3:
                raise DatasetError(
                    f"{path}:{lineno}: expected 3 columns (query-id, corpus-id, score), "
                    f"found {len(parts)}"
                )
            qid, docid, score = (part.strip() for part in parts)
            try:
                grade = int(float(score))
            except ValueError:
                if lineno == 1:  # the header line
                    continue
                raise DatasetError(
                    f"{path}:{lineno}: score {score!r} is not a number; the third column "
                    "must be an integer relevance grade"
                ) from None
            qrels.setdefault(qid, {})[docid] = grade
    return qrels


def relevant_ids(qrels: Qrels) -> set[str]:
    """Every corpus id judged relevant (grade > 0) for at least one query."""
    return {docid for judged in qrels.values() for docid, grade in judged.items() if grade > 0}


def sample_qrels(qrels: Qrels, max_relevant: int) -> Qrels:
    """The queries, in order, whose relevant documents together number at most ``max_relevant``.

    Used with ``limit_corpus`` for a quick run over a slice: keeping the
    relevant documents to part of the slice leaves room for distractors, so the
    slice is not trivially easy.
    """
    kept: Qrels = {}
    chosen: set[str] = set()
    for qid, judged in qrels.items():
        relevant = {doc for doc, grade in judged.items() if grade > 0}
        if relevant and len(chosen | relevant) <= max_relevant:
            chosen |= relevant
            kept[qid] = judged
    return kept


def limit_corpus(docs: Iterator[CorpusDoc], keep: set[str], max_docs: int) -> Iterator[CorpusDoc]:
    """At most ``max_docs`` documents, preferring those in ``keep``, in file order.

    A quick run over a small slice of a corpus is only meaningful if the
    documents the queries need are in the slice, so ids in ``keep`` (usually
    the relevant documents) are taken first and other documents fill the rest.
    Streams: one pass, memory bounded by ``max_docs``.
    """
    fillers = max(0, max_docs - len(keep))
    taken_keep = taken_fill = 0
    for doc in docs:
        if doc.id in keep:
            if taken_keep < max_docs:
                taken_keep += 1
                yield doc
        elif taken_fill < fillers:
            taken_fill += 1
            yield doc


def slice_dataset(dataset_dir: Path, qrels: Qrels, max_docs: int
                  ) -> tuple[Qrels, Iterator[CorpusDoc]]:
    """A quick-run slice: the queries kept and a stream of at most ``max_docs`` documents.

    The relevant documents of the first queries fill up to half the slice
    (``sample_qrels``) and distractors in file order fill the rest
    (``limit_corpus``), so ``lore eval --max-docs`` and bench/peers.py cut the
    same slice.
    """
    sampled = sample_qrels(qrels, max(1, max_docs // 2))
    return sampled, limit_corpus(iter_corpus(dataset_dir), relevant_ids(sampled), max_docs)
