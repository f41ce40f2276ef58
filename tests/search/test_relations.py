"""Relation questions are read in natural wording; other queries are left alone."""

from __future__ import annotations

import pytest

from lore.search.relations import RELATIONS, parse_relation


@pytest.mark.parametrize(("text", "relation", "anchor", "hint"), [
    ("what blocks KABSD-TSK-0083", "blocked_by", "KABSD-TSK-0083", None),
    ("What is KABSD-TSK-0083 blocked by?", "blocked_by", "KABSD-TSK-0083", None),
    ("blockers of KABSD-TSK-0083", "blocked_by", "KABSD-TSK-0083", None),
    ("what does KABSD-FTR-0015 depend on", "blocked_by", "KABSD-FTR-0015", None),
    ("which items are blocked by KABSD-TSK-0079", "blocks", "KABSD-TSK-0079", None),
    ("what does KABSD-TSK-0080 block", "blocks", "KABSD-TSK-0080", None),
    ("what depends on KABSD-TSK-0079", "blocks", "KABSD-TSK-0079", None),
    ("children of KABSD-EPIC-0003", "children", "KABSD-EPIC-0003", None),
    ("subtasks of KABSD-USR-0029", "children", "KABSD-USR-0029", None),
    ("features of KABSD-EPIC-0003", "children", "KABSD-EPIC-0003", None),
    ("what is under KABSD-FTR-0010", "children", "KABSD-FTR-0010", None),
    ("children of the Inspector Pattern epic", "children", "Inspector Pattern", "Epic"),
    ("epic of KABSD-FTR-0034", "parent", "KABSD-FTR-0034", None),
    ("which epic does KABSD-TSK-0083 belong to", "parent", "KABSD-TSK-0083", None),
    ("parent chain of KABSD-TSK-0083", "ancestors", "KABSD-TSK-0083", None),
    ("siblings of KABSD-TSK-0059", "siblings", "KABSD-TSK-0059", None),
    ("which items implement ADR-0013", "implements", "ADR-0013", None),
    ("tasks implementing the codebase architecture decision", "implements",
     "codebase architecture", "ADR"),
    ("which decisions does KABSD-TSK-0155 follow", "decisions", "KABSD-TSK-0155", None),
    ("ADRs for KABSD-TSK-0155", "decisions", "KABSD-TSK-0155", None),
    ("what does ADR-0014 reference", "references", "ADR-0014", None),
    ("what links to ADR-0013", "backlinks", "ADR-0013", None),
    ("items related to KABSD-TSK-0092", "related", "KABSD-TSK-0092", None),
    ("what is blocked by the ID resolver spec and design task", "blocks",
     "ID resolver spec and design", "Task"),
    ("KABSD-TSK-0083's blockers", "blocked_by", "KABSD-TSK-0083", None),
    ("KABSD-EPIC-0003's children", "children", "KABSD-EPIC-0003", None),
    ("KABSD-FTR-0034's epic", "parent", "KABSD-FTR-0034", None),
    ("what is KABSD-TSK-0083 part of", "parent", "KABSD-TSK-0083", None),
    ("which epic is KABSD-TSK-0083 under", "parent", "KABSD-TSK-0083", None),
    ("tasks in the same feature as KABSD-TSK-0059", "siblings", "KABSD-TSK-0059", None),
    ("which items does ADR-0013 govern", "implements", "ADR-0013", None),
    ("what does KABSD-TSK-0092 relate to", "related", "KABSD-TSK-0092", None),
    ("show me everything linked to KABSD-TSK-0092", "related", "KABSD-TSK-0092", None),
    ("work items under epic KABSD-EPIC-0003", "children", "KABSD-EPIC-0003", "Epic"),
])
def test_relation_wordings(text: str, relation: str, anchor: str, hint: str | None) -> None:
    found = parse_relation(text)
    assert found is not None
    assert (found.relation, found.anchor, found.type_hint) == (relation, anchor, hint)
    assert found.relation in RELATIONS


@pytest.mark.parametrize("text", [
    "why did we choose SQLite", "UnicodeEncodeError non-UTF8 terminal", "KABSD-TSK-0083",
    "embedding cache invalidation", "how to block a user", "", "   ", "?", "🚀",
    "children", "blocked by",
])
def test_other_queries_are_not_relations(text: str) -> None:
    assert parse_relation(text) is None
