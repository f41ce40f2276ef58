"""What ``lore search`` computes and prints, apart from parsing its flags.

Two callers share it, so their output cannot drift apart: the ``search``
command (in-process, or through ``RemoteIndex``), and a running server's
``POST /cli/search``, which renders the same text into buffers for the
console script's fast path (``lore.entry``). That path then only prints
what came back, without importing click, rich or the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lore.cli._common import Reader
from lore.cli._hits_format import HitView, print_hits
from lore.cli._output import Printer, echo_json
from lore.cli._snippet import first_paragraph, is_weak_worklog

if TYPE_CHECKING:
    from lore.search.expand import ContextPack
    from lore.search.hits import Hit
    from lore.types import SearchMode

# Front matter fields that describe a document in a sentence, best first.
DESCRIPTION_FIELDS = ("description", "summary", "abstract")


@dataclass(frozen=True)
class SearchCall:
    """One ``lore search``: the query and every flag that changes the answer."""

    text: str
    limit: int | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    chunks: bool = False
    mode: SearchMode | None = None
    explain: bool = False
    expand: bool = False
    context: bool = False
    budget: int | None = None
    force: bool = False

    def run(self, idx: Reader) -> SearchAnswer:
        """Search ``idx`` (the caller prints the answer with ``write_answer``)."""
        envelope: dict[str, Any] = {"query": self.text,
                                    "mode": self.mode or idx.settings.search.mode,
                                    "limit": self.limit, "filters": self.filters}
        if self.context:
            pack = idx.context(self.text, budget=self.budget, limit=self.limit,
                               filters=self.filters or None, mode=self.mode)
            return SearchAnswer(envelope, pack, [], list(pack.notices))
        hits = idx.search(self.text, limit=self.limit, filters=self.filters or None,
                          chunks=self.chunks, mode=self.mode, explain=self.explain,
                          force=self.force, expand=self.expand)
        envelope["weak_match"] = bool(getattr(hits, "weak_match", False))
        return SearchAnswer(envelope, None, [_view(idx, hit) for hit in hits],
                            list(hits.notices))


@dataclass(frozen=True)
class SearchAnswer:
    """The envelope (query, mode, limit, filters), the hits or pack, and the notices."""

    envelope: dict[str, Any]
    pack: ContextPack | None
    views: list[HitView]
    notices: list[str]

    @property
    def found(self) -> bool:
        """Whether anything matched (``--fail-empty`` exits 1 when not)."""
        return bool(self.pack.items) if self.pack is not None else bool(self.views)


def write_answer(answer: SearchAnswer, printer: Printer, *, as_json: bool,
                 explain: bool) -> None:
    """Print ``answer`` as ``lore search`` does: one JSON envelope, or notices and hits."""
    if as_json:
        envelope = dict(answer.envelope)
        if answer.pack is not None:
            envelope |= answer.pack.to_json()
        else:
            envelope |= {"count": len(answer.views),
                         "hits": [{**v.hit.to_json(), "stale": v.stale} for v in answer.views]}
        envelope["notices"] = answer.notices
        echo_json(envelope, file=printer.out)
        return
    for text in answer.notices:
        printer.note(text)
    if answer.pack is not None:
        printer.line(answer.pack.to_markdown())
    elif answer.views:
        first = answer.views[0].hit
        if explain and first.explain:   # about the query, not a hit: said once
            for note in first.explain.get("query", []):
                printer.line(f"Query: {note}")
        print_hits(printer.console, answer.views, explain=explain)
    else:
        printer.line(f"No matches for {_echoed(answer.envelope['query'])}. Try fewer words, "
                     "a prefix (word*) or fewer filters.")


ECHO_LIMIT = 80   # characters of a query repeated back; a pasted page is not echoed whole


def _echoed(query: str) -> str:
    """``query`` quoted for a message, cut to ``ECHO_LIMIT`` characters with an ellipsis."""
    if len(query) <= ECHO_LIMIT:
        return repr(query)
    return f"{query[:ECHO_LIMIT - 1]!r}… ({len(query):,} characters)"


def _view(idx: Reader, hit: Hit) -> HitView:
    """The hit with what the formatter needs: is its file gone, a better snippet, the ids
    of its folded copies (rare, so looked up one by one)."""
    stale = not (idx.root / hit.path).is_file()
    description = ""
    if is_weak_worklog(hit.chunk.kind, hit.highlights):
        description = _description(idx, hit)
    also_ids = tuple(_doc_id(idx, path) for path in hit.also_at)
    return HitView(hit, stale=stale, description=description, also_ids=also_ids)


def _doc_id(idx: Reader, path: str) -> str:
    """The doc id of the document at ``path`` ("" when it is gone)."""
    record = idx.get(path)
    return record.doc_id if record is not None else ""


def _description(idx: Reader, hit: Hit) -> str:
    """A front matter description of the hit's document, else its first paragraph."""
    for name in DESCRIPTION_FIELDS:
        value = hit.metadata.get(name)
        if isinstance(value, str) and value.strip():
            return first_paragraph(value)
    record = idx.get(hit.path)
    return first_paragraph(record.body) if record is not None else ""
