"""Evaluate lore on a BEIR data set through the same pipeline real folders use.

The corpus is written out as one Markdown file per document and indexed with
``open_index(...).sync()``, so an evaluation measures exactly what ``lore
index`` + ``lore search`` would do: parser, chunker, embeddings, fusion.

How BEIR ids are kept: each file's front matter holds ``beir_id`` and
``title``, and deliberately no ``id``. Without ``id`` lore's ``doc_id`` is the
file path, so an id-shaped BEIR id (``MED-10``, a UUID, ``ADR-0001``) cannot
fire lore's exact-id leg for an unrelated query that contains the same token.
The id leg also matches a one-word query against file stems, so the file name
is the BEIR id behind a ``beir-`` prefix (``beir-4983.md``; unsafe or
upper-case ids are sanitised and get a short hash), which no real query
spells. Hits are mapped back to BEIR ids through their path.

Files are rewritten only when their bytes change, so a second run over the
same work dir is an incremental no-op sync that re-embeds nothing.

What the latencies include (``latency_conditions``): in vector and hybrid
mode every query is embedded anew, with the embedding cache off, so no mode
gets its query vectors from an earlier mode or an earlier run (keyword mode
embeds nothing); warm are the process, the loaded model, the open index (one
untimed warm-up query per mode) and its in-memory keyword copy
(``lore.store.keyword_memory``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import yaml

from lore.errors import QueryError
from lore.eval.beir import (
    CorpusDoc,
    DatasetError,
    Qrels,
    iter_corpus,
    load_qrels,
    load_queries,
    slice_dataset,
)
from lore.eval.metrics import Latency, MetricScores, evaluate
from lore.eval.trec import write_run
from lore.settings import Settings

if TYPE_CHECKING:
    from lore.index import Index
    from lore.types import SearchMode

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]
"""``progress(stage, done, total)``; total is None while the corpus streams."""

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,150}")


def latency_conditions(modes: Sequence[str]) -> str:
    """What the latencies of ``modes`` include: keyword mode embeds nothing, so says so."""
    embedding = [mode for mode in modes if mode != "keyword"]
    if not embedding:
        return ("in-process Index.search per query, keyword mode (no query embedded); warm: "
                "process, open index (one untimed warm-up query), its keyword copy in memory")
    return (f"in-process Index.search per query, embedding cache off (each query embedded "
            f"anew in {' and '.join(embedding)} mode); warm: process, model, open index (one "
            "untimed warm-up query per mode), its keyword copy in memory")


@dataclass(frozen=True)
class ModeResult:
    """Scores of one search mode.

    Attributes:
        mode: keyword, vector or hybrid.
        scores: per-query and mean nDCG@10, Recall@100, MRR@10.
        latency: per-query search latency (the first, warm-up query excluded;
            conditions in ``latency_conditions``).
        run_file: the TREC run file written, if any.
    """

    mode: str
    scores: MetricScores
    latency: Latency
    run_file: Path | None


@dataclass(frozen=True)
class EvalReport:
    """What ``run_eval`` measured.

    Attributes:
        dataset: the data set folder's name.
        split: the qrels split evaluated.
        documents: documents written and indexed.
        files_written: files (re)written this run; 0 on an unchanged re-run.
        index_seconds: wall time of the sync (including embedding, when on).
        work_dir: where the Markdown corpus and the index live (None: a temp
            dir, already deleted).
        results: one entry per mode, in the order asked.
    """

    dataset: str
    split: str
    documents: int
    files_written: int
    index_seconds: float
    work_dir: Path | None
    results: tuple[ModeResult, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (means only; per-query scores stay in ``results``)."""
        return {
            "dataset": self.dataset,
            "split": self.split,
            "documents": self.documents,
            "files_written": self.files_written,
            "index_seconds": round(self.index_seconds, 3),
            "work_dir": str(self.work_dir) if self.work_dir else None,
            "latency_conditions": latency_conditions([r.mode for r in self.results]),
            "modes": {
                r.mode: {
                    "queries": r.scores.queries,
                    **{name: round(value, 5) for name, value in r.scores.mean.items()},
                    "latency_p50_ms": round(r.latency.p50_ms, 3),
                    "latency_p95_ms": round(r.latency.p95_ms, 3),
                    "run_file": str(r.run_file) if r.run_file else None,
                }
                for r in self.results
            },
        }


