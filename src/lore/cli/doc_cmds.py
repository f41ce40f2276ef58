"""``lore show`` and ``lore related``: one document, and the documents linked to it.

Both name a document by id, uid or path. An id that several files share is
ambiguous, and picking one silently would show the wrong document half the
time, so both commands then list the candidates and exit 1; a path always
names exactly one. A document whose file was deleted since the last sync is
still in the index: it is shown, flagged as stale.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lore.cli._common import Reader, index_options, json_option, no_server_option, with_reader
from lore.cli._output import Printer, clean, make_console

if TYPE_CHECKING:
    from rich.console import Console

    from lore.store.records import DocumentRecord


@click.command()
@click.argument("id_or_path")
@index_options
@no_server_option
@json_option
def show(id_or_path: str, root: Path | None, index_dir: Path | None, no_server: bool,
         as_json: bool) -> None:
    """Print one indexed document: metadata, links and body.

    ID_OR_PATH is a doc id (KABSD-TSK-0350, ADR-0009; any case), a uid, or
    the file's path (relative to ROOT, or any path to a file under ROOT).
    When several files share the id, nothing is shown: their paths are
    listed and the exit status is 1; show one by its path. A file deleted
    since the last `lore index` is shown from the index with a warning
    (and "stale": true in --json).

    \b
    Examples:
      lore show KABSD-TSK-0350 --root ~/backlog
      lore show decisions/ADR-0009_local-first-embedding-search.md --json
    """
    record, stale = with_reader(root, index_dir, no_server, partial(read_document, id_or_path))
    write_document(Printer(make_console()), record, stale=stale, as_json=as_json)


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
@no_server_option
@json_option
def related(id_or_path: str, root: Path | None, index_dir: Path | None, depth: int,
            kinds: tuple[str, ...], no_server: bool, as_json: bool) -> None:
    """List the documents linked to ID_OR_PATH, with the kind of each link.

    Links come from front matter (parent, links.blocks / blocked_by / relates,
    decisions) and from the body ([[wiki]] and Markdown links, ADR ids); each
    is followed both ways, so a parent lists its children. An id shared by
    several files is ambiguous, as for `lore show`.

    \b
    Examples:
      lore related KABSD-TSK-0350
      lore related KABSD-FTR-0004 --depth 2 --kind child
      lore related ADR-0009 --json
    """
    rows = with_reader(root, index_dir, no_server,
                       partial(related_rows, id_or_path, depth=depth, kinds=kinds))
    write_related(Printer(make_console()), id_or_path, rows, as_json=as_json)


def read_document(id_or_path: str, idx: Reader) -> tuple[DocumentRecord, bool]:
    """The document ``id_or_path`` names, and whether its file is gone (``lore show``)."""
    record = resolve_document(idx, id_or_path, command="show")
    return record, not (idx.root / record.path).is_file()


def write_document(printer: Printer, record: DocumentRecord, *, stale: bool,
                   as_json: bool) -> None:
    """Print ``record`` as ``lore show`` does (in-process, or in a server for the fast path)."""
    if as_json:
        printer.json({**record.to_dict(), "stale": stale})
        return
    if stale:
        printer.note(f"{record.path} was deleted since the last `lore index`; this is the "
                     "indexed copy (run `lore index` to drop it).")
    _print_document(printer.console, record)


def related_rows(id_or_path: str, idx: Reader, *, depth: int,
                 kinds: Sequence[str]) -> list[dict[str, Any]]:
    """``lore related``'s rows (as ``--json`` prints them) for the document ``id_or_path`` names."""
    from lore.remote import RemoteIndex

    path = resolve_document(idx, id_or_path, command="related").path
    if isinstance(idx, RemoteIndex):
        return idx.related_rows(path, depth=depth, kinds=list(kinds) or None)
    return [n.to_json() for n in idx.related(path, depth=depth, kinds=list(kinds) or None)]


def write_related(printer: Printer, id_or_path: str, rows: list[dict[str, Any]], *,
                  as_json: bool) -> None:
    """Print ``rows`` as ``lore related`` does: JSON, or one indented line per neighbour."""
    if as_json:
        printer.json(rows)
        return
    if not rows:
        printer.line(f"{id_or_path} has no resolvable links.")
        return
    for row in rows:
        edges = ", ".join(f"{via['kind']} of {via['from']}" for via in row["via"])
        line = clean(f"{'  ' * (row['depth'] - 1)}{row['doc_id']}  {row['title']}  "
                     f"[{row['doctype']}]  <- {edges}")
        printer.console.print(line, no_wrap=True, overflow="ellipsis")


def resolve_document(idx: Reader, id_or_path: str, *, command: str) -> DocumentRecord:
    """The one document ``id_or_path`` names; an ambiguous id's error suggests ``lore
    {command}`` with a path.

    Raises:
        click.ClickException: no document has it, or several share the id.
    """
    key = _as_relpath(id_or_path, idx.root)
    shared = {doc_id.casefold(): paths for doc_id, paths in idx.duplicate_ids().items()}
    paths = shared.get(key.casefold())
    if paths:
        listing = "\n".join(f"  {path}" for path in paths)
        raise click.ClickException(clean(
            f"{id_or_path!r} is ambiguous: {len(paths)} documents have that id:\n{listing}\n"
            f"Name one by its path, e.g. `lore {command} {paths[0]}`."))
    record = idx.get(key)
    if record is None:
        raise click.ClickException(clean(
            f"No indexed document has the id, uid or path {id_or_path!r}. "
            f"Find it with `lore search {json.dumps(id_or_path)}`, or run `lore index` "
            "if the file is new."))
    return record


def _as_relpath(key: str, root: Path) -> str:
    """``key`` as a root-relative posix path when it names a path under ``root``, else as is.

    An absolute path counts even when its file is gone, so a deleted file can
    still be shown from the index by the path the user remembers.
    """
    try:
        candidate = Path(key).expanduser()
    except (RuntimeError, ValueError):   # "~name" of no user, or with a NUL: no home folder
        candidate = Path(key)
    if not candidate.is_absolute():
        if _is_file(candidate):
            candidate = candidate.absolute()   # relative to the current folder
        elif _is_file(root / key):
            candidate = root / key
        else:
            return key   # an id, or a root-relative path of a deleted file
    try:
        return candidate.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return key


def _print_document(console: Console, record: DocumentRecord) -> None:
    from rich.rule import Rule
    from rich.text import Text

    console.print(Text(clean(record.title), style="bold"))
    ident = "" if record.doc_id in ("", record.path) else f" {record.doc_id}"
    console.print(Text(clean(f"{record.path}  ({record.doctype}{ident})"), style="cyan"))
    for key, value in record.metadata.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        console.print(Text(clean(f"  {key}: {shown}")))
    if record.links:
        console.print(Text("links:", style="bold"))
        for link in record.links:
            console.print(Text(clean(f"  {link.kind} → {link.target}")))
    console.print(Rule())
    console.print(Text(clean(record.body)))


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; a name the system cannot look up (too long, a NUL
    byte) is not."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False
