"""`lore config`: the effective settings and which layer set each one."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click

from lore.cli._common import find_root, root_option
from lore.cli._output import clean, echo, make_console
from lore.config import (
    PROJECT_FILE,
    LoadedSettings,
    default_settings,
    flatten_settings,
    load_settings,
    settings_to_dict,
)
from lore.paths import user_config_file


@click.command()
@root_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {settings, origins}.")
@click.option("--defaults", is_flag=True, help="Show the built-in defaults, ignoring every layer.")
@click.option("--path", "show_paths", is_flag=True,
              help="Show where the user and project config files are (and whether they exist).")
def config(root: Path | None, as_json: bool, defaults: bool, show_paths: bool) -> None:
    """Show the effective settings and where each value came from.

    Layers, lowest first: defaults < user config file < ROOT/lore.toml <
    LORE_SECTION__FIELD environment variables < command-line flags.

    \b
    Examples:
      lore config
      lore config --root ~/notes --json
      LORE_SEARCH__LIMIT=20 lore config
      lore config --path
    """
    root = find_root(root)
    if show_paths:
        _print_paths(root, as_json)
        return
    loaded = default_settings() if defaults else load_settings(root)
    if as_json:
        payload = {"settings": settings_to_dict(loaded.settings), "origins": loaded.origins}
        echo(json.dumps(payload, indent=2))
    else:
        _print_table(loaded)


def _print_paths(root: Path, as_json: bool) -> None:
    files = {"user": user_config_file(), "project": root / PROJECT_FILE}
    if as_json:
        echo(json.dumps({name: {"path": str(path), "exists": path.is_file()}
                               for name, path in files.items()}, indent=2))
        return
    for name, path in files.items():
        echo(f"{name}: {path} ({'exists' if path.is_file() else 'not found'})")


def _print_table(loaded: LoadedSettings) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table("key", "value", "origin")
    table.columns[0].no_wrap = True
    for column in table.columns[1:]:
        column.overflow = "fold"  # long paths and values wrap instead of being cut off
    for key, value in flatten_settings(loaded.settings).items():
        origin = loaded.origins[key]
        style = "dim" if origin == "default" else None
        # Text, not str: values and paths are shown verbatim, never read as rich markup.
        table.add_row(Text(key), Text(clean(_render(value))), Text(clean(origin)), style=style)
    make_console().print(table)


def _render(value: object) -> str:
    """A value as it would be written in lore.toml (unset optional values shown as such).

    Entries of an array of tables (``embed.fallback``) show only the fields that
    differ from their defaults; the full entry would fill the screen.
    """
    if value is None:
        return "(unset)"
    if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
        return json.dumps([_changed_fields(entry) for entry in value], ensure_ascii=False)
    return json.dumps(settings_to_dict(value), ensure_ascii=False)


def _changed_fields(entry: Any) -> dict[str, object]:
    defaults = settings_to_dict(type(entry)())
    return {k: v for k, v in settings_to_dict(entry).items() if v != defaults[k]}
