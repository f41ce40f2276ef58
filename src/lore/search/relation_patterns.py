"""The ordered pattern table behind ``search/relations.py`` and the words it is built from.

``parse_relation`` tries ``COMPILED`` in order on the question (then without an
imperative lead-in, ``LEAD``); the first pattern that matches names the
relation and the anchor (group ``a``; group ``t``, where present, the type of
ancestor a parent question asks for). The wordings each relation is asked in
are listed in ``relations.py``'s docstring.
"""

from __future__ import annotations

import re

_ITEMS = (r"(?:items?|work items?|tasks?|subtasks?|sub-tasks?|sub ?items?|sub-items?|stories|user stories|features?|"
          r"bugs?|tickets?|issues?|things|work|children|child (?:items?|tasks?|tickets?|issues?)|docs?|documents?|notes?|"
          r"adrs?|decisions?|epics?)")
_Q = r"(?:what|which|who|show(?: me)?|list|find|give me|get)"
_BE = r"(?:'s|s|is|are|was|were|does|do|did)"
_PARENT_NOUN = r"parent(?: epic| feature| story| user story| item| ticket| issue)?"
_PARENT_TYPE = rf"(?P<t>{_PARENT_NOUN}|epic|feature|story|user story)"
# "sit under", "roll up to": verbs that place an item below another
_UNDER = (r"(?:sit|sits|sitting|live|lives|fall|falls|belong|belongs|hang|hangs|nested|filed|"
          r"grouped|planned|tracked|listed|organi[sz]ed)")
_DONE = (r"(?:must|should|has to|have to|needs? to|got to|gotta) (?:be )?(?:done|finished|"
         r"completed|closed|merged|happen|land|ship|finish|complete|close|merge)")
# An imperative lead-in ("list", "show me the"): a wording no pattern reads is tried
# again without it, so "list X's subtasks" is read as "X's subtasks".
_LEAD_VERB = (r"(?:list|show|find|give|get|display|tell|fetch|view|see|print|return|name|"
              r"identify|enumerate)")
_POLITE = r"(?:(?:please|can you|could you|would you) )*"
LEAD = re.compile(rf"^{_POLITE}{_LEAD_VERB}(?: me| us)?"
                  r"(?: all(?: of)?| every)?(?: the)? ", re.IGNORECASE)
# a possessive's anchor is what follows the lead-in: "list X's subtasks" is about X
_OWNER = rf"(?!{_POLITE}{_LEAD_VERB} )(?P<a>.+?)'s"
# An anchor that looks like an id ("KABSD-TSK-0083", "tsk-83", "#350", "epic 1"), maybe
# after a type word. Bare wordings with the anchor first ("X blockers", "X blocks
# what") take only these: a sentence that merely ends in "children" or "links" is
# an ordinary query, while an id followed by a relation word is a relation question.
_ID = (r"(?:(?:the )?(?:epic|feature|user story|story|task|bug|adr|decision|item) )?"
       r"#?[\w.@/-]*\d[\w.@/-]*")
# A title anchor that a type word marks ("the Inspector Pattern epic", "epic Inspector
# Pattern"): bare wordings with a strong relation noun take these too.
_TYPED = (r"(?:the )?(?:[^ ].* (?:epic|feature|user story|story)|"
          r"(?:epic|feature|user story|story) [^ ].*)")
