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
blocked_by      what blocks X, blockers of X, what does X depend on    blocked_by
blocks          what does X block, items blocked by X, what depends    blocks
                on X
children        children / subtasks / stories / items of X, what is    child
                under X
parent          parent of X, epic / feature / story of X               parent
ancestors       parent chain / ancestors / hierarchy of X              parent, repeated
siblings        siblings of X, items with the same parent as X         parent then child
implements      items implementing ADR X, what is decided by X         decides
decisions       which decisions / ADRs does X follow, decisions of X   decision
references      what does X reference / link to                        outgoing links
backlinks       what links to / references / mentions X                backlink
related         items related to X, what relates to X                  relates
==============  =====================================================  ===========
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that name a type of work item: "the Inspector Pattern epic" anchors on
# an Epic titled "Inspector Pattern".
TYPE_WORDS = {
    "epic": "Epic", "feature": "Feature", "story": "UserStory", "userstory": "UserStory",
    "user story": "UserStory", "task": "Task", "bug": "Bug", "adr": "ADR", "decision": "ADR",
}

_ITEMS = (r"(?:items?|work items?|tasks?|subtasks?|sub-tasks?|stories|user stories|features?|"
          r"bugs?|tickets?|issues?|things|work|children|child items?|docs?|documents?|notes?|"
          r"adrs?|decisions?|epics?)")
_Q = r"(?:what|which|who|show(?: me)?|list|find|give me|get)"
_BE = r"(?:'s|s|is|are|was|were|does|do|did)"

