"""`lore embed`, `lore doctor`, `lore cache`: look at the embedding layer directly.

Imports of the embedding modules stay inside the command bodies, so listing
commands never loads numpy, and `lore embed "hi" --provider hashing` loads
only what the hashing provider needs.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lore.cli._common import json_option, load_cli_settings, root_option
from lore.cli._output import counted, echo, echo_json

if TYPE_CHECKING:
    from lore.embed.base import EmbeddingSpace
    from lore.settings import EmbedSettings, ProviderSettings

_SHOWN = 4  # leading and trailing components shown per vector in text mode
_PROBE = "lore doctor: is this embedder alive?"


@click.command()
@click.argument("texts", nargs=-1, required=True)
@click.option("--kind", type=click.Choice(["query", "document"]), default="query",
              show_default=True, help="Embed as a query or as a document (selects the prefix).")
@click.option("--provider", default=None,
              help="Use this provider instead of the configured primary (fallbacks dropped).")
@root_option
@json_option
def embed(texts: tuple[str, ...], kind: str, provider: str | None, root: Path | None,
          as_json: bool) -> None:
    """Embed TEXTS with the configured embedder and print the vectors.

    Prints the embedding space, its dimensions and each vector (shortened;
    --json prints them in full).

    \b
    Examples:
      lore embed "vector cache invalidation"
      lore embed "hi" --provider hashing --json
      lore embed "ADR-0009 storage" --kind document
    """
    from lore.embed.runner import EmbeddingRunner

    flags = {"embed.primary.provider": provider}
    e = load_cli_settings(root, flags).embed
    if provider is not None:
        e = dataclasses.replace(e, fallback=())
    runner = EmbeddingRunner.from_settings(e)
    vectors = runner.embed(list(texts), "query" if kind == "query" else "document")
    space = runner.space
    if as_json:
        echo_json({"space": _space_json(space), "kind": kind,
                   "vectors": [{"text": t, "vector": [float(x) for x in v]}
                               for t, v in zip(texts, vectors)]})
        return
    echo(f"space: {space.describe()}")
    echo(f"dimensions: {space.dimensions}")
    for text, vector in zip(texts, vectors):
        head = ", ".join(f"{x:+.4f}" for x in vector[:_SHOWN])
        tail = ", ".join(f"{x:+.4f}" for x in vector[-_SHOWN:])
        echo(f"{text!r}: [{head}, ..., {tail}] (norm {float((vector ** 2).sum()) ** .5:.3f})")


@click.command()
@root_option
@json_option
def doctor(root: Path | None, as_json: bool) -> None:
    """Check every configured embedding provider, live, and the cache.

    For the primary and each fallback: is it installed, can it be built
    (model files, keys, settings), and does a tiny embed work (with timing).
    Exits with status 1 when the primary provider does not work.

    \b
    Examples:
      lore doctor
      lore doctor --root ~/notes --json
    """
    from lore.embed.registry import available_providers

    e = load_cli_settings(root).embed
    report: dict[str, Any] = {
        "offline": e.offline,
        "configured": [_check_provider(where, p, e) for where, p in _members(e)],
        "installed": [dataclasses.asdict(info) for info in available_providers()],
        "cache": _cache_report(e),
    }
    if as_json:
        echo_json(report)
    else:
        _print_doctor(report)
    if e.enabled and not report["configured"][0]["ok"]:
        raise click.exceptions.Exit(1)


@click.group()
def cache() -> None:
    """Inspect or empty the embedding cache shared by all indexes.

    \b
    Examples:
      lore cache stats
      lore cache clear --space 3f2a9c0d1e4b5a6f
    """


@cache.command("stats")
@json_option
def cache_stats(as_json: bool) -> None:
    """Show the cache file, its size, and how many vectors each space holds.

    \b
    Example:
      lore cache stats --json
    """
    from lore.embed.cache import EmbeddingCache

    stats = EmbeddingCache().stats()
    if as_json:
        echo_json({"path": str(stats.path), "bytes": stats.bytes, "entries": stats.entries})
        return
    echo(f"cache: {stats.path} ({stats.bytes / 1e6:.1f} MB, "
               f"{counted(stats.total_entries, 'vector')})")
    for space_id, count in stats.entries.items():
        echo(f"  {space_id}: {count}")


@cache.command("clear")
@click.option("--space", "space_id", default=None, help="Only drop this space id's vectors.")
def cache_clear(space_id: str | None) -> None:
    """Delete cached vectors (all, or one space's); they are recomputed on demand.

    An unknown --space is an error that lists the spaces the cache holds.

    \b
    Examples:
      lore cache clear
      lore cache clear --space 3f2a9c0d1e4b5a6f
    """
    from lore.embed.cache import EmbeddingCache

    cache = EmbeddingCache()
    known = cache.stats().entries
    if space_id is not None and space_id not in known:
        listing = ", ".join(f"{space} ({counted(count, 'vector')})"
                            for space, count in known.items())
        raise click.ClickException(
            f"The cache holds no space {space_id!r}; it holds "
            f"{listing or 'no vectors at all'}. `lore cache stats` lists them.")
    removed = cache.clear(space_id)
    scope = f"space {space_id}" if space_id else "all spaces"
    echo(f"removed {counted(removed, 'cached vector')} ({scope})")


def _members(e: EmbedSettings) -> list[tuple[str, ProviderSettings]]:
    return [("primary", e.primary),
            *((f"fallback {n}", p) for n, p in enumerate(e.fallback, start=1))]


def _check_provider(where: str, p: ProviderSettings, e: EmbedSettings) -> dict[str, Any]:
    """Build one provider and embed a probe text; never raises a LoreError."""
    from lore.embed.chain import check_offline
    from lore.embed.registry import get_embedder
    from lore.embed.runner import EmbeddingRunner
    from lore.errors import LoreError

    result: dict[str, Any] = {"where": where, "provider": p.provider, "model": p.model,
                              "ok": False, "space": None, "embed_ms": None, "error": None}
    try:
        check_offline(dataclasses.replace(e, primary=p, fallback=()))
        embedder = get_embedder(p, offline=e.offline)   # never fetch a model offline
        result["space"] = _space_json(embedder.space)
        start = time.perf_counter()
        EmbeddingRunner(embedder).embed([_PROBE], "query")
        result["embed_ms"] = round((time.perf_counter() - start) * 1000, 1)
        result["ok"] = True
    except LoreError as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    return result


def _cache_report(e: EmbedSettings) -> dict[str, Any]:
    from lore.embed.cache import EmbeddingCache
    from lore.errors import LoreError

    try:
        stats = EmbeddingCache().stats()
    except LoreError as exc:
        return {"enabled": e.cache, "error": str(exc)}
    return {"enabled": e.cache, "path": str(stats.path), "bytes": stats.bytes,
            "entries": stats.entries}


def _space_json(space: EmbeddingSpace) -> dict[str, Any]:
    return {"id": space.id, "label": space.describe(), **dataclasses.asdict(space)}


def _print_doctor(report: dict[str, Any]) -> None:
    echo(f"offline: {report['offline']}")
    for item in report["configured"]:
        mark = "ok  " if item["ok"] else "FAIL"
        echo(f"[{mark}] {item['where']}: {item['provider']} ({item['model']})")
        if item["space"]:
            echo(f"       space {item['space']['label']}")
        if item["ok"]:
            echo(f"       live embed: {item['embed_ms']} ms")
        else:
            echo(f"       {item['error']}")
    echo("installed providers:")
    for info in report["installed"]:
        state = "yes" if info["available"] else f"no: {info['reason']}"
        echo(f"  {info['name']}: {state}")
    c = report["cache"]
    if "error" in c:
        echo(f"cache: {c['error']}")
    else:
        total = sum(c["entries"].values())
        echo(f"cache ({'on' if c['enabled'] else 'off'}): {c['path']}, "
                   f"{c['bytes'] / 1e6:.1f} MB, {total} vectors in {len(c['entries'])} spaces")
