"""Cut a document into searchable chunks that follow its structure.

A small document stays whole. A larger one is cut at its headings; a section
over the token budget is split at paragraph boundaries, then lines, then
sentences, then words, and only a single giant word is cut inside. Sections under
``min_tokens`` merge with a neighbour so there is no dust. A backlog
``Worklog`` section becomes one chunk per day, because "what happened on
2026-01-05" is how people search a worklog.

Boundaries are planned with an estimate: ``ceil(1.3 * pieces)``, where a
piece is a run of letters, a run of digits, one CJK character or any other
single non-space character - the units a BERT-style pre-tokenizer starts from
(``snake_case`` is three of them). WordPiece cuts rarer words further, and on
scientific text the estimate undercounts badly (SciFact: a quarter of the
chunks planned at 256 were longer for MiniLM). So when the active model's
tokenizer is at hand (``TokenMeasure``), every chunk is then counted exactly
as the embedder will see it (prefix, title, heading path, special tokens) and
one that does not fit the model's window is cut again until every part fits:
nothing is truncated by the embedder. Without a tokenizer (the hashing
provider, remote APIs, keyword-only indexes) the estimate stands.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

from lore.documents.cjk import CJK_CHARS
from lore.documents.markdown import Heading, parse_headings
from lore.documents.model import Chunk, Document
from lore.settings import ChunkSettings

CHUNKER_VERSION = "2"
"""Identifies the chunker's output. Change it whenever the chunks produced for the
same document and settings change (boundaries, text, heading paths, kinds or
estimates): it is part of the embedding space, so a new value re-embeds."""

TOKENS_PER_PIECE = 1.3
_PIECE = re.compile(rf"[{CJK_CHARS}]|[^\W\d_{CJK_CHARS}]+|\d+|\S")
_WORKLOG_HEADING = re.compile(r"^work\s*-?\s*logs?\s*(\(.*\))?$", re.IGNORECASE)
_WORKLOG_ENTRY = re.compile(r"^\s*(?:[-*+]\s+)?(\d{4}-\d{2}-\d{2})\b")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def estimate_tokens(text: str) -> int:
    """Approximate token count of ``text`` (see the module docstring)."""
    return _estimate(_count_pieces(text))


def _count_pieces(text: str) -> int:
    return len(_PIECE.findall(text))


def _estimate(pieces: int) -> int:
    return math.ceil(pieces * TOKENS_PER_PIECE)


@dataclass(frozen=True)
class TokenMeasure:
    """The active embedding model's tokenizer, as the chunker needs it.

    Attributes:
        name: identifies tokenizer, window and prefix; part of the chunker
            version, so another model re-chunks.
        window: the most tokens the embedder takes (its truncation point).
        count: tokens of each text exactly as embedded (document prefix and
            special tokens included).
    """

    name: str
    window: int
    count: Callable[[list[str]], list[int]]


# Smallest text budget a re-cut aims for when a title and heading path leave
# almost no room: such chunks still get some body text (and are truncated).
_MIN_TEXT_TOKENS = 16


@dataclass(frozen=True)
class _Piece:
    """A run of body text before merging: one section, or part of a split one.

    Piece counts are cached so merging can add them up instead of re-scanning text.
    """

    path: tuple[str, ...]
    lines: tuple[str, ...]  # the Markdown heading line of each element of ``path``
    text: str
    kind: Literal["section", "worklog"]

    @cached_property
    def size(self) -> int:
        return _count_pieces(self.text)

    @cached_property
    def line_sizes(self) -> tuple[int, ...]:
        return tuple(_count_pieces(line) for line in self.lines)


@dataclass(frozen=True)
class _Section:
    """The body text under one heading, down to the next heading of any level."""

    path: tuple[str, ...]
    lines: tuple[str, ...]
    content: str


def chunk_document(doc: Document, settings: ChunkSettings,
                   measure: TokenMeasure | None = None) -> list[Chunk]:
    """Cut ``doc`` into chunks; the same document and settings always give the same chunks.

    Args:
        doc: the parsed document; only ``body`` and ``title`` are read.
        settings: the token budgets (``max_tokens``, ``min_tokens``, ``whole_document_tokens``).
        measure: the embedding model's tokenizer; when given, every chunk fits its
            window (``token_estimate`` is then the exact count).

    Returns:
        At least one chunk; an empty body gives one empty "document" chunk so the
        document is still findable by its title.
    """
    chunks = _plan(doc, settings)
    if measure is None:
        return chunks
    counts = measure.count([chunk.context_text(doc.title) for chunk in chunks])
    fitted = [part for chunk, count in zip(chunks, counts)
              for part in _fit(chunk, count, doc.title, measure)]
    return [replace(chunk, ordinal=ordinal) for ordinal, chunk in enumerate(fitted)]


def _fit(chunk: Chunk, total: int, title: str, measure: TokenMeasure) -> list[Chunk]:
    """``chunk`` (``total`` tokens as embedded) as is when it fits the model's window,
    else cut into parts that do."""
    if total <= measure.window:
        return [replace(chunk, token_estimate=total)]
    (overhead,) = measure.count([replace(chunk, text="").context_text(title)])
    room = max(_MIN_TEXT_TOKENS, measure.window - overhead)
    # Aim the estimate budget at the room left, scaled by how far the estimate was off.
    budget = max(1, estimate_tokens(chunk.text) * room // max(1, total - overhead))
    kind = "section" if chunk.kind == "document" else chunk.kind
    return _recut(chunk.text, Chunk(0, chunk.heading_path, "", kind, 0), title, measure, budget)


def _recut(text: str, like: Chunk, title: str, measure: TokenMeasure,
           budget: int) -> list[Chunk]:
    """Split ``text`` at the estimate ``budget``; parts still too long are cut again
    with a budget a quarter smaller (at budget 1 a part is one word, kept as is)."""
    parts = [replace(like, text=part) for part in _split(text, budget)]
    counts = measure.count([part.context_text(title) for part in parts])
    out: list[Chunk] = []
    for part, count in zip(parts, counts):
        if count <= measure.window or budget == 1:
            out.append(replace(part, token_estimate=count))
        else:
            out.extend(_recut(part.text, like, title, measure, max(1, budget * 3 // 4)))
    return out


def _plan(doc: Document, settings: ChunkSettings) -> list[Chunk]:
    """The chunks by the estimate alone (see the module docstring)."""
    body = doc.body.strip()
    if estimate_tokens(body) <= settings.whole_document_tokens:
        return [Chunk(0, (), body, "document", estimate_tokens(body))]
    budget = max(1, settings.max_tokens)
    pieces = [piece for section in _sections(doc.body, doc.title)
              for piece in _section_pieces(section, budget)]
    chunks = []
    for ordinal, group in enumerate(_merge(pieces, budget, settings.min_tokens)):
        path, parts = _layout(group)
        text = "\n\n".join(part for part, _ in parts)
        chunks.append(Chunk(ordinal, path, text, group[0].kind,
                            _estimate(sum(size for _, size in parts))))
    return chunks


def _sections(body: str, title: str) -> list[_Section]:
    """One section per heading, plus the text before the first heading.

    A top heading that repeats the title is left out of paths: the title is
    stored (and embedded) with every chunk already. A bare heading with no
    subsections is kept as text of its parent, since some files write whole
    paragraphs as headings.
    """
    lines = body.split("\n")
    headings = parse_headings(body)
    first = headings[0].line_start if headings else len(lines)
    sections = [_Section((), (), "\n".join(lines[:first]))]
    stack: list[Heading] = []
    for index, heading in enumerate(headings):
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
        trail = [item for item in (stack[1:] if _same_text(stack[0].text, title) else stack)
                 if item.text]  # an empty "#" line separates, it names nothing
        path = tuple(item.text for item in trail)
        marks = tuple(f"{'#' * item.level} {item.text}" for item in trail)
        following = headings[index + 1] if index + 1 < len(headings) else None
        content = "\n".join(lines[heading.line_end:following.line_start if following else None])
        if content.strip() or (following is not None and following.level > heading.level):
            sections.append(_Section(path, marks, content))
        elif trail and trail[-1] is heading:
            sections.append(_Section(path[:-1], marks[:-1], marks[-1]))
    return sections


def _same_text(left: str, right: str) -> bool:
    return " ".join(left.split()).casefold() == " ".join(right.split()).casefold()


def _section_pieces(section: _Section, budget: int) -> list[_Piece]:
    """The pieces of one section: worklog days, or the content split to the budget."""
    content = section.content.strip()
    if not content:
        return []  # a heading with only subsections: it is in their paths
    if section.path and _WORKLOG_HEADING.match(section.path[-1]):
        days = _worklog_days(content)
        if days:
            return _worklog_pieces(section, days, budget)
    return [_Piece(section.path, section.lines, part, "section")
            for part in _split(content, budget)]


def _worklog_days(content: str) -> dict[str, list[str]]:
    """Worklog lines grouped by the date that starts each entry, in first-seen order.

    Lines before the first dated entry are kept under the key ``""``;
    continuation lines belong to the entry above them.
    """
    days: dict[str, list[str]] = {}
    day = ""
    for line in content.split("\n"):
        entry = _WORKLOG_ENTRY.match(line)
        if entry:
            day = entry.group(1)
        days.setdefault(day, []).append(line)
    return days if any(days) else {}


def _worklog_pieces(section: _Section, days: dict[str, list[str]],
                    budget: int) -> list[_Piece]:
    """One worklog piece per day (several when a day exceeds the budget); text
    before the first entry stays an ordinary section piece."""
    pieces: list[_Piece] = []
    for day, lines in days.items():
        text = "\n".join(lines).strip()
        if not text:
            continue
        if day:
            pieces.extend(_Piece((*section.path, day), (*section.lines, day), part, "worklog")
                          for part in _split(text, budget))
        else:
            pieces.extend(_Piece(section.path, section.lines, part, "section")
                          for part in _split(text, budget))
    return pieces


def _merge(pieces: list[_Piece], budget: int, min_tokens: int) -> list[list[_Piece]]:
    """Group consecutive section pieces while one side is under ``min_tokens`` and
    the result fits the budget; worklog days are never merged."""
    groups: list[list[_Piece]] = []
    for piece in pieces:
        previous = groups[-1] if groups else None
        if (previous is not None and piece.kind == previous[-1].kind == "section"
                and (_group_tokens(previous) < min_tokens
                     or _group_tokens([piece]) < min_tokens)
                and _group_tokens([*previous, piece]) <= budget):
            previous.append(piece)
        else:
            groups.append([piece])
    return groups


def _shared(left: tuple[str, ...], right: tuple[str, ...]) -> int:
    """Length of the common prefix of two heading paths."""
    count = 0
    while count < min(len(left), len(right)) and left[count] == right[count]:
        count += 1
    return count


def _layout(group: list[_Piece]) -> tuple[tuple[str, ...], list[tuple[str, int]]]:
    """The group's heading path and its text parts with their piece counts.

    The path is what all pieces share. Headings below it are written into the
    text where each piece enters them, so merging loses no heading.
    """
    path = group[0].path
    for piece in group[1:]:
        path = path[:_shared(path, piece.path)]
    context = path
    parts: list[tuple[str, int]] = []
    for piece in group:
        known = _shared(context, piece.path)
        parts.extend(zip(piece.lines[known:], piece.line_sizes[known:]))
        parts.append((piece.text, piece.size))
        context = piece.path
    return path, parts


def _group_tokens(group: list[_Piece]) -> int:
    """The estimate of the group's text, from cached piece counts (whitespace joins add
    no pieces, so counts add up)."""
    return _estimate(sum(size for _, size in _layout(group)[1]))


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks; a fenced code block is never cut inside."""
    blocks: list[list[str]] = [[]]
    fence = ""
    for line in text.split("\n"):
        marker = _FENCE.match(line)
        if marker and (not fence or marker.group(1).startswith(fence)):
            fence = "" if fence else marker.group(1)[:3]
        if not line.strip() and not fence:
            blocks.append([])
        else:
            blocks[-1].append(line)
    return ["\n".join(block) for block in blocks if block]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _sentences(text: str) -> list[str]:
    return _SENTENCE_END.split(text)


