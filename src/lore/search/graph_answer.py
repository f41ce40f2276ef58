"""Answer a relation question from the link graph: resolve the anchor, walk the edges.

``parse_relation`` (``search/relations.py``) says which relation a question
asks about and around which anchor; this module finds the anchor document
(an id in any form, a path, or a title) and walks the typed edges that hold
the answer, in both directions (``LinkGraph`` stores every link from both
ends). The engine pins the answer above every other hit, followed by the
anchor itself, and ``--explain`` shows each answer's path from the anchor.

An id anchor is looked up in every form the exact-id leg accepts
(``TSK-0350``, ``tsk 350``, ``epic 1``, ``kabsd-tsk-350``, ``ID@uid``, a uid
prefix: the caller passes what that lookup found), then as a link target.
An id that names several documents ("children of epic 1" in a backlog of three
products, each with an EPIC-0001) is answered for every one of them that has
such links, their answers taken in turn (each one's first answer, then each
one's second, ...) so the first page shows every item the id could mean, and
``GraphAnswer.named`` lists them for the notice. Picking one would silently
answer a question the reader did not ask, and asking back which one is
impossible in a single search; the hits' ids and ``--explain`` paths say which
answer belongs to which item. A title anchor
is matched on words: every title whose words contain at least
``MIN_TITLE_COVER`` of the anchor's words is a candidate, a type word in the
question ("the Inspector Pattern *epic*") keeps candidates of that type, and
the closer title (most shared words over the union) comes first; plurals fold
to singulars, and a one-word anchor without a type word is a topic ("items
related to embeddings"), not a title, so it anchors nothing. Hubs never
anchor. Of several title candidates (titles alike) the
first that has links of the asked kind is the anchor: "what blocks the ULID
comparison" means the task with blockers, not the appendix of the same name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from lore.search.graph import DocRef, LinkGraph
from lore.search.intent import DECISION_TYPES
from lore.search.query import parse_query
from lore.search.relations import RelationQuery

MIN_TITLE_COVER = 0.75

# relation -> edge kinds in preference order (answers reached over an earlier
# kind rank first). "ancestors" and "siblings" are walks, see ``answer``.
RELATION_EDGES: dict[str, tuple[str, ...]] = {
    "blocked_by": ("blocked_by",),
    "blocks": ("blocks",),
    "children": ("child",),
    "parent": ("parent",),
    "ancestors": ("parent",),
    "siblings": ("parent", "child"),
    "implements": ("decides", "relates"),
    "decisions": ("decision", "relates"),   # relates: only to ADRs, see ``_walk``
    "references": ("wiki", "markdown", "decision", "relates"),
    "backlinks": ("backlink", "decides", "child", "relates"),
    "related": ("relates", "decision", "decides", "parent", "child", "blocks", "blocked_by"),
}

_WORD = re.compile(r"\w+")
_STOP = frozenset(("a", "an", "and", "the", "of", "for", "to", "in", "on", "with", "by", "at",
                   "or", "is", "are", "be"))


@dataclass(frozen=True)
class Answer:
    """One document that answers a relation question.

    Attributes:
        rowid: the document's catalog row id.
        path: the walk from the anchor: alternating doc ids and edge kinds,
            ``("KABSD-TSK-0083", "blocked_by", "KABSD-TSK-0082")``.
        start: the row id of the anchor the walk began at.
    """

    rowid: int
    path: tuple[str, ...]
    start: int


@dataclass(frozen=True)
class GraphAnswer:
    """A resolved relation question: the anchors and the answers, best first.

    Attributes:
        relation: the relation asked about.
        anchors: the documents answered for: one, or every document an
            ambiguous id names that has such links (all it names when none has).
        answers: the answers, best first (several anchors' answers in turn).
        named: every document the anchor's id names, when it names more than one.
    """

    relation: str
    anchors: tuple[DocRef, ...]
    answers: tuple[Answer, ...]
    named: tuple[DocRef, ...] = ()

    def explain(self, start: int) -> dict[str, object]:
        """The relation and the anchor with row id ``start``, as ``--explain`` shows them."""
        anchor = next(a for a in self.anchors if a.rowid == start)
        return {"relation": self.relation, "anchor": anchor.doc_id, "anchor_path": anchor.path}


def answer(graph: LinkGraph, question: RelationQuery, *,
           is_hub: Callable[[int], bool] = lambda _: False,
           id_anchor: Sequence[int] = ()) -> GraphAnswer | None:
    """Answer ``question`` from ``graph``, or None when its anchor names no document.

    Args:
        graph: the catalog's resolved link graph.
        question: the parsed relation question.
        is_hub: whether a document is a hub page (hubs rank last among
            answers and never anchor).
        id_anchor: documents the exact-id lookup found for the anchor text,
            tried before the graph's own resolver and titles; when it holds
            several, each is answered for (see the module docstring).
    """
    docs = graph.resolver.docs
    titled = graph.resolver.titled(question.anchor) if id_anchor else None
    if titled is not None:
        # a whole title names its document even when it holds ids: "siblings of Add
        # dependency links between FTR-0013 and FTR-0015" asks about that bug
        id_anchor = [titled]
    named = [docs[rowid] for rowid in id_anchor if rowid in docs]
    if named:
        # "children of feature 0010": of the documents numbered 0010, the feature first
        named.sort(key=lambda d: question.type_hint not in (None, d.doctype))
        walks = [(anchor, _answers(graph, anchor, question, is_hub)) for anchor in named]
        linked = [(anchor, found) for anchor, found in walks if found]
        return GraphAnswer(question.relation,
                           tuple(a for a, _ in linked) if linked else tuple(named),
                           _in_turn([found for _, found in linked]),
                           tuple(named) if len(named) > 1 else ())
    candidates = _anchors(graph, question, is_hub)
    for anchor in candidates:
        found = _answers(graph, anchor, question, is_hub)
        if found:
            return GraphAnswer(question.relation, (anchor,), found)
    return GraphAnswer(question.relation, (candidates[0],), ()) if candidates else None


def above_parents(graph: LinkGraph, question: RelationQuery,
                  found: GraphAnswer) -> tuple[Answer, ...]:
    """The ancestors above the answers of a direct parent question, nearest first.

    "parent of X" is answered by X's parent alone, but the items above it are
    the context the reader is after (which epic this rolls up to): the graph
    leg lists them after the anchor, where an ordinary search would otherwise
    put documents that merely say "parent". Empty for every other question.
    """
    if question.relation != "parent" or question.target_type is not None:
        return ()
    docs = graph.resolver.docs
    above: dict[int, Answer] = {}
    for parent in found.answers:
        for up in _chain(graph, parent.rowid, docs[parent.rowid].doc_id):
            if up.rowid != parent.start:
                above.setdefault(up.rowid, Answer(up.rowid, parent.path + up.path[1:],
                                                  parent.start))
    return tuple(above.values())


def _answers(graph: LinkGraph, anchor: DocRef, question: RelationQuery,
             is_hub: Callable[[int], bool]) -> tuple[Answer, ...]:
    """What the relation reaches from ``anchor``, in answer order (``_order``)."""
    found = _walk(graph, anchor.rowid, question.relation, question.target_type)
    return tuple(sorted(found, key=lambda a: _order(graph.resolver.docs[a.rowid],
                                                    question, is_hub)))


def _in_turn(answer_lists: Sequence[Sequence[Answer]]) -> tuple[Answer, ...]:
    """Each list's first answer, then each one's second, ...; a document once."""
    merged: dict[int, Answer] = {}
    for rank in range(max((len(a) for a in answer_lists), default=0)):
        for answers in answer_lists:
            if rank < len(answers):
                merged.setdefault(answers[rank].rowid, answers[rank])
    return tuple(merged.values())


def _order(doc: DocRef, question: RelationQuery,
           is_hub: Callable[[int], bool]) -> tuple[bool, bool, bool]:
    """Sort key over answers (the sort is stable, so walk order holds within a key):
    hubs last; an ADR's related ADRs after the work that implements it; answers of
    the type the question asks for ("list the *user stories* in X") first."""
    return (is_hub(doc.rowid),
            question.relation == "implements" and doc.doctype in DECISION_TYPES,
            question.relation != "parent" and question.target_type not in (None, doc.doctype))


def _anchors(graph: LinkGraph, question: RelationQuery,
             is_hub: Callable[[int], bool]) -> list[DocRef]:
    """The documents the anchor text may name, best first, when the id lookup found none.

    An anchor holding an id names only what the link resolver finds for it.
    Any other anchor is a link target (a path, an exact title) followed by
    the titles that match its words.
    """
    docs = graph.resolver.docs
    ids = parse_query(question.anchor, set()).ids
    # the whole anchor ("ADR-0013", a path), else an id inside it ("KABSD-TSK-0083 now")
    for text in (question.anchor, *ids):
        named = [docs[rowid] for rowid in graph.resolver.resolve_all(text)]
        if named:
            break
    if ids:
        return named
    titled = _by_title(docs.values(), question.anchor, question.type_hint, is_hub)
    return list(dict.fromkeys([*named, *titled]))


def _words(text: str) -> set[str]:
    """Content words, a plural folded to its singular ("databases" matches "database")."""
    return {_singular(w) for w in _WORD.findall(text.lower()) if w not in _STOP}


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _by_title(docs: Collection[DocRef], text: str, type_hint: str | None,
              is_hub: Callable[[int], bool]) -> list[DocRef]:
    """The documents whose titles match ``text``, closest first (see the module docstring)."""
    wanted = _words(text)
    if not wanted or (len(wanted) == 1 and type_hint is None) or text.lstrip("#").isdigit():
        # one word ("items related to embeddings") is a topic, not a title: a
        # search, unless a type word makes it a reference ("the Roadmap epic");
        # a number ("epic 9") is an id the id lookup did not find, never the
        # "9" in a title ("Milestone 0.9")
        return []
    scored: list[tuple[bool, float, str, DocRef]] = []
    for doc in docs:
        if is_hub(doc.rowid) or doc.doctype == "Index":
            continue
        have = _words(doc.title)
        shared = len(wanted & have)
        if shared / len(wanted) < MIN_TITLE_COVER:
            continue
        typed = type_hint is None or doc.doctype == type_hint
        scored.append((not typed, -shared / len(wanted | have), doc.path, doc))
    return [s[3] for s in sorted(scored, key=lambda s: s[:3])]


def _walk(graph: LinkGraph, start: int, relation: str,
          target_type: str | None = None) -> list[Answer]:
    """Every document the relation reaches from ``start``, each once, nearest first.

    A parent question naming a type (``target_type``) is answered by the
    nearest ancestor of that type, then the ancestors passed on the way to it;
    with no ancestor of that type, by the direct parent.
    """
    docs = graph.resolver.docs
    label = docs[start].doc_id
    if relation == "ancestors":
        return _chain(graph, start, label)
    if relation == "parent" and target_type is not None:
        chain = _chain(graph, start, label)
        typed = next((i for i, a in enumerate(chain) if docs[a.rowid].doctype == target_type),
                     None)
        return chain[:1] if typed is None else [chain[typed], *chain[:typed]]
    if relation == "siblings":
        found: dict[int, Answer] = {}
        for up in _step(graph, start, ("parent",)):
            for edge_down in _step(graph, up, ("child",)):
                if edge_down != start and edge_down not in found:
                    path = (label, "parent", docs[up].doc_id, "child", docs[edge_down].doc_id)
                    found[edge_down] = Answer(edge_down, path, start)
        return list(found.values())
    found = {}
    for kind in RELATION_EDGES[relation]:
        for target in _step(graph, start, (kind,)):
            # an ADR naming the item in its related_items is a decision about it too
            loose = relation == "decisions" and kind == "relates"
            if target not in found and not (loose and docs[target].doctype not in DECISION_TYPES):
                found[target] = Answer(target, (label, kind, docs[target].doc_id), start)
    return list(found.values())


def _step(graph: LinkGraph, node: int, kinds: Collection[str]) -> list[int]:
    """Targets of ``node``'s edges of the given kinds, in path order of the target, a
    target reached only over doubtful edges (a shared id's less likely reading) last."""
    docs = graph.resolver.docs
    doubtful: dict[int, bool] = {}
    for e in graph.edges(node):
        if e.kind in kinds:
            doubtful[e.target] = doubtful.get(e.target, True) and e.doubtful
    return sorted(doubtful, key=lambda t: (doubtful[t], docs[t].path))


def _chain(graph: LinkGraph, start: int, label: str) -> list[Answer]:
    """Parent, grandparent, ... up to a root (a cycle stops the walk)."""
    docs = graph.resolver.docs
    chain: list[Answer] = []
    path: tuple[str, ...] = (label,)
    seen = {start}
    node = start
    while True:
        parents = [p for p in _step(graph, node, ("parent",)) if p not in seen]
        if not parents:
            return chain
        node = parents[0]
        seen.add(node)
        path = (*path, "parent", docs[node].doc_id)
        chain.append(Answer(node, path, start))
