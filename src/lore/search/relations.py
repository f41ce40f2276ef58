"""Recognise relation questions: "what blocks X", "children of Y", "items implementing ADR Z".

A relation question names a relation and an *anchor* (an id in any form or a
title). ``parse_relation`` returns both, or ``None`` for every other query,
which then runs as a normal search. Only the wording is read here; whether
the anchor names a document is decided against the catalog (``graph_leg``).

Each relation is answered by walking typed edges from the anchor (every edge
is stored both ways, see ``search/graph.py``):

==============  =====================================================  ===========
relation        asked as                                               edges
==============  =====================================================  ===========
blocked_by      what blocks X, blockers of X, what does X depend on,   blocked_by
                what is holding up X, what must be done before X,
                upstream of X, X's blockers, X blockers, X blocked by
                what, X depends on, is X blocked by anything,
                blockers X, upstream dependencies of X, what
                stands in the way of X
blocks          what does X block, items blocked by X, what depends    blocks
                on X, what is X holding up, what does X unblock,
                downstream of X, X's dependents, X blocks what, X is
                a blocker for what, what is dependent on X,
                everything that needs X
children        children / subtasks / stories / items of X, what is    child
                under X, which tasks sit under X, X's subtasks,
                X children, X subtasks, break down X, which items
                have X as their parent, children X, child tickets
                of X, what rolls up into X, what is underneath X,
                what does X break down into
parent          parent of X, epic / feature / story of X, which epic   parent (to
                does X roll up to, X's parent feature, X parent, X is  the type
                part of what, what is X a child of, which parent does  named)
                X have, what is directly above X, parent X, parent
                ticket of X, X belongs under what, which ticket
                owns X
ancestors       parent chain / ancestors / hierarchy of X, X           parent,
                ancestors, trace X up to the top, X hierarchy up to    repeated
                the top, breadcrumb for X, X upward hierarchy,
                what is X ultimately part of
siblings        siblings of X, items with the same parent as X, X      parent then
                siblings, other children of X's parent, items at       child
                the same level as X, what else shares a parent with
                X, fellow subtasks of X, X's sibling tickets
implements      items implementing ADR X, what is decided by X, what   decides
                came out of ADR X, X implemented by, X's
                implementations, items that reference X in their
                decisions, X implementation, where is X implemented
decisions       which decisions / ADRs does X follow, ADRs for X,      decision,
                which decisions came from X, what ADRs govern X,       relates (to
                X decisions, X ADRs, adrs X, linked ADR for X, X       ADRs only)
                linked ADRs, which ADR covers X
references      what does X reference / link to, links from X,         outgoing
                X outgoing links, X cites what, outbound links X,      links
                X links out to what, where does X link
backlinks       what links to / references / mentions X, where is X    backlink
                referenced, X backlinks, X referenced by, incoming
                links X, pages linking to X, is X referenced anywhere
related         items related to X, what relates to X, X related       relates
                items / tickets, relations of X, see also for X,
                linked items X, X connections, X neighbours
==============  =====================================================  ===========

Every wording may start with an imperative ("list X's subtasks", "show me
what blocks X": tried again without the lead-in when the whole text reads as
nothing) or a courtesy ("hey,", "quick one:", "could you"), end in "?" or
", please", put a type word before the anchor ("the epic X") and
write the id in any case. Wordings with the anchor first and no other
relation word ("X blockers", "X blocks what", "X: children"), and the
search-box order with the noun first ("blockers X", "parent X"), take only an
anchor that looks like an id (it holds a digit, maybe after a type word:
"epic 1 children") or, for the strongest nouns, a title a type word marks
("the Inspector Pattern epic subtasks"), because a sentence that merely ends
in "children" or "links" is an ordinary query; whether the anchor names a
document is still decided against the catalog, so "python3 children" stays a
search. "Title: what blocks it?" asks the question of what precedes the
colon (or a dash: "feature X - what blocks it"). The word lists and the ordered pattern table are in
``search/relation_patterns.py``. An anchor
that starts with a preposition ("what blocks *of text* are indexed") means
the relation word was used in another sense, and the query is no relation
question.

A parent question that names the type it wants ("which *epic* does X roll up
to", "X's parent *feature*") sets ``target_type``: the answer is the nearest
ancestor of that type, not merely the direct parent (a task's parent is often
a feature or story, the epic one step further up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lore.search.relation_patterns import COMPILED, LEAD

RELATIONS = tuple(dict.fromkeys(name for name, _ in COMPILED))

# Words that name a type of work item: "the Inspector Pattern epic" anchors on
# an Epic titled "Inspector Pattern".
TYPE_WORDS = {
    "epic": "Epic", "feature": "Feature", "story": "UserStory", "userstory": "UserStory",
    "user story": "UserStory", "task": "Task", "bug": "Bug", "adr": "ADR", "decision": "ADR",
}

# Contractions read as their words, so "what's holding up X" is "what is holding up X".
_CONTRACTION = re.compile(r"\b(what|who|which|where|that|it|there)'s\b", re.IGNORECASE)
# "X: what blocks it?": the question about the pronoun, asked of what precedes the colon
_ASIDE = re.compile(r"^(?P<a>.+)(?::|\s[-\u2013\u2014])\s+(?P<q>[^:]+)$")
# "hey, ...", "quick one: ...", "..., please": the courtesies around a question
_COURTESY = re.compile(r"^(?:(?:hey|hi|hello|ok|okay|so|quick one|quick question)\b[,:!]?\s+)+|"
                       r",?\s+please$", re.IGNORECASE)
_IT = re.compile(r"\b(?:it|this|this one|that one)\b", re.IGNORECASE)
# "X: blockers", "X - children": the separator read as a space
_SEPARATOR = re.compile(r"^(?P<a>\S*\d\S*?)\s*(?::|\s[-\u2013\u2014])\s+")

_TRAILING_TYPE = re.compile(
    r"^(?P<a>.+?)\s+(?P<t>epic|feature|user story|userstory|story|task|bug|adr|decision)$",
    re.IGNORECASE)
_LEADING_TYPE = re.compile(
    r"^(?P<t>epic|feature|user story|userstory|story|task|bug)\s+(?P<a>.+)$", re.IGNORECASE)
# "is it blocked" names nothing to anchor on, nor does "what blocks *of text* are indexed"
_PRONOUNS = frozenset(("it", "this", "that", "they", "them", "these", "those", "he", "she", "here",
                       "there"))
_NOT_ANCHOR = re.compile(r"^(?:of|in|on|at|to|from|with|for|by|about|into|and|or|but|if|when|"
                         r"is|are|was|were|be|been)\b", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:the|a|an|this|that|our)\s+", re.IGNORECASE)
_PUNCT = re.compile(r"[\s?!.,;:'\"`]+$")


@dataclass(frozen=True)
class RelationQuery:
    """A recognised relation question.

    Attributes:
        relation: one of ``RELATIONS``.
        anchor: the anchor as written, articles and a trailing type word removed.
        type_hint: the normalised doctype the question gave the anchor ("Epic"), if any.
        target_type: the doctype of the answers asked for: for a parent question the
            ancestor to climb to ("which epic does X roll up to": "Epic"; None for
            the direct parent), for the others the type to list first ("list the
            user stories in X": "UserStory").
    """

    relation: str
    anchor: str
    type_hint: str | None = None
    target_type: str | None = None


def parse_relation(text: str) -> RelationQuery | None:
    """The relation and anchor ``text`` asks about, or None when it is no relation question."""
    cleaned = _CONTRACTION.sub(r"\1 is", " ".join(_PUNCT.sub("", text.strip()).split()))
    cleaned = _COURTESY.sub("", cleaned)
    unled = LEAD.sub("", cleaned, count=1)
    for wording in dict.fromkeys((cleaned, unled, _SEPARATOR.sub(r"\g<a> ", unled, count=1),
                                  _about_it(cleaned))):
        for relation, pattern in COMPILED:
            match = pattern.match(wording)
            if match is None:
                continue
            anchor, hint = _anchor(match.group("a"))
            if _NOT_ANCHOR.match(anchor):   # the relation word in another sense: "blocks of text"
                return None
            if anchor and anchor.lower() not in _PRONOUNS:
                asked = _target_type(match.group("t") if "t" in pattern.groupindex
                                     else wording[:match.start("a")])
                return RelationQuery(relation, anchor, hint, asked)
    return None


def _about_it(text: str) -> str:
    """"X: what blocks it" as "what blocks X"; any other text as it is."""
    aside = _ASIDE.match(text)
    if aside is None:
        return text
    question, named = _IT.subn(lambda _: aside.group("a"), aside.group("q"), count=1)
    return question if named else text


_ASKED_TYPE = re.compile(r"\b(epic|feature|user ?stor(?:y|ies)|stor(?:y|ies)|task|bug|adr|"
                         r"decision)s?\b", re.IGNORECASE)


def _target_type(words: str | None) -> str | None:
    """The doctype the question asks its answers to have: the first type word in
    ``words`` ("parent feature", "list the user stories in"), or None."""
    match = _ASKED_TYPE.search(words or "")
    if match is None:
        return None
    word = match.group(1).lower().replace(" ", "").replace("stories", "story")
    return TYPE_WORDS.get(word)


def _anchor(raw: str) -> tuple[str, str | None]:
    """Strip articles and a leading or trailing type word ("the X epic" -> "X", Epic)."""
    anchor = _ARTICLE.sub("", raw.strip())
    hint = None
    for pattern in (_TRAILING_TYPE, _LEADING_TYPE):
        match = pattern.match(anchor)
        if match and not re.search(r"\d", match.group("t")):
            anchor = _ARTICLE.sub("", match.group("a").strip())
            hint = TYPE_WORDS[match.group("t").lower()]
            break
    return anchor.strip(), hint
