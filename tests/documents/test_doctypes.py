"""Turning parsed files into Documents: ids, types, titles, metadata and typed links."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lore.documents import load_document
from lore.documents.doctypes import normalise_doctype
from lore.documents.model import Document, Link
from lore.documents.sources import SourceFile
from lore.errors import DocumentError


def load(relpath: str, text: str | bytes, root: Path = Path("/unused")) -> Document:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return load_document(root, SourceFile(root / relpath, relpath, len(data), 123), data)


def front_matter(path: Path) -> dict[str, Any]:
    """The file's front matter read independently of lore, with plain PyYAML."""
    text = path.read_text(encoding="utf-8")
    block = text.split("\n---\n", 1)[0].removeprefix("---\n")
    loaded = yaml.safe_load(block)
    return loaded if isinstance(loaded, dict) else {}


def kano_task_with_blockers(corpus: Path) -> Path:
    """The first real KABSD task that has a parent, blocked_by links and worklog entries."""
    for path in sorted(corpus.rglob("KABSD-TSK-*.md")):
        meta = front_matter(path)
        links = meta.get("links") or {}
        if meta.get("parent") and links.get("blocked_by") and "\n# Worklog" in path.read_text():
            return path
    pytest.fail("the kano corpus has no task with parent + blocked_by + worklog")


def test_real_task_fields_and_links(kano_corpus: Path) -> None:
    path = kano_task_with_blockers(kano_corpus)
    meta = front_matter(path)
    relpath = path.relative_to(kano_corpus).as_posix()
    doc = load_document(kano_corpus, SourceFile(path, relpath, path.stat().st_size, 1),
                        path.read_bytes())
    assert doc.doc_id == meta["id"]
    assert doc.uid == meta["uid"]
    assert doc.doctype == "Task" == meta["type"]
    assert doc.title == meta["title"]
    assert doc.metadata["state"] == meta["state"]
    assert doc.metadata["type"] == "Task" and doc.metadata["declared_type"] == meta["type"]
    assert Link("parent", meta["parent"]) in doc.links
    for target in meta["links"]["blocked_by"]:
        assert Link("blocked_by", target) in doc.links
    assert len(doc.links) == len(set(doc.links))
    assert doc.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert doc.path == relpath and doc.warnings == ()
    assert "---" not in doc.body.split("\n", 1)[0]


def test_real_adr(kano_corpus: Path) -> None:
    path = next(kano_corpus.rglob("ADR-0009_*.md"))
    meta = front_matter(path)
    doc = load("decisions/" + path.name, path.read_bytes())
    assert doc.doctype == "ADR"
    assert doc.doc_id == "ADR-0009" == meta["id"]
    assert doc.title == meta["title"]
    assert doc.metadata["status"] == meta["status"]
    mentioned = set(re.findall(r"ADR-\d{4}", doc.body)) - {"ADR-0009"}
    assert {link.target for link in doc.links if link.kind == "mention"} == mentioned


def test_every_kano_file_loads_or_raises_document_error(kano_corpus: Path) -> None:
    loaded = 0
    for path in sorted(kano_corpus.rglob("*.md")):
        relpath = path.relative_to(kano_corpus).as_posix()
        try:
            doc = load_document(kano_corpus, SourceFile(path, relpath, 0, 0), path.read_bytes())
        except DocumentError:
            continue
        json.dumps(doc.metadata, allow_nan=False)
        assert doc.title and doc.doc_id and doc.doctype
        loaded += 1
    assert loaded > 700


def test_adr_id_from_file_name_without_front_matter() -> None:
    doc = load("docs/decisions/ADR-0042_use-sqlite.md", "# Use SQLite\n\nWe decide.\n")
    assert (doc.doc_id, doc.doctype, doc.title) == ("ADR-0042", "ADR", "Use SQLite")
    appendix = load("docs/decisions/ADR-0042-appendix_notes.md", "Per ADR-0042.\n")
    assert appendix.doctype == "Note"
    assert appendix.doc_id == "docs/decisions/ADR-0042-appendix_notes.md"
    assert appendix.links == (Link("mention", "ADR-0042"),)


