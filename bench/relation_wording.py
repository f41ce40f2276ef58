"""Relation questions in many wordings, checked against the kano backlog's front matter.

A person asks "what blocks X" as "X blockers", "X's dependencies", "list the
blockers of the task X", "kabsd-tsk-0083 blocked by what?". This sweep picks
anchors from the files' own front matter for every relation lore answers
(``search/relations.py``), puts each into many wordings a person would type
(``TEMPLATES``: a question with and without "?", "... of X", a possessive, a
bare postfix "X blockers", an imperative "list X's subtasks", a type word
"the epic X"; every wording also with the anchor id in lower case), runs each
through ``Index.search`` and reports, per relation and per family of
wordings:

- recognised: the graph leg answered with the relation asked about;
- correct: the top hits are the items the front matter links that way
  (for ``references`` and ``backlinks``, whose answers include body links,
  the front-matter links are all among the leg's answers).

``--ordinary`` instead lists the ordinary queries that read as relation
questions: every non-graph question of the backlog sets (``bench/backlog``)
and every SciFact claim with a train judgement; a change to the recogniser
must leave this list as it was (run it before and after and compare).

The expected items come from the YAML alone (both directions: a blocker may
be declared on either side, a child names its parent), never from lore's
link table. Only ids held by one file are used, anchors and answers alike.

    LORE_HOME=/work/lore-home PYTHONPATH=src python bench/relation_wording.py
    ... --root /tmp/kano/kano-backlog --anchors 4 --show-misses postfix
    ... --ordinary
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from _shared import KANO, SCIFACT, extract, lore_settings

from lore.index import open_index
from lore.search.relations import parse_relation

HERE = Path(__file__).resolve().parent

# relation -> (family, template); {a} is the anchor id, {t} its type word ("task").
# Written as people ask, not read back from the recogniser's patterns.
TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "blocked_by": (
        ("question", "what blocks {a}"), ("question", "what is blocking {a}?"),
        ("question", "what does {a} depend on?"), ("question", "which items block {a}"),
        ("question", "what is {a} waiting on"), ("question", "what is {a} blocked by?"),
        ("question", "what are the blockers for {a}?"),
        ("of", "blockers of {a}"), ("of", "dependencies of {a}"),
        ("of", "prerequisites for {a}"),
        ("possessive", "{a}'s blockers"), ("possessive", "{a}'s dependencies"),
        ("postfix", "{a} blockers"), ("postfix", "{a} blocked by"),
        ("postfix", "{a} dependencies"), ("postfix", "{a} depends on"),
        ("postfix", "{a} blocked by what"), ("postfix", "{a} prerequisites"),
        ("postfix", "{a} depends on what?"),
        ("imperative", "list {a}'s blockers"), ("imperative", "show blockers of {a}"),
        ("imperative", "show me what blocks {a}"), ("imperative", "list the dependencies of {a}"),
        ("imperative", "find what is blocking {a}"),
        ("typed", "what blocks the {t} {a}"), ("typed", "blockers of {t} {a}"),
        ("typed", "{t} {a} blockers"),
    ),
    "blocks": (
        ("question", "what does {a} block?"), ("question", "what is blocked by {a}"),
        ("question", "which items does {a} block"), ("question", "what depends on {a}?"),
        ("question", "what is waiting on {a}"), ("question", "what is {a} blocking?"),
        ("of", "items blocked by {a}"), ("of", "dependents of {a}"),
        ("possessive", "{a}'s dependents"), ("possessive", "{a}'s blocked items"),
        ("postfix", "{a} blocks what"), ("postfix", "{a} blocks what?"),
        ("postfix", "{a} dependents"), ("postfix", "{a} is blocking what"),
        ("postfix", "{a} blocks"), ("postfix", "{a} blocked items"),
        ("imperative", "list items blocked by {a}"), ("imperative", "show what {a} blocks"),
        ("imperative", "list what depends on {a}"), ("imperative", "show me everything {a} blocks"),
        ("typed", "what does the {t} {a} block"), ("typed", "{t} {a} blocks what"),
    ),
    "children": (
        ("question", "what are the children of {a}?"), ("question", "what is under {a}"),
        ("question", "which items belong to {a}?"), ("question", "what does {a} contain"),
        ("question", "what are {a}'s subtasks?"),
        ("of", "children of {a}"), ("of", "subtasks of {a}"), ("of", "child items of {a}"),
        ("of", "items under {a}"),
        ("possessive", "{a}'s children"), ("possessive", "{a}'s subtasks"),
        ("possessive", "{a}'s child items"),
        ("postfix", "{a} children"), ("postfix", "{a} subtasks"), ("postfix", "{a} child items"),
        ("postfix", "{a} sub-items"), ("postfix", "{a} breakdown"), ("postfix", "{a} kids"),
        ("imperative", "list {a}'s subtasks"), ("imperative", "show children of {a}"),
        ("imperative", "list the children of {a}"), ("imperative", "show me the subtasks of {a}"),
        ("imperative", "list everything under {a}"),
        ("typed", "children of the {t} {a}"), ("typed", "the {t} {a}'s children"),
        ("typed", "{t} {a} children"), ("typed", "what is in the {t} {a}?"),
    ),
    "parent": (
        ("question", "what is the parent of {a}?"), ("question", "what is {a}'s parent"),
        ("question", "what does {a} belong to?"), ("question", "what is {a} part of?"),
        ("question", "which item is {a} under"),
        ("of", "parent of {a}"), ("of", "parent item of {a}"),
        ("possessive", "{a}'s parent"), ("possessive", "{a}'s parent item"),
        ("postfix", "{a} parent"), ("postfix", "{a} parent item"),
        ("postfix", "{a} belongs to what"), ("postfix", "{a} is part of what?"),
        ("imperative", "show the parent of {a}"), ("imperative", "show {a}'s parent"),
        ("imperative", "find the parent of {a}"),
        ("typed", "parent of the {t} {a}"), ("typed", "{t} {a} parent"),
    ),
    "ancestors": (
        ("question", "what is above {a}?"), ("question", "what is the parent chain of {a}"),
        ("question", "what are the ancestors of {a}?"),
        ("of", "ancestors of {a}"), ("of", "parent chain of {a}"), ("of", "hierarchy of {a}"),
        ("possessive", "{a}'s ancestors"), ("possessive", "{a}'s parent chain"),
        ("possessive", "{a}'s hierarchy"),
        ("postfix", "{a} ancestors"), ("postfix", "{a} parent chain"),
        ("postfix", "{a} hierarchy"), ("postfix", "{a} lineage"),
        ("imperative", "show the hierarchy of {a}"), ("imperative", "list {a}'s ancestors"),
        ("imperative", "show me the parent chain for {a}"),
        ("typed", "ancestors of the {t} {a}"), ("typed", "{t} {a} ancestors"),
    ),
    "siblings": (
        ("question", "what are the siblings of {a}?"),
        ("question", "what else is under the same parent as {a}"),
        ("question", "which items share a parent with {a}?"),
        ("of", "siblings of {a}"), ("of", "sibling items of {a}"),
        ("possessive", "{a}'s siblings"), ("possessive", "{a}'s sibling tasks"),
        ("postfix", "{a} siblings"), ("postfix", "{a} sibling items"), ("postfix", "{a} peers"),
        ("imperative", "list {a}'s siblings"), ("imperative", "show siblings of {a}"),
        ("imperative", "show me items with the same parent as {a}"),
        ("typed", "siblings of the {t} {a}"), ("typed", "{t} {a} siblings"),
    ),
    "implements": (
        ("question", "what implements {a}?"), ("question", "which items implement {a}"),
        ("question", "what came out of {a}"), ("question", "which tasks follow {a}?"),
        ("of", "implementations of {a}"), ("of", "items implementing {a}"),
        ("possessive", "{a}'s implementations"),
        ("postfix", "{a} implementations"), ("postfix", "{a} implemented by"),
        ("postfix", "{a} implemented by what"), ("postfix", "{a} implementing items"),
        ("imperative", "list items implementing {a}"), ("imperative", "show what implements {a}"),
        ("imperative", "list {a}'s implementations"),
        ("typed", "what implements the decision {a}"), ("typed", "items implementing adr {a}"),
    ),
    "decisions": (
        ("question", "which decisions does {a} follow?"), ("question", "what ADRs apply to {a}"),
        ("question", "which decisions came from {a}"),
        ("question", "what decisions were made for {a}?"),
        ("of", "decisions of {a}"), ("of", "decisions for {a}"), ("of", "ADRs for {a}"),
        ("of", "ADRs of {a}"),
        ("possessive", "{a}'s decisions"), ("possessive", "{a}'s ADRs"),
        ("postfix", "{a} decisions"), ("postfix", "{a} ADRs"), ("postfix", "{a} adr"),
        ("postfix", "{a} decision records"),
        ("imperative", "list {a}'s decisions"), ("imperative", "show ADRs for {a}"),
        ("imperative", "list the decisions behind {a}"),
        ("typed", "decisions for the {t} {a}"), ("typed", "{t} {a} decisions"),
    ),
    "references": (
        ("question", "what does {a} reference?"), ("question", "what does {a} link to"),
        ("question", "what does {a} mention?"),
        ("of", "references of {a}"), ("of", "links from {a}"), ("of", "outgoing links of {a}"),
        ("possessive", "{a}'s references"), ("possessive", "{a}'s outgoing links"),
        ("postfix", "{a} references"), ("postfix", "{a} links to"),
        ("postfix", "{a} outgoing links"),
        ("imperative", "list {a}'s references"), ("imperative", "show links from {a}"),
        ("imperative", "show what {a} links to"),
        ("typed", "what does the {t} {a} reference"),
    ),
    "backlinks": (
        ("question", "what links to {a}?"), ("question", "what references {a}"),
        ("question", "which documents mention {a}?"), ("question", "what points to {a}"),
        ("of", "backlinks of {a}"), ("of", "backlinks to {a}"),
        ("possessive", "{a}'s backlinks"),
        ("postfix", "{a} backlinks"), ("postfix", "{a} referenced by"),
        ("postfix", "{a} linked from"), ("postfix", "{a} mentioned in"),
        ("imperative", "list backlinks to {a}"), ("imperative", "show what links to {a}"),
        ("imperative", "find documents referencing {a}"),
        ("typed", "what links to the {t} {a}"),
    ),
    "related": (
        ("question", "what is related to {a}?"), ("question", "what relates to {a}"),
        ("question", "what is {a} related to?"),
        ("of", "items related to {a}"), ("of", "related items of {a}"),
        ("of", "related work for {a}"),
        ("possessive", "{a}'s related items"), ("possessive", "{a}'s relations"),
        ("postfix", "{a} related"), ("postfix", "{a} related items"),
        ("postfix", "{a} relates to"), ("postfix", "{a} related work"),
        ("imperative", "list items related to {a}"), ("imperative", "show everything related to {a}"),
        ("imperative", "show related items for {a}"),
        ("typed", "items related to the {t} {a}"), ("typed", "{t} {a} related items"),
    ),
}
# A second set, written after the recogniser was extended for the first (as a check
# that it generalises, measured once before any further change: bench/README.md).
TEMPLATES_B: dict[str, tuple[tuple[str, str], ...]] = {
    "blocked_by": (
        ("question", "What's blocking {a}?"), ("question", "what is {a} dependent on"),
        ("question", "what needs to be finished before {a}"), ("question", "anything blocking {a}?"),
        ("question", "which tasks must be done before {a}"), ("question", "who blocks {a}"),
        ("question", "what does {a} need first?"), ("question", "what prevents {a} from starting"),
        ("of", "blocking items for {a}"), ("of", "dependencies for {a}?"), ("of", "upstream of {a}"),
        ("postfix", "{a}: blockers"), ("postfix", "{a} is waiting on what"),
        ("postfix", "{a} blocked?"), ("postfix", "{a} deps"),
        ("imperative", "show dependencies of {a}"), ("imperative", "tell me what blocks {a}"),
        ("typed", "what's blocking the {t} {a}?"),
    ),
    "blocks": (
        ("question", "what is {a} blocking"), ("question", "what can't start until {a} is done?"),
        ("question", "which items are waiting on {a}?"), ("question", "what is held up by {a}"),
        ("question", "what does finishing {a} unblock?"), ("question", "what gets unblocked by {a}"),
        ("question", "who depends on {a}"), ("question", "what's waiting for {a}"),
        ("of", "items that depend on {a}"), ("of", "downstream of {a}"),
        ("postfix", "{a} unblocks what"), ("postfix", "{a}: dependents"),
        ("imperative", "show items waiting on {a}"), ("typed", "what is the {t} {a} blocking?"),
    ),
    "children": (
        ("question", "which tasks belong to {a}?"), ("question", "what items are in {a}"),
        ("question", "what's in {a}?"), ("question", "what work is under {a}"),
        ("question", "what are {a}'s child items"), ("question", "what is {a} made of"),
        ("of", "tasks under {a}"), ("of", "sub items of {a}"), ("of", "direct children of {a}"),
        ("of", "stories in {a}"),
        ("postfix", "{a}: children"), ("postfix", "{a} child tasks"),
        ("imperative", "list tasks in {a}"), ("imperative", "show everything in {a}"),
        ("imperative", "break down {a}"), ("typed", "items in the {t} {a}"),
    ),
    "parent": (
        ("question", "what's the parent of {a}?"), ("question", "who is {a}'s parent"),
        ("question", "what is {a} a child of"), ("question", "where does {a} sit?"),
        ("of", "parent for {a}"), ("postfix", "{a}: parent"),
        ("postfix", "{a} is a child of what"), ("postfix", "{a} parent?"),
        ("imperative", "show me {a}'s parent"), ("typed", "what is the {t} {a} part of?"),
    ),
    "ancestors": (
        ("question", "what is above {a} in the hierarchy"),
        ("of", "full parent chain of {a}"), ("of", "all ancestors of {a}"),
        ("of", "path from {a} to the top"), ("possessive", "{a}'s lineage"),
        ("postfix", "{a} up the tree"), ("postfix", "{a}: ancestors"),
        ("imperative", "trace {a} up to the top"), ("imperative", "show everything above {a}"),
    ),
    "siblings": (
        ("question", "which items have the same parent as {a}?"),
        ("question", "what else shares {a}'s parent"), ("question", "what else is in {a}'s parent?"),
        ("of", "siblings for {a}"), ("of", "other children of {a}'s parent"),
        ("possessive", "{a}'s peers"), ("postfix", "{a} sibling tasks"), ("postfix", "{a}: siblings"),
        ("imperative", "show the siblings of {a}"), ("typed", "siblings of {t} {a}"),
    ),
    "implements": (
        ("question", "which work items implement {a}?"), ("question", "what was built from {a}"),
        ("question", "what items are governed by {a}"), ("question", "who implements {a}"),
        ("question", "what came from {a}"),
        ("of", "tasks that follow {a}"), ("of", "work done under {a}"), ("of", "items that apply {a}"),
        ("postfix", "{a} implementations?"), ("postfix", "{a}: implemented by"),
        ("imperative", "show implementations of {a}"), ("typed", "items implementing the adr {a}"),
    ),
    "decisions": (
        ("question", "what decisions apply to {a}?"), ("question", "which ADRs does {a} follow"),
        ("question", "what ADRs govern {a}"), ("question", "what was decided for {a}"),
        ("of", "decisions behind {a}"), ("of", "ADRs related to {a}"),
        ("of", "the decision records for {a}"), ("of", "architecture decisions for {a}"),
        ("postfix", "{a} ADR?"), ("postfix", "{a}: decisions"),
        ("imperative", "show the ADRs of {a}"), ("typed", "ADRs for the {t} {a}"),
    ),
    "references": (
        ("question", "what does {a} point to"), ("question", "which documents does {a} cite?"),
        ("question", "what is linked from {a}"), ("of", "outbound links from {a}"),
        ("of", "links in {a}"), ("postfix", "{a} cites what"), ("postfix", "{a}: references"),
        ("imperative", "show what {a} references"),
    ),
    "backlinks": (
        ("question", "who references {a}?"), ("question", "what mentions {a}"),
        ("question", "where is {a} referenced"), ("question", "what cites {a}"),
        ("question", "where is {a} mentioned?"),
        ("of", "documents that link to {a}"), ("of", "incoming links to {a}"),
        ("of", "inbound links for {a}"), ("postfix", "{a} is mentioned where"),
        ("postfix", "{a}: backlinks"), ("imperative", "show documents that mention {a}"),
    ),
    "related": (
        ("question", "what is connected to {a}"), ("question", "anything related to {a}?"),
        ("question", "what's associated with {a}"), ("question", "what's linked with {a}"),
        ("of", "items linked to {a}"), ("of", "related to {a}"), ("of", "see also for {a}"),
        ("postfix", "{a} relations"), ("postfix", "{a}: related"),
        ("imperative", "show me what relates to {a}"), ("typed", "what is related to the {t} {a}"),
    ),
}
# A third set, written once sets a and b were recognised and measured once, untuned:
# the check that stands for wordings nobody here wrote. {title} is the anchor's title.
TEMPLATES_C: dict[str, tuple[tuple[str, str], ...]] = {
    "blocked_by": (
        ("question", "what's stopping {a}"), ("question", "why is {a} blocked"),
        ("question", "what's in the way of {a}?"), ("question", "can {a} start?"),
        ("of", "prereqs for {a}"), ("postfix", "{a} waiting on"),
        ("title", "what blocks {title}"), ("title", "blockers of the {title} {t}"),
    ),
    "blocks": (
        ("question", "what does {a} hold up"), ("question", "what is {a} a blocker for"),
        ("question", "which tasks need {a} first"), ("postfix", "{a} is blocking"),
        ("title", "what does the {title} {t} block"),
    ),
    "children": (
        ("question", "what's under {a}?"), ("question", "what does {a} consist of"),
        ("of", "contents of {a}"), ("of", "tasks for {a}"), ("postfix", "{a} sub tasks"),
        ("title", "children of the {title} {t}"), ("title", "what tasks are under the {title} {t}"),
        ("title", "{title} {t} subtasks"),
    ),
    "parent": (
        ("question", "what's above {a}"), ("postfix", "{a} belongs to"),
        ("of", "parent item for {a}?"), ("imperative", "go up from {a}"),
        ("title", "parent of the {title} {t}"),
    ),
    "ancestors": (
        ("of", "ancestry of {a}"), ("postfix", "{a} full hierarchy"),
        ("question", "what is {a} nested in"), ("title", "hierarchy of the {title} {t}"),
    ),
    "siblings": (
        ("question", "what sits next to {a}"), ("postfix", "{a} sibling"),
        ("of", "items alongside {a}"), ("title", "siblings of the {title} {t}"),
    ),
    "implements": (
        ("question", "what implements the {a} decision"), ("of", "work following {a}"),
        ("postfix", "{a} followed by"), ("of", "items based on {a}"),
    ),
    "decisions": (
        ("question", "what decided {a}"), ("postfix", "{a} design decisions"),
        ("of", "decisions linked to {a}"), ("of", "ADRs referenced by {a}"),
        ("title", "ADRs for the {title} {t}"),
    ),
    "references": (
        ("postfix", "{a} outbound links"), ("question", "what is mentioned in {a}"),
        ("postfix", "{a} points to"),
    ),
    "backlinks": (
        ("question", "what refers to {a}"), ("postfix", "{a} inbound links"),
        ("question", "who mentions {a}"),
    ),
    "related": (
        ("postfix", "{a} linked items"), ("of", "stuff related to {a}"),
        ("question", "what's tied to {a}"), ("title", "items related to the {title} {t}"),
    ),
}
# A fourth set, full sentences as a question writer puts them, written after set c's
# changes and measured once, untuned.
TEMPLATES_D: dict[str, tuple[tuple[str, str], ...]] = {
    "blocked_by": (
        ("question", "Which items need to be completed before {a}?"),
        ("question", "What must finish before {a} can begin?"),
        ("imperative", "List the blockers for {a}."), ("question", "What tasks is {a} blocked on?"),
        ("question", "Is {a} blocked by anything?"), ("title", "{title}: what blocks it?"),
    ),
    "blocks": (
        ("question", "Which items can't proceed until {a} is finished?"),
        ("question", "What will {a} unblock?"), ("question", "Which work is blocked on {a}?"),
        ("title", "What depends on the {title} {t}?"),
    ),
    "children": (
        ("question", "What work items does {a} contain?"),
        ("question", "Which features are part of {a}?"),
        ("imperative", "List the items under {a}."), ("question", "What are the tasks of {a}?"),
        ("question", "Which items have {a} as their parent?"),
        ("title", "Show the {title} {t}'s children"),
    ),
    "parent": (
        ("question", "What is the parent item of {a}?"),
        ("question", "Which item is the parent of {a}?"), ("possessive", "{a}'s parent?"),
        ("question", "What is {a} under?"),
    ),
    "ancestors": (
        ("imperative", "Show the full chain of parents for {a}"),
        ("imperative", "List every ancestor of {a}"),
        ("question", "What is the hierarchy above {a}?"),
    ),
    "siblings": (
        ("question", "Which tasks have the same parent as {a}?"),
        ("question", "What other items share {a}'s parent?"),
        ("imperative", "List {a}'s sibling items"), ("of", "siblings of {a}?"),
    ),
    "implements": (
        ("question", "Which items implement the decision {a}?"),
        ("question", "What work items reference {a} in their decisions?"),
        ("question", "Which tasks were done because of {a}?"),
        ("imperative", "List the implementations of {a}"),
    ),
    "decisions": (
        ("question", "Which ADR does {a} implement?"),
        ("question", "What decisions is {a} based on?"), ("question", "Which ADRs apply to {a}?"),
        ("question", "What decision records are linked from {a}?"),
    ),
    "references": (
        ("question", "What documents does {a} link to?"),
        ("question", "Which items does {a} reference?"), ("imperative", "List the links in {a}"),
    ),
    "backlinks": (
        ("question", "Which documents link to {a}?"), ("question", "What items mention {a}?"),
        ("imperative", "List everything that references {a}"),
    ),
    "related": (
        ("question", "What are the related items of {a}?"),
        ("question", "What else is linked to {a}?"), ("question", "Which items relate to {a}?"),
        ("title", "Show items related to the {title} {t}"),
    ),
}
# A fifth set, ids and titles mixed, written after set d's changes and measured once.
TEMPLATES_E: dict[str, tuple[tuple[str, str], ...]] = {
    "blocked_by": (
        ("question", "What's holding {a} back?"), ("postfix", "{a} - what is it waiting for?"),
        ("question", "does anything block {a}"), ("title", "what blocks {title}?"),
        ("title", "what does the {title} {t} depend on?"),
        ("imperative", "name the blockers of {a}"),
    ),
    "blocks": (
        ("question", "what is waiting for {a} to finish"), ("postfix", "{a} is a blocker for what?"),
        ("title", "which items does {title} block?"),
        ("question", "what will finishing {a} let us start?"),
    ),
    "children": (
        ("question", "what is inside {a}"), ("of", "items belonging to {a}"),
        ("title", "list {title}'s children"),
        ("title", "what are the child items of the {title} {t}?"),
        ("question", "what falls under {a}?"), ("postfix", "{a} consists of what?"),
    ),
    "parent": (
        ("question", "what does {a} roll up into?"), ("question", "which parent does {a} have?"),
        ("title", "parent of {title}"), ("question", "what is directly above {a}"),
    ),
    "ancestors": (
        ("question", "what is the lineage of {a}"), ("postfix", "{a} hierarchy up to the top"),
        ("of", "all parents of {a}"),
    ),
    "siblings": (
        ("title", "which items are siblings of {title}"), ("possessive", "{a}'s sibling items?"),
        ("of", "tasks beside {a} under the same parent"),
    ),
    "implements": (
        ("question", "which items follow the decision in {a}?"),
        ("question", "what has been implemented for {a}"), ("postfix", "{a} was implemented where?"),
    ),
    "decisions": (
        ("question", "what ADR covers {a}"), ("of", "decision for {a}"),
        ("title", "which decisions apply to {title}"),
    ),
    "references": (
        ("question", "what does {a} refer to"), ("postfix", "{a} links"),
        ("of", "outgoing references of {a}"),
    ),
    "backlinks": (
        ("title", "what references {title}"), ("postfix", "{a} is referenced where"),
        ("of", "backlinks for {a}?"),
    ),
    "related": (
        ("postfix", "{a} related tickets"), ("title", "what's related to {title}?"),
        ("of", "relations of {a}"),
    ),
}
# A sixth set, written by someone who had not read the recogniser, in the voices of
# different people: terse search-box fragments, chatty requests, British and American
# spellings, singular and plural, ids and titles. Measured once on main before any change.
TEMPLATES_F: dict[str, tuple[tuple[str, str], ...]] = {
    "blocked_by": (
        ("terse", "blockers {a}"), ("terse", "deps {a}"), ("postfix", "{a} prereqs"),
        ("postfix", "{a}: blockers?"), ("question", "what's {a} waiting on?"),
        ("question", "what is {a} dependent on?"), ("question", "what needs to be done before {a}?"),
        ("question", "what has to finish before {a} can start"),
        ("question", "which tickets block {a}?"), ("question", "what's stopping {a}"),
        ("question", "what stands in the way of {a}?"), ("of", "prerequisites of {a}"),
        ("of", "blocking items for {a}"), ("of", "upstream dependencies of {a}"),
        ("chatty", "hey, can you tell me which tasks are blocking {a}?"),
        ("chatty", "could you list everything that blocks {a}, please"),
        ("chatty", "I want to start {a}, what do I need to finish first?"),
        ("typed", "{t} {a} - what blocks it"), ("title", "what is blocking the {title} {t}?"),
        ("title", "{title} dependencies"),
    ),
    "blocks": (
        ("question", "what is {a} a prerequisite for?"), ("question", "what's dependent on {a}"),
        ("question", "what does {a} unblock?"), ("question", "what is held up by {a}"),
        ("question", "which tickets are blocked on {a}"), ("question", "who depends on {a}?"),
        ("question", "what can't start until {a} is done?"),
        ("postfix", "{a} unblocks what"), ("postfix", "{a} dependants"),
        ("of", "items depending on {a}"), ("of", "dependants of {a}"),
        ("terse", "downstream of {a}"), ("question", "what's downstream from {a}"),
        ("imperative", "list everything that needs {a}"),
        ("chatty", "hey, can you tell me which tasks are waiting on {a}?"),
        ("chatty", "if {a} slips, what else gets stuck?"),
        ("title", "what does {title} unblock?"), ("title", "what depends on {title}?"),
    ),
    "children": (
        ("question", "what's under {a}?"), ("of", "sub-items of {a}"), ("postfix", "{a} sub-tasks"),
        ("terse", "subitems {a}"), ("terse", "children {a}"),
        ("question", "what are the tasks in {a}?"), ("of", "tasks under {a}"),
        ("question", "which items roll up to {a}?"), ("question", "what rolls up into {a}"),
        ("question", "what does {a} break down into"),
        ("question", "what work is underneath {a}?"), ("of", "child tickets of {a}"),
        ("postfix", "{a} child tickets"), ("imperative", "show the sub-items under {a}"),
        ("of", "everything beneath {a}"), ("chatty", "can you list what's in {a} for me?"),
        ("chatty", "what work items sit under {a}, roughly?"),
        ("title", "tasks under {title}"), ("title", "what's in the {title} {t}?"),
        ("title", "{title} subtasks"),
    ),
    "parent": (
        ("of", "parent ticket of {a}"), ("postfix", "{a} parent ticket"),
        ("question", "what's the parent of {a}?"), ("question", "which item does {a} sit under?"),
        ("question", "what does {a} roll up to?"), ("question", "where does {a} belong?"),
        ("postfix", "{a} belongs under what"), ("question", "who is {a}'s parent?"),
        ("terse", "parent {a}"), ("question", "what's one level above {a}"),
        ("question", "which ticket owns {a}?"), ("of", "the item {a} is nested under"),
        ("chatty", "quick one: what's the parent item for {a}?"),
        ("title", "what is the parent of {title}?"), ("title", "{title} parent ticket"),
    ),
    "ancestors": (
        ("of", "all ancestors of {a}"), ("of", "full parent chain for {a}"),
        ("postfix", "{a} ancestry"), ("imperative", "trace {a} up to the top"),
        ("of", "path from {a} to the root"), ("question", "what is {a} ultimately part of?"),
        ("of", "everything above {a}"), ("terse", "breadcrumb for {a}"),
        ("postfix", "{a} upward hierarchy"), ("of", "parents and grandparents of {a}"),
        ("chatty", "can you show me the chain of parents above {a}?"),
        ("title", "ancestors of {title}"),
    ),
    "siblings": (
        ("terse", "siblings {a}"), ("question", "what else shares a parent with {a}?"),
        ("of", "other items under {a}'s parent"), ("postfix", "{a} sister tasks"),
        ("of", "other children of {a}'s parent"), ("of", "items at the same level as {a}"),
        ("of", "tasks with the same parent as {a}"), ("of", "fellow subtasks of {a}"),
        ("possessive", "{a}'s sibling tickets"),
        ("chatty", "could you show me the other tasks that share {a}'s parent?"),
        ("title", "siblings of {title}"), ("title", "what else sits beside {title}?"),
    ),
    "implements": (
        ("question", "which tasks implement {a}?"), ("question", "who implemented {a}"),
        ("of", "implementation of {a}"), ("postfix", "{a} implementation"),
        ("of", "work items implementing {a}"), ("question", "what was built for {a}"),
        ("question", "what work realises {a}"), ("question", "what work realizes {a}"),
        ("question", "where is {a} implemented?"), ("of", "tickets that implement {a}"),
        ("of", "items that apply {a}"), ("postfix", "{a} implemented in"),
        ("chatty", "hey, which tasks actually carry out {a}?"),
        ("title", "what implements the {title} decision?"),
        ("title", "implementations of {title}"),
    ),
    "decisions": (
        ("question", "which ADR covers {a}?"), ("of", "linked ADR for {a}"),
        ("postfix", "{a} linked ADRs"), ("of", "ADR for {a}"),
        ("of", "architecture decisions for {a}"),
        ("question", "which architecture decision records relate to {a}"),
        ("of", "design decisions behind {a}"), ("question", "what was decided for {a}?"),
        ("question", "what decision governs {a}"), ("question", "which ADRs is {a} based on?"),
        ("terse", "relevant ADRs {a}"), ("terse", "adrs {a}"),
        ("chatty", "can you find the ADRs that apply to {a}?"),
        ("title", "which ADR covers {title}?"), ("title", "decisions behind the {title} {t}"),
    ),
    "references": (
        ("question", "what does {a} point to?"), ("terse", "outbound links {a}"),
        ("of", "links in {a}"), ("question", "what is referenced by {a}?"),
        ("question", "what does {a} cite"), ("postfix", "{a} refs"),
        ("of", "items {a} refers to"), ("postfix", "{a} links out to what"),
        ("question", "where does {a} link"),
        ("chatty", "can you show me everything {a} links to?"),
        ("title", "what does {title} reference?"),
    ),
    "backlinks": (
        ("of", "inbound links to {a}"), ("terse", "incoming links {a}"),
        ("question", "who references {a}?"), ("question", "where is {a} mentioned?"),
        ("question", "what mentions {a}"), ("of", "documents that cite {a}"),
        ("postfix", "{a} incoming links"), ("of", "back-links to {a}"),
        ("of", "pages linking to {a}"), ("question", "what refers to {a}?"),
        ("chatty", "is {a} referenced anywhere?"), ("title", "where is {title} referenced?"),
    ),
    "related": (
        ("terse", "related to {a}"), ("question", "anything related to {a}?"),
        ("question", "what's connected to {a}"), ("postfix", "{a} connections"),
        ("terse", "linked items {a}"), ("of", "items linked with {a}"),
        ("question", "what is associated with {a}?"), ("postfix", "{a} neighbours"),
        ("postfix", "{a} neighbors"), ("of", "everything connected to {a}"),
        ("terse", "see also for {a}"), ("chatty", "show me all the stuff related to {a}"),
        ("title", "what's connected to {title}?"), ("title", "{title} related items"),
    ),
}
SETS = {"a": TEMPLATES, "b": TEMPLATES_B, "c": TEMPLATES_C, "d": TEMPLATES_D, "e": TEMPLATES_E,
        "f": TEMPLATES_F}
FAMILIES = ("question", "of", "possessive", "postfix", "imperative", "typed", "title",
            "terse", "chatty", "lowercase")
# answers that may include body links: the front-matter links need only be among them
CONTAINS = frozenset(("references", "backlinks"))
TYPE_WORD = {"Epic": "epic", "Feature": "feature", "UserStory": "story", "Task": "task",
             "Bug": "bug", "ADR": "decision"}
MAX_ANSWERS = 8   # anchors with more linked items are skipped: the top hits must hold them


@dataclass(frozen=True)
class Case:
    """One wording of one relation question and the items the front matter links."""

    template_set: str
    relation: str
    family: str
    query: str
    expected: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    """What lore did with a case."""

    recognised: bool
    correct: bool
    top: tuple[str, ...]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=KANO,
                        help="the kano-backlog tarball (default: ../shared/corpora)")
    parser.add_argument("--root", type=Path, help="an extracted corpus to index in place")
    parser.add_argument("--anchors", type=int, default=4,
                        help="anchors per relation (default 4)")
    parser.add_argument("--set", dest="which", choices=[*SETS, "all"], default="all",
                        help="template set: a, b (written later, as a check), c, d, e, f (written "
                             "later still, each measured once before changes), all")
    parser.add_argument("--mode", default=None, help="search mode (default: the settings')")
    parser.add_argument("--json", type=Path, help="also write every case and outcome here")
    parser.add_argument("--show-misses", default="",
                        help="print the wordings not answered in these families (or 'all')")
    parser.add_argument("--ordinary", action="store_true",
                        help="list the ordinary queries (backlog non-graph questions, SciFact "
                             "train claims) read as relation questions, and stop")
    args = parser.parse_args()
    if args.ordinary:
        return print_ordinary()
    with tempfile.TemporaryDirectory(prefix="lore-wording-") as scratch:
        root = args.root or _extract(args.corpus, Path(scratch))
        sets = list(SETS) if args.which == "all" else [args.which]
        files = front_matter(root)
        cases = [case for name in sets
                 for case in build_cases(files, args.anchors, name)]
        run = lore_runner(root, args.mode)
        outcomes = [judge(case, run(case.query)) for case in cases]
    for name in sets:
        chosen = [(c, o) for c, o in zip(cases, outcomes, strict=True) if c.template_set == name]
        print(f"\nset {name}: ", end="")
        print_table([c for c, _ in chosen], [o for _, o in chosen])
    show = set(filter(None, args.show_misses.split(",")))
    for case, outcome in zip(cases, outcomes, strict=True):
        if not outcome.correct and ("all" in show or case.family in show):
            print(f"  [{case.relation}/{case.family}] {case.query!r}: "
                  f"{'recognised' if outcome.recognised else 'not recognised'}, "
                  f"top {list(outcome.top[:4])} want {sorted(case.expected)}")
    if args.json:
        args.json.write_text(json.dumps([{**case.__dict__, "expected": sorted(case.expected),
                                          **outcome.__dict__}
                                         for case, outcome in zip(cases, outcomes, strict=True)],
                                        indent=1))
    return 0


def ordinary_queries() -> dict[str, list[str]]:
    """source -> queries that are no relation questions: the backlog sets' other classes
    and SciFact's claims with a train judgement."""
    backlog = [q["query"] for path in sorted((HERE / "backlog").glob("questions*.jsonl"))
               for q in map(json.loads, path.read_text().splitlines()) if q["class"] != "graph"]
    train = {line.split("\t")[0]
             for line in (SCIFACT / "qrels" / "train.tsv").read_text().splitlines()[1:]}
    with gzip.open(SCIFACT / "queries.jsonl.gz", "rt", encoding="utf-8") as lines:
        claims = [q["text"] for q in map(json.loads, lines) if q["_id"] in train]
    return {"backlog non-graph": backlog, "scifact train": claims}


