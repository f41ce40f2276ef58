"""``lore search`` and ``lore show``: query an index and read one document.

Commands parse flags, call ``Index.search`` / ``Index.get`` and format; all
ranking lives in ``lore.search``. Human output uses rich (highlights in bold
on a terminal, ``[term]`` marks when piped); ``--json`` prints the stable
``Hit.to_json()`` / ``DocumentRecord.to_dict()`` shapes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lore.cli._common import echo_json, index_options, json_option, open_cli_index

if TYPE_CHECKING:
    from rich.console import Console

    from lore.search.hits import Hit
    from lore.store.records import DocumentRecord


def parse_filters(_ctx: click.Context, _param: click.Parameter,
                  values: tuple[str, ...]) -> dict[str, list[str]]:
    """Turn repeated ``--filter KEY=VALUE`` into key -> values (a click callback)."""
    filters: dict[str, list[str]] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE, e.g. --filter type=ADR.")
        filters.setdefault(key.strip(), []).append(value.strip())
    return filters


@click.command()
@click.argument("query", nargs=-1, required=True)
@index_options
@click.option("--limit", "-n", type=click.IntRange(min=1), default=None,
              help="How many hits [default: the search.limit setting, 10].")
@click.option("--filter", "-f", "filters", multiple=True, callback=parse_filters,
              metavar="KEY=VALUE",
              help="Only documents whose front matter KEY equals VALUE (case-insensitive). "
                   "Repeat: different keys must all match, the same key any of its values.")
@click.option("--chunks", is_flag=True, help="One hit per matching chunk, not per document.")
@click.option("--mode", type=click.Choice(["keyword", "hybrid", "vector"]), default=None,
              help="Which legs rank the hits [default: the search.mode setting].")
@click.option("--explain", is_flag=True,
              help="Show which legs found each hit, at which rank, and the boosts applied.")
@click.option("--expand", is_flag=True,
              help="Also list documents linked to the top hits (parent, decisions, blockers...).")
@click.option("--context", "context", is_flag=True,
              help="Print a context pack for an agent: the best passages plus their parents "
                   "and decisions, within --budget tokens.")
@click.option("--budget", type=click.IntRange(min=1), default=None,
              help="Token budget of --context [default: the graph.context_tokens setting].")
@click.option("--force", is_flag=True,
              help="Search vectors even if the configured embedder differs from the index's.")
@json_option
def search(query: tuple[str, ...], root: Path, index_dir: Path | None, limit: int | None,
           filters: dict[str, list[str]], chunks: bool, mode: str | None, explain: bool,
           expand: bool, context: bool, budget: int | None, force: bool,
           as_json: bool) -> None:
    """Search the index of ROOT for QUERY.

    QUERY is free text. Inside it, KEY:VALUE filters on a front matter field
    (type:ADR, state:Done, state:"In Progress"), "quoted words" match as a
    phrase, -word excludes documents containing it, word* matches a prefix,
    and an id (KABSD-TSK-0350, ADR-0009, a uid) puts that document first.

    \b
    Examples:
      lore search "embedding cache invalidation" --root ~/notes
      lore search type:ADR vector store
      lore search KABSD-TSK-0350 --expand
      lore search sqlite --filter state=Done --filter type=Task --json
      lore search "vector store" --mode keyword --explain
      lore search "how are ids resolved" --context --budget 1500
      lore search -- -draft "release checklist"
    """
    with open_cli_index(root, index_dir) as idx:
        if context:
            pack = idx.context(" ".join(query), budget=budget, limit=limit,
                               filters=filters or None, mode=mode)
        else:
            hits = idx.search(" ".join(query), limit=limit, filters=filters or None,
                              chunks=chunks, mode=mode, explain=explain, force=force,
                              expand=expand)
        for notice in idx.notices:
            click.echo(f"Note: {notice}", err=True)
    if context:
        if as_json:
            echo_json(pack.to_json())
        else:
            click.echo(pack.to_markdown())
        return
    if as_json:
        echo_json([hit.to_json() for hit in hits])
        return
    console = _console()
    if not hits:
        console.print("No matches. Try fewer words, a prefix (word*) or fewer filters.")
        return
    for rank, hit in enumerate(hits, start=1):
        _print_hit(console, rank, hit, explain=explain)


@click.command()
@click.argument("id_or_path")
@index_options
@json_option
def show(id_or_path: str, root: Path, index_dir: Path | None, as_json: bool) -> None:
    """Print one indexed document: metadata, links and body.

    ID_OR_PATH is a doc id (KABSD-TSK-0350, ADR-0009; any case), a uid, or
    the file's path (relative to ROOT, or any path to a file under ROOT).

    \b
    Examples:
      lore show KABSD-TSK-0350 --root ~/backlog
      lore show decisions/ADR-0009_local-first-embedding-search.md --json
    """
    with open_cli_index(root, index_dir) as idx:
        record = idx.get(_as_relpath(id_or_path, idx.root))
    if record is None:
        raise click.ClickException(
            f"No indexed document has the id, uid or path {id_or_path!r}. "
            f"Find it with `lore search {json.dumps(id_or_path)}`, or run `lore index` "
            "if the file is new.")
    if as_json:
        echo_json(record.to_dict())
        return
    _print_document(_console(), record)


@click.command()
@click.argument("id_or_path")
@index_options
@click.option("--depth", "-d", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many link hops to follow.")
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice(["parent", "child", "blocks", "blocked_by", "relates",
                                 "decision", "decides", "mention", "mentioned_by", "wiki",
                                 "markdown", "backlink"]),
              help="Only follow these edge kinds (repeatable).")
@json_option
def related(id_or_path: str, root: Path, index_dir: Path | None, depth: int,
            kinds: tuple[str, ...], as_json: bool) -> None:
    """List the documents linked to ID_OR_PATH, with the kind of each link.

    Links come from front matter (parent, links.blocks / blocked_by / relates,
    decisions) and from the body ([[wiki]] and Markdown links, ADR ids); each
    is followed both ways, so a parent lists its children.

    \b
    Examples:
      lore related KABSD-TSK-0350
      lore related KABSD-FTR-0004 --depth 2 --kind child
      lore related ADR-0009 --json
    """
    with open_cli_index(root, index_dir) as idx:
        record = idx.get(_as_relpath(id_or_path, idx.root))
        neighbours = idx.related(record.path if record else id_or_path, depth=depth,
                                 kinds=list(kinds) or None)
        rows = [idx.link_graph().to_json(n) for n in neighbours]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(f"{id_or_path} has no resolvable links.")
        return
    for row in rows:
        edges = ", ".join(f"{via['kind']} of {via['from']}" for via in row["via"])
        click.echo(f"{'  ' * (row['depth'] - 1)}{row['doc_id']}  {row['title']}  "
                   f"[{row['doctype']}]  <- {edges}")


def _as_relpath(key: str, root: Path) -> str:
    """``key`` as a root-relative posix path when it names a file under ``root``, else as is."""
    candidate = Path(key).expanduser()
    if not candidate.is_file():
        candidate = root / key
        if not candidate.is_file():
            return key
    try:
        return candidate.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return key


def _console() -> Console:
    """A rich console on stdout that never reads text as markup or guesses highlights."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _print_hit(console: Console, rank: int, hit: Hit, *, explain: bool) -> None:
    from rich.text import Text

    head = Text(f"{rank:>2}. ")
    head.append(hit.title, style="bold")
    head.append(f"  {hit.doctype} {hit.doc_id}  score {hit.score:.4f}", style="dim")
    console.print(head)
    where = hit.path
    if hit.chunk.heading_path:
        where += "  › " + " › ".join(hit.chunk.heading_path)
    console.print(Text(f"    {where}", style="cyan"))
    if console.is_terminal:
        snippet = Text("    " + hit.snippet)
        for start, end in hit.highlights:
            snippet.stylize("bold yellow", start + 4, end + 4)
    else:
        snippet = Text("    " + hit.marked_snippet())
    console.print(snippet)
    if explain and hit.explain is not None:
        console.print(Text(f"    {_explain_line(hit.explain)}", style="dim"))
    if hit.via:
        reached = ", ".join(f"{kind} of {source}" for kind, source in hit.via)
        console.print(Text(f"    linked: {reached}", style="dim"))


