"""Relation answers on the real kano backlog, checked against the files' own front matter.

Every expectation is computed from the YAML of the files (``tests/_front_matter.py``:
both directions, a child names its parent, a blocker may be declared on either side),
never from lore's own link table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _front_matter import ids as _ids
from _front_matter import items as _items
from _front_matter import links as _links

from lore.index import Index
from lore.search.graph_answer import GraphAnswer, answer
from lore.search.graph_leg import id_documents
from lore.search.relations import parse_relation


def _ask(index: Index, question: str) -> tuple[GraphAnswer, set[str]]:
    parsed = parse_relation(question)
    assert parsed is not None, question
    found = answer(index._link_graph(), parsed)
    assert found is not None, question
    docs = index._link_graph().resolver.docs
    return found, {docs[a.rowid].doc_id for a in found.answers}


@pytest.mark.parametrize("item", ["KABSD-TSK-0083", "KABSD-TSK-0085", "KABSD-FTR-0015"])
def test_blockers_from_both_sides(kano_index: Index, kano_corpus: Path, item: str) -> None:
    items = _items(kano_corpus)
    want = _links(items[item], "blocked_by") | {
        other for other, fm in items.items() if item in _links(fm, "blocks")}
    assert want
    _, got = _ask(kano_index, f"what blocks {item}")
    assert got == want


@pytest.mark.parametrize("item", ["KABSD-TSK-0079", "KABSD-TSK-0080", "KABSD-FTR-0013"])
def test_blocked_items_from_both_sides(kano_index: Index, kano_corpus: Path, item: str) -> None:
    items = _items(kano_corpus)
    want = _links(items[item], "blocks") | {
        other for other, fm in items.items() if item in _links(fm, "blocked_by")}
    assert want
    _, got = _ask(kano_index, f"which items are blocked by {item}")
    assert got == want


@pytest.mark.parametrize("parent", ["KABSD-EPIC-0003", "KABSD-USR-0029", "KCCS-EPIC-0001"])
def test_children_are_the_items_naming_the_parent(kano_index: Index, kano_corpus: Path,
                                                  parent: str) -> None:
    want = {i for i, fm in _items(kano_corpus).items() if fm.get("parent") == parent}
    assert len(want) >= 3
    _, got = _ask(kano_index, f"children of {parent}")
    assert got == want


def test_parent_and_the_parent_chain(kano_index: Index, kano_corpus: Path) -> None:
    items = _items(kano_corpus)
    chain, node = [], "KABSD-TSK-0083"
    while items.get(node, {}).get("parent"):
        node = items[node]["parent"]
        chain.append(node)
    assert len(chain) >= 2
    found, _ = _ask(kano_index, "parent chain of KABSD-TSK-0083")
    assert [a.path[-1] for a in found.answers] == chain
    assert found.answers[-1].path[0] == "KABSD-TSK-0083"
    _, parent = _ask(kano_index, "parent of KABSD-TSK-0083")
    assert parent == {chain[0]}


@pytest.mark.parametrize(("question", "item", "wanted"), [
    ("epic of KABSD-TSK-0083", "KABSD-TSK-0083", "Epic"),
    ("which epic does KABSD-TSK-0155 roll up to", "KABSD-TSK-0155", "Epic"),
    ("KABSD-TSK-0244's parent feature", "KABSD-TSK-0244", "Feature"),
])
def test_a_typed_parent_question_climbs_to_that_type(kano_index: Index, kano_corpus: Path,
                                                     question: str, item: str,
                                                     wanted: str) -> None:
    """"Which epic does a task roll up to" is the epic above its feature, not the feature."""
    items = _items(kano_corpus)
    chain, node = [], item
    while items.get(node, {}).get("parent"):
        node = items[node]["parent"]
        chain.append(node)
    typed = next(i for i, up in enumerate(chain) if items[up].get("type") == wanted)
    assert typed >= 1  # the direct parent is of another type: the climb is needed
    found, _ = _ask(kano_index, question)
    docs = kano_index._link_graph().resolver.docs
    assert [docs[a.rowid].doc_id for a in found.answers] == [chain[typed], *chain[:typed]]


def test_short_and_lowercase_ids_anchor_through_the_id_lookup(kano_index: Index,
                                                              kano_corpus: Path) -> None:
    """``tsk-0244`` and ``0083`` name their item as they do in an exact-id search."""
    items = _items(kano_corpus)
    for short, item in (("tsk-0244", "KABSD-TSK-0244"), ("0083", "KABSD-TSK-0083")):
        parsed = parse_relation(f"who is the parent of {short}")
        assert parsed is not None
        graph = kano_index._link_graph()
        assert answer(graph, parsed) is None  # the link resolver alone does not know it
        rowids = id_documents(kano_index._store, short)
        found = answer(graph, parsed, id_anchor=rowids)
        assert found is not None and [a.doc_id for a in found.anchors] == [item]
        assert {graph.resolver.docs[a.rowid].doc_id for a in found.answers} == {
            items[item]["parent"]}


def test_siblings_share_the_parent(kano_index: Index, kano_corpus: Path) -> None:
    items = _items(kano_corpus)
    parent = items["KABSD-TSK-0059"]["parent"]
    want = {i for i, fm in items.items() if fm.get("parent") == parent} - {"KABSD-TSK-0059"}
    _, got = _ask(kano_index, "siblings of KABSD-TSK-0059")
    assert got == want


def test_items_implementing_an_adr_name_it_in_their_decisions(kano_index: Index,
                                                              kano_corpus: Path) -> None:
    want = {i for i, fm in _items(kano_corpus).items() if "ADR-0013" in _ids(fm.get("decisions"))}
    assert len(want) >= 5
    found, _ = _ask(kano_index, "which items implement ADR-0013")
    docs = kano_index._link_graph().resolver.docs
    first = [docs[a.rowid].doc_id for a in found.answers[:len(want)]]
    assert set(first) == want  # declared implementations rank before related items


def test_decisions_an_item_follows(kano_index: Index, kano_corpus: Path) -> None:
    want = _ids(_items(kano_corpus)["KABSD-TSK-0060"].get("decisions"))
    _, got = _ask(kano_index, "which decisions does KABSD-TSK-0060 follow")
    assert got == want


def test_related_items_from_both_sides(kano_index: Index, kano_corpus: Path) -> None:
    items = _items(kano_corpus)
    item = "KABSD-TSK-0092"
    want = _links(items[item], "relates") | {
        other for other, fm in items.items() if item in _links(fm, "relates")}
    found, got = _ask(kano_index, f"items related to {item}")
    docs = kano_index._link_graph().resolver.docs
    assert {docs[a.rowid].doc_id for a in found.answers[:len(want)]} == want
    assert want <= got


def test_a_title_anchors_the_question(kano_index: Index, kano_corpus: Path) -> None:
    items = _items(kano_corpus)
    epic = next(i for i, fm in items.items() if fm.get("title", "").startswith("Inspector Pattern")
                and fm.get("type") == "Epic")
    want = {i for i, fm in items.items() if fm.get("parent") == epic}
    found, got = _ask(kano_index, "children of the Inspector Pattern epic")
    assert [a.doc_id for a in found.anchors] == [epic]
    assert got == want


def test_an_unknown_anchor_is_no_answer(kano_index: Index) -> None:
    parsed = parse_relation("what blocks the flux capacitor")
    assert parsed is not None
    assert answer(kano_index._link_graph(), parsed) is None


def test_an_id_inside_a_longer_anchor_still_anchors(kano_index: Index) -> None:
    found, got = _ask(kano_index, "what is blocking KABSD-TSK-0083 right now")
    assert [a.doc_id for a in found.anchors] == ["KABSD-TSK-0083"]
    assert got == _ask(kano_index, "what blocks KABSD-TSK-0083")[1]


def test_references_and_backlinks_are_two_ends_of_one_link(kano_index: Index,
                                                           kano_corpus: Path) -> None:
    items = _items(kano_corpus)
    named = _ids(items["KABSD-TSK-0155"].get("decisions"))
    _, references = _ask(kano_index, "what does KABSD-TSK-0155 reference")
    assert named <= references
    citing = {i for i, fm in items.items() if "ADR-0013" in _ids(fm.get("decisions"))}
    _, backlinks = _ask(kano_index, "what links to ADR-0013")
    assert citing <= backlinks


def test_of_several_title_matches_the_one_with_such_links_anchors(kano_index: Index,
                                                                 kano_corpus: Path) -> None:
    """An ADR appendix is titled exactly "ULID vs UUIDv7 comparison" and blocks nothing;
    the task "ULID vs UUIDv7 comparison document" has the blocked item, so it anchors."""
    items = _items(kano_corpus)
    item = "KABSD-TSK-0059"
    assert items[item]["title"].lower().startswith("ulid vs uuidv7 comparison")
    want = _links(items[item], "blocks") | {
        other for other, fm in items.items() if item in _links(fm, "blocked_by")}
    assert want
    found, got = _ask(kano_index, "what is blocked by the ULID vs UUIDv7 comparison")
    assert [a.doc_id for a in found.anchors] == [item]
    assert got == want


def test_an_adrs_related_adrs_come_after_the_work_that_came_out_of_it(
        kano_index: Index, kano_corpus: Path) -> None:
    """ADR-0012 lists work items and other ADRs as related items: the work answers
    "what came out of ADR-0012" first, the ADRs last."""
    items = _items(kano_corpus)
    related = _ids(items["ADR-0012"].get("related_items"))
    adrs = {r for r in related if r.startswith("ADR-")}
    assert adrs and related - adrs
    found, _ = _ask(kano_index, "what came out of ADR-0012")
    docs = kano_index._link_graph().resolver.docs
    order = [docs[a.rowid].doc_id for a in found.answers]
    first_adr = min(i for i, d in enumerate(order) if d.startswith("ADR-"))
    assert all(d.startswith("ADR-") for d in order[first_adr:])
    assert related - adrs <= set(order[:first_adr])


def test_a_type_word_picks_among_documents_sharing_a_number(kano_index: Index,
                                                           kano_corpus: Path) -> None:
    """``0010`` names an epic, a feature, a story and tasks; "feature 0010" anchors on the
    feature even though the epic, earlier by path, has children too."""
    items = _items(kano_corpus)
    numbered = {i for i in items if i.endswith("-0010")}
    assert {"KABSD-EPIC-0010", "KABSD-FTR-0010"} <= numbered
    parsed = parse_relation("children of feature 0010")
    assert parsed is not None
    graph = kano_index._link_graph()
    found = answer(graph, parsed, id_anchor=id_documents(kano_index._store, parsed.anchor,
                                                         parsed.type_hint))
    assert found is not None and [a.doc_id for a in found.anchors] == ["KABSD-FTR-0010"]
    want = {i for i, fm in items.items() if fm.get("parent") == "KABSD-FTR-0010"}
    assert {graph.resolver.docs[a.rowid].doc_id for a in found.answers} == want


def test_answers_of_the_type_asked_for_come_first(kano_index: Index, kano_corpus: Path) -> None:
    """KABSD-FTR-0042 has tasks and user stories as children; asked for its user
    stories, those lead and the tasks follow."""
    items = _items(kano_corpus)
    kids = {i: fm.get("type") for i, fm in items.items() if fm.get("parent") == "KABSD-FTR-0042"}
    stories = {i for i, t in kids.items() if t == "UserStory"}
    assert stories and set(kids) - stories
    found, got = _ask(kano_index, "list the user stories in the Embedding providers, "
                                  "tokenizers, and benchmark harness feature")
    docs = kano_index._link_graph().resolver.docs
    assert got == set(kids)
    assert {docs[a.rowid].doc_id for a in found.answers[:len(stories)]} == stories


@pytest.mark.parametrize("question", ["items related to embeddings",
                                      "what depends on sqlite", "children of archive"])
def test_a_one_word_topic_anchors_nothing(kano_index: Index, kano_corpus: Path,
                                          question: str) -> None:
    """Titles hold these words ("Generate embeddings for backlog items ..."), but one
    word is a topic to search for, not a reference to one item."""
    word = question.rsplit(" ", 1)[1]
    assert any(word in str(fm.get("title", "")).lower().split()
               for fm in _items(kano_corpus).values())
    parsed = parse_relation(question)
    assert parsed is not None
    assert answer(kano_index._link_graph(), parsed) is None


def test_a_plural_still_finds_the_title(kano_index: Index, kano_corpus: Path) -> None:
    items = _items(kano_corpus)
    assert "database" in items["KABSD-TSK-0092"]["title"].lower().split()
    found, got = _ask(kano_index, "tasks related to the global embedding databases")
    assert [a.doc_id for a in found.anchors] == ["KABSD-TSK-0092"]
    assert got >= _links(items["KABSD-TSK-0092"], "relates")


def test_an_ambiguous_epic_number_answers_for_each_epic(kano_index: Index,
                                                        kano_corpus: Path) -> None:
    """Three products number an epic 1 (and KCCS-FTR-0001 says it is an Epic): "children
    of epic 1" answers for every one of them with children, names them all, and never
    anchors on KABSD-EPIC-0016, whose title "Milestone 0.1.0 Beta" holds a 1."""
    items = _items(kano_corpus)
    named = {i for i, fm in items.items() if i.rsplit("-", 1)[-1] == "0001"
             and (fm.get("type") == "Epic" or "-EPIC-" in i)}
    assert {"DM-EPIC-0001", "KABSD-EPIC-0001", "KCCS-EPIC-0001"} <= named
    with_children = {i for i in named if any(fm.get("parent") == i for fm in items.values())}
    hits = kano_index.search("children of epic 1", mode="keyword", explain=True, limit=50)
    starts = {str(h.explain["relation"]["anchor"]) for h in hits
              if h.explain and "relation" in h.explain and "->" in h.explain["relation"]["path"]}
    assert starts == with_children and "KABSD-EPIC-0016" not in starts
    first = {h.doc_id for h in hits[:len(with_children)]}
    assert {items[d]["parent"] for d in first} == with_children   # each answered on page one
    (notice,) = [n for n in hits.notices if "ambiguous" in n]
    assert all(i in notice for i in named)


def test_a_whole_title_holding_ids_anchors_its_own_document(kano_index: Index,
                                                            kano_corpus: Path) -> None:
    """KABSD-BUG-0002 is titled "Add dependency links between FTR-0013 and FTR-0015":
    asked by that title, the question is about the bug, not about the ids in its title."""
    items = _items(kano_corpus)
    bug = items["KABSD-BUG-0002"]
    assert bug["title"] == "Add dependency links between FTR-0013 and FTR-0015"
    want = {i for i, fm in items.items()
            if fm.get("parent") == bug["parent"] and i != "KABSD-BUG-0002"}
    assert want
    hits = kano_index.search(f"siblings of {bug['title']}", mode="keyword", explain=True,
                             limit=50)
    answered = [h for h in hits if h.explain and "relation" in h.explain
                and "->" in str(h.explain["relation"]["path"])]
    assert {str(h.explain["relation"]["anchor"]) for h in answered} == {"KABSD-BUG-0002"}
    assert {h.doc_id for h in answered} == want


def test_a_shared_adr_id_lists_the_one_linked_to_the_item_first(kano_index: Index,
                                                                  kano_corpus: Path) -> None:
    # two files claim ADR-0011; TSK-0155 follows "ADR-0011". The front matter says which
    # it means: the ADR whose related_items name the task's parent or its blocker.
    task = _items(kano_corpus)["KABSD-TSK-0155"]
    near = {task["parent"]} | _links(task, "blocked_by")
    adrs = {}
    for path in sorted((kano_corpus / "_kano").rglob("ADR-0011_*.md")):
        fm = yaml.safe_load(path.read_text(encoding="utf-8").split("\n---", 1)[0][3:])
        adrs[path.name] = bool(_ids(fm.get("related_items")) & near)
    assert sorted(adrs.values()) == [False, True]
    found, _ = _ask(kano_index, "which ADRs does KABSD-TSK-0155 follow")
    docs = kano_index._link_graph().resolver.docs
    named = [docs[a.rowid].path.rsplit("/", 1)[-1] for a in found.answers]
    shared = [name for name in named if name in adrs]
    assert len(shared) == 2 and adrs[shared[0]]


@pytest.mark.parametrize("item", ["KABSD-USR-0032", "KABSD-TSK-0244"])
def test_a_parent_question_lists_the_ancestors_above_after_the_anchor(
        kano_index: Index, kano_corpus: Path, item: str) -> None:
    every = _items(kano_corpus)
    chain, node = [], item
    while every.get(node, {}).get("parent"):
        node = every[node]["parent"]
        chain.append(node)
    assert len(chain) >= 2
    hits = kano_index.search(f"parent of {item.lower()}", mode="keyword", explain=True,
                             limit=len(chain) + 1)
    assert [h.doc_id for h in hits] == [chain[0], item, *chain[1:]]
    # each ancestor says how it was reached from the anchor
    assert hits[2].explain is not None
    assert hits[2].explain["relation"]["path"].startswith(f"{item} -parent-> {chain[0]}")
