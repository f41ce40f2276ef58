"""Typed-link neighbourhoods: resolve link targets, walk k hops, expand hits.

Links are stored as written (``KABSD-TSK-0082@019b93bb``, ``ADR-0003``,
``../items/task/KABSD-TSK-0084_slug.md``, ``[[Some Title]]``) and resolved
here, at query time, so a link to a document indexed later still works.
Every edge is walked in both directions: a child's ``parent`` link is also
the parent's ``child`` edge, ``blocks`` mirrors ``blocked_by``, and a
decision reference is the ADR's ``decides`` edge.

A link whose target names several documents (two files claiming ``ADR-0011``)
reaches all of them, because the text cannot say which it meant; but the
graph can make a good guess. The document sharing more certain links (links
that name one document) with the link's writer is the likely one: a task whose
parent feature is in one ADR-0011's ``related_items`` and nowhere in the
other's means the first. The others' edges from that link are *doubtful*:
still walked, listed after the likely one (``graph_answer``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from lore.store.base import SearchReads

# The edge kind seen from the other end of a link.
INVERSE: dict[str, str] = {
    "parent": "child",
    "blocks": "blocked_by",
    "blocked_by": "blocks",
    "relates": "relates",
    "decision": "decides",
    "mention": "mentioned_by",
    "wiki": "backlink",
    "markdown": "backlink",
}

# How much of a hit's score flows along each edge kind during expansion.
DEFAULT_EDGE_WEIGHTS: dict[str, float] = {
    "parent": 0.6,
    "child": 0.4,
    "blocks": 0.5,
    "blocked_by": 0.5,
    "relates": 0.4,
    "decision": 0.7,
    "decides": 0.4,
    "mention": 0.3,
    "mentioned_by": 0.1,
    "wiki": 0.3,
    "markdown": 0.3,
    "backlink": 0.1,   # hub pages (dashboards, indexes) link to everything
}

_ID_PREFIX = re.compile(r"^([A-Za-z]+(?:-[A-Za-z]+)*-\d+)(?:[_\s].*)?$")


@dataclass(frozen=True)
class DocRef:
    """The identity of one catalog document (``rowid`` is documents.id)."""

    rowid: int
    path: str
    doc_id: str
    title: str
    doctype: str


@dataclass(frozen=True)
class Edge:
    """One resolved, typed edge as seen from ``source``.

    ``doubtful``: the link behind it named several documents and another of
    them is more connected to the link's writer (see the module docstring).
    """

    source: int
    target: int
    kind: str
    doubtful: bool = False


@dataclass
class Neighbour:
    """A document reached from the start set, with how it was reached.

    Attributes:
        doc: the document reached.
        depth: hops from the start.
        via: the edges that reached it, as (edge kind, the document it came from).
        score: the score that flowed to it (graph expansion only).
    """

    doc: DocRef
    depth: int
    via: list[tuple[str, DocRef]] = field(default_factory=list)
    score: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The document, its distance, and the edges that reached it (``lore related --json``)."""
        return {"path": self.doc.path, "doc_id": self.doc.doc_id, "title": self.doc.title,
                "doctype": self.doc.doctype, "depth": self.depth,
                "via": [{"kind": kind, "from": source.doc_id} for kind, source in self.via]}


class LinkResolver:
    """Maps link targets as written to document rowids.

    Tried in order: exact id or uid, root-relative path, id prefix of a file
    stem (``KABSD-FTR-0004_slug`` -> ``KABSD-FTR-0004``), file stem, title.
    """

    def __init__(self, docs: Iterable[tuple[int, str, str, str | None, str, str]]) -> None:
        self.docs: dict[int, DocRef] = {}
        self._by_key: dict[str, list[int]] = {}
        stems: dict[str, int] = {}
        titles: dict[str, int] = {}
        for rowid, path, doc_id, uid, title, doctype in docs:
            self.docs[rowid] = DocRef(rowid, path, doc_id, title, doctype)
            for key in (doc_id, uid, path):
                if key:
                    self._by_key.setdefault(key.lower(), []).append(rowid)
            stems.setdefault(PurePosixPath(path).stem.lower(), rowid)
            if title:
                titles.setdefault(title.lower(), rowid)
        self._stems = stems
        self._titles = titles

    @classmethod
    def from_store(cls, store: SearchReads) -> LinkResolver:
        """Load every document's identity from the store."""
        return cls(store.document_identities())

    def titled(self, text: str) -> int | None:
        """The rowid of the document whose whole title is ``text`` (any case), or None."""
        return self._titles.get(text.strip().lower())

    def resolve(self, target: str) -> int | None:
        """The rowid a link target names, or None when nothing matches."""
        found = self.resolve_all(target)
        return found[0] if found else None

    def resolve_all(self, target: str) -> list[int]:
        """Every rowid a link target names: several when files share the id it names.

        A link to ``ADR-0011`` where two files claim that id cannot say which
        it meant, so it reaches both (the duplicate id is reported at sync).
        """
        raw = target.strip().split("|", 1)[0].split("#", 1)[0].strip()
        if not raw:
            return []
        key = raw.split("@", 1)[0].lower()  # "KABSD-TSK-0082@019b93bb" pins a uid prefix
        if key in self._by_key:
            return self._by_key[key]
        path = PurePosixPath(key)
        stem = path.stem if path.suffix in (".md", ".markdown") else path.name
        match = _ID_PREFIX.match(stem)
        if match and match.group(1) in self._by_key:
            return self._by_key[match.group(1)]
        if stem in self._stems:
            return [self._stems[stem]]
        title = self._titles.get(key)
        return [] if title is None else [title]


