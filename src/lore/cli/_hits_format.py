"""Human output of ``lore search``: one compact block per hit that fits the width.

Each hit is a title line, a location line and at most two snippet lines, each
cut to the console width (the terminal's, or 100 columns when piped), so a
long path or title never wraps into the next hit. Matched terms are bold on a
terminal; piped, they are wrapped in ``«»``, which Markdown text almost never
holds (unlike ``[ ]``, which task lists and links are full of). Every string
from the index goes through ``clean`` first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lore.cli._output import clean
from lore.cli._snippet import mark, strip_markdown

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from lore.search.hits import Hit

OPEN_MARK, CLOSE_MARK = "«", "»"
SNIPPET_LINES = 2
INDENT = "    "


@dataclass(frozen=True)
class HitView:
    """What the formatter needs beyond the hit: facts the command looked up.

    Attributes:
        hit: the search hit.
        stale: the file was deleted since the last sync.
        description: replaces a weak worklog snippet (empty: keep the snippet).
        also_ids: the doc id of each ``hit.also_at`` path, in order ("" or the
            path itself: the copy has no id); empty when not looked up.
    """

    hit: Hit
    stale: bool = False
    description: str = ""
    also_ids: tuple[str, ...] = ()


def print_hits(console: Console, views: Sequence[HitView], *, explain: bool) -> None:
    """Print every hit as a block of lines no wider than the console."""
    for rank, view in enumerate(views, start=1):
        for line in hit_lines(view, rank, width=console.width, marks=not console.is_terminal,
                              explain=explain):
            console.print(line, no_wrap=True, overflow="ignore", crop=False)


def hit_lines(view: HitView, rank: int, *, width: int, marks: bool,
              explain: bool) -> list[Text]:
    """The lines of one hit, each at most ``width`` cells.

    Args:
        view: the hit and what the command learnt about it.
        rank: its position, from 1.
        width: the cells available per line.
        marks: wrap matches in ``«»`` (piped) instead of styling them bold.
        explain: add the legs/boosts line.
    """
    from rich.text import Text

    hit = view.hit
    head = Text(f"{rank:>2}. ")
    head.append(clean(hit.title), style="bold")
    # A note without an id has its path as id; the next line shows the path already.
    ident = "" if hit.doc_id in ("", hit.path) else f" {hit.doc_id}"
    marker = "  vector only" if hit.vector_only else ""
    marker += "  hub" if hit.hub else ""
    head.append(f"  {hit.doctype}{ident}  {hit.score:.4f}{marker}", style="dim")
    lines = [_fit(head, width)]
    where = Text(INDENT + _tail(clean(hit.path), width - len(INDENT)), style="cyan")
    if hit.chunk.heading_path:
        where.append("  › " + " › ".join(clean(h) for h in hit.chunk.heading_path), style="cyan")
    if view.stale:
        where.append("  (file deleted since the last `lore index`)", style="bold red")
    lines.append(_fit(where, width))
    if hit.also_at:
        ids = view.also_ids or ("",) * len(hit.also_at)
        also = ", ".join(_copy_label(path, doc_id)
                         for path, doc_id in zip(hit.also_at, ids, strict=True))
        lines.append(_fit(Text(f"{INDENT}also at: {also}", style="dim"), width))
    lines += _snippet_lines(view, width=width, marks=marks)
    if explain and hit.explain is not None:
        lines += _wrap(Text(explain_line(hit.explain), style="dim"), width)
    if hit.via:
        reached = ", ".join(f"{kind} of {clean(source)}" for kind, source in hit.via)
        lines.append(_fit(Text(f"{INDENT}linked: {reached}", style="dim"), width))
    return lines


def _copy_label(path: str, doc_id: str) -> str:
    """``ADR-0017 (decisions/ADR-0017_x.md)`` for a copy with an id, else its path alone."""
    return clean(path) if doc_id in ("", path) else f"{clean(doc_id)} ({clean(path)})"


def _snippet_lines(view: HitView, *, width: int, marks: bool) -> list[Text]:
    """The snippet without Markdown, matches marked, in at most two lines."""
    from rich.text import Text

    spans: list[tuple[int, int]] = []
    if view.description:
        plain = view.description
    else:
        plain, spans = strip_markdown(clean(view.hit.snippet), view.hit.highlights)
    if marks:
        text = Text(mark(plain, spans, OPEN_MARK, CLOSE_MARK))
    else:
        text = Text(plain)
        for start, end in spans:
            text.stylize("bold yellow", start, end)
    return _wrap(text, width, max_lines=SNIPPET_LINES)


def _wrap(text: Text, width: int, *, max_lines: int | None = None) -> list[Text]:
    """``text`` wrapped into indented lines of at most ``width`` cells (… when cut short)."""
    from rich.console import Console
    from rich.text import Text

    if not text.plain:
        return []
    room = max(width - len(INDENT), 10)
    lines = list(text.wrap(Console(width=room), room))
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1].copy()
        last.rstrip()
        lines[-1] = _fit(last.append(" …"), room)
    out = []
    for line in lines:
        line.rstrip()
        out.append(Text(INDENT).append_text(line))
    return out


def _fit(text: Text, width: int) -> Text:
    """``text`` cut to ``width`` cells, with an ellipsis where it was cut."""
    text = text.copy()
    text.truncate(width, overflow="ellipsis")
    return text


def _tail(path: str, room: int) -> str:
    """A path that fits ``room`` cells: its end (the file name) kept, the start elided."""
    return path if len(path) <= room else "…" + path[-(room - 1):]


def explain_line(record: dict[str, Any]) -> str:
    """One line: each leg's rank and contribution, the boosts (the link evidence with the
    linked candidate that lent it), and a pin or relation path."""
    legs = ", ".join(f"{name} #{leg['rank']} (+{leg['contribution']:.4f})"
                     for name, leg in record["legs"].items())
    parts = [f"legs: {legs}"]
    if record["boosts"]:
        lender = (record.get("linked") or {}).get("lender")
        parts.append("boosts: " + ", ".join(
            f"{name} {value:+.4f}" + (f" from {lender}" if name == "links" and lender else "")
            for name, value in record["boosts"].items()))
    relation = record.get("relation")
    if relation:
        parts.append(f"relation {relation['relation']}: {relation['path']}")
    elif record["pinned"]:
        parts.append("pinned: exact id match")
    rerank = record.get("rerank")
    if rerank:
        parts.append(f"reranked: {rerank['score']:.4f}" if rerank["applied"]
                     else f"rerank skipped: {rerank['reason']}")
    return "; ".join(parts)
