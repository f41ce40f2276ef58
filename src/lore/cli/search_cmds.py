"""``lore search``: query an index and print ranked hits or a context pack.

The command parses flags into a ``SearchCall`` and prints its answer with
``_search_answer`` (which a server's fast path for this command shares); all
ranking lives in ``lore.search``. Human output is laid out by
``_hits_format``; ``--json`` prints one envelope (query, mode, hits,
notices) so a script sees degraded-mode notices next to the hits they
qualify, and ``--fail-empty`` exits 1 on no hits, as grep does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from lore.cli._common import index_options, json_option, no_server_option, with_reader
from lore.cli._output import Printer, make_console
from lore.cli._query_args import QueryCommand, query_words
from lore.cli._search_answer import SearchCall, write_answer

if TYPE_CHECKING:
    from lore.types import SearchMode


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


@click.command(cls=QueryCommand)
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
              help="Token budget of the context pack; implies --context "
                   "[default: the graph.context_tokens setting].")
@click.option("--force", is_flag=True,
              help="Search vectors even if the configured embedder differs from the index's.")
@click.option("--fail-empty", is_flag=True,
              help="Exit with status 1 when nothing matches (as grep does).")
@no_server_option
@json_option
def search(query: tuple[str, ...], root: Path | None, index_dir: Path | None,
           limit: int | None, filters: dict[str, list[str]], chunks: bool, mode: SearchMode | None,
           explain: bool, expand: bool, context: bool, budget: int | None, force: bool,
           fail_empty: bool, no_server: bool, as_json: bool) -> None:
    """Search the index for QUERY (the index at or above the current folder, or --root).

    QUERY is free text. Inside it, KEY:VALUE filters on a front matter field
    (type:ADR, state:Done, state:"In Progress"), "quoted words" match as a
    phrase, -word excludes documents containing it, word* matches a prefix,
    and an id puts that document first: KABSD-TSK-0350, TSK-0350, 0350 (all
    candidates when several match), KABSD-TSK-0060@019b8f52, a uid or its
    first 8+ characters. A filter value that nothing indexed has is matched
    to the plausible one, with a notice (type:story finds UserStory,
    state:in-progress finds InProgress); a key, or a value with nothing
    close, is an error that lists the known ones. Chinese and Japanese match
    inside unspaced text.
    Options may come before or after the query; a -word that is not an
    option of this command is always a query word, so no `--` is needed.
    While `lore serve` runs for the root, the search runs in that warm
    server (same hits, no model load); --no-server runs it here.

    With --json the output is one object: query, mode, limit, filters, count,
    hits (each with "stale": true when its file was deleted since the last
    `lore index`) and notices (why the search ran degraded, if it did).

    \b
    Examples:
      lore search "embedding cache invalidation"
      lore search type:ADR vector store --root ~/notes
      lore search KABSD-TSK-0350 --expand
      lore search sqlite --filter state=Done --filter type=Task --json
      lore search "vector store" --mode keyword --explain
      lore search "how are ids resolved" --context --budget 1500
      lore search -draft "release checklist" -n 4
      lore search "TODO" --fail-empty -n 1 >/dev/null || echo "nothing left"
    """
    text = query_words(query).strip()
    if not text:
        raise click.UsageError("Empty query: give the words to search for, e.g. "
                               "`lore search \"release checklist\"`.")
    call = SearchCall(text, limit=limit, filters=filters, chunks=chunks, mode=mode,
                      explain=explain, expand=expand, context=context or budget is not None,
                      budget=budget, force=force)
    answer = with_reader(root, index_dir, no_server, call.run)
    write_answer(answer, Printer(make_console()), as_json=as_json, explain=explain)
    if fail_empty and not answer.found:
        raise click.exceptions.Exit(1)