class LinkGraph:
    """The resolved link graph of a catalog, both directions, loaded once."""

    def __init__(self, resolver: LinkResolver, links: Iterable[tuple[int, str, str]]) -> None:
        self.resolver = resolver
        resolved = [(source, kind, [d for d in resolver.resolve_all(target) if d != source])
                    for source, kind, target in links]
        sure = _certain_neighbours(resolved)
        found: dict[tuple[int, int, str], Edge] = {}
        for source, kind, dests in resolved:
            doubtful = _less_likely(source, dests, sure)
            for dest in dests:
                for edge in (Edge(source, dest, kind, dest in doubtful),
                             Edge(dest, source, INVERSE.get(kind, kind), dest in doubtful)):
                    marker = (edge.source, edge.target, edge.kind)
                    if marker not in found or found[marker].doubtful > edge.doubtful:
                        found[marker] = edge   # a certain link outweighs a doubtful one
        self._edges: dict[int, list[Edge]] = {}
        for edge in found.values():
            self._edges.setdefault(edge.source, []).append(edge)

    @classmethod
    def from_store(cls, store: SearchReads) -> LinkGraph:
        """Resolve every stored link of the store."""
        return cls(LinkResolver.from_store(store), store.stored_links())

    @classmethod
    def of_catalog(cls, store: SearchReads) -> LinkGraph:
        """``from_store``, built once per catalog state where the store keeps facts
        (``SearchReads.catalog_fact``): the graph leg and link evidence share it."""
        return store.catalog_fact("link_graph", lambda: cls.from_store(store))

    def edges(self, rowid: int) -> list[Edge]:
        """Edges leaving ``rowid`` (including mirrored incoming links)."""
        return self._edges.get(rowid, [])

    def neighbourhood(self, start: int, depth: int = 1,
                      kinds: Iterable[str] | None = None) -> list[Neighbour]:
        """Documents within ``depth`` hops of ``start``, nearest first.

        Args:
            start: the rowid to start from (not included in the result).
            depth: how many hops to walk.
            kinds: restrict to these edge kinds (None: all).
        """
        allowed = set(kinds) if kinds is not None else None
        found: dict[int, Neighbour] = {}
        frontier = [start]
        for hop in range(1, depth + 1):
            nxt: list[int] = []
            for node in frontier:
                for edge in self.edges(node):
                    if allowed is not None and edge.kind not in allowed:
                        continue
                    if edge.target == start:
                        continue
                    item = found.get(edge.target)
                    if item is None:
                        item = Neighbour(self.resolver.docs[edge.target], hop)
                        found[edge.target] = item
                        nxt.append(edge.target)
                    if item.depth == hop:
                        item.via.append((edge.kind, self.resolver.docs[node]))
            frontier = nxt
        return sorted(found.values(), key=lambda n: (n.depth, n.doc.path))

    def expand(self, seeds: Mapping[int, float], *, hops: int = 1, decay: float = 0.5,
               weights: Mapping[str, float] | None = None) -> dict[int, Neighbour]:
        """Spread score from seed documents along weighted edges.

        A neighbour reached from seed ``s`` over edge ``e`` at hop ``h`` gains
        ``score(s) * weight(e) * decay ** (h - 1)``; gains from several paths
        add up. Seeds themselves are not returned.

        Args:
            seeds: rowid -> score of the documents to expand from.
            hops: maximum path length.
            decay: factor applied per extra hop.
            weights: per-edge-kind weights (defaults: ``DEFAULT_EDGE_WEIGHTS``).
        """
        table = dict(DEFAULT_EDGE_WEIGHTS if weights is None else weights)
        gained: dict[int, Neighbour] = {}
        frontier = dict(seeds)
        for hop in range(1, hops + 1):
            nxt: dict[int, float] = {}
            for node, score in frontier.items():
                for edge in self.edges(node):
                    if edge.target in seeds:
                        continue
                    gain = score * table.get(edge.kind, 0.0) * decay ** (hop - 1)
                    if gain <= 0.0:
                        continue
                    item = gained.setdefault(
                        edge.target, Neighbour(self.resolver.docs[edge.target], hop))
                    item.score += gain
                    item.via.append((edge.kind, self.resolver.docs[node]))
                    nxt[edge.target] = max(nxt.get(edge.target, 0.0), gain)
            frontier = nxt
        return gained


def _certain_neighbours(resolved: Iterable[tuple[int, str, list[int]]]) -> dict[int, set[int]]:
    """rowid -> the documents it is linked with (either direction) by links naming one document."""
    sure: dict[int, set[int]] = {}
    for source, _, dests in resolved:
        if len(dests) == 1:
            sure.setdefault(source, set()).add(dests[0])
            sure.setdefault(dests[0], set()).add(source)
    return sure


def _less_likely(writer: int, dests: list[int], sure: Mapping[int, set[int]]) -> set[int]:
    """Of the documents one link names, those less connected to its ``writer`` than another.

    Connection: a certain link between the two, then the number of documents
    both are certainly linked with. Empty for a link naming one document, and
    when no candidate is connected at all (nothing to go on: all stay equal).
    """
    if len(dests) < 2:
        return set()
    mine = sure.get(writer, set())

    def connection(dest: int) -> tuple[bool, int]:
        return dest in mine, len(sure.get(dest, set()) & mine)

    best = max(connection(d) for d in dests)
    return {d for d in dests if connection(d) < best}
