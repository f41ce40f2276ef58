"""``lore init``, ``lore index`` and ``lore status``: make, update and inspect an index."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lore.cli._common import (
    echo_json,
    index_dir_option,
    index_options,
    json_option,
    open_cli_index,
)

if TYPE_CHECKING:
    from lore.sync import ProgressCallback, SyncReport

# A bar for a few dozen files would only flicker.
PROGRESS_MIN_FILES = 200
# The human summary lists this many skipped files / warnings; --json has them all.
SHOWN_PROBLEMS = 20

root_argument = click.argument("root", type=click.Path(path_type=Path), envvar="LORE_ROOT",
                               default=".", required=False)


@click.command()
@root_argument
@index_dir_option
def init(root: Path, index_dir: Path | None) -> None:
    """Create an empty index and a commented lore.toml in ROOT (default: .).

    An existing lore.toml is left untouched. Every line of the new one is a
    commented-out default: uncomment a line to change that setting.

    \b
    Example:
      lore init ~/notes
    """
    from lore.config import PROJECT_FILE

    with open_cli_index(root, index_dir, create=True) as index:
        config = index.root / PROJECT_FILE
        if config.exists():
            click.echo(f"Kept the existing {config}")
        else:
            config.write_text(lore_toml_template(), encoding="utf-8")
            click.echo(f"Wrote {config} (every setting commented out at its default)")
        click.echo(f"Index directory: {index.index_dir}")
        click.echo(f"Next: lore index {index.root}")


@click.command()
@root_argument
@index_dir_option
@json_option
@click.option("--quiet", "-q", is_flag=True, help="Print nothing unless something fails.")
@click.option("--no-embed", is_flag=True,
              help="Only update the catalog (keyword search); embed on a later run.")
@click.option("--rebuild-vectors", is_flag=True,
              help="Re-embed everything with the configured model when it differs from the "
                   "index's; the old vectors serve searches until the new ones are complete.")
def index(root: Path, index_dir: Path | None, as_json: bool, quiet: bool, no_embed: bool,
          rebuild_vectors: bool) -> None:
    """Index (or re-index) the Markdown files under ROOT (default: . or $LORE_ROOT).

    Only new and changed files are read again; removed files leave the index,
    and moved files are recognised by their content. Files that cannot be
    indexed are listed with the reason. New chunks are then embedded with the
    configured model (the default local model is fetched on first use) so
    that hybrid search works; an embedding cache makes re-embedding free.

    \b
    Examples:
      lore index ~/notes
      lore index --no-embed            # keyword index only, no model needed
      lore index --rebuild-vectors     # after changing [embed] settings
      lore index --json | jq '.skipped'
    """
    flags = {"embed.enabled": False} if no_embed else None
    with open_cli_index(root, index_dir, create=True, flags=flags) as idx, \
            _progress_bar(enabled=not quiet) as (progress, embed_progress):
        report = idx.sync(progress=progress, rebuild_vectors=rebuild_vectors,
                          embed_progress=embed_progress)
    for notice in report.notices:
        click.echo(f"Note: {notice}", err=True)
    if as_json:
        echo_json({"root": str(idx.root), **report.to_dict()})
    elif not quiet:
        _print_summary(idx.root, report)


@click.command()
@index_options
@json_option
def status(root: Path, index_dir: Path | None, as_json: bool) -> None:
    """Show what the index of ROOT holds: documents, chunks, types, vectors, last sync.

    \b
    Examples:
      lore status --root ~/notes
      LORE_ROOT=~/notes lore status --json
    """
    with open_cli_index(root, index_dir) as idx:
        info = idx.status()
    if as_json:
        echo_json(info)
        return
    for key in ("root", "index_dir", "documents", "chunks", "links", "chunker_version",
                "schema_version"):
        click.echo(f"{key:16} {info[key]}")
    click.echo(f"{'size':16} {info['bytes'] / 1e6:.1f} MB")
    age = info["last_sync_age_s"]
    click.echo(f"{'last sync':16} {'never' if age is None else f'{age:.0f} s ago'}")
    for doctype, count in info["doctypes"].items():
        click.echo(f"  {doctype:14} {count}")
    for space_id, space in info["spaces"].items():
        click.echo(f"space {space_id}: {space['vectors']} vectors ({space['descriptor']})")


@contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[tuple[ProgressCallback | None,
                                                      Callable[[int, int], None] | None]]:
    """Rich progress bars on stderr (files, then chunks embedded), only on a terminal."""
    from rich.console import Console

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None, None
        return
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("indexing", total=None, visible=False)
        embed_task = bar.add_task("embedding", total=None, visible=False)

        def advance(done: int, total: int, path: str) -> None:
            bar.update(task, completed=done, total=total, visible=total >= PROGRESS_MIN_FILES,
                       description=f"indexing {path[-40:]}")

        def embedded(done: int, total: int) -> None:
            bar.update(embed_task, completed=done, total=total, visible=True,
                       description="embedding chunks")

        yield advance, embedded


def _print_summary(root: Path, report: SyncReport) -> None:
    total = len(report.added) + len(report.updated) + len(report.renamed) + len(report.unchanged)
    click.echo(f"Indexed {root}: {total} documents in {report.duration:.2f} s: "
               f"{len(report.added)} added, {len(report.updated)} updated, "
               f"{len(report.removed)} removed, {len(report.renamed)} renamed, "
               f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped, "
               f"{len(report.warnings)} warnings")
    for old, new in report.renamed:
        click.echo(f"  renamed {old} -> {new}")
    if report.vectors is not None:
        v = report.vectors
        click.echo(f"Vectors: {v['embedded']} chunks embedded ({v['cache_hits']} from cache), "
                   f"{v['removed']} removed, {v['total']} in {v['space']}")
        if v.get("truncated"):
            click.echo(f"  {v['truncated']} chunks were longer than the model's window and "
                       "truncated: their tails are not embedded (keyword search still finds "
                       "them). Lower [chunking] max_tokens to avoid it.")
    _print_problems("Skipped", report.skipped)
    _print_problems("Warnings", report.warnings)


def _print_problems(title: str, problems: Sequence[tuple[str, str]]) -> None:
    if not problems:
        return
    click.echo(f"{title}:")
    for path, why in problems[:SHOWN_PROBLEMS]:
        click.echo(f"  {path}: {why}")
    if len(problems) > SHOWN_PROBLEMS:
        click.echo(f"  ... and {len(problems) - SHOWN_PROBLEMS} more (--json lists them all)")


def lore_toml_template() -> str:
    """A lore.toml with every default setting, commented out, grouped by table.

    Generated from the settings schema, so it never goes stale; uncommenting
    any line yields valid TOML for that setting.
    """
    from lore.config import flatten_settings
    from lore.settings import Settings

    tables: dict[str, list[str]] = {}  # TOML declares each table once: group keys first
    for key, value in flatten_settings(Settings()).items():
        rendered = _toml_value(value)
        if rendered is not None:
            section, _, name = key.rpartition(".")
            tables.setdefault(section, []).append(f"# {name} = {rendered}")
    lines = ["# lore settings for this folder. Uncomment a line to change it;",
             "# `lore config` shows the effective values and where each one came from."]
    for section, entries in tables.items():
        lines += ["", f"# [{section}]", *entries]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str | None:
    """``value`` as a TOML literal, or None for values a template cannot show (unset)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return json.dumps(value)  # JSON numbers and strings are valid TOML
    if isinstance(value, (tuple, list)):
        items = [_toml_value(v) for v in value]
        return None if None in items else "[" + ", ".join(str(i) for i in items) + "]"
    if isinstance(value, dict):
        pairs = [(json.dumps(str(k)), _toml_value(v)) for k, v in value.items()]
        return None if any(v is None for _, v in pairs) else \
            "{" + ", ".join(f"{k} = {v}" for k, v in pairs) + "}"
    return None
