"""``lore init``, ``lore index`` and ``lore status``: make, update and inspect an index."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lore.cli._common import (
    index_dir_option,
    index_options,
    json_option,
    no_server_option,
    open_cli_index,
    pick_root,
    root_argument,
    root_option,
    store_option,
    with_reader,
)
from lore.cli._index_progress import index_progress, plan_line
from lore.cli._output import Printer, echo, echo_json, make_console, notice

if TYPE_CHECKING:
    from lore.index import Index
    from lore.sync import SyncReport

# The human summary lists this many skipped files / warnings; --json has them all.
SHOWN_PROBLEMS = 20


@click.command()
@root_argument
@root_option
@index_dir_option
@store_option
def init(root_arg: Path | None, root: Path | None, index_dir: Path | None) -> None:
    """Create an empty index and a commented lore.toml in ROOT (default: .).

    An existing lore.toml is left untouched. Every line of the new one is a
    commented-out default: uncomment a line to change that setting.

    \b
    Example:
      lore init ~/notes
    """
    from lore.config import PROJECT_FILE
    from lore.errors import ConfigError

    folder = pick_root(root_arg, root) or Path.cwd()
    if not folder.expanduser().exists():
        # init makes the index, not the folder: the next step is the folder, not `lore index`.
        where = shlex.quote(str(folder))
        raise ConfigError(f"The folder {folder} does not exist. Check the path, or create the "
                          f"folder first: mkdir -p {where} && lore init {where}")
    with open_cli_index(folder, index_dir, create=True) as index:
        config = index.root / PROJECT_FILE
        if config.exists():
            echo(f"Kept the existing {config}")
        else:
            config.write_text(lore_toml_template(), encoding="utf-8")
            echo(f"Wrote {config} (every setting commented out at its default)")
        echo(f"Index directory: {index.index_dir}")
        echo(f"Next: lore index {index.root}")


@click.command()
@root_argument
@root_option
@index_dir_option
@store_option
@json_option
@click.option("--quiet", "-q", is_flag=True, help="Print nothing unless something fails.")
@click.option("--no-embed", is_flag=True,
              help="Only update the catalog (keyword search); embed on a later run.")
@click.option("--rebuild-vectors", is_flag=True,
              help="Re-embed everything with the configured model when it differs from the "
                   "index's; the old vectors serve searches until the new ones are complete.")
def index(root_arg: Path | None, root: Path | None, index_dir: Path | None, as_json: bool,
          quiet: bool, no_embed: bool, rebuild_vectors: bool) -> None:
    """Index (or re-index) the Markdown files under ROOT.

    ROOT defaults to $LORE_ROOT, else the nearest folder at or above the
    current one that holds an index, else the current folder. Only new and
    changed files are read again; removed files leave the index, and moved
    files are recognised by their content. Files that cannot be indexed are
    listed with the reason. New chunks are then embedded with the configured
    model (the default local model is fetched on first use) so that hybrid
    search works; an embedding cache makes re-embedding free. The first
    index of a large folder embeds for minutes: the plan and the progress
    (chunks/s, time left) go to stderr, and keyword search works meanwhile.

    \b
    Examples:
      lore index ~/notes
      lore index --no-embed            # keyword index only, no model needed
      lore index --rebuild-vectors     # after changing [embed] settings
      lore index --json | jq '.skipped'
    """
    flags = {"embed.enabled": False} if no_embed else None
    with open_cli_index(pick_root(root_arg, root), index_dir, create=True, flags=flags) as idx:
        plan = plan_line if quiet else _plan(idx)
        with index_progress(enabled=not quiet, plan=plan) as (progress, embed_progress):
            report = idx.sync(progress=progress, rebuild_vectors=rebuild_vectors,
                              embed_progress=embed_progress, on_wait=notice)
        held = _active_vectors(idx)
    for line in report.notices:
        notice(line)
    if as_json:
        echo_json({"root": str(idx.root), **report.to_dict()})
    elif not quiet:
        _print_summary(idx.root, report, held)


@click.command()
@index_options
@json_option
@click.option("--warnings", "show_warnings", is_flag=True,
              help="List every indexed file's warnings and every id shared by several files.")
@no_server_option
def status(root: Path | None, index_dir: Path | None, as_json: bool,
           show_warnings: bool, no_server: bool) -> None:
    """Show what the index holds: documents, chunks, types, vectors, last sync.

    The index is the one at or above the current folder, or --root's.
    Vectors are counted as in `lore index`: one per chunk plus one pooled
    vector per document with several chunks.

    \b
    Examples:
      lore status --root ~/notes
      lore status --warnings
      LORE_ROOT=~/notes lore status --json
    """
    info, problems = with_reader(root, index_dir, no_server,
                                 lambda idx: (idx.status(), idx.warnings()))
    write_status(Printer(make_console()), info, problems, as_json=as_json,
                 show_warnings=show_warnings)


def write_status(printer: Printer, info: dict[str, Any], problems: dict[str, Any], *,
                 as_json: bool, show_warnings: bool) -> None:
    """Print ``lore status`` from ``Index.status`` and ``Index.warnings`` (shared with a server)."""
    if as_json:
        printer.json(info | {"warnings": [{"path": p, "message": m} for p, m in problems["files"]],
                             "duplicate_ids": problems["duplicate_ids"]})
        return
    if show_warnings:
        _print_warnings(printer, problems["files"], problems["duplicate_ids"])
        return
    if info.get("server"):
        printer.line(f"{'server':16} {info['server']} (generation {info['generation']})")
    for key in ("root", "index_dir", "documents", "chunks", "links", "chunker_version",
                "schema_version"):
        printer.line(f"{key:16} {info[key]}")
    printer.line(f"{'size':16} {info['bytes'] / 1e6:.1f} MB")
    age = info["last_sync_age_s"]
    printer.line(f"{'last sync':16} {'never' if age is None else f'{age:.0f} s ago'}")
    for doctype, count in info["doctypes"].items():
        printer.line(f"  {doctype:14} {count}")
    for space_id, space in info["spaces"].items():
        printer.line(f"space {space_id}: {_vectors_phrase(space)} ({space['descriptor']})")
    count = len(problems["files"]) + len(problems["duplicate_ids"])
    if count:
        printer.line(f"{'warnings':16} {count} (`lore status --warnings` lists them)")


def _plan(idx: Index) -> Callable[[int], str]:
    """The plan line's wording: the configured model, and the space it replaces if any.

    A changed model (or precision, prefixes, ...) builds a new space beside the
    old one; the plan says so, and how long the catalogue model's measured speed
    makes it. An embedder that cannot be built gets the plain plan: ``sync``
    then reports why in its notices.
    """
    from lore.embed.base import EmbeddingSpace
    from lore.errors import MissingDependencyError, ModelNotFoundError, ProviderError

    if not idx.settings.embed.enabled:
        return plan_line
    try:
        space = idx.embedding_runner().space
    except (ModelNotFoundError, MissingDependencyError, ProviderError):
        return plan_line
    info = idx.status()
    held, beside = info["active_space"], None
    if held is not None and held != space.id:
        beside = EmbeddingSpace(**json.loads(info["spaces"][held]["descriptor"])).describe()
    return partial(plan_line, model=space.model, beside=beside)


def _active_vectors(idx: Index) -> dict[str, int] | None:
    """The active space's vector counts, exactly as ``lore status`` shows them."""
    info = idx.status()
    return info["spaces"].get(info["active_space"]) if info["active_space"] else None


