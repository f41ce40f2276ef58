"""What a parsed file is: its ids, type, title, filterable fields and typed links.

The rules come from real backlogs (work items with YAML front matter, ADRs
named ``ADR-NNNN_slug.md``) but degrade to plain notes: a file without front
matter is a "Note" identified by its path and titled by its first heading.

Front matter keys that name other documents become typed links:

==================================================  ============
front matter key                                    link kind
==================================================  ============
``parent``                                          parent
``links.blocks`` / ``blocks``                       blocks
``links.blocked_by`` / ``blocked_by``               blocked_by
``links.relates`` / ``relates`` / ``related_items``  relates
``for`` (backlog index pages)                       relates
``decisions`` / ``supersedes`` / ``superseded_by``  decision
==================================================  ============

plus ``ADR-NNNN`` mentions in the body (mention: naming an ADR is not being
decided by it, and dashboards name dozens), ``[[wiki]]`` and local Markdown
links.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from lore.documents.markdown import ParsedMarkdown, parse_markdown
from lore.documents.model import Document, Link, LinkKind
from lore.documents.sources import SourceFile, decode_text

# Bumped when parsing yields different documents from the same bytes (2: body ADR
# mentions became "mention" links), so the next sync re-parses every file.
PARSER_VERSION = "2"

_ADR_FILE = re.compile(r"^(ADR-\d{4})(?:_[^/]*)?\.(?:md|markdown)$", re.IGNORECASE)
_ADR_MENTION = re.compile(r"\bADR-\d{4}\b")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")

# Spellings seen in backlogs -> one canonical name, so `type:UserStory` finds
# "Story", "user-story" and "UserStory" items alike.
_CANONICAL_TYPES = {
    "task": "Task",
    "feature": "Feature",
    "epic": "Epic",
    "bug": "Bug",
    "userstory": "UserStory",
    "story": "UserStory",
    "adr": "ADR",
    "decision": "ADR",
    "index": "Index",
    "note": "Note",
    "worklog": "Worklog",
}

_FIELD_LINKS: tuple[tuple[tuple[str, ...], LinkKind], ...] = (
    (("parent",), "parent"),
    (("links", "blocks"), "blocks"),
    (("blocks",), "blocks"),
    (("links", "blocked_by"), "blocked_by"),
    (("blocked_by",), "blocked_by"),
    (("links", "relates"), "relates"),
    (("relates",), "relates"),
    (("related_items",), "relates"),
    (("for",), "relates"),
    (("decisions",), "decision"),
    (("supersedes",), "decision"),
    (("superseded_by",), "decision"),
)


def load_document(root: Path, source: SourceFile, data: bytes) -> Document:
    """Parse one file's bytes into a Document.

    Args:
        root: the indexed root. Parsing needs only ``source.relpath`` (links are
            resolved as root-relative paths), so the root is not read.
        source: the walk's record of the file (its relpath and mtime are kept).
        data: the file's raw bytes; ``content_hash`` is their sha256.

    Raises:
        DocumentError: the data is binary. Invalid UTF-8 and malformed front
            matter only add warnings.
    """
    text, warnings = decode_text(source.relpath, data)
    parsed = parse_markdown(text, source.relpath)
    doc_id = document_id(source.relpath, parsed.front_matter)
    doctype = document_type(source.relpath, parsed.front_matter)
    title = document_title(source.relpath, parsed)
    metadata: dict[str, Any] = dict(parsed.front_matter)
    if parsed.front_matter.get("type") is not None:
        metadata["declared_type"] = parsed.front_matter["type"]
    metadata["type"] = doctype
    metadata["title"] = title
    uid = parsed.front_matter.get("uid")
    return Document(
        path=source.relpath,
        doc_id=doc_id,
        uid=None if uid is None else str(uid),
        title=title,
        doctype=doctype,
        metadata=metadata,
        links=document_links(parsed, exclude={doc_id, source.relpath}),
        body=parsed.body,
        content_hash=hashlib.sha256(data).hexdigest(),
        size=len(data),
        mtime_ns=source.mtime_ns,
        warnings=(*warnings, *parsed.warnings),
    )


def document_id(relpath: str, front_matter: dict[str, Any]) -> str:
    """Front matter ``id``, else ``ADR-NNNN`` from an ADR file name, else the path."""
    value = front_matter.get("id")
    if value is not None and str(value).strip():
        return str(value).strip()
    adr = _ADR_FILE.match(PurePosixPath(relpath).name)
    return adr.group(1).upper() if adr else relpath


def document_type(relpath: str, front_matter: dict[str, Any]) -> str:
    """The canonical type: from front matter ``type``, else "ADR" by file name, else "Note"."""
    declared = front_matter.get("type")
    if declared is not None and str(declared).strip():
        return normalise_doctype(str(declared))
    return "ADR" if _ADR_FILE.match(PurePosixPath(relpath).name) else "Note"


def normalise_doctype(value: str) -> str:
    """Map a declared type to its canonical spelling ("user story" -> "UserStory").

    Unknown types keep their words, each capitalised and joined ("tech debt" ->
    "TechDebt"), so they are still consistent across files.
    """
    words = [word for word in _NOT_ALNUM.split(value) if word]
    known = _CANONICAL_TYPES.get("".join(words).lower())
    return known or "".join(word[0].upper() + word[1:] for word in words)


def document_title(relpath: str, parsed: ParsedMarkdown) -> str:
    """Front matter ``title``, else the first H1, else the first heading, else the file stem."""
    value = parsed.front_matter.get("title")
    if value is not None and str(value).strip():
        return str(value).strip()
    headings = [heading for heading in parsed.structure.headings if heading.text]
    first_h1 = next((heading for heading in headings if heading.level == 1), None)
    chosen = first_h1 or (headings[0] if headings else None)
    return chosen.text if chosen else PurePosixPath(relpath).stem


def document_links(parsed: ParsedMarkdown, exclude: set[str]) -> tuple[Link, ...]:
    """Typed links in a stable order (front matter, ADR mentions, body links), deduplicated.

    Args:
        parsed: the parsed file.
        exclude: targets that name the document itself (its id and path).
    """
    found: dict[Link, None] = {}  # an ordered set
    for keys, kind in _FIELD_LINKS:
        for target in _targets(_lookup(parsed.front_matter, keys)):
            found.setdefault(Link(kind, _decision_id(target) if kind == "decision" else target))
    declared = {link.target for link in found if link.kind == "decision"}
    for mention in _ADR_MENTION.findall(parsed.body):
        if mention not in declared:
            found.setdefault(Link("mention", mention))
    for link in parsed.structure.links:
        found.setdefault(link)
    return tuple(link for link in found if link.target not in exclude)


def _lookup(mapping: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """``mapping[k1][k2]...`` or None when any level is missing or not a mapping."""
    value: Any = mapping
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _targets(value: Any) -> Iterable[str]:
    """Link targets from a scalar or a list of scalars; nulls, blanks and mappings are ignored."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, (str, int)) and not isinstance(item, bool) and str(item).strip():
            yield str(item).strip()


def _decision_id(target: str) -> str:
    """An ADR path (``decisions/ADR-0013_x.md``) names the same document as ``ADR-0013``."""
    adr = _ADR_FILE.match(PurePosixPath(target).name)
    return adr.group(1).upper() if adr else target
