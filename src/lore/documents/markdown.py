"""Markdown structure: YAML front matter, heading outline and outgoing links.

The body is parsed with markdown-it-py's CommonMark token stream rather than
with line regexes, because ``# comment`` lines inside fenced code blocks and
``[[x]]`` inside code spans are not headings or links, and setext headings
(``Title`` over ``---``) are. Front matter is split off by hand (a ``---`` line
first, a ``---`` or ``...`` line closing it) so that a broken block can be
reported with a file line number and kept as body text instead of failing.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from lore.documents.model import Link

logger = logging.getLogger(__name__)

_FENCE_OPEN = "---"
_FENCE_CLOSE = ("---", "...")
_WIKI_LINK = re.compile(r"\[\[([^\[\]|]+?)(?:\|[^\[\]]*)?\]\]")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_MARKDOWN_SUFFIXES = (".md", ".markdown")
_NOT_BODY = "{}; the whole file was indexed as body text. {} to index its fields"
# The C loader is ~10x faster on a backlog's thousands of small blocks; it is
# optional in PyYAML builds, so fall back to the pure-Python one.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Real front matter is a few dozen values; these bounds only stop hostile input
# (alias bombs, megabytes of YAML) from costing minutes and gigabytes per file.
MAX_FRONT_MATTER_CHARS = 1_000_000
MAX_FRONT_MATTER_VALUES = 100_000


@dataclass(frozen=True)
class Heading:
    """One heading of the body.

    Attributes:
        level: 1 for ``#`` (or ``===`` setext) through 6.
        text: the heading as plain text (inline markup removed, code kept).
        line_start: first body line of the heading, 0-based.
        line_end: the body line after the heading (exclusive; setext headings span two).
    """

    level: int
    text: str
    line_start: int
    line_end: int


@dataclass(frozen=True)
class BodyStructure:
    """What the token stream says about a body: its outline and its links."""

    headings: tuple[Heading, ...]
    links: tuple[Link, ...]


@dataclass(frozen=True)
class ParsedMarkdown:
    """A Markdown file split into front matter and body.

    Attributes:
        front_matter: the YAML mapping made JSON-serialisable (empty when absent or invalid).
        body: the text after the front matter (the whole text when it was invalid).
        structure: headings and links of ``body``.
        warnings: non-fatal problems, phrased as what happened and how to fix it.
    """

    front_matter: dict[str, Any]
    body: str
    structure: BodyStructure
    warnings: tuple[str, ...]


def parse_markdown(text: str, relpath: str) -> ParsedMarkdown:
    """Split front matter from ``text`` and parse the body's structure.

    Never raises for bad input: malformed front matter becomes a warning and the
    whole text is kept as the body, so the file is still searchable.

    Args:
        text: the decoded file, newlines normalised to ``\\n``.
        relpath: the file's root-relative posix path, to resolve relative links.
    """
    front_matter, body, warnings = split_front_matter(text)
    return ParsedMarkdown(front_matter, body, parse_body(body, relpath), tuple(warnings))


def split_front_matter(text: str) -> tuple[dict[str, Any], str, list[str]]:
    """Return ``(front_matter, body, warnings)`` for a decoded Markdown text.

    Args:
        text: the decoded file, newlines normalised to ``\\n``.
    """
    lines = text.split("\n")
    if lines[0].rstrip() != _FENCE_OPEN:
        return {}, text, []
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() in _FENCE_CLOSE), None)
    if close is None:
        return {}, text, [_NOT_BODY.format(
            "front matter opened with '---' on line 1 is never closed",
            "Add a closing '---' line")]
    block = "\n".join(lines[1:close])
    if len(block) > MAX_FRONT_MATTER_CHARS:
        return {}, text, [_NOT_BODY.format(
            f"front matter is {len(block)} characters, over the limit of "
            f"{MAX_FRONT_MATTER_CHARS}", "Move long text below the closing '---'")]
    try:
        loaded = yaml.load(block, Loader=_YamlLoader)  # a safe loader: no object tags
    except (yaml.YAMLError, RecursionError) as exc:
        return {}, text, [_yaml_warning(exc)]
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        kind = type(loaded).__name__
        return {}, text, [_NOT_BODY.format(f"front matter is a YAML {kind}, not a mapping of keys",
                                           "Write it as 'key: value' lines")]
    try:
        converted = to_json_value(loaded)
    except (FrontMatterTooLarge, RecursionError) as exc:
        return {}, text, [_NOT_BODY.format(f"front matter is too large or too deep ({exc})",
                                           "Write out its values instead of nesting aliases")]
    return converted, "\n".join(lines[close + 1:]), []


def _yaml_warning(exc: yaml.YAMLError | RecursionError) -> str:
    """Phrase a YAML error with the file line it points at (front matter starts on line 2)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 2}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return _NOT_BODY.format(f"front matter is not valid YAML{where} ({problem})", "Fix the YAML")


class FrontMatterTooLarge(ValueError):
    """Front matter that expands past ``MAX_FRONT_MATTER_VALUES`` (an alias bomb)."""


def to_json_value(value: Any, budget: int = MAX_FRONT_MATTER_VALUES) -> Any:
    """Convert a YAML value into JSON-serialisable data.

    Dates become ISO strings, mapping keys become strings, sets and tuples become
    lists; NaN/infinity and anything else unusual become their string form, so
    metadata can be stored and filtered without a custom encoder.

    YAML aliases share one object between many places; written out as JSON each
    place is a copy, so a few hundred bytes of nested aliases expand into
    billions of values. The conversion counts what it writes and stops at
    ``budget`` values.

    Raises:
        FrontMatterTooLarge: the expanded value would hold more than ``budget`` values.
    """
    remaining = [budget]

    def convert(item: Any) -> Any:
        remaining[0] -= 1
        if remaining[0] < 0:
            raise FrontMatterTooLarge(f"more than {budget} values once YAML aliases are expanded")
        if isinstance(item, dict):
            return {str(key): convert(inner) for key, inner in item.items()}
        if isinstance(item, (list, tuple)):
            return [convert(inner) for inner in item]
        if isinstance(item, (set, frozenset)):
            return sorted((convert(inner) for inner in item), key=str)
        return _scalar(item)

    return convert(value)


