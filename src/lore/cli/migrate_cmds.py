"""``lore migrate``: move an index between the local store and PostgreSQL, re-embedding nothing."""

from __future__ import annotations

from contextlib import closing
from dataclasses import asdict, replace
from pathlib import Path

import click

from lore.cli._common import find_root, index_options, json_option, load_cli_settings
from lore.cli._output import echo, echo_json


@click.command()
@index_options
@click.option("--to", "to_url", metavar="URL", default=None,
              help="Copy the local index into this PostgreSQL database.")
@click.option("--from", "from_url", metavar="URL", default=None,
              help="Copy the index from this PostgreSQL database into the local store.")
@json_option
def migrate(root: Path | None, index_dir: Path | None, to_url: str | None,
            from_url: str | None, as_json: bool) -> None:
    """Copy an index between the local store and a PostgreSQL database.

    Documents, chunks, links, front matter and every stored vector are
    copied as they are: no embedding provider is called, and the target must
    not hold this root yet. The root's name in the database is the
    index.store_name setting (default: the folder's name).

    \b
    Examples:
      lore migrate --to postgresql://lore:secret@db.example/lore
      lore migrate --from postgresql://lore:secret@db.example/lore --root ~/notes
    """
    from lore.index import open_store, resolve_index_dir
    from lore.migrate import copy_index

    if (to_url is None) == (from_url is None):
        raise click.UsageError("Give exactly one of --to URL or --from URL.")
    folder = find_root(root)
    settings = load_cli_settings(folder)
    directory = resolve_index_dir(folder, settings, index_dir)
    local = replace(settings, index=replace(settings.index, store=""))
    remote = replace(settings, index=replace(settings.index, store=to_url or from_url or ""))
    source_settings, target_settings = (local, remote) if to_url else (remote, local)
    with closing(open_store(folder, source_settings, directory, create=False)) as source, \
            closing(open_store(folder, target_settings, directory, create=True)) as target:
        report = copy_index(source, target)
    if as_json:
        echo_json(asdict(report))
        return
    echo(f"Copied {report.documents:,} documents, {report.chunks:,} chunks and "
         f"{report.vectors:,} vectors ({len(report.spaces)} embedding space(s)) in "
         f"{report.seconds:.1f} s; nothing was embedded.")