def run_eval(
    dataset_dir: Path,
    *,
    modes: Sequence[str],
    settings: Settings,
    work_dir: Path | None = None,
    split: str = "test",
    limit: int = 100,
    progress: Progress | None = None,
    run_file: Path | None = None,
    max_docs: int | None = None,
) -> EvalReport:
    """Index a BEIR data set with lore and score every query of a split.

    Args:
        dataset_dir: BEIR folder (corpus.jsonl[.gz], queries.jsonl[.gz], qrels/).
        modes: search modes to score, from ``available_modes()``.
        settings: lore settings for indexing and search. Embeddings are switched
            off when only keyword mode is asked, to skip embedding the corpus.
        work_dir: where to write the Markdown corpus and the index; reusing one
            makes re-runs incremental. Default: a temp dir removed afterwards.
        split: the qrels split (``qrels/<split>.tsv``).
        limit: hits retrieved per query (Recall@100 needs at least 100).
        progress: optional ``progress(stage, done, total)`` callback.
        run_file: TREC run file to write; with several modes the mode goes
            before the suffix (``run.trec`` -> ``run.hybrid.trec``). Default:
            ``<work_dir>/runs/<split>.<mode>.trec`` when a work dir is given.
        max_docs: index at most this many documents for a quick run: the
            relevant documents of the first queries (up to half of them), then
            distractors; only those queries are scored.

    Raises:
        DatasetError: the data set is missing files or is malformed.
        QueryError: a mode this build cannot run (see ``available_modes``).
    """
    available = available_modes()
    unknown = [m for m in modes if m not in available]
    if unknown or not modes:
        # Checked before the corpus is written and indexed, which can take minutes.
        raise QueryError(f"search mode(s) {unknown or list(modes)} not available: "
                         f"choose from {', '.join(available)}")
    qrels = load_qrels(dataset_dir, split)
    queries = load_queries(dataset_dir)
    missing = [qid for qid in qrels if qid not in queries]
    if missing:
        raise DatasetError(
            f"{len(missing)} query id(s) of qrels/{split}.tsv are not in queries.jsonl "
            f"(first: {missing[0]!r}); check that the files belong to the same data set"
        )
    if set(modes) == {"keyword"} and settings.embed.enabled:
        settings = replace(settings, embed=replace(settings.embed, enabled=False))
    with _work_dir(work_dir) as wd:
        docs = iter_corpus(dataset_dir)
        if max_docs is not None:
            qrels, docs = slice_dataset(dataset_dir, qrels, max_docs)
        corpus = write_corpus(docs, wd / "corpus", progress=progress)
        index_seconds, results = _index_and_search(
            corpus, wd, modes=modes, settings=settings, queries=queries, qrels=qrels, limit=limit,
            run_paths=_run_paths(modes, run_file, wd / "runs" if work_dir else None, split),
            progress=progress,
        )
    return EvalReport(
        dataset=dataset_dir.resolve().name, split=split, documents=len(corpus.path_to_id),
        files_written=corpus.written, index_seconds=index_seconds, work_dir=work_dir,
        results=tuple(results),
    )


def available_modes() -> tuple[str, ...]:
    """The search modes this build's engine runs (a subset of keyword, vector, hybrid)."""
    from lore.search.engine import MODES

    return tuple(MODES)


@dataclass(frozen=True)
class WrittenCorpus:
    """A BEIR corpus as Markdown files: where, which file is which id, how many changed."""

    root: Path
    path_to_id: dict[str, str]
    written: int


def write_corpus(docs: Iterator[CorpusDoc], root: Path, *, progress: Progress | None = None
                 ) -> WrittenCorpus:
    """Write one Markdown file per document, touching only files whose bytes change.

    ``beir-*.md`` files under ``root`` that are not part of this corpus (left
    from a run over another slice) are removed, so the index matches the
    corpus; other files are left alone.

    Args:
        docs: the corpus, streamed.
        root: folder to write into (created).
        progress: optional callback, called every 1000 documents.
    """
    root.mkdir(parents=True, exist_ok=True)
    path_to_id: dict[str, str] = {}
    written = 0
    for count, doc in enumerate(docs, start=1):
        name = file_name(doc.id)
        if name in path_to_id:
            raise DatasetError(f"corpus id {doc.id!r} appears twice; corpus ids must be unique")
        path_to_id[name] = doc.id
        data = markdown_for(doc).encode("utf-8")
        target = root / name
        if not (target.is_file() and target.read_bytes() == data):
            target.write_bytes(data)
            written += 1
        if progress and count % 1000 == 0:
            progress("write", count, None)
    stale = [p for p in root.glob("beir-*.md") if p.name not in path_to_id]
    for path in stale:
        path.unlink()
    log.info("corpus in %s: %d documents, %d written, %d stale removed",
             root, len(path_to_id), written, len(stale))
    return WrittenCorpus(root=root, path_to_id=path_to_id, written=written)


def file_name(beir_id: str) -> str:
    """The Markdown file name for a BEIR id: ``beir-<id>.md``, sanitised + hash when unsafe.

    The hash keeps two ids that sanitise alike (``a/b`` and ``a:b``) apart, and
    keeps names that differ only in case apart on case-insensitive file systems.
    """
    if _SAFE_NAME.fullmatch(beir_id) and beir_id == beir_id.lower():
        return f"beir-{beir_id}.md"
    digest = hashlib.sha256(beir_id.encode("utf-8")).hexdigest()[:10]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", beir_id)[:100].strip("._").lower()
    return f"beir-{stem}-{digest}.md" if stem else f"beir-{digest}.md"


