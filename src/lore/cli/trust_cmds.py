"""`lore trust`: allow one folder's lore.toml to name API keys and remote endpoints."""

from __future__ import annotations

from pathlib import Path

import click

from lore.cli._output import echo


@click.command()
@click.argument("root", type=click.Path(file_okay=False, exists=True, path_type=Path))
def trust(root: Path) -> None:
    """Trust ROOT's lore.toml to choose an api_key_env or a non-local endpoint.

    A project's lore.toml cannot, by default, read an environment variable of
    its choosing as an API key, or send document and query text off this
    machine: a cloned repository would otherwise do so with your credentials.
    Run this once for a folder whose lore.toml you wrote or checked.

    \b
    Example:
      lore trust ~/work/team-notes
    """
    from lore.trust import trust_root

    path = trust_root(root)
    echo(f"trusted {root.expanduser().resolve()} (recorded in {path})")