_WHAT = r"(?: what| which(?: \w+)?| where| who)?"
# the names of decision records, with the adjectives people put before them
_ADR_NAME = r"(?:decisions?|adrs?|decision records?)"
_ADR = rf"(?:(?:linked|relevant|architecture|architectural|design|technical) )*{_ADR_NAME}"
# "X ultimately part of", "which tasks actually carry out X": adverbs that change nothing
_ADV = r"(?:(?:actually|really|currently|already|ultimately|eventually|directly) )?"
_IN = r"(?:in|under|inside|beneath|underneath|below|within)"
# relation -> the nouns that name its answers after the anchor: "X's blockers" (any
# anchor), "X blockers" (an id anchor). A parent noun is _PARENT_TYPE, for its type.
_NOUNS: tuple[tuple[str, str], ...] = (
    ("blocked_by", r"blockers|blocking items|(?:upstream )?dependencies|deps|prerequisites|pre-requisites|prereqs"),
    ("blocks", r"dependents|dependants|blocked items|blocked work|blocked tasks"),
    ("children", (r"children|child (?:items?|tasks|tickets|issues)|subtasks|sub-tasks|sub tasks|sub-items|sub items|subitems|stories|"
                 r"user stories|tasks|features|items|work items|breakdown|kids")),
    ("ancestors", (r"ancestors|ancestry|(?:full |whole |upward )?(?:parent chain|hierarchy)|lineage|parents|"
                   r"breadcrumbs?")),
    ("siblings", r"siblings?|(?:sibling|sister|peer|fellow) (?:items|tasks|tickets|issues)|peers"),
    ("implements", r"implementations?|implementers|implementing items|implementing tasks"),
    ("decisions", rf"(?:governing |applicable )?{_ADR}"),
    ("references", r"references|refs|outgoing links|outbound links|outlinks|links"),
    ("backlinks", r"backlinks|back-links|incoming links|inbound links"),
    ("related", (r"related (?:items|work|tasks|documents|docs|tickets|issues|stories|features|"
                r"epics|bugs|notes|adrs|decisions)|relations|related|linked items|linked work|linked tasks|linked documents|"
                r"connected items|connections|neighbou?rs")),
)
# relation -> verbs after an id anchor, a question word optional: "X blocks what",
# "X is part of", "X referenced by".
_VERBS: tuple[tuple[str, str], ...] = (
    ("blocked_by", (r"(?:is )?(?:blocked by|depends on|depend on|waiting on|waiting for|waits on|"
                   r"waits for|dependent on|blocked|stuck|held up)")),
    ("blocks", (r"(?:is )?(?:blocks|blocking|holds up|holding up|unblocks|gates|(?:a )?(?:blocker|"
                r"prerequisite|prereq|dependency) (?:for|of|to))")),
    ("children", r"(?:consists of|contains|includes|is made of|is broken into|has)"),
    ("parent", (r"(?:is )?(?:belongs? to|(?:a )?part of|under|a child of|child of|"
               r"rolls? up to|nested under|" + _UNDER + r" (?:under|in|within))")),
    ("ancestors", (r"(?:all the way )?up the (?:tree|hierarchy|chain)|(?:full )?(?:hierarchy|"
                   r"parent chain|ancestors|ancestry) up to (?:the )?(?:top|root|epic)")),
    ("implements", (r"(?:is |was |were )?(?:implemented|realised|realized|applied|followed|"
                   r"carried out|put into practice)(?: by| in)?")),
    ("backlinks", r"(?:is )?(?:referenced|linked|mentioned|cited)(?: by| from| in)?"),
    ("references", r"(?:references|cites|links(?: out)? to|points to|mentions|refers to)"),
)