def markdown_for(doc: CorpusDoc) -> str:
    """A document's Markdown: front matter with ``beir_id`` (never ``id``) and title, then text."""
    meta: dict[str, str] = {"beir_id": doc.id}
    if doc.title:
        meta["title"] = doc.title
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1_000_000)
    return f"---\n{front}---\n\n{doc.text}\n"


def _index_and_search(
    corpus: WrittenCorpus,
    work_dir: Path,
    *,
    modes: Sequence[str],
    settings: Settings,
    queries: dict[str, str],
    qrels: Qrels,
    limit: int,
    run_paths: dict[str, Path | None],
    progress: Progress | None,
) -> tuple[float, list[ModeResult]]:
    """Sync the corpus into an index, then run and score every judged query per mode.

    The sync uses the configured embedding cache (a re-run over a temp dir then
    re-embeds nothing); the searches run on the same index opened with the
    cache off, so each mode embeds its queries itself and is timed doing so.
    """
    from lore.index import open_index

    # Separate index folders keep a keyword-only run from disturbing the vectors
    # of an embedding run over the same work dir.
    index_dir = work_dir / ("index" if settings.embed.enabled else "index-keyword")
    qids = [qid for qid, judged in qrels.items() if any(g > 0 for g in judged.values())]
    results = []
    with open_index(corpus.root, settings=settings, index_dir=index_dir) as index:
        started = time.perf_counter()
        index.sync(progress=(lambda done, total, _path: progress("index", done, total))
                   if progress else None)
        index_seconds = time.perf_counter() - started
        log.info("indexed %d documents in %.2f s", len(corpus.path_to_id), index_seconds)
    uncached = replace(settings, embed=replace(settings.embed, cache=False))
    for mode in modes:
        # One index (and embedder) per mode: nothing a mode loads is shared with the next.
        with open_index(corpus.root, settings=uncached, index_dir=index_dir) as index:
            run, seconds = _search_all(index, mode, [(q, queries[q]) for q in qids], corpus,
                                       limit=limit, progress=progress)
        path = run_paths[mode]
        if path is not None:
            write_run(path, run, tag=f"lore-{mode}")
        ranked = {qid: [docid for docid, _ in hits] for qid, hits in run.items()}
        results.append(ModeResult(mode=mode, scores=evaluate(ranked, qrels),
                                  latency=Latency.from_seconds(seconds), run_file=path))
    return index_seconds, results


def _search_all(
    index: Index,
    mode: str,
    queries: list[tuple[str, str]],
    corpus: WrittenCorpus,
    *,
    limit: int,
    progress: Progress | None,
) -> tuple[dict[str, list[tuple[str, float]]], list[float]]:
    """Run every query in one mode; return BEIR-id rankings and per-query seconds.

    The first query is run once untimed beforehand: it loads the model and
    warms caches, which would otherwise show up as one outlier in p95; then
    the keyword index is copied into memory, as a long-lived index does in the
    background once it keeps searching (timing that build would mix both paths).
    """
    search_mode = cast("SearchMode", mode)   # run_eval checked it against the engine's modes
    if queries:
        index.search(queries[0][1], limit=limit, mode=search_mode)
        index.prepare_keyword_search()   # as a long-lived index has it soon
    run: dict[str, list[tuple[str, float]]] = {}
    seconds: list[float] = []
    for done, (qid, text) in enumerate(queries, start=1):
        started = time.perf_counter()
        hits = index.search(text, limit=limit, mode=search_mode)
        seconds.append(time.perf_counter() - started)
        ranked: list[tuple[str, float]] = []
        seen: set[str] = set()
        for hit in hits:
            # near-identical documents fold into one hit; the qrels judge each copy,
            # and the hit shows every copy's path, so each counts where the hit stands
            for path in (hit.path, *hit.also_at):
                beir_id = corpus.path_to_id.get(path)
                if beir_id is not None and beir_id not in seen:
                    seen.add(beir_id)
                    ranked.append((beir_id, float(hit.score)))
        run[qid] = ranked
        if progress:
            progress(f"search:{mode}", done, len(queries))
    return run, seconds


def _run_paths(modes: Sequence[str], run_file: Path | None, run_dir: Path | None, split: str
               ) -> dict[str, Path | None]:
    """Where each mode's TREC run goes: ``run_file`` (``.<mode>`` inserted before its
    suffix when there are several modes), else ``<run_dir>/<split>.<mode>.trec``, else nowhere."""
    paths: dict[str, Path | None] = {}
    for mode in modes:
        if run_file is not None and len(modes) > 1:
            paths[mode] = run_file.with_name(f"{run_file.stem}.{mode}{run_file.suffix}")
        elif run_file is not None:
            paths[mode] = run_file
        else:
            paths[mode] = run_dir / f"{split}.{mode}.trec" if run_dir else None
    return paths


@contextmanager
def _work_dir(work_dir: Path | None) -> Iterator[Path]:
    """The given work dir (kept), or a temp dir removed on exit."""
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        yield work_dir
        return
    with tempfile.TemporaryDirectory(prefix="lore-eval-") as tmp:
        yield Path(tmp)
