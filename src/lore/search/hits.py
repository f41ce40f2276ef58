"""The search result types every front end formats: ``Hit``, ``SearchResult``, JSON shapes.

The JSON field names are a public contract (``lore search --json``, the HTTP
and MCP servers), so they are spelled out in ``to_json`` rather than derived
from attribute names that a refactor might rename.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, overload


@dataclass(frozen=True)
class ChunkInfo:
    """Which part of the document a hit points at.

    Attributes:
        ordinal: the chunk's position in its document, from 0.
        heading_path: headings from the top down to the chunk.
        kind: "document", "section" or "worklog".
    """

    ordinal: int
    heading_path: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class Hit:
    """One search result: a document (or, with ``chunks=True``, one of its chunks).

    Attributes:
        path: root-relative path with ``/`` separators.
        doc_id: the document's primary id (front matter ``id``, ADR id, or path).
        title: the document title.
        score: the calibrated chance that the hit is relevant, in [0, 1] and
            never above the hit before it (``search/calibration.py``); the
            fused score that ordered it is in ``explain``.
        snippet: plain text around the match in the best chunk, no markup.
        highlights: ``(start, end)`` character offsets of matched terms in
            ``snippet``, so front ends mark them without parsing markup that
            the text itself might contain.
        metadata: the document's front matter plus ``type`` and ``title``.
        doctype: normalised document type ("Task", "ADR", "Note", ...).
        chunk: the chunk that represents this hit.
        explain: legs, ranks, contributions and boosts, when asked for.
        via: for a document added by graph expansion or answering a relation
            question, the edges that reached it as (edge kind, doc id of the
            document it came from); empty otherwise.
        also_at: paths of near-identical copies of this document, folded into this hit.
        vector_only: found by the vector leg alone (no query word, id or link matched).
        hub: the document mostly lists links (a dashboard, index or map of content).
    """

    path: str
    doc_id: str
    title: str
    score: float
    snippet: str
    highlights: tuple[tuple[int, int], ...]
    metadata: dict[str, Any]
    doctype: str
    chunk: ChunkInfo
    explain: dict[str, Any] | None = None
    via: tuple[tuple[str, str], ...] = ()
    also_at: tuple[str, ...] = ()
    vector_only: bool = False
    hub: bool = False

    def marked_snippet(self, open_mark: str = "[", close_mark: str = "]") -> str:
        """The snippet with every highlight wrapped in ``open_mark``/``close_mark``."""
        out: list[str] = []
        last = 0
        for start, end in self.highlights:
            out.append(self.snippet[last:start])
            out.append(f"{open_mark}{self.snippet[start:end]}{close_mark}")
            last = end
        out.append(self.snippet[last:])
        return "".join(out)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with stable field names."""
        return {
            "path": self.path,
            "doc_id": self.doc_id,
            "title": self.title,
            "doctype": self.doctype,
            "score": self.score,
            "snippet": self.snippet,
            "highlights": [list(span) for span in self.highlights],
            "metadata": self.metadata,
            "chunk": {
                "ordinal": self.chunk.ordinal,
                "heading_path": list(self.chunk.heading_path),
                "kind": self.chunk.kind,
            },
            "explain": self.explain,
            "via": [{"kind": kind, "from": source} for kind, source in self.via],
            "also_at": list(self.also_at),
            "vector_only": self.vector_only,
            "hub": self.hub,
        }


class SearchResult(Sequence[Hit]):
    """The hits of one search, best first, with the notices that say how it ran.

    A sequence of ``Hit`` (index it, slice it, iterate it), plus ``notices``:
    why the search ran degraded, when it did (keyword-only because the index
    has no vectors yet, fused order because the reranker timed out). Notices
    travel with the hits rather than living on the ``Index``, so two searches
    on one index never see each other's. ``weak_match`` says that no hit has
    strong evidence (``search/calibration.py``): the query is nonsense, or the
    corpus does not answer it, and the hits, if any, are the nearest there are.
    """

    __slots__ = ("_hits", "_notices", "_weak")

    def __init__(self, hits: Iterable[Hit] = (), notices: Iterable[str] = (), *,
                 weak_match: bool = False) -> None:
        self._hits = tuple(hits)
        self._notices = tuple(notices)
        self._weak = weak_match

    @property
    def weak_match(self) -> bool:
        """Whether nothing matched the query strongly."""
        return self._weak

    @property
    def hits(self) -> tuple[Hit, ...]:
        """The hits, best first."""
        return self._hits

    @property
    def notices(self) -> tuple[str, ...]:
        """Why the search ran degraded, one sentence each; empty when it did not."""
        return self._notices

    @overload
    def __getitem__(self, index: int) -> Hit: ...

    @overload
    def __getitem__(self, index: slice) -> list[Hit]: ...

    def __getitem__(self, index: int | slice) -> Hit | list[Hit]:
        if isinstance(index, slice):
            return list(self._hits[index])
        return self._hits[index]

    def __len__(self) -> int:
        return len(self._hits)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SearchResult):
            return self._hits == other._hits and self._notices == other._notices
        if isinstance(other, (list, tuple)):
            return list(self._hits) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"SearchResult({list(self._hits)!r}, notices={list(self._notices)!r}, "
                f"weak_match={self._weak!r})")

    def to_json(self) -> dict[str, Any]:
        """``{"hits": [...], "notices": [...]}`` with each hit's stable JSON shape."""
        return {"hits": [hit.to_json() for hit in self._hits], "notices": list(self._notices),
                "weak_match": self._weak}
