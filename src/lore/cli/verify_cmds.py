"""`lore verify` and `lore repair`: check the index agrees with itself, and fix it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from lore.cli._common import index_options, json_option, open_cli_index
from lore.cli._output import echo, echo_json

if TYPE_CHECKING:
    from lore.verify import VerifyReport


@click.command()
@index_options
@json_option
def verify(root: Path, index_dir: Path | None, as_json: bool) -> None:
    """Check that catalog, full-text index, vectors, sidecar, space record and cache agree.

    Reads only (safe beside searches, and on a read-only index). Exits 0 when
    everything agrees, 1 when something does not; `lore repair` fixes what is
    derived from stored data.

    \b
    Examples:
      lore verify --root ~/notes
      lore verify --root ~/notes --json
    """
    with open_cli_index(root, index_dir) as idx:
        report = idx.verify()
    _show(report, as_json)
    if not report.healthy:
        raise click.exceptions.Exit(1)


@click.command()
@index_options
@json_option
def repair(root: Path, index_dir: Path | None, as_json: bool) -> None:
    """Rebuild whatever is derived and inconsistent from what the index stores.

    Full-text rows come from the chunks, the sidecar from the stored vectors,
    the active-space record from the registered spaces; cached vectors that
    disagree with the index are dropped. No embedding provider is called: a
    stored vector that is unusable is dropped, and the next `lore index`
    embeds that chunk again. Exits 0 when the index is healthy afterwards.

    \b
    Examples:
      lore repair --root ~/notes
      lore repair --root ~/notes --json
    """
    with open_cli_index(root, index_dir) as idx:
        actions, report = idx.repair()
    if as_json:
        echo_json({"actions": actions, **report.to_dict()})
    else:
        for action in actions or ["nothing to repair"]:
            echo(f"repair: {action}")
        _show(report, False)
    if not report.healthy:
        raise click.exceptions.Exit(1)


def _show(report: VerifyReport, as_json: bool) -> None:
    if as_json:
        echo_json(report.to_dict())
        return
    for finding in report.findings:
        mark = "ok  " if finding.ok else "FAIL"
        echo(f"[{mark}] {finding.check}: {finding.detail}")
    for note in report.notes:
        echo(f"note: {note}")
    echo("healthy" if report.healthy else
               "NOT healthy: run `lore repair`" if all(f.repairable for f in report.problems())
               else "NOT healthy: see above")
