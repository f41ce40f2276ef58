"""`lore eval`: score lore's search modes on a BEIR-format data set."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lore.cli._output import echo

if TYPE_CHECKING:
    from rich.progress import TaskID

    from lore.eval.runner import Progress

MODE_CHOICES = ("keyword", "vector", "hybrid")

_COLUMNS = (("nDCG@10", "ndcg@10"), ("Recall@100", "recall@100"), ("MRR@10", "mrr@10"))


@click.command("eval")
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--mode", "modes", multiple=True, type=click.Choice(MODE_CHOICES),
              help="Search mode to score; repeat for several. Default: every mode this build has.")
@click.option("--split", default="test", show_default=True, help="Qrels split (qrels/SPLIT.tsv).")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the Markdown corpus and index here; re-runs are then incremental. "
                   "Default: a temp dir, removed afterwards.")
@click.option("--run-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a TREC run file; with several modes one per mode (run.trec -> run.MODE.trec).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1),
              help="Hits retrieved per query.")
@click.option("--max-docs", type=click.IntRange(min=1),
              help="Quick run: N documents, up to half of them relevant to the queries scored.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def eval_command(dataset_dir: Path, modes: tuple[str, ...], split: str, work_dir: Path | None,
                 run_file: Path | None, limit: int, max_docs: int | None, as_json: bool) -> None:
    """Index a BEIR data set with lore and report nDCG@10, Recall@100, MRR@10 and latency.

    The corpus is written as one Markdown file per document and indexed
    exactly as `lore index` would, using your settings (user config and
    LORE_* variables). Keyword mode alone indexes without embeddings.

    \b
    Examples:
      lore eval ~/beir/scifact --mode keyword
      lore eval ~/beir/scifact --work-dir /tmp/scifact-eval --run-file runs/scifact.trec
      lore eval ~/beir/scifact --mode hybrid --max-docs 500 --json
    """
    from lore.config import load_settings
    from lore.eval.runner import available_modes, latency_conditions, run_eval

    settings = load_settings(None).settings
    with _progress(enabled=not as_json and sys.stderr.isatty()) as progress:
        report = run_eval(dataset_dir, modes=modes or available_modes(), settings=settings,
                          work_dir=work_dir, split=split, limit=limit, progress=progress,
                          run_file=run_file, max_docs=max_docs)
    if as_json:
        echo(json.dumps(report.to_dict(), indent=2))
        return
    echo(f"{report.dataset} ({report.split}): {report.documents} documents, "
               f"indexed in {report.index_seconds:.2f} s ({report.files_written} files written)")
    header = f"{'mode':<8} {'queries':>7}" + "".join(f" {name:>10}" for name, _ in _COLUMNS)
    echo(header + f" {'p50 ms':>8} {'p95 ms':>8}")
    for result in report.results:
        cells = "".join(f" {result.scores.mean[key]:>10.4f}" for _, key in _COLUMNS)
        echo(f"{result.mode:<8} {result.scores.queries:>7}{cells}"
                   f" {result.latency.p50_ms:>8.2f} {result.latency.p95_ms:>8.2f}")
    echo(f"latency: {latency_conditions([r.mode for r in report.results])}")
    for result in report.results:
        if result.run_file:
            echo(f"run file ({result.mode}): {result.run_file}")


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Progress | None]:
    """A ``progress(stage, done, total)`` callback drawing a bar on stderr, or None."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update
