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
    # contractions, and the verbs people use for blocking and nesting
    ("what's blocking KABSD-TSK-0083", "blocked_by", "KABSD-TSK-0083", None),
    ("what's holding up KABSD-TSK-0085", "blocked_by", "KABSD-TSK-0085", None),
    ("what is holding KABSD-TSK-0083 up", "blocked_by", "KABSD-TSK-0083", None),
    ("what is stalling the CLI scripts task", "blocked_by", "CLI scripts", "Task"),
    ("what is KABSD-TSK-0083 stuck on", "blocked_by", "KABSD-TSK-0083", None),
    ("what needs to be done before KABSD-TSK-0083", "blocked_by", "KABSD-TSK-0083", None),
    ("what must land before KABSD-TSK-0083 can start", "blocked_by", "KABSD-TSK-0083", None),
    ("what is KABSD-TSK-0080 holding up", "blocks", "KABSD-TSK-0080", None),
    ("what does TSK-0079 unblock", "blocks", "TSK-0079", None),
    ("what can start once KABSD-TSK-0079 is done", "blocks", "KABSD-TSK-0079", None),
    ("which tasks sit under the Monorepo Platform Migration feature", "children",
     "Monorepo Platform Migration", "Feature"),
    ("what sits under epic kabsd-epic-0010", "children", "kabsd-epic-0010", "Epic"),
    ("which stories belong to KCCS-FTR-0003", "children", "KCCS-FTR-0003", None),
    ("which epic does KABSD-TSK-0155 roll up to", "parent", "KABSD-TSK-0155", None),
    ("what does KABSD-TSK-0083 roll up to", "parent", "KABSD-TSK-0083", None),
    ("where does KABSD-TSK-0083 belong", "parent", "KABSD-TSK-0083", None),
    ("0083's parent feature", "parent", "0083", None),
    ("who is the parent of tsk-0244", "parent", "tsk-0244", None),
    ("what came out of ADR-0012", "implements", "ADR-0012", None),
    ("what was built because of the workset schema decision", "implements", "workset schema",
     "ADR"),
    ("items associated with KABSD-TSK-0092", "related", "KABSD-TSK-0092", None),
    ("what else is in the same feature as KABSD-TSK-0308", "siblings", "KABSD-TSK-0308", None),
    ("sister tasks of KABSD-TSK-0308", "siblings", "KABSD-TSK-0308", None),
    ("full hierarchy of KABSD-TSK-0083", "ancestors", "KABSD-TSK-0083", None),
    ("what is above KABSD-TSK-0083", "ancestors", "KABSD-TSK-0083", None),
    ("which tasks apply ADR-0013", "implements", "ADR-0013", None),
    ("what is based on ADR-0012", "implements", "ADR-0012", None),
    ("children of feature 0010", "children", "0010", "Feature"),
    ("tasks blocked until KABSD-TSK-0080 is finished", "blocks", "KABSD-TSK-0080", None),
    ("which items are on hold until KABSD-TSK-0079 lands", "blocks", "KABSD-TSK-0079", None),
    ("is anything blocking the dispatcher scoring feature", "blocked_by", "dispatcher scoring",
     "Feature"),
    ("is KABSD-TSK-0083 blocked", "blocked_by", "KABSD-TSK-0083", None),
    ("what tasks does the ID generation race condition prevention feature contain", "children",
     "ID generation race condition prevention", "Feature"),
    ("what got implemented because of the skill-scoped CLI namespace decision", "implements",
     "skill-scoped CLI namespace", "ADR"),
])
def test_relation_wordings(text: str, relation: str, anchor: str, hint: str | None) -> None:
    found = parse_relation(text)
    assert found is not None
    assert (found.relation, found.anchor, found.type_hint) == (relation, anchor, hint)
    assert found.relation in RELATIONS


@pytest.mark.parametrize(("text", "target"), [
    ("epic of KABSD-TSK-0083", "Epic"),
    ("which epic does KABSD-TSK-0155 roll up to", "Epic"),
    ("KABSD-TSK-0244's parent feature", "Feature"),
    ("the parent story of KABSD-TSK-0244", "UserStory"),
    ("what feature does KABSD-TSK-0083 sit under", "Feature"),
    ("parent of KABSD-TSK-0083", None),
    ("what does KABSD-TSK-0083 roll up to", None),
    ("parent item of KABSD-TSK-0083", None),
])
def test_a_parent_question_names_the_type_it_wants(text: str, target: str | None) -> None:
    found = parse_relation(text)
    assert found is not None and found.relation == "parent"
    assert found.target_type == target


@pytest.mark.parametrize(("text", "target"), [
    ("list the user stories in the Embedding providers feature", "UserStory"),
    ("what tasks does KABSD-FTR-0060 contain", "Task"),
    ("which features sit under the CLI Namespace Refactoring epic", "Feature"),
    ("what does the worklog telemetry schema feature block", None),  # the anchor's type
    ("children of KABSD-EPIC-0003", None),
])
def test_the_type_of_answers_asked_for(text: str, target: str | None) -> None:
    found = parse_relation(text)
    assert found is not None
    assert found.target_type == target


@pytest.mark.parametrize("text", [
    "why did we choose SQLite", "what's new in release 0.0.3", "what came out of the meeting", "UnicodeEncodeError non-UTF8 terminal", "KABSD-TSK-0083",
    "embedding cache invalidation", "how to block a user", "", "   ", "?", "🚀",
    "children", "blocked by", "is it blocked", "what is this part of",
])
def test_other_queries_are_not_relations(text: str) -> None:
    assert parse_relation(text) is None
