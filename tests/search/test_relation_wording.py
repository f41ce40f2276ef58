"""Relation questions however they are worded: anchor first or last, possessive, bare
postfix, imperative, type words, lower case, a trailing "?"; and ordinary queries
holding relation words stay ordinary.

The kano checks run each wording through the whole search and compare the
answers (the hits ``--explain`` shows a relation path for) with what the files'
front matter links (``tests/_front_matter.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _front_matter import expected

from lore.index import Index
from lore.search.relations import parse_relation


@pytest.mark.parametrize(("text", "relation", "anchor", "hint"), [
    # anchor first, bare: "X blockers", "X blocks what"
    ("KABSD-FTR-0015 blockers", "blocked_by", "KABSD-FTR-0015", None),
    ("KABSD-FTR-0013 blocks what", "blocks", "KABSD-FTR-0013", None),
    ("KABSD-FTR-0013 blocks what?", "blocks", "KABSD-FTR-0013", None),
    ("KABSD-TSK-0044 siblings", "siblings", "KABSD-TSK-0044", None),
    ("KABSD-FTR-0006 subtasks", "children", "KABSD-FTR-0006", None),
    ("EPIC-0001 children", "children", "EPIC-0001", None),
    ("kabsd-tsk-0083 blocked by what?", "blocked_by", "kabsd-tsk-0083", None),
    ("KABSD-TSK-0083: blockers", "blocked_by", "KABSD-TSK-0083", None),
    ("KABSD-TSK-0083 parent", "parent", "KABSD-TSK-0083", None),
    ("KABSD-TSK-0083 is part of what?", "parent", "KABSD-TSK-0083", None),
    ("KABSD-TSK-0083 ancestors", "ancestors", "KABSD-TSK-0083", None),
    ("ADR-0013 implemented by", "implements", "ADR-0013", None),
    ("ADR-0013 backlinks", "backlinks", "ADR-0013", None),
    ("KABSD-TSK-0092 related items", "related", "KABSD-TSK-0092", None),
    ("KABSD-TSK-0060 ADRs", "decisions", "KABSD-TSK-0060", None),
    # type words before the id
    ("epic KABSD-EPIC-0003 children", "children", "KABSD-EPIC-0003", "Epic"),
    ("the epic KABSD-EPIC-0003's children", "children", "KABSD-EPIC-0003", "Epic"),
    ("epic 1 children", "children", "1", "Epic"),
    # decisions asked from the item's side
    ("ADRs for KABSD-USR-0035", "decisions", "KABSD-USR-0035", None),
    ("which decisions came from KABSD-USR-0035", "decisions", "KABSD-USR-0035", None),
    ("what ADRs govern KABSD-TSK-0155", "decisions", "KABSD-TSK-0155", None),
    # imperatives and possessives of every relation
    ("list KABSD-FTR-0006's subtasks", "children", "KABSD-FTR-0006", None),
    ("show children of KABSD-EPIC-0003", "children", "KABSD-EPIC-0003", None),
    ("show me what blocks KABSD-TSK-0083", "blocked_by", "KABSD-TSK-0083", None),
    ("ADR-0013's implementations", "implements", "ADR-0013", None),
    ("KABSD-FTR-0013's dependents", "blocks", "KABSD-FTR-0013", None),
    # questions
    ("what are the siblings of KABSD-TSK-0059?", "siblings", "KABSD-TSK-0059", None),
    ("other children of KABSD-TSK-0059's parent", "siblings", "KABSD-TSK-0059", None),
    ("what is KABSD-FTR-0015 dependent on", "blocked_by", "KABSD-FTR-0015", None),
    ("upstream of KABSD-FTR-0015", "blocked_by", "KABSD-FTR-0015", None),
    ("downstream of KABSD-FTR-0013", "blocks", "KABSD-FTR-0013", None),
    ("what can't start until KABSD-TSK-0079 is done?", "blocks", "KABSD-TSK-0079", None),
    ("where is ADR-0013 referenced", "backlinks", "ADR-0013", None),
    ("outbound links from ADR-0014", "references", "ADR-0014", None),
    ("trace KABSD-TSK-0083 up to the top", "ancestors", "KABSD-TSK-0083", None),
    ("Which items have KABSD-EPIC-0001 as their parent?", "children", "KABSD-EPIC-0001", None),
    ("What work items reference ADR-0001 in their decisions?", "implements", "ADR-0001", None),
    ("Is KABSD-FTR-0015 blocked by anything?", "blocked_by", "KABSD-FTR-0015", None),
    ("KABSD-FTR-0013 is a blocker for what?", "blocks", "KABSD-FTR-0013", None),
    ("KABSD-TSK-0083 hierarchy up to the top", "ancestors", "KABSD-TSK-0083", None),
    ("which parent does KABSD-TSK-0083 have?", "parent", "KABSD-TSK-0083", None),
    ("what is directly above KABSD-TSK-0083", "parent", "KABSD-TSK-0083", None),
    ("name the blockers of KABSD-FTR-0015", "blocked_by", "KABSD-FTR-0015", None),
    ("relations of ADR-0001", "related", "ADR-0001", None),
    # a title anchor: marked by a type word, or before a colon with "it" in the question
    ("what tasks are under the Inspector Pattern epic", "children", "Inspector Pattern", "Epic"),
    ("Inspector Pattern epic subtasks", "children", "Inspector Pattern", "Epic"),
    ("Execution Layer: Workset Cache + Promote: what blocks it?", "blocked_by",
     "Execution Layer: Workset Cache + Promote", None),
])
def test_wordings_parse_to_the_relation_and_anchor(text: str, relation: str, anchor: str,
                                                   hint: str | None) -> None:
    found = parse_relation(text)
    assert found is not None, text
    assert (found.relation, found.anchor, found.type_hint) == (relation, anchor, hint)


@pytest.mark.parametrize(("text", "relation", "anchor"), [
    # the search-box order, relation noun first
    ("blockers KABSD-FTR-0015", "blocked_by", "KABSD-FTR-0015"),
    ("children KABSD-EPIC-0001", "children", "KABSD-EPIC-0001"),
    ("parent KABSD-BUG-0001", "parent", "KABSD-BUG-0001"),
    ("siblings KABSD-BUG-0002", "siblings", "KABSD-BUG-0002"),
    ("adrs KABSD-EPIC-0011", "decisions", "KABSD-EPIC-0011"),
    ("incoming links ADR-0001", "backlinks", "ADR-0001"),
    ("linked items ADR-0001", "related", "ADR-0001"),
    # courtesies around the question
    ("hey, can you tell me which tasks are waiting on KABSD-FTR-0013?", "blocks",
     "KABSD-FTR-0013"),
    ("could you list everything that blocks KABSD-FTR-0015, please", "blocked_by",
     "KABSD-FTR-0015"),
    ("quick one: what's the parent item for KABSD-BUG-0001?", "parent", "KABSD-BUG-0001"),
    ("could you show me the other tasks that share KABSD-BUG-0002's parent?", "siblings",
     "KABSD-BUG-0002"),
    # "X - what blocks it", like "X: what blocks it"
    ("feature KABSD-FTR-0015 - what blocks it", "blocked_by", "KABSD-FTR-0015"),
    # words and spellings of other people
    ("what's dependent on KABSD-FTR-0013", "blocks", "KABSD-FTR-0013"),
    ("list everything that needs KABSD-FTR-0013", "blocks", "KABSD-FTR-0013"),
    ("what stands in the way of KABSD-FTR-0015?", "blocked_by", "KABSD-FTR-0015"),
    ("upstream dependencies of KABSD-FTR-0015", "blocked_by", "KABSD-FTR-0015"),
    ("which items roll up to KABSD-EPIC-0001?", "children", "KABSD-EPIC-0001"),
    ("what does KABSD-EPIC-0001 break down into", "children", "KABSD-EPIC-0001"),
    ("what work is underneath KABSD-EPIC-0001?", "children", "KABSD-EPIC-0001"),
    ("KABSD-EPIC-0001 child tickets", "children", "KABSD-EPIC-0001"),
    ("child tickets of KABSD-EPIC-0001", "children", "KABSD-EPIC-0001"),
    ("parent ticket of KABSD-BUG-0001", "parent", "KABSD-BUG-0001"),
    ("KABSD-BUG-0001 belongs under what", "parent", "KABSD-BUG-0001"),
    ("which ticket owns KABSD-BUG-0001?", "parent", "KABSD-BUG-0001"),
    ("what is KABSD-BUG-0001 ultimately part of?", "ancestors", "KABSD-BUG-0001"),
    ("breadcrumb for KABSD-BUG-0001", "ancestors", "KABSD-BUG-0001"),
    ("parents and grandparents of KABSD-BUG-0001", "ancestors", "KABSD-BUG-0001"),
    ("KABSD-BUG-0001 upward hierarchy", "ancestors", "KABSD-BUG-0001"),
    ("what else shares a parent with KABSD-BUG-0002?", "siblings", "KABSD-BUG-0002"),
    ("items at the same level as KABSD-BUG-0002", "siblings", "KABSD-BUG-0002"),
    ("fellow subtasks of KABSD-BUG-0002", "siblings", "KABSD-BUG-0002"),
    ("KABSD-BUG-0002's sibling tickets", "siblings", "KABSD-BUG-0002"),
    ("ADR-0001 implementation", "implements", "ADR-0001"),
    ("where is ADR-0001 implemented?", "implements", "ADR-0001"),
    ("which tasks actually carry out ADR-0001?", "implements", "ADR-0001"),
    ("linked ADR for KABSD-EPIC-0011", "decisions", "KABSD-EPIC-0011"),
    ("KABSD-EPIC-0011 linked ADRs", "decisions", "KABSD-EPIC-0011"),
    ("which architecture decision records relate to KABSD-EPIC-0011", "decisions",
     "KABSD-EPIC-0011"),
    ("can you find the ADRs that apply to KABSD-EPIC-0011?", "decisions", "KABSD-EPIC-0011"),
    ("ADR-0001 links out to what", "references", "ADR-0001"),
    ("where does ADR-0001 link", "references", "ADR-0001"),
    ("pages linking to ADR-0001", "backlinks", "ADR-0001"),
    ("is ADR-0001 referenced anywhere?", "backlinks", "ADR-0001"),
    ("ADR-0001 connections", "related", "ADR-0001"),
    ("ADR-0001 neighbours", "related", "ADR-0001"),
    ("ADR-0001 neighbors", "related", "ADR-0001"),
])
def test_wordings_nobody_tuned_for_parse(text: str, relation: str, anchor: str) -> None:
    """Set f of bench/relation_wording.py: written before the recogniser was read."""
    found = parse_relation(text)
    assert found is not None, text
    assert (found.relation, found.anchor) == (relation, anchor)


@pytest.mark.parametrize("text", [
    "how do children inherit settings", "what blocks of text are indexed",
    "what tasks are in progress", "where is the config used", "list all tasks",
    "find references in items that point at things which no longer exist",
    "Obesity is common in children", "python 3 dependencies", "what was decided about sqlite",
    "design decisions for the index", "error 404: children", "go up from here",
    "Note: this is important", "why is the build stuck", "what sits next to the fridge",
    "relations of power in society", "name the author",
    "hey, how do children inherit settings", "is smoking linked to cancer",
    "is the index mentioned in the guide", "what contains sodium", "parent teacher meeting",
    "everything that needs a rewrite", "where does this road lead to", "ADR 34", "decision #7",
])
def test_ordinary_queries_with_relation_words_stay_ordinary(text: str) -> None:
    assert parse_relation(text) is None


# --- on the kano corpus --------------------------------------------------------------------

def _answered(index: Index, question: str) -> list[str]:
    """Doc ids of the hits the graph leg answered, in rank order (not the anchor)."""
    hits = index.search(question, limit=60, explain=True)
    return [hit.doc_id for hit in hits
            if "->" in (hit.explain or {}).get("relation", {}).get("path", "")]


@pytest.mark.parametrize(("question", "relation", "anchor"), [
    ("KABSD-FTR-0015 blockers", "blocked_by", "KABSD-FTR-0015"),
    ("kabsd-ftr-0015 dependencies", "blocked_by", "KABSD-FTR-0015"),
    ("what is KABSD-FTR-0015 dependent on?", "blocked_by", "KABSD-FTR-0015"),
    ("KABSD-FTR-0013 blocks what", "blocks", "KABSD-FTR-0013"),
    ("downstream of KABSD-FTR-0013", "blocks", "KABSD-FTR-0013"),
    ("KABSD-FTR-0006 subtasks", "children", "KABSD-FTR-0006"),
    ("KABSD-EPIC-0001 children", "children", "KABSD-EPIC-0001"),
    ("show me the children of the epic KABSD-EPIC-0003", "children", "KABSD-EPIC-0003"),
    ("KABSD-TSK-0083 is part of what?", "parent", "KABSD-TSK-0083"),
    ("trace KABSD-TSK-0083 up to the top", "ancestors", "KABSD-TSK-0083"),
    ("KABSD-TSK-0044 siblings", "siblings", "KABSD-TSK-0044"),
    ("other children of KABSD-TSK-0059's parent", "siblings", "KABSD-TSK-0059"),
    ("ADR-0013 implemented by", "implements", "ADR-0013"),
    ("ADRs for KABSD-USR-0035", "decisions", "KABSD-USR-0035"),
    ("which decisions came from KABSD-USR-0035", "decisions", "KABSD-USR-0035"),
    ("KABSD-TSK-0060 decisions", "decisions", "KABSD-TSK-0060"),
    ("KABSD-TSK-0155 outgoing links", "references", "KABSD-TSK-0155"),
    ("where is ADR-0013 referenced", "backlinks", "ADR-0013"),
    ("KABSD-TSK-0092 related items", "related", "KABSD-TSK-0092"),
    ("blockers KABSD-FTR-0015", "blocked_by", "KABSD-FTR-0015"),
    ("hey, can you tell me which tasks are waiting on KABSD-FTR-0013?", "blocks",
     "KABSD-FTR-0013"),
    ("child tickets of KABSD-EPIC-0001", "children", "KABSD-EPIC-0001"),
    ("parent ticket of KABSD-TSK-0083", "parent", "KABSD-TSK-0083"),
    ("is ADR-0013 referenced anywhere?", "backlinks", "ADR-0013"),
])
def test_each_wording_answers_from_the_front_matter(kano_index: Index, kano_corpus: Path,
                                                    question: str, relation: str,
                                                    anchor: str) -> None:
    want = expected(kano_corpus, relation, anchor)
    assert want, (relation, anchor)
    got = _answered(kano_index, question)
    if relation in ("references", "backlinks"):   # body links answer too
        assert want <= set(got)
    else:   # what the front matter links comes first (implements: related ADRs follow)
        assert set(got[:len(want)]) == want


def test_decisions_include_the_adrs_that_name_the_item(kano_corpus: Path) -> None:
    """USR-0035 lists no decisions itself; ADR-0035 and ADR-0036 name it in related_items."""
    assert expected(kano_corpus, "decisions", "KABSD-USR-0035") == {"ADR-0035", "ADR-0036"}


@pytest.mark.parametrize("text", ["python3 children", "utf-8 links", "v2 references",
                                  "sqlite3 blocked", "deps python3", "parent v2"])
def test_a_postfix_word_after_an_unknown_anchor_is_an_ordinary_search(kano_index: Index,
                                                                      text: str) -> None:
    assert parse_relation(text) is not None   # it reads like one ...
    result = kano_index.search(text, limit=10, explain=True)
    # ... but the anchor names no document: no graph leg, no notice about links
    assert not any("graph" in (hit.explain or {}).get("legs", {}) for hit in result)
