"""What the kano files' own front matter links, for checking relation answers.

Every expectation is read from the YAML of the files (both directions: a child
names its parent, a blocker may be declared on either side, an ADR may name
the items it concerns in ``related_items``), never from lore's link table.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml


@functools.cache
def items(root: Path) -> dict[str, dict[str, Any]]:
    """doc id -> front matter, for every work item and ADR with a unique id."""
    seen: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(root.rglob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if not text.startswith("---"):
            continue
        try:
            data = yaml.safe_load(text.split("\n---", 1)[0][3:])
        except yaml.YAMLError:
            continue
        if isinstance(data, dict) and data.get("id"):
            seen.setdefault(str(data["id"]), []).append(data)
    return {k: v[0] for k, v in seen.items() if len(v) == 1}


def ids(values: Any) -> set[str]:
    """The ids in a front-matter list (``ID@uid`` read as ``ID``)."""
    return {str(v).split("@")[0] for v in values or []}


def links(fm: dict[str, Any], kind: str) -> set[str]:
    """The ids under ``links.<kind>``."""
    return ids((fm.get("links") or {}).get(kind))


def relates(fm: dict[str, Any]) -> set[str]:
    """The ids a file relates to: ``links.relates`` and an ADR's ``related_items``."""
    return links(fm, "relates") | ids(fm.get("related_items"))


def expected(root: Path, relation: str, anchor: str) -> set[str]:
    """The items the front matter links to ``anchor`` by ``relation`` (for ``references``
    and ``backlinks``, the front-matter part of an answer that also holds body links)."""
    every = items(root)
    fm = every[anchor]

    def naming(test: Any) -> set[str]:
        return {other for other, theirs in every.items() if test(theirs)}

    parent = fm.get("parent")
    chain, node = [], anchor
    while every.get(node, {}).get("parent") and every[node]["parent"] not in chain:
        node = every[node]["parent"]
        chain.append(node)
    decided = naming(lambda t: anchor in ids(t.get("decisions")))
    found = {
        "blocked_by": links(fm, "blocked_by") | naming(lambda t: anchor in links(t, "blocks")),
        "blocks": links(fm, "blocks") | naming(lambda t: anchor in links(t, "blocked_by")),
        "children": naming(lambda t: t.get("parent") == anchor),
        "parent": {parent} if parent else set(),
        "ancestors": set(chain),
        "siblings": naming(lambda t: parent and t.get("parent") == parent) - {anchor},
        "implements": decided,
        "decisions": ids(fm.get("decisions")) | {
            adr for adr in relates(fm) | naming(lambda t: anchor in relates(t))
            if adr.startswith("ADR-")},
        "references": ids(fm.get("decisions")) | relates(fm),
        "backlinks": decided,
        "related": relates(fm) | naming(lambda t: anchor in relates(t)),
    }
    return found[relation]
