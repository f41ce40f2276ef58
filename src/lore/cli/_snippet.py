"""Snippets as a reader wants them: Markdown syntax out, highlights kept, weak worklog replaced.

A hit's snippet is a window of the chunk's raw text, so it carries
``**bold**``, code fences, ``[[target|label]]`` and ``[text](url)``. Printed
as is, the syntax crowds out the words; stripped naively, the highlight
offsets (which point into the raw text) would mark the wrong characters.
``strip_markdown`` therefore keeps, for every character it outputs, the
offset it came from, and maps each highlight through that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Span = tuple[int, int]

# Each alternative names the group whose text is kept (None: drop the match).
_MARKUP = re.compile(
    r"!?\[\[(?:[^\]|\n]*\|)?(?P<wiki>[^\]\n]*)\]\]"            # [[target|label]] -> label
    r"|!?\[(?P<link>[^\]\n]*)\]\([^)\n]*\)"                    # [text](url), ![alt](src)
    r"|(?P<fence>(?:```|~~~)[\w+-]*)"                          # ```lang fences
    r"|(?P<heading>(?:^|(?<=\s))#{1,6}[ \t]+)"                 # '## ' heading markers
    r"|(?P<quote>^[ \t]*>[ \t]?)"                              # '> ' quote markers
    r"|(?P<strong>\*\*|__|~~)"                                 # bold / strike markers
    r"|(?<![\w*`])[*_](?=[^\s*_])(?P<em>[^*_\n]*?[^\s*_])[*_](?![\w*])"  # *em* / _em_
    r"|`(?P<code>[^`\n]+)`"                                    # `code` -> code
    r"|(?P<tag></?(?:br|p|div|span|details|summary|sub|sup|b|i|em|strong|code|pre|kbd|img|a"
    r"|hr|table|thead|tbody|tr|td|th|ul|ol|li|h[1-6])\b[^<>\n]*/?>)",  # HTML tags, not <ID>
    re.MULTILINE | re.IGNORECASE)
_KEPT_GROUPS = ("wiki", "link", "em", "code")
_SPACE = re.compile(r"\s+")


def strip_markdown(text: str, highlights: Sequence[Span] = ()) -> tuple[str, list[Span]]:
    """``text`` without Markdown syntax, on one line, with ``highlights`` moved to match.

    Args:
        text: a snippet of raw Markdown.
        highlights: ``(start, end)`` offsets into ``text``.

    Returns:
        The plain text (whitespace runs folded to one space) and the
        highlights as offsets into it; a highlight wholly inside removed
        syntax (a URL) is dropped.
    """
    chars: list[str] = []
    origins: list[int] = []

    def keep(start: int, end: int) -> None:
        for offset in range(start, end):
            if text[offset].isspace():
                if chars and chars[-1] != " ":
                    chars.append(" ")
                    origins.append(offset)
            else:
                chars.append(text[offset])
                origins.append(offset)

    last = 0
    for match in _MARKUP.finditer(text):
        keep(last, match.start())
        for group in _KEPT_GROUPS:
            if match.group(group) is not None:
                keep(*match.span(group))
                break
        else:   # dropped syntax still separates the words around it
            keep_space = match.group("fence") is not None or match.group("tag") is not None
            if keep_space and chars and chars[-1] != " ":
                chars.append(" ")
                origins.append(match.start())
        last = match.end()
    keep(last, len(text))
    while chars and chars[-1] == " ":
        chars.pop()
        origins.pop()
    lead = 0
    while lead < len(chars) and chars[lead] == " ":
        lead += 1
    plain = "".join(chars[lead:])
    return plain, _map_spans(origins[lead:], highlights)


def _map_spans(origins: Sequence[int], highlights: Sequence[Span]) -> list[Span]:
    """Highlights over the raw text as spans over the kept characters."""
    spans: list[Span] = []
    for start, end in highlights:
        inside = [i for i, origin in enumerate(origins) if start <= origin < end]
        if inside:
            spans.append((inside[0], inside[-1] + 1))
    return spans


def mark(text: str, spans: Sequence[Span], open_mark: str, close_mark: str) -> str:
    """``text`` with each span wrapped in the marks (spans sorted, not overlapping)."""
    out: list[str] = []
    last = 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [text[last:start], open_mark, text[start:end], close_mark]
        last = end
    out.append(text[last:])
    return "".join(out)


def is_weak_worklog(kind: str, highlights: Sequence[Span]) -> bool:
    """Whether a snippet is worklog lines that do not even contain a query term.

    Such a snippet (typical of a vector-only match on a work item) tells the
    reader nothing about the document; its description says more.
    """
    return kind == "worklog" and not highlights


def first_paragraph(body: str, *, limit: int = 300) -> str:
    """The first prose paragraph of a Markdown body (headings, fences and lists skipped)."""
    for block in re.split(r"\n\s*\n", body):
        lines = [line for line in block.strip().splitlines()
                 if line.strip() and not line.lstrip().startswith(("#", "```", "~~~", "|", "- [",
                                                                  "---"))]
        if not lines:
            continue
        text, _ = strip_markdown(" ".join(lines))
        if len(text) >= 20:
            return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"
    return ""