def _vectors_phrase(space: dict[str, int]) -> str:
    return (f"{space['vectors']:,} vectors ({space['chunk_vectors']:,} chunk, "
            f"{space['document_vectors']:,} document)")


def _print_summary(root: Path, report: SyncReport, held: dict[str, int] | None) -> None:
    total = len(report.added) + len(report.updated) + len(report.renamed) + len(report.unchanged)
    echo(f"Indexed {root}: {total} documents in {report.duration:.2f} s: "
         f"{len(report.added)} added, {len(report.updated)} updated, "
         f"{len(report.removed)} removed, {len(report.renamed)} renamed, "
         f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped, "
         f"{len(report.warnings)} warnings")
    for old, new in report.renamed:
        echo(f"  renamed {old} -> {new}")
    if report.vectors is not None:
        v = report.vectors
        echo(f"Vectors: {v['embedded']} chunks embedded ({v['cache_hits']} from cache), "
             f"{v['removed']} removed; {_vectors_phrase(held) if held else '0 vectors'} "
             f"in {v['space']}")
        if v.get("truncated"):
            echo(f"  {v['truncated']} chunks were longer than the model's window and "
                 "truncated: their tails are not embedded (keyword search still finds "
                 "them). Set [chunking] fit_window = true to cut them to fit, or lower "
                 "[chunking] max_tokens.")
    _print_problems("Skipped", report.skipped)
    _print_problems("Warnings", report.warnings)
    if report.duplicate_ids:
        n = len(report.duplicate_ids)
        echo(f"{n} id{' is' if n == 1 else 's are'} used by more than one file, so looking "
             f"{'it' if n == 1 else 'one'} up is ambiguous; `lore status --warnings` lists "
             f"{'it' if n == 1 else 'them'}.")


def _print_problems(title: str, problems: Sequence[tuple[str, str]]) -> None:
    if not problems:
        return
    echo(f"{title}:")
    for path, why in problems[:SHOWN_PROBLEMS]:
        echo(f"  {path}: {why}")
    if len(problems) > SHOWN_PROBLEMS:
        echo(f"  ... and {len(problems) - SHOWN_PROBLEMS} more (--json lists them all)")


def _print_warnings(printer: Printer, files: Sequence[tuple[str, str]],
                    duplicates: dict[str, list[str]]) -> None:
    if not files and not duplicates:
        printer.line("No warnings.")
    for path, message in files:
        printer.line(f"{path}: {message}")
    for doc_id, paths in duplicates.items():
        printer.line(f"duplicate id {doc_id} ({len(paths)} files; give each its own id):")
        for path in paths:
            printer.line(f"  {path}")


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
