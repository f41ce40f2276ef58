"""What every ``lore`` command shares: finding the root, the root/index options, opening it.

Commands only parse, call the library and format; the parts that would
otherwise be copied into each command module live here, so ``--root`` means
the same thing (and reads the same env var) everywhere, and every command
finds the index the same way: ``--root`` / ``LORE_ROOT`` when given, else
the nearest folder at or above the current one that holds an index or a
``lore.toml`` (as git finds its repository), else the current folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, Union

import click

if TYPE_CHECKING:
    from lore.index import Index
    from lore.remote import RemoteIndex
    from lore.settings import Settings

__all__ = ["find_root", "index_options", "json_option", "load_cli_settings",
           "no_server_option", "open_cli_index", "pick_root", "root_argument", "root_option",
           "store_option", "with_reader"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
Reader = Union["Index", "RemoteIndex"]

root_option = click.option(
    "--root", type=click.Path(path_type=Path), envvar="LORE_ROOT", default=None,
    show_envvar=True,
    help="The folder of documents [default: the nearest folder at or above the current "
         "one holding an index or a lore.toml, else the current folder].")
# Commands that name a folder as their subject (init, index) take it positionally too.
root_argument = click.argument("root_arg", metavar="[ROOT]", required=False,
                               type=click.Path(path_type=Path))
index_dir_option = click.option(
    "--index-dir", type=click.Path(file_okay=False, path_type=Path), envvar="LORE_INDEX_DIR",
    default=None, show_envvar=True,
    help="Where the index lives [default: ROOT/<index.dir setting>, i.e. ROOT/.lore].")
no_server_option = click.option(
    "--no-server", is_flag=True, envvar="LORE_NO_SERVER",
    help="Answer in this process even when a `lore serve` for the root is running.")
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")


def _remember_store(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """Put a command's ``--store`` where ``load_cli_settings`` reads ``lore --store``."""
    if value is not None:
        top = ctx.find_root()
        top.obj = {**(top.obj or {}), "index.store": value}


store_option = click.option(
    "--store", metavar="URL", default=None, expose_value=False, callback=_remember_store,
    help="Keep the index in this PostgreSQL database instead of ROOT/.lore "
         "(postgresql://user:password@host/db; also LORE_STORE or [index] store).")


def index_options(func: F) -> F:
    """``--root``, ``--index-dir`` and ``--store``, for commands that work on an existing
    index (``--store`` also works before the command: ``lore --store URL search ...``)."""
    return root_option(index_dir_option(store_option(func)))


def pick_root(positional: Path | None, option: Path | None) -> Path | None:
    """The root named by a positional ROOT or ``--root``; both must agree when both are given.

    Raises:
        click.UsageError: they name different folders.
    """
    if positional is not None and option is not None and \
            positional.expanduser().absolute() != option.expanduser().absolute():
        raise click.UsageError(f"ROOT {positional} and --root {option} disagree; give one.")
    return positional if positional is not None else option


def find_root(root: Path | None, *, start: Path | None = None) -> Path:
    """``root`` when given, else the nearest enclosing folder with an index, else ``start``.

    A folder counts when it holds ``lore.toml`` or ``<index.dir>/catalog.sqlite``
    (``index.dir`` as the user config and environment set it, ``.lore`` by
    default). An absolute ``index.dir`` belongs to one root only, so then
    nothing is searched for.

    Args:
        root: the folder given by ``--root``, ``LORE_ROOT`` or a positional ROOT.
        start: where the walk begins (default: the current folder).
    """
    if root is not None:
        return root.expanduser().absolute()
    from lore.config import PROJECT_FILE, load_settings
    from lore.store.catalog import CATALOG_FILE

    here = (start or Path.cwd()).absolute()
    index_dir = Path(load_settings(None).settings.index.dir).expanduser()
    if index_dir.is_absolute():
        return here
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file() or (folder / index_dir / CATALOG_FILE).is_file():
            return folder
    return here


def load_cli_settings(root: Path | None, flags: Mapping[str, object] | None = None) -> Settings:
    """The layered settings for ``root`` (defaults < user file < lore.toml < env < flags).

    Flags given to ``lore`` itself (``lore --store URL ...``) join the command's own.
    """
    from lore.config import load_settings

    context = click.get_current_context(silent=True)
    group_flags = (context.find_root().obj or {}) if context is not None else {}
    folder = find_root(root)
    return load_settings(folder if folder.is_dir() else None,
                         flags={**group_flags, **(flags or {})}).settings


def open_cli_index(root: Path | None, index_dir: Path | None, *, create: bool = False,
                   flags: Mapping[str, object] | None = None) -> Index:
    """Find the root (see ``find_root``), load its settings and open its index.

    Raises:
        ConfigError: the root is missing or a setting is bad.
        IndexNotFoundError: ``create`` is false and ``lore index`` never ran there.
    """
    from lore.errors import IndexNotFoundError
    from lore.index import open_index

    folder = find_root(root)
    try:
        return open_index(folder, settings=load_cli_settings(folder, flags),
                          index_dir=index_dir, create=create)
    except IndexNotFoundError as exc:
        if root is not None or index_dir is not None:
            raise
        raise IndexNotFoundError(
            f"No lore index in {folder} or any folder above it. Index the folder of "
            "documents with `lore index FOLDER`, or point at it with --root / LORE_ROOT."
        ) from exc


def with_reader(root: Path | None, index_dir: Path | None, no_server: bool,
                read: Callable[[Reader], T]) -> T:
    """``read(reader)`` through a running ``lore serve`` for the root, else in-process.

    The server is found through the ``server.json`` it keeps in the index
    folder. If it does not answer (or cannot do what was asked), the same
    ``read`` runs on the index opened here, so the output does not depend on
    whether a server is up. ``read`` must only compute, not print.
    """
    if not no_server:
        from lore.paths import index_dir_for
        from lore.remote import RemoteUnavailable, find_server

        folder = find_root(root)
        settings = load_cli_settings(folder)
        remote = find_server(folder, index_dir_for(folder, settings.index.dir, index_dir),
                             settings)
        if remote is not None:
            try:
                with remote:
                    return read(remote)
            except RemoteUnavailable:
                pass
    with open_cli_index(root, index_dir) as idx:
        return read(idx)