def _scalar(value: Any) -> Any:
    """A YAML scalar as a JSON value (dates as ISO strings, NaN and others as strings)."""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    """A CommonMark block parser, built on first use (the build is the costly part).

    The core ``inline`` rule is off: inline parsing is most of markdown-it's
    time, and only headings (for their text) and paragraphs that contain a
    ``[`` (for links) need it, so ``_inline_children`` runs it on those alone.
    """
    return MarkdownIt("commonmark").disable("inline")


@lru_cache(maxsize=8)
def _block_tokens(body: str) -> tuple[list[Token], dict[str, Any]]:
    """Block tokens of ``body`` and the parse environment (link reference definitions).

    Cached because indexing parses each body twice in a row (``load_document``
    for links and title, then the chunker for its outline) and the block parse
    is the costliest step. Callers must not modify the tokens.
    """
    env: dict[str, Any] = {}
    return _parser().parse(body, env), env


def _inline_children(inline: Token, env: dict[str, Any]) -> list[Token]:
    """Parse one inline token's source into child tokens."""
    children: list[Token] = []
    _parser().inline.parse(inline.content, _parser(), env, children)
    return children


def _headings(tokens: list[Token], env: dict[str, Any]) -> tuple[Heading, ...]:
    return tuple(
        Heading(int(token.tag[1]), _plain_text(_inline_children(tokens[index + 1], env)).strip(),
                token.map[0], token.map[1])
        for index, token in enumerate(tokens)
        if token.type == "heading_open" and token.map is not None
    )


def parse_headings(body: str) -> tuple[Heading, ...]:
    """The headings of a Markdown body, in order (the chunker's outline)."""
    return _headings(*_block_tokens(body))


def parse_body(body: str, relpath: str = "") -> BodyStructure:
    """Headings and links of a Markdown body, from markdown-it-py's token stream.

    Args:
        body: Markdown without front matter.
        relpath: root-relative posix path of the file, to resolve relative Markdown
            links; with the default ``""`` links resolve against the root.
    """
    tokens, env = _block_tokens(body)
    links: dict[Link, None] = {}  # an ordered set: first occurrence wins
    folder = posixpath.dirname(relpath)
    for token in tokens:
        if token.type == "inline" and "[" in token.content:
            for link in _inline_links(_inline_children(token, env), folder):
                links.setdefault(link, None)
    return BodyStructure(_headings(tokens, env), tuple(links))


_TEXT_TYPES = ("text", "text_special", "code_inline")


def _plain_text(children: list[Token]) -> str:
    """Inline tokens as plain text: markup dropped, code spans keep their content."""
    return "".join(child.content if child.type in _TEXT_TYPES else
                   " " if child.type in ("softbreak", "hardbreak") else ""
                   for child in children)


def _inline_links(children: list[Token], folder: str) -> list[Link]:
    """Wiki links from the text runs and local Markdown links from ``link_open`` tokens."""
    found: list[Link] = []
    run: list[str] = []
    for child in [*children, None]:
        if child is not None and child.type in ("text", "text_special", "softbreak"):
            run.append(" " if child.type == "softbreak" else child.content)
            continue
        # A code span or a link ends a text run; wiki links never cross them.
        found.extend(_wiki_link(target, folder) for target in _wiki_targets("".join(run)))
        run = []
        if child is not None and child.type == "link_open":
            target = resolve_markdown_link(str(child.attrs.get("href", "")), folder)
            if target is not None:
                found.append(Link("markdown", target))
    return found


def _wiki_targets(text: str) -> list[str]:
    """``[[Target]]`` / ``[[Target|alias]]`` / ``[[Target#Heading]]`` -> ``Target``."""
    targets = []
    for match in _WIKI_LINK.finditer(text):
        target = match.group(1).split("#", 1)[0].strip()
        if target:
            targets.append(target)
    return targets


def _wiki_link(target: str, folder: str) -> Link:
    """A wiki link; a path-like target (``[[../adr/ADR-0001_x.md]]``) is made root-relative
    like a Markdown link, since it cannot be resolved later without this file's folder."""
    if "/" in target:
        target = resolve_markdown_link(target, folder) or target
    return Link("wiki", target)


def resolve_markdown_link(href: str, folder: str) -> str | None:
    """Root-relative posix path of a local Markdown link, or None for anything else.

    External URLs, pure anchors, links to non-Markdown files and paths that climb
    out of the root are not document links and give None.

    Args:
        href: the link destination as written (``../adr/ADR-0001_x.md#context``).
        folder: the root-relative folder of the linking document (``""`` for the root).
    """
    href = href.strip()
    if not href or href.startswith(("#", "//")) or _URL_SCHEME.match(href):
        return None
    path = unquote(href.split("#", 1)[0].split("?", 1)[0])
    if not path.lower().endswith(_MARKDOWN_SUFFIXES):
        return None
    joined = path.lstrip("/") if path.startswith("/") else posixpath.join(folder, path)
    normal = posixpath.normpath(joined)
    if normal == ".." or normal.startswith("../"):
        logger.debug("link %r from %r leaves the indexed root; ignored", href, folder)
        return None
    return normal
