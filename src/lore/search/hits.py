"""The search result type every front end formats: ``Hit`` and its JSON shape.

The JSON field names are a public contract (``lore search --json``, the HTTP
and MCP servers), so they are spelled out in ``to_json`` rather than derived
from attribute names that a refactor might rename.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


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


class Hits(list[Hit]):
    """Ranked hits, plus whether anything matched the query strongly.

    Attributes:
        weak_match: no hit has strong evidence (``search/calibration.py``): the
            query is nonsense, or the corpus does not answer it; the hits, if
            any, are the closest there is.
    """

    def __init__(self, hits: Iterable[Hit] = (), *, weak_match: bool = False) -> None:
        super().__init__(hits)
        self.weak_match = weak_match