# Each level: how to cut, and how the parts are joined back when packed.
_LEVELS: tuple[tuple[Callable[[str], list[str]], str], ...] = (
    (_paragraphs, "\n\n"),
    (_lines, "\n"),
    (_sentences, " "),
    (str.split, " "),
)


def _split(text: str, budget: int, level: int = 0) -> list[str]:
    """Cut ``text`` into parts of at most ``budget`` tokens at the coarsest boundary that works.

    Parts are packed greedily: consecutive paragraphs (or lines, sentences,
    words) share a chunk while they fit. Piece counts add up across whitespace joins,
    so packing is linear in the text length.
    """
    if estimate_tokens(text) <= budget:
        return [text]
    if level == len(_LEVELS):
        return _hard_split(text, budget)
    cut, joiner = _LEVELS[level]
    parts = [part.strip() for part in cut(text) if part.strip()]
    if len(parts) <= 1:
        return _split(text, budget, level + 1)
    out: list[str] = []
    current: list[str] = []
    count = 0
    for part in parts:
        pieces = _count_pieces(part)
        if _estimate(pieces) > budget:
            if current:
                out.append(joiner.join(current))
            current, count = [], 0
            out.extend(_split(part, budget, level + 1))
        elif current and _estimate(count + pieces) > budget:
            out.append(joiner.join(current))
            current, count = [part], pieces
        else:
            current.append(part)
            count += pieces
    if current:
        out.append(joiner.join(current))
    return out


def _hard_split(text: str, budget: int) -> list[str]:
    """Cut one over-long word at piece boundaries, every ``budget`` tokens' worth (last resort)."""
    per_part = max(1, math.floor(budget / TOKENS_PER_PIECE))
    while per_part > 1 and _estimate(per_part) > budget:
        per_part -= 1
    starts = [match.start() for match in _PIECE.finditer(text)][::per_part]
    bounds = [*starts[1:], len(text)]
    return [text[start:end].strip() for start, end in zip(starts, bounds)]
