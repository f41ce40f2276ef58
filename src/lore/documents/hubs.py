"""Recognise hub pages: dashboards, views, indexes and maps of content.

A hub is a generated or hand-kept page that mostly *lists links* to other
documents: it names every item, so it matches many queries a little, and it
links to everything, so expanding from it drags in unrelated documents. The
search ranks hubs below content and never expands from them.

The test is structural, not by name: a body is a hub when at least
``MIN_LINK_LINES`` of its lines are list items or table rows that point at
other documents (a Markdown or wiki link, or a ``.md`` path), and those lines
hold at least ``MIN_LINK_SHARE`` of the body's words. Headings, HTML
comments (build stamps) and fenced code do not count either way. The
thresholds were set on the kano backlog development set (``bench/backlog``):
every dashboard and epic map is a hub there, no ADR or work item is,
and the thin agent-adapter copies of a skill (0.62-0.67 of words on link
lines) stay content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_LINK_LINES = 2
MIN_LINK_SHARE = 0.7

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)]|\|)")
_REFERENCE = re.compile(r"\]\(|\[\[|[\w./-]+\.(?:md|markdown)\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class LinkShape:
    """How much of a body is lists of links.

    Attributes:
        link_lines: list items and table rows that reference another document.
        link_words: words on those lines.
        prose_words: words on every other content line.
    """

    link_lines: int
    link_words: int
    prose_words: int

    @property
    def link_share(self) -> float:
        """The share of content words that sit on link lines (0 for an empty body)."""
        total = self.link_words + self.prose_words
        return self.link_words / total if total else 0.0

    @property
    def is_hub(self) -> bool:
        """Whether the body mostly lists links (see the module docstring)."""
        return self.link_lines >= MIN_LINK_LINES and self.link_share >= MIN_LINK_SHARE


def link_shape(body: str) -> LinkShape:
    """Measure ``body`` (Markdown without front matter) line by line."""
    text = _FENCE.sub("", _COMMENT.sub("", body))
    link_lines = link_words = prose_words = 0
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        words = len(_WORD.findall(stripped))
        if _ITEM.match(line) and _REFERENCE.search(stripped):
            link_lines += 1
            link_words += words
        else:
            prose_words += words
    return LinkShape(link_lines, link_words, prose_words)


def is_hub(body: str) -> bool:
    """Whether ``body`` is a hub page: mostly lists of links to other documents."""
    return link_shape(body).is_hub
