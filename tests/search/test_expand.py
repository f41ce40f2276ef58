"""Typed links on the real kano backlog: `related`, search expansion, context packs."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from lore.cli import main
from lore.index import Index


@functools.cache
def items(root: Path) -> list[dict[str, Any]]:
    """The front matter of every work item, read straight from the files."""
    found = []
    for path in sorted(root.rglob("KABSD-*_*.md")):
        text = path.read_text(encoding="utf-8")
        if "/items/" in path.as_posix() and text.startswith("---"):
            data = yaml.safe_load(text.split("---")[1])
            if isinstance(data, dict):
                found.append(data)
    return found


def front_matter(root: Path, doc_id: str) -> dict[str, Any]:
    """The front matter of the only work item with id ``doc_id``."""
    (data,) = [fm for fm in items(root) if fm.get("id") == doc_id]
    return data


def expected_edges(fm: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, doc id) pairs the item's own front matter declares."""
    links = fm.get("links") or {}
    edges = {("parent", fm["parent"])}
    for kind in ("blocks", "blocked_by"):
        edges |= {(kind, target.split("@")[0]) for target in links.get(kind) or []}
    edges |= {("decision", adr) for adr in fm.get("decisions") or []}
    return edges


@pytest.mark.parametrize("doc_id", ["KABSD-TSK-0060", "KABSD-TSK-0124", "KABSD-FTR-0013"])
def test_related_lists_parent_blockers_and_adrs(kano_index: Index, kano_corpus: Path,
                                                doc_id: str) -> None:
    want = expected_edges(front_matter(kano_corpus, doc_id))
    assert len(want) >= 3
    found = {(kind, n.doc.doc_id) for n in kano_index.related(doc_id) for kind, _ in n.via}
    assert want <= found
    assert all(n.depth == 1 for n in kano_index.related(doc_id))


def test_related_depth_two_reaches_the_parents_parent(kano_index: Index,
                                                      kano_corpus: Path) -> None:
    parent = front_matter(kano_corpus, "KABSD-TSK-0060")["parent"]
    grandparent = front_matter(kano_corpus, parent)["parent"]
    depths = {n.doc.doc_id: n.depth for n in kano_index.related("KABSD-TSK-0060", depth=2)}
    assert depths[parent] == 1
    assert depths[grandparent] == 2


def test_children_are_the_mirror_of_parent_links(kano_index: Index, kano_corpus: Path) -> None:
    children = {n.doc.doc_id for n in kano_index.related("KABSD-FTR-0008", kinds=["child"])}
    declared = {fm["id"] for fm in items(kano_corpus) if fm.get("parent") == "KABSD-FTR-0008"}
    assert declared and children == declared


def test_unknown_id_is_a_clear_error(kano_index: Index) -> None:
    from lore.errors import QueryError

    with pytest.raises(QueryError, match="lore search"):
        kano_index.related("KABSD-TSK-9999")


def test_expand_appends_linked_documents(kano_index: Index, kano_corpus: Path) -> None:
    fm = front_matter(kano_corpus, "KABSD-TSK-0060")
    hits = kano_index.search("KABSD-TSK-0060", limit=1, expand=True)
    assert hits[0].doc_id == "KABSD-TSK-0060" and hits[0].via == ()
    added = {h.doc_id: h.via for h in hits[1:]}
    assert ("parent", "KABSD-TSK-0060") in added[fm["parent"]]
    assert ("decision", "KABSD-TSK-0060") in added["ADR-0003"]
    assert len(hits) - 1 <= kano_index.settings.graph.max_added
    assert [h.score for h in hits[1:]] == sorted((h.score for h in hits[1:]), reverse=True)


def test_context_pack_respects_the_budget(kano_index: Index, kano_corpus: Path) -> None:
    fm = front_matter(kano_corpus, "KABSD-TSK-0060")
    pack = kano_index.context("KABSD-TSK-0060", limit=3, budget=4000)
    roles = {(item.role, item.doc_id) for item in pack.items}
    assert ("hit", "KABSD-TSK-0060") in roles
    assert ("parent", fm["parent"]) in roles
    assert pack.used == sum(item.tokens for item in pack.items) <= 4000
    assert len({item.path for item in pack.items}) == len(pack.items)
    small = kano_index.context("KABSD-TSK-0060", limit=3, budget=50)
    assert small.used <= 50 and small.omitted > 0


def test_cli_related_json(kano_index: Index, kano_corpus: Path) -> None:
    result = CliRunner().invoke(main, ["related", "KABSD-TSK-0124", "--root", str(kano_corpus),
                                       "--index-dir", str(kano_index.index_dir), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {"path", "doc_id", "title", "doctype", "depth", "via"} <= set(rows[0])
    kinds = {(via["kind"], row["doc_id"]) for row in rows for via in row["via"]}
    assert ("decision", "ADR-0009") in kinds
    missing = CliRunner().invoke(main, ["related", "NOPE-1", "--root", str(kano_corpus),
                                        "--index-dir", str(kano_index.index_dir)])
    assert missing.exit_code == 1 and "NOPE-1" in missing.output