# (relation, pattern) in the order they are tried: more specific wordings first,
# so "items blocked by X" is not read as "what blocks X".
_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # "other children of X's parent": X's siblings, not its parent
    ("siblings", (rf"^(?:{_Q} )?(?:else |other )?(?:{_ITEMS} )?(?:that |which )?(?:{_BE} )?(?:else )?(?:shares?|sharing|in|",
                  r"under|of|with|below|beneath) (?P<a>.+?)'s (?:parent|epic|feature|story)$")),
    # possessives and bare postfix nouns: "X's blockers", "X blockers" (see _NOUNS)
    *((name, (rf"^{_OWNER} (?:{nouns})$",)) for name, nouns in _NOUNS),
    ("parent", (rf"^{_OWNER} {_PARENT_TYPE}$",)),
    *((name, (rf"^(?P<a>{_ID}) (?:{nouns}){_WHAT}$",)) for name, nouns in _NOUNS),
    ("parent", (rf"^(?P<a>{_ID}) (?P<t>{_PARENT_NOUN})$",)),
    # the terse search-box order, the relation noun first: "blockers X", "parent X";
    # "ADR 34", "decision 7" are ids (idmatch), not the decisions of 34
    *((name, (rf"^(?!(?:adr|decision) #?\d+$)(?:{nouns}) (?P<a>{_ID})$",)) for name, nouns in _NOUNS),
    ("parent", (rf"^(?P<t>{_PARENT_NOUN}) (?P<a>{_ID})$",)),
    ("children", (rf"^(?P<a>{_TYPED}) (?:children|subtasks|sub-tasks|sub tasks|child items)$",)),
    ("blocked_by", (rf"^(?P<a>{_TYPED}) blockers$",)),
    ("siblings", (rf"^(?P<a>{_TYPED}) siblings$",)),
    *((name, (rf"^(?:(?:everything|all|anything|what|which \w+) )?(?P<a>{_ID}) (?:{verbs}){_WHAT}$",))
      for name, verbs in _VERBS),
    ("blocks", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:that |which )?(?:{_BE} |gets? |got )?(?:being |currently )?",
                r"(?:blocked|held up|held back|gated|stalled|delayed|unblocked) (?:by|on) (?P<a>.+)$")),
    ("blocks", (rf"^{_Q} (?:{_ITEMS} )?(?:can't|cannot|can not|could not|couldn't) (?:start|begin|",
                r"proceed|go ahead|move|happen) (?:until|till|before) (?P<a>.+?)(?: is| are| gets?)?",
                r"(?: done| finished| complete| completed| closed| merged| lands| ships)?$")),
    ("blocked_by", (rf"^(?:{_Q} )?(?:{_BE} )?(?:{_ITEMS} )?upstream (?:of|from) (?P<a>.+)$",)),
    ("blocks", (rf"^(?:{_Q} )?(?:{_BE} )?(?:{_ITEMS} )?downstream (?:of|from) (?P<a>.+)$",)),
    ("blocked_by", (rf"^{_Q} (?:{_BE} )?(?:prevents?|keeps?|stops?) (?P<a>.+?) from (?:starting|",
                    r"proceeding|moving|progressing|being done|finishing|completing|closing)$")),
    ("blocked_by", (rf"^why (?:{_BE} )?(?P<a>{_ID}|{_TYPED}) (?:still )?(?:blocked|stuck|held up|",
                    r"on hold|waiting)$")),
    ("blocked_by", (rf"^can (?P<a>{_ID}|{_TYPED}) (?:start|begin|proceed|go ahead|be started)",
                    r"(?: yet| now)?$")),
    ("blocks", (rf"^{_Q} (?:{_BE} )?(?P<a>.+?) (?:a )?(?:blocker|prerequisite|prereq|dependency) ",
                r"(?:for|of|to)$")),
    ("blocks", (rf"^{_Q} (?:{_ITEMS} )?(?:need|needs|require|requires|wait for|waits for) ",
                r"(?P<a>.+?) (?:first|done first|to be done|to finish|finished)$")),
    ("blocked_by", (rf"^{_Q} (?:does|do) (?P<a>.+?) (?:need|require) (?:first|done first|",
                    r"to be done first|beforehand)$")),
    ("blocks", (rf"^{_Q} (?:{_ITEMS} )?(?:{_BE} )?(?P<a>.+?) (?:holding|holds|hold) (?:up|back)$",)),
    ("blocks", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?P<a>.+?) unblock(?:s|ing)?$",)),
    ("blocks", (rf"^{_Q} (?:{_ITEMS} )?(?:can|could|may) (?:start|begin|proceed|go ahead|move) ",
                r"(?:once|after|when) (?P<a>.+?)(?: is| are| gets?)?",
                r"(?: done| finished| complete| completed| closed| merged| lands| ships)?$")),
    ("blocked_by", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?:holding up|holding back|stalling|",
                    r"stopping|gating|delaying|standing in the way of|stands? in the way of|in the way of) (?P<a>.+)$")),
    ("blocked_by", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?holding (?P<a>.+?) (?:up|back)$",)),
    ("blocked_by", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?P<a>.+?) (?:held up|held back|stuck|stalled|blocked|",
                    r"gated|waiting) (?:by|on|behind)$")),
    ("blocked_by", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?{_DONE} (?:first )?(?:before|ahead of|",
                    r"prior to|for) (?P<a>.+?)(?: can (?:start|begin|proceed|move|go ahead))?$")),
    ("blocked_by", (r"^(?P<a>.+?) (?:is |are )?blocked by (?:what|which \w+)$",)),
    ("blocks", (rf"^{_Q} (?:{_ITEMS} )?(?:{_BE} )?(?P<a>.+?) block(?:ing)?$",)),
    ("blocks", (rf"^{_Q} (?:will|would|does|do|can) (?:finishing|completing|closing|shipping|landing|",
                r"doing) (?P<a>.+?) (?:let us start|unblock|enable|allow|free up|let us do|start)$")),
    ("blocks", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:that |which )?(?:{_BE} )?(?:depend(?:s|ing|ent)?|waiting) ",
                r"(?:on|for) (?P<a>.+)$")),
    ("blocks", (r"^(?:dependents|dependants) of (?P<a>.+)$",)),
    ("blocks", (rf"^(?:{_Q} |everything |anything )?(?:{_ITEMS} )?(?:that |which )?(?:needs?|requires?) ",
                rf"(?P<a>{_ID})$")),
    ("blocked_by", (rf"^(?:{_Q} (?:{_ITEMS} )?|{_ITEMS} |everything |anything )(?:that |which )?(?:{_BE} )?",
                    r"block(?:s|ing)? (?P<a>.+)$")),
    ("blocked_by", (rf"^(?:{_BE} |{_Q} )?(?:there )?(?:anything|something|any {_ITEMS}|",
                    r"any blockers?) (?:still )?(?:blocking|holding up|holding back|stalling|",
                    r"in the way of|standing in the way of|(?:that )?blocks?) (?P<a>.+)$")),
    ("blocked_by", (rf"^(?:{_BE} )(?P<a>.+?) (?:still |currently )?(?:blocked|held up|stuck)",
                    r"(?: by anything| on anything| by something| on something)?$")),
    ("blocks", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?:blocked|waiting|on hold|held up|held back|",
                r"parked|stuck) (?:until|till|for) (?P<a>.+?)(?: is| are| gets?)?",
                r"(?: done| finished| complete| completed| closed| merged| lands| ships)?$")),
    ("blocked_by", (rf"^(?:{_Q} )?(?:{_BE} )?(?:the )?(?:upstream |direct )?(?:blockers?|prerequisites?|prereqs?|dependencies|deps|",
                    r"blocking (?:items|tasks|work|issues)) ",
                    r"(?:of|for|on) (?P<a>.+)$")),
    ("blocked_by", (rf"^(?:{_Q} )?(?:{_BE} )?(?P<a>.+?) (?:depend|depends|waiting|wait|dependent|",
                    r"reliant|relies|relying) (?:on|for|upon)$")),
    ("blocked_by", (rf"^(?:{_Q} )?(?:{_BE} )?(?P<a>.+?) blocked by$",)),
    ("ancestors", (rf"^(?:{_Q} )?(?:{_BE} )?(?:the )?(?:full |whole |entire |all (?:the )?)?(?:parent chain|ancestors?|ancestry|hierarchy|lineage|",
                  r"full hierarchy|chain|path to the top|parents|parents and grandparents|breadcrumbs?)",
                  r" (?:of|for|above) (?P<a>.+)$")),
    ("parent", (rf"^(?:{_Q} )?(?:{_BE} )?(?:directly|immediately|right|one level) above (?P<a>.+)$",)),
    ("parent", (rf"^{_Q} (?:parent|epic|feature|story)(?: item)? (?:does|do) (?P<a>.+?) have$",)),
    ("ancestors", (rf"^(?:{_Q} )?(?:{_BE} )?(?:everything |all )?(?:above|over) (?P<a>.+)$",)),
    ("siblings", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?:beside|next to|alongside|with|near) (?P<a>.+?) ",
                  r"(?:under|in|with|sharing) the same (?:parent|epic|feature|story)$")),
    ("siblings", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?:the )?(?:siblings?|(?:sibling|sister|peer|fellow) {_ITEMS}|peers?) ",
                  r"(?:of|for) (?P<a>.+)$")),
    ("siblings", (rf"^(?:{_Q} )?(?:else |other {_ITEMS} )?(?:{_BE} )?(?:{_UNDER} )?(?:in|under) ",
                  r"the same (?:parent|epic|feature|story|user story) as (?P<a>.+)$")),
    ("siblings", (rf"^(?:{_Q} )?(?:other )?{_ITEMS} (?:with|under|sharing) the same parent as (?P<a>.+)$",)),
    ("siblings", (rf"^(?:{_Q} )?(?:else )?(?:{_ITEMS} )?(?:{_BE} )?(?:sits? |sitting |lives? )?(?:next to|",
                  rf"alongside|beside) (?P<a>{_ID}|{_TYPED})$")),
    ("siblings", (rf"^(?:{_Q} )?(?:else |other )?(?:{_ITEMS} )?(?:{_BE} )?(?:share|shares|sharing|have|has) ",
                  r"(?:a|the same|its) (?:parent|epic|feature|story|user story) (?:with|as) (?P<a>.+)$")),
    ("siblings", (rf"^(?:{_Q} )?(?:the )?(?:other )?{_ITEMS} (?:(?:in|under|of) the same ",
                  r"(?:parent|epic|feature|story|user story)|(?:at|on) the same level) as (?P<a>.+)$")),
    ("implements", (rf"^(?:{_Q} )?{_ITEMS} (?:does|do|did) (?P<a>.+?) ",
                    r"(?:decide|govern|cover|apply to)$")),
    ("implements", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:that |which )?(?:{_BE} )?{_ADV}",
                   r"(?:implement(?:s|ing|ed)?|realis(?:e|es|ing)|realiz(?:e|es|ing)|",
                   r"decided by|governed by|follow(?:s|ing)?|appl(?:y|ies|ying)|based on|",
                   r"carr(?:y|ies|ying) out|put into practice|enact(?:s|ing)?) ",
                   r"(?P<a>.*\b(?:adr|decision)\b.*",
                   r"|.*\badr-?\d+.*)$")),
    ("implements", (r"^(?:the )?implementations? of (?P<a>.+)$",)),
    ("implements", (rf"^where (?:{_BE} )?(?P<a>.+?) (?:implemented|realised|realized|applied|carried out)$",)),
    ("implements", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?:came|come|comes|resulted|results|",
                    r"followed|follows|grew|grows|sprang|(?:(?:was|were|got|has been|have been) )?",
                    r"(?:built|done|implemented|delivered|shipped|changed|started)) ",
                    r"(?:out of|from|because of|for|after|under) ",
                    r"(?P<a>.*\b(?:adr|decision)\b.*|.*\badr-?\d+.*)$")),
    ("decisions", (rf"^(?:{_Q} )?(?:decisions?|adrs?)(?: {_BE})? (?P<a>.+?)",
                  r" (?:follow|follows|use|uses|rely on|relies on|implement|implements|",
                  r"depend on|depends on|based on|apply to|governs?|cites?)$")),
    ("decisions", (rf"^(?:{_Q} )?{_ADR_NAME}(?: {_BE})? (?:that |which )?",
                   r"(?:govern|governs|cover|covers|shape|shapes|drive|drives|constrain|constrains) ",
                   r"(?P<a>.+)$")),
    ("decisions", (rf"^(?:{_Q} )?(?:{_BE} )?(?:the )?{_ADR} (?:that |which )?(?:{_BE} )?(?:related|relate|",
                   rf"relates|relating|linked|connected|tied|associated) (?:to|with) (?P<a>{_ID})$")),
    ("decisions", (rf"^(?:{_Q} )?(?:{_BE} )?(?:the )?(?:architecture|architectural|design|technical) ",
                   rf"{_ADR_NAME} (?:behind|for|of|governing) (?P<a>{_ID})$",)),
    ("decisions", (rf"^(?:{_Q} )?(?:{_BE} )?(?:decided|agreed|chosen) (?:for|about|on|in) (?P<a>{_ID})$",)),
    # "design decisions for the index" is a topic: only a linked ADR names a relation here
    ("decisions", (rf"^(?:{_Q} )?(?:{_BE} )?(?:the )?(?:linked )?{_ADR_NAME} (?:behind|for|of|governing) ",
                   r"(?P<a>.+)$")),
    ("decisions", (r"^(?:why|how) (?:was|were) (?P<a>.+?) decided$",)),
    ("decisions", (rf"^(?:what|which \w+) (?:decided|shaped|drove|governs) (?P<a>{_ID}|{_TYPED})$",)),
    ("decisions", (rf"^(?:{_Q} )?(?:the )?{_ADR_NAME}(?: {_BE})? (?:that |which )?",
                   r"(?:came|come|comes|resulted|result|arose|grew|made|taken|recorded|written|",
                   r"apply|applies|applied|relate|relates|related|linked|pertain|pertains|exist) ",
                   r"(?:from|out of|for|in|on|to|about|with|during) (?P<a>.+)$")),
    # singular "epic of X" asks for X's parent; plural "features of X" for its children
    ("parent", (rf"^(?:{_Q} )?(?:item |one |work item )?(?:{_BE} )?(?:the )?{_PARENT_TYPE}",
               r" (?:of|for|above) (?P<a>.+)$")),
    ("children", (rf"^(?:{_Q} )?{_ITEMS} (?:{_BE} )?(?:(?:a )?part of|contained in|included in|",
                  r"grouped under|filed under) (?P<a>.+)$")),
    ("children", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:have|has|with) (?P<a>.+?) as (?:their|its|the) ",
                  r"(?:parent|epic|feature|story)$")),
    ("parent", (rf"^{_Q} (?:{_BE} )(?P<a>{_ID}|{_TYPED}) (?:under|in|inside|within|beneath|below)$",)),
    ("children", (rf"^(?:{_Q} )?(?:{_BE} )?(?:are )?(?:the )?(?:direct )?{_ITEMS} (?:of|in|under|for|",
                 r"belonging to|beneath|inside) (?P<a>.+)$")),
    ("children", (rf"^{_Q} (?:{_BE} )?(?:in|under|inside|beneath|underneath) (?P<a>.+)$",)),
    ("children", (rf"^{_Q} {_ITEMS} (?:{_BE} )?(?:in|under|inside|beneath|underneath) (?P<a>{_ID}|{_TYPED})$",)),
    ("children", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?:{_UNDER}|rolls? up|rolling up) (?:{_IN}|to|into) ",
                  r"(?P<a>.+)$")),
    ("children", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?P<a>.+?) (?:made of|broken into|",
                  r"broken down into|breaks? down into|splits? into|",
                 r"contain|contains|include|includes|consist of|consists of)$")),
    ("children", (r"^(?:the )?(?:breakdown|break-down|decomposition|contents) of (?P<a>.+)$",)),
    ("children", (r"^(?:break down|decompose) (?P<a>.+)$",)),
    ("children", (r"^(?:everything|anything|all) (?:that is |that are )?(?:in|under|inside|beneath|below|",
                  r"within) (?P<a>.+)$")),
    ("ancestors", (rf"^(?:{_Q} )?(?:{_BE} )?(?P<a>.+?) (?:ultimately|eventually) (?:a )?(?:part of|under|in)$",)),
    ("parent", (rf"^(?:{_Q} )?(?:{_BE} )?(?P<a>.+?) (?:a )?(?:part|child|subtask|sub-task) of$",)),
    ("parent", (rf"^{_Q} (?:{_ITEMS} |one )?(?:owns|contains|holds|includes) (?P<a>{_ID})$",)),
    ("ancestors", (r"^(?:the )?(?:path|chain|route|way) (?:from|of) (?P<a>.+?) (?:up )?to the ",
                   r"(?:top|root)$")),
    ("ancestors", (r"^(?:trace|walk|follow|climb) (?P<a>.+?) up(?: to (?:the )?(?:top|root|its epic))?$",)),
    ("parent", (r"^(?:go |move |step )?up (?:one level |a level )?from (?P<a>.+)$",)),
    ("parent", (rf"^(?:{_Q} )?{_PARENT_TYPE}(?: {_BE})? (?P<a>.+?)",
               r" (?:belong to|belongs to|part of|under|in|come from|comes from|",
               r"(?:roll|rolls) up (?:to|into|under)|",
               rf"{_UNDER} (?:under|in|below))$")),
    ("parent", (rf"^(?:{_Q} |where )?(?:{_BE} )?(?P<a>.+?) (?:(?:roll|rolls) up (?:to|into|under)|",
                rf"{_UNDER}(?: under| in)?)$")),
    ("parent", (rf"^(?:{_Q} |where )(?:{_BE} )?(?P<a>.+?) (?:belong|belongs|fall|falls) (?:to|into|within)$",)),
    ("parent", (rf"^{_Q} (?:item|one|thing|work item) (?:{_BE} )?(?P<a>{_ID}) (?:under|in|part of|",
                r"beneath|below|inside)$")),
    ("references", (rf"^(?:{_Q} )?(?:{_BE} )?(?P<a>.+?) (?:reference|references|link to|links to|",
                   r"point to|points to|mention|mentions|cite|cites|refer to|refers to)$")),
    ("references", (r"^(?:the )?(?:links|references|outgoing links|outbound links|out-links|outlinks|",
                    r"outgoing references|outbound references) ",
                    r"(?:of|from|in) (?P<a>.+)$")),
    ("decisions", (rf"^(?:{_Q} )?(?:the )?{_ADR_NAME} (?:{_BE} )?",
                   r"(?:referenced|cited|linked|mentioned|named|listed|used) (?:by|in|from) (?P<a>.+)$")),
    ("references", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?mentioned in (?P<a>{_ID}|{_TYPED})$",)),
    ("references", (r"^where (?:does|do) (?P<a>.+?) (?:link|point)(?: out)?(?: to)?$",)),
    ("references", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?:linked|referenced|cited) (?:from|by|in) ",
                    r"(?P<a>.+)$")),
    ("implements", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:that |which )?(?:reference|references|name|names|",
                    r"list|lists|cite|cites|mention|mentions|include|includes) (?P<a>.+?) (?:in|among) ",
                    r"(?:their|its|the) (?:decisions|decision list|decisions field)$")),
    ("backlinks", (rf"^(?:{_Q} )?(?:{_ITEMS} |pages |files |everything |anything |all )?(?:{_BE} )?(?:that |which )?(?:refers? to|referring to|reference|references|",
                  r"link to|links to|point to|points to|mention|mentions|cite|cites|linking to|",
                  r"referencing|mentioning) (?P<a>.+)$")),
    ("backlinks", (r"^(?:the )?(?:backlinks?|back-links?|incoming links|inbound links|inlinks) ",
                   r"(?:of|to|for|into) (?P<a>.+)$")),
    ("backlinks", (rf"^where (?:{_BE} )?(?P<a>.+?) (?:referenced|mentioned|cited|linked)",
                   r"(?: from)?(?: anywhere| elsewhere)?$")),
    ("backlinks", (rf"^{_BE} (?P<a>.+?) (?:referenced|mentioned|cited|linked(?: to)?) (?:anywhere|elsewhere)$",)),
    ("related", (rf"^(?:{_Q} )?(?:{_BE} )?(?P<a>.+?) (?:relate|relates|related|linked|connected|associated|tied) ",
                 r"(?:to|with)$")),
    ("related", (rf"^(?:{_Q} )?(?:{_ITEMS} |everything |anything |all |stuff |things )?(?:else )?(?:{_BE} )?",
                 r"(?:related|relating|linked|connected|associated|tied) ",
                r"(?:to|with) (?P<a>.+)$")),
    ("related", (rf"^(?:{_Q} )?(?:{_ITEMS} )?(?:{_BE} )?(?:relates?|links?) (?:to|with) (?P<a>.+)$",)),
    ("related", (rf"^(?:{_Q} )?(?:{_BE} )?(?:the )?related (?:items|work|tasks|documents|docs) (?:of|for|to) ",
                 r"(?P<a>.+)$")),
    ("related", (r"^(?:the )?see also (?:for|of|from) (?P<a>.+)$",)),
    ("related", (rf"^(?:{_Q} )?(?:{_BE} )?(?:the )?(?:relations|relationships|connections) (?:of|for) ",
                 rf"(?P<a>{_ID}|{_TYPED})$")),
)
COMPILED = tuple((name, re.compile("".join(parts), re.IGNORECASE)) for name, parts in _PATTERNS)