def print_ordinary() -> int:
    """Print how many ordinary queries read as relation questions, and each of them."""
    for source, queries in ordinary_queries().items():
        read = [(q, parse_relation(q)) for q in queries]
        hits = [(q, r) for q, r in read if r is not None]
        print(f"{source}: {len(hits)} of {len(queries)} read as relation questions")
        for query, found in hits:
            print(f"  {query!r} -> {found.relation} {found.anchor!r}")
    return 0


def _extract(tarball: Path, into: Path) -> Path:
    if not tarball.exists():
        raise SystemExit(f"{tarball} is absent: pass --corpus or --root")
    extract(tarball, into)
    return into / "kano-backlog"


def front_matter(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """(doc id, front matter) of every file with an ``id``, ids repeated where files share one."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(root.rglob("*.md")):
        if ".lore" in path.relative_to(root).parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        end = text.find("\n---", 3)
        if not text.startswith("---") or end < 0:
            continue
        try:
            data = yaml.safe_load(text[3:end])
        except yaml.YAMLError:
            continue
        if isinstance(data, dict) and data.get("id"):
            found.append((str(data["id"]), data))
    return found


def _ids(values: Any) -> set[str]:
    return {str(v).split("@")[0] for v in values or [] if v}


def _links(fm: Mapping[str, Any], kind: str) -> set[str]:
    links = fm.get("links")
    return _ids(links.get(kind)) if isinstance(links, dict) else set()


def expected_links(files: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, set[str]]]:
    """relation -> anchor -> the ids its front matter (or theirs) links that way."""
    out: dict[str, dict[str, set[str]]] = {r: defaultdict(set) for r in TEMPLATES}
    for doc_id, fm in files:
        parent = str(fm["parent"]).split("@")[0] if fm.get("parent") else None
        if parent:
            out["parent"][doc_id].add(parent)
            out["children"][parent].add(doc_id)
        for other in _links(fm, "blocked_by"):
            out["blocked_by"][doc_id].add(other)
            out["blocks"][other].add(doc_id)
        for other in _links(fm, "blocks"):
            out["blocks"][doc_id].add(other)
            out["blocked_by"][other].add(doc_id)
        for other in _links(fm, "relates") | _ids(fm.get("related_items")):
            out["related"][doc_id].add(other)
            out["related"][other].add(doc_id)
            out["references"][doc_id].add(other)
            # an ADR that relates to an item is one of its decisions
            for adr, item in ((other, doc_id), (doc_id, other)):
                if adr.startswith("ADR-") and not item.startswith("ADR-"):
                    out["decisions"][item].add(adr)
        for adr in _ids(fm.get("decisions")):
            out["decisions"][doc_id].add(adr)
            out["implements"][adr].add(doc_id)
            out["references"][doc_id].add(adr)
            out["backlinks"][adr].add(doc_id)
    for doc_id in dict(files):
        chain, seen = [], {doc_id}
        step = next(iter(out["parent"].get(doc_id, ())), None)
        while step and step not in seen:
            chain.append(step)
            seen.add(step)
            step = next(iter(out["parent"].get(step, ())), None)
        if chain:
            out["ancestors"][doc_id] = set(chain)
        parent = next(iter(out["parent"].get(doc_id, ())), None)
        if parent:
            out["siblings"][doc_id] = out["children"][parent] - {doc_id}
        for kind in ("parent", "children", "blocks", "blocked_by", "decisions", "implements"):
            out["related"][doc_id] |= out[kind].get(doc_id, set())
    return out


def build_cases(files: list[tuple[str, dict[str, Any]]], per_relation: int,
                template_set: str) -> Iterator[Case]:
    """Every template of every relation around ``per_relation`` anchors, every third
    also with the anchor in lower case (family ``lowercase``). Anchors and the items
    they link must each be the only file with their id."""
    counts = Counter(doc_id for doc_id, _ in files)
    items = {doc_id: fm for doc_id, fm in files if counts[doc_id] == 1}
    links = expected_links(files)
    for relation, templates in SETS[template_set].items():
        usable = sorted(a for a, want in links[relation].items()
                        if a in items and want and len(want) <= MAX_ANSWERS
                        and want <= items.keys() and a not in want)
        step = max(1, len(usable) // per_relation)
        for anchor in usable[::step][:per_relation]:
            kind = items[anchor].get("type") or ("ADR" if anchor.startswith("ADR-") else "")
            word = TYPE_WORD.get(str(kind), "item")
            want = frozenset(links[relation][anchor])
            for family, template in templates:
                title = str(items[anchor].get("title") or anchor)
                yield Case(template_set, relation, family,
                           template.format(a=anchor, t=word, title=title), want)
            for family, template in templates[::3]:
                if family not in ("typed", "title"):
                    yield Case(template_set, relation, "lowercase",
                               template.format(a=anchor.lower(), t=word, title=title), want)


def lore_runner(root: Path, mode: str | None) -> Callable[[str], list[Any]]:
    """A function searching the corpus with ``explain`` (the index is synced once)."""
    settings = lore_settings(root)
    index = open_index(root, settings=settings)
    index.sync()

    def run(query: str) -> list[Any]:
        return index.search(query, limit=10, explain=True, mode=mode)  # type: ignore[arg-type]
    return run


def judge(case: Case, hits: list[Any]) -> Outcome:
    """Recognised when the query reads as this relation and the graph leg answered it
    (some hit has the leg in ``explain``); correct when the top hits are the expected
    items (for references and backlinks: the expected items are among the ten hits)."""
    parsed = parse_relation(case.query)
    recognised = (parsed is not None and parsed.relation == case.relation
                  and any("graph" in (hit.explain or {}).get("legs", {}) for hit in hits))
    top = tuple(hit.doc_id for hit in hits)
    if case.relation in CONTAINS:
        correct = case.expected <= set(top)
    else:
        correct = set(top[:len(case.expected)]) == case.expected
    return Outcome(recognised, recognised and correct, top)


def print_table(cases: list[Case], outcomes: list[Outcome]) -> None:
    """recognised/correct per relation (rows) and family (columns), then totals."""
    total: Counter[tuple[str, str]] = Counter()
    recognised: Counter[tuple[str, str]] = Counter()
    correct: Counter[tuple[str, str]] = Counter()
    for case, outcome in zip(cases, outcomes, strict=True):
        for key in ((case.relation, case.family), (case.relation, "all"),
                    ("all", case.family), ("all", "all")):
            total[key] += 1
            recognised[key] += outcome.recognised
            correct[key] += outcome.correct
    columns = (*FAMILIES, "all")
    print("recognised / correct, % of the wordings (n in the last row)")
    print(f"{'relation':<11}" + "".join(f"{c:>13}" for c in columns))
    for relation in (*TEMPLATES, "all"):
        cells = [f"{100 * recognised[relation, c] / total[relation, c]:5.0f}/"
                 f"{100 * correct[relation, c] / total[relation, c]:<4.0f}"
                 if total[relation, c] else "-" for c in columns]
        print(f"{relation:<11}" + "".join(f"{cell:>13}" for cell in cells))
    print(f"{'n':<11}" + "".join(f"{total['all', c]:>13}" for c in columns))


if __name__ == "__main__":
    sys.exit(main())
