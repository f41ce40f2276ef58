"""The ``lore`` command: a click group whose commands load on demand.

Each command lives in a module of this package and is imported only when it
runs (or when ``--help`` lists it), so ``lore --help`` stays instant. This is
also the one place a ``LoreError`` becomes a ``click.ClickException``.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

import click

from lore.cli._output import clean
from lore.errors import LoreError

# command name -> "module:attribute" inside lore.cli
COMMANDS: dict[str, str] = {
    "init": "index_cmds:init",
    "index": "index_cmds:index",
    "status": "index_cmds:status",
    "search": "search_cmds:search",
    "show": "doc_cmds:show",
    "related": "doc_cmds:related",
    "config": "config_cmds:config",
    "eval": "eval_cmds:eval_command",
    "embed": "embed_cmds:embed",
    "doctor": "embed_cmds:doctor",
    "cache": "embed_cmds:cache",
    "models": "models_cmds:models",
    "migrate": "migrate_cmds:migrate",
    "serve": "serve_cmds:serve",
    "mcp": "serve_cmds:mcp_command",
    "watch": "serve_cmds:watch",
}


class LazyGroup(click.Group):
    """A group that imports each command's module only when it is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        command = getattr(importlib.import_module(f"lore.cli.{module}"), attr)
        assert isinstance(command, click.Command)
        return command

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0]) if args else ""
        if args and name not in COMMANDS and not name.startswith("-"):
            close = difflib.get_close_matches(name, COMMANDS, n=3, cutoff=0.6)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint} `lore --help` lists the commands.")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LoreError as exc:
            raise click.ClickException(clean(exc)) from exc


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lore")
@click.option("--store", metavar="URL", default=None,
              help="Keep the index in this PostgreSQL database instead of ROOT/.lore "
                   "(postgresql://user:password@host/db; also LORE_STORE or [index] store).")
@click.pass_context
def main(ctx: click.Context, store: str | None) -> None:
    """lore: local-first hybrid search for a folder of Markdown.

    \b
    Examples:
      lore index ~/notes
      lore search "embedding cache invalidation" --root ~/notes
      lore search "type:ADR vector store" --json
      lore --store postgresql://lore@db/lore search "release checklist"
    """
    # A flag layer every command's settings load applies (lore.cli._common).
    ctx.obj = {"index.store": store} if store else {}
