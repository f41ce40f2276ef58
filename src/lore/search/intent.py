"""Decision questions: "why did we ...", "what did we decide about ...".

Such a question is answered by the document that *holds* the decision (an
ADR, or a section headed Decision / Rationale), not by the tasks that carried
it out, which share its words and often outrank it. The engine adds a prior
to decision holders when ``decision_question`` says the query asks for one;
its size (``search.decision_prior``) was measured on the backlog development
set (``bench/backlog_eval.py --decision-prior``), not set by hand.
"""

from __future__ import annotations

import re

_DECISION = re.compile(
    r"^\s*(?:why\b(?! not\b)|how come\b|what (?:did|do|have) we (?:decide|settle on|agree on)"
    r"|what(?:'s| (?:was|were|is|are)) (?:the |our )?"
    r"(?:decision|decided|rationale|reasoning|reasons?|motivation|justification|thinking|argument)"
    r"|how did we (?:decide|choose|pick|settle)|where did we land\b|who decided\b"
    r"|what (?:made|led|drove|pushed) us\b|what (?:led|drove) (?:to|the)\b"
    r"|(?:the )?(?:rationale|reasoning|reasons?|motivation|justification|thinking) "
    r"(?:for|behind|of)"
    r"|(?:the )?decision (?:on|about|to|for|behind))",
    re.IGNORECASE)
_DECISION_HEADINGS = re.compile(
    r"\b(?:decision|decisions|rationale|why|consequences|options considered|alternatives)\b",
    re.IGNORECASE)
DECISION_TYPES = frozenset({"ADR", "Decision"})


def decision_question(text: str) -> bool:
    """Whether ``text`` asks why something was decided (or what was decided)."""
    return bool(_DECISION.match(text))


def decision_holder(doctype: str, heading_path: tuple[str, ...]) -> bool:
    """Whether a chunk holds a decision: it is in an ADR or under a decision heading."""
    return doctype in DECISION_TYPES or any(_DECISION_HEADINGS.search(h) for h in heading_path)
