"""What every ``lore`` command shares: the root/index options, opening the index, JSON out.

Commands only parse, call the library and format; the parts that would
otherwise be copied into each command module live here, so ``--root`` means
the same thing (and reads the same env var) everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, Union

import click

if TYPE_CHECKING:
    from lore.index import Index
    from lore.remote import RemoteIndex
    from lore.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
Reader = Union["Index", "RemoteIndex"]

root_option = click.option(
    "--root", type=click.Path(path_type=Path), envvar="LORE_ROOT", default=".",
    show_default=True, show_envvar=True, help="The folder of documents.")
index_dir_option = click.option(
    "--index-dir", type=click.Path(file_okay=False, path_type=Path), envvar="LORE_INDEX_DIR",
    default=None, show_envvar=True,
    help="Where the index lives [default: ROOT/<index.dir setting>, i.e. ROOT/.lore].")
no_server_option = click.option(
    "--no-server", is_flag=True, envvar="LORE_NO_SERVER",
    help="Answer in this process even when a `lore serve` for ROOT is running.")
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")


def index_options(func: F) -> F:
    """``--root`` and ``--index-dir``, for commands that work on an existing index."""
    return root_option(index_dir_option(func))


def load_cli_settings(root: Path, flags: Mapping[str, object] | None = None) -> Settings:
    """The layered settings for ``root`` (defaults < user file < lore.toml < env < flags)."""
    from lore.config import load_settings

    project = root if root.is_dir() else None
    return load_settings(project, flags=flags).settings


def open_cli_index(root: Path, index_dir: Path | None, *, create: bool = False,
                   flags: Mapping[str, object] | None = None) -> Index:
    """Load the settings for ``root`` and open its index.

    Raises:
        ConfigError: the root is missing or a setting is bad.
        IndexNotFoundError: ``create`` is false and ``lore index`` never ran there.
    """
    from lore.index import open_index

    root = root.expanduser().absolute()
    return open_index(root, settings=load_cli_settings(root, flags), index_dir=index_dir,
                      create=create)


def with_reader(root: Path, index_dir: Path | None, no_server: bool,
                read: Callable[[Reader], T]) -> T:
    """``read(reader)`` through a running ``lore serve`` for ROOT, else in-process.

    The server is found through the ``server.json`` it keeps in the index
    folder. If it does not answer (or cannot do what was asked), the same
    ``read`` runs on the index opened here, so the output does not depend on
    whether a server is up.
    """
    if not no_server:
        from lore.paths import index_dir_for
        from lore.remote import RemoteUnavailable, find_server

        root = root.expanduser().absolute()
        settings = load_cli_settings(root)
        remote = find_server(root, index_dir_for(root, settings.index.dir, index_dir))
        if remote is not None:
            try:
                with remote:
                    return read(remote)
            except RemoteUnavailable:
                pass
    with open_cli_index(root, index_dir) as idx:
        return read(idx)


def echo_json(payload: Any) -> None:
    """Write ``payload`` to stdout as indented JSON (non-JSON values as strings)."""
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