def _explain_line(record: dict[str, Any]) -> str:
    """One line: each leg's rank and contribution, the boosts, and a pin."""
    legs = ", ".join(f"{name} #{leg['rank']} (+{leg['contribution']:.4f})"
                     for name, leg in record["legs"].items())
    parts = [f"legs: {legs}"]
    if record["boosts"]:
        parts.append("boosts: " + ", ".join(f"{name} {value:+.4f}"
                                            for name, value in record["boosts"].items()))
    if record["pinned"]:
        parts.append("pinned: exact id match")
    rerank = record.get("rerank")
    if rerank:
        parts.append(f"reranked: {rerank['score']:.4f}" if rerank["applied"]
                     else f"rerank skipped: {rerank['reason']}")
    return "; ".join(parts)


def _print_document(console: Console, record: DocumentRecord) -> None:
    from rich.rule import Rule
    from rich.text import Text

    console.print(Text(record.title, style="bold"))
    console.print(Text(f"{record.path}  ({record.doctype} {record.doc_id})", style="cyan"))
    for key, value in record.metadata.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        console.print(Text(f"  {key}: {shown}"))
    if record.links:
        console.print(Text("links:", style="bold"))
        for link in record.links:
            console.print(Text(f"  {link.kind} → {link.target}"))
    console.print(Rule())
    console.print(Text(record.body))