# (relation, pattern) in the order they are tried: more specific wordings first,
# so "items blocked by X" is not read as "what blocks X".
_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # possessives: "X's blockers", "X's children", "X's parent"
    ("blocked_by", (r"^(?P<a>.+?)'s (?:blockers|dependencies|prerequisites)$",)),
    ("children", (r"^(?P<a>.+?)'s (?:children|subtasks|sub-tasks|stories|tasks|features|",
                  r"items|child items)$")),
    ("ancestors", (r"^(?P<a>.+?)'s (?:ancestors|parent chain|hierarchy)$",)),
    ("parent", (r"^(?P<a>.+?)'s (?:parent|epic|feature|story)$",)),
    ("siblings", (r"^(?P<a>.+?)'s siblings$",)),
    ("decisions", (r"^(?P<a>.+?)'s (?:decisions|adrs)$",)),
    ("related", (r"^(?P<a>.+?)'s related (?:items|work|tasks|documents)$",)),
    ("blocks", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?:being |currently )?blocked by (?P<a>.+)$",)),
    ("blocked_by", (r"^(?P<a>.+?) (?:is |are )?blocked by (?:what|which \w+)$",)),
    ("blocks", (rf"^{_Q} (?:{_BE} )?(?P<a>.+?) block(?:ing)?$",)),
    ("blocks", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?:depend(?:s|ing)?|waiting) (?:on|for) (?P<a>.+)$",)),
    ("blocks", (r"^(?:dependents|dependants) of (?P<a>.+)$",)),
    ("blocked_by", (rf"^(?:{_Q} (?:{_ITEMS} )?|{_ITEMS} )(?:{_BE} )?block(?:s|ing)? (?P<a>.+)$",)),
    ("blocked_by", (r"^(?:the )?(?:blockers?|prerequisites?|dependencies) (?:of|for) (?P<a>.+)$",)),
    ("blocked_by", (rf"^(?:{_Q} )?(?:{_BE} )?(?P<a>.+?) (?:depend|depends|waiting|wait) (?:on|for)$",)),
    ("blocked_by", (rf"^(?:{_Q} )?(?:{_BE} )?(?P<a>.+?) blocked by$",)),
    ("ancestors", (rf"^(?:{_Q} )?(?:the )?(?:parent chain|ancestors?|ancestry|hierarchy|lineage)",
                  r" (?:of|for|above) (?P<a>.+)$")),
    ("siblings", (rf"^(?:{_Q} )?(?:the )?(?:siblings?|sibling {_ITEMS}) (?:of|for) (?P<a>.+)$",)),
    ("siblings", (rf"^(?:{_Q} )?(?:other )?{_ITEMS} (?:with|under|sharing) the same parent as (?P<a>.+)$",)),
    ("siblings", (rf"^(?:{_Q} )?(?:the )?(?:other )?{_ITEMS} (?:in|under|of) the same ",
                  r"(?:parent|epic|feature|story|user story) as (?P<a>.+)$")),
    ("implements", (rf"^(?:{_Q} )?{_ITEMS} (?:does|do|did) (?P<a>.+?) ",
                    r"(?:decide|govern|cover|apply to)$")),
    ("implements", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:that |which )?(?:{_BE} )?",
                   r"(?:implement(?:s|ing|ed)?|realis(?:e|es|ing)|realiz(?:e|es|ing)|",
                   r"decided by|governed by|follow(?:s|ing)?) (?P<a>.*\b(?:adr|decision)\b.*",
                   r"|.*\badr-?\d+.*)$")),
    ("implements", (r"^(?:the )?implementations? of (?P<a>.+)$",)),
    ("decisions", (rf"^(?:{_Q} )?(?:decisions?|adrs?)(?: {_BE})? (?P<a>.+?)",
                  r" (?:follow|follows|use|uses|rely on|relies on|implement|implements|",
                  r"depend on|depends on|based on|apply to|governs?|cites?)$")),
    ("decisions", (rf"^(?:{_Q} )?(?:{_BE} )?(?:the )?(?:decisions?|adrs?) (?:behind|for|of|governing)",
                  r" (?P<a>.+)$")),
    ("decisions", (r"^(?:why|how) (?:was|were) (?P<a>.+?) decided$",)),
    # singular "epic of X" asks for X's parent; plural "features of X" for its children
    ("parent", (rf"^(?:{_Q} )?(?:{_BE} )?(?:the )?(?:parent|parent item|epic|feature|story|user story)",
               r" (?:of|for|above) (?P<a>.+)$")),
    ("children", (rf"^(?:{_Q} )?(?:{_BE} )?(?:are )?(?:the )?(?:direct )?{_ITEMS} (?:of|in|under|for|",
                 r"belonging to|beneath|inside) (?P<a>.+)$")),
    ("children", (rf"^{_Q} (?:{_BE} )?(?:in|under|inside|beneath) (?P<a>.+)$",)),
    ("children", (rf"^(?:{_Q} )?(?:{_BE} )?(?P<a>.+?) (?:made of|broken into|broken down into|",
                 r"contain|contains|include|includes|consist of|consists of)$")),
    ("children", (r"^(?:the )?(?:breakdown|break-down|decomposition) of (?P<a>.+)$",)),
    ("parent", (rf"^(?:{_Q} )?(?:{_BE} )?(?P<a>.+?) (?:a )?part of$",)),
    ("parent", (rf"^(?:{_Q} )?(?:epic|feature|story|item|parent)(?: {_BE})? (?P<a>.+?)",
               r" (?:belong to|belongs to|part of|under|in|come from|comes from)$")),
    ("references", (rf"^(?:{_Q} )?(?:{_BE} )?(?P<a>.+?) (?:reference|references|link to|links to|",
                   r"point to|points to|mention|mentions|cite|cites)$")),
    ("references", (r"^(?:the )?(?:links|references|outgoing links) (?:of|from|in) (?P<a>.+)$",)),
    ("backlinks", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?:that |which )?(?:reference|references|",
                  r"link to|links to|point to|points to|mention|mentions|cite|cites|linking to|",
                  r"referencing|mentioning) (?P<a>.+)$")),
    ("backlinks", (r"^(?:the )?backlinks? (?:of|to|for) (?P<a>.+)$",)),
    ("related", (rf"^(?:{_Q} )?(?:{_BE} )?(?P<a>.+?) (?:relate|relates|related|linked|connected) ",
                 r"(?:to|with)$")),
    ("related", (rf"^(?:{_Q} )?(?:{_ITEMS} |everything |anything |all )?(?:{_BE} )?",
                 r"(?:related|relating|linked|connected) ",
                r"(?:to|with) (?P<a>.+)$")),
    ("related", (rf"^(?:{_Q} )?(?:{_BE} )?(?:relates?|links?) (?:to|with) (?P<a>.+)$",)),
    ("related", (r"^(?:the )?related (?:items|work|tasks|documents|docs) (?:of|for|to) (?P<a>.+)$",)),
)
_COMPILED = tuple((name, re.compile("".join(parts), re.IGNORECASE)) for name, parts in _PATTERNS)

RELATIONS = tuple(dict.fromkeys(name for name, _ in _PATTERNS))

_TRAILING_TYPE = re.compile(
    r"^(?P<a>.+?)\s+(?P<t>epic|feature|user story|userstory|story|task|bug|adr|decision)$",
    re.IGNORECASE)
_LEADING_TYPE = re.compile(
    r"^(?P<t>epic|feature|user story|userstory|story|task|bug)\s+(?P<a>.+)$", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:the|a|an|this|that|our)\s+", re.IGNORECASE)
_PUNCT = re.compile(r"[\s?!.,;:'\"`]+$")


@dataclass(frozen=True)
class RelationQuery:
    """A recognised relation question.

    Attributes:
        relation: one of ``RELATIONS``.
        anchor: the anchor as written, articles and a trailing type word removed.
        type_hint: the normalised doctype the question gave the anchor ("Epic"), if any.
    """

    relation: str
    anchor: str
    type_hint: str | None = None


def parse_relation(text: str) -> RelationQuery | None:
    """The relation and anchor ``text`` asks about, or None when it is no relation question."""
    cleaned = " ".join(_PUNCT.sub("", text.strip()).split())
    for relation, pattern in _COMPILED:
        match = pattern.match(cleaned)
        if match:
            anchor, hint = _anchor(match.group("a"))
            if anchor:
                return RelationQuery(relation, anchor, hint)
    return None


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