def test_plain_note_defaults() -> None:
    doc = load("notes/idea.md", "Some text\n\n## Later heading\n\n# First H1\n")
    assert doc.doc_id == "notes/idea.md"
    assert doc.doctype == "Note" and doc.uid is None
    assert doc.title == "First H1"
    assert doc.metadata == {"type": "Note", "title": "First H1"}


@pytest.mark.parametrize(("text", "title"), [
    ("---\ntitle: From FM\n---\n# Heading\n", "From FM"),
    ("---\ntitle: null\n---\n## Only H2\n", "Only H2"),
    ("no headings at all\n", "my-note"),
])
def test_title_fallbacks(text: str, title: str) -> None:
    doc = load("x/my-note.md", text)
    assert doc.title == title == doc.metadata["title"]


@pytest.mark.parametrize(("declared", "canonical"), [
    ("task", "Task"), ("Feature", "Feature"), ("EPIC", "Epic"), ("bug", "Bug"),
    ("UserStory", "UserStory"), ("user story", "UserStory"), ("Story", "UserStory"),
    ("Decision", "ADR"), ("adr", "ADR"), ("Index", "Index"), ("tech-debt", "TechDebt"),
    ("spike", "Spike"),
])
def test_normalise_doctype(declared: str, canonical: str) -> None:
    assert normalise_doctype(declared) == canonical


def test_declared_type_is_kept_and_null_type_falls_back() -> None:
    doc = load("a.md", "---\ntype: user story\nstate: Done\n---\nbody\n")
    assert doc.doctype == "UserStory"
    assert doc.metadata["declared_type"] == "user story" and doc.metadata["state"] == "Done"
    nulled = load("decisions/ADR-0001_x.md", "---\ntype: null\nid: null\n---\nbody\n")
    assert (nulled.doctype, nulled.doc_id) == ("ADR", "ADR-0001")
    assert "declared_type" not in nulled.metadata


def test_front_matter_links_are_typed_and_deduplicated() -> None:
    text = """---
id: KABSD-TSK-0001
parent: KABSD-FTR-0001
links:
  blocks: [KABSD-TSK-0002]
  blocked_by: [KABSD-TSK-0003, KABSD-TSK-0003, '', null]
  relates: KABSD-TSK-0004
relates: [KABSD-TSK-0005]
decisions: [ADR-0007, ../decisions/ADR-0008_storage.md, ADR-0007]
---
Follows ADR-0007 and ADR-0009; see [[KABSD-TSK-0001]] and [me](t.md) and [[Other]].
"""
    doc = load("items/t.md", text)
    assert doc.links == (
        Link("parent", "KABSD-FTR-0001"),
        Link("blocks", "KABSD-TSK-0002"),
        Link("blocked_by", "KABSD-TSK-0003"),
        Link("relates", "KABSD-TSK-0004"),
        Link("relates", "KABSD-TSK-0005"),
        Link("decision", "ADR-0007"),
        Link("decision", "ADR-0008"),
        Link("mention", "ADR-0009"),
        Link("wiki", "Other"),
    )


def test_binary_file_raises_document_error() -> None:
    with pytest.raises(DocumentError, match="binary"):
        load("img.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


def test_invalid_utf8_loads_with_warning() -> None:
    doc = load("latin.md", "# Caf\xe9\n".encode("latin-1"))
    assert doc.title == "Caf\ufffd"
    assert any("UTF-8" in warning for warning in doc.warnings)


def test_empty_file_is_an_indexable_document() -> None:
    doc = load("notes/empty-note.md", b"")
    assert (doc.body, doc.title, doc.doctype, doc.size) == ("", "empty-note", "Note", 0)
    assert doc.content_hash == hashlib.sha256(b"").hexdigest()


def test_bom_and_crlf_do_not_break_front_matter() -> None:
    data = b"\xef\xbb\xbf---\r\nid: W-1\r\n---\r\n# Win\r\n"
    doc = load("w.md", data)
    assert (doc.doc_id, doc.title, doc.body) == ("W-1", "Win", "# Win\n")
    assert doc.content_hash == hashlib.sha256(data).hexdigest()


def test_malformed_front_matter_still_loads() -> None:
    doc = load("broken.md", "---\nid: [oops\n---\n# Heading\n")
    assert doc.doc_id == "broken.md" and doc.title == "Heading"
    assert doc.warnings and "YAML" in doc.warnings[0]
