"""Ids in any form a person types, on the real kano backlog."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lore.index import Index


def front_matter(root: Path) -> dict[str, dict[str, object]]:
    """Path -> front matter of every Markdown file that has an ``id``, read from disk."""
    found = {}
    for path in root.rglob("*.md"):
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.startswith("---"):
            try:
                data = yaml.safe_load(text.split("---")[1])
            except yaml.YAMLError:
                continue
            if isinstance(data, dict) and data.get("id"):
                found[path.relative_to(root).as_posix()] = data
    return found


def only_path(root: Path, doc_id: str) -> str:
    (path,) = [p for p, fm in front_matter(root).items() if fm["id"] == doc_id]
    return path


@pytest.mark.parametrize("query", ["TSK-0350", "tsk-0350", "0350", "KABSD-TSK-0350"])
def test_short_forms_find_the_item_first(kano_index: Index, kano_corpus: Path,
                                         query: str) -> None:
    assert kano_index.search(query, mode="keyword")[0].path == only_path(kano_corpus,
                                                                         "KABSD-TSK-0350")


def test_id_at_uid_prefix_and_uid_prefix_find_the_file(kano_index: Index,
                                                        kano_corpus: Path) -> None:
    path = only_path(kano_corpus, "KABSD-TSK-0060")
    uid = str(front_matter(kano_corpus)[path]["uid"])
    assert kano_index.search("KABSD-TSK-0060@019b8f52", mode="keyword")[0].path == path
    # The shortest prefix (8+ characters) that names this uid alone.
    uids = [str(fm.get("uid", "")) for fm in front_matter(kano_corpus).values()]
    size = next(n for n in range(8, len(uid)) if sum(u.startswith(uid[:n]) for u in uids) == 1)
    assert kano_index.search(uid[:size], mode="keyword")[0].path == path


def test_an_ambiguous_number_ranks_every_candidate_first_and_says_so(
        kano_index: Index, kano_corpus: Path) -> None:
    candidates = {p for p, fm in front_matter(kano_corpus).items()
                  if str(fm["id"]).endswith("-0001")}
    assert len(candidates) > 5
    hits = kano_index.search("0001", mode="keyword", explain=True, limit=len(candidates) + 5)
    assert {h.path for h in hits[:len(candidates)]} == candidates
    assert hits[0].explain is not None
    notes = " ".join(hits[0].explain["query"])
    assert "0001" in notes and "ambiguous" in notes and str(len(candidates)) in notes


def test_a_number_inside_a_sentence_is_not_an_id(kano_index: Index) -> None:
    hits = kano_index.search("migrate 0001 items", mode="keyword", explain=True)
    assert not any(h.explain and h.explain["pinned"] for h in hits)


@pytest.mark.parametrize(("query", "doc_id"), [
    ("task 10", "KABSD-TSK-0010"),
    ("what happened to bug 11", "KABSD-BUG-0011"),
    ("ADR 34", "ADR-0034"),
    ("the epic #10 scope", "KABSD-EPIC-0010"),
    ("tsk 10", "KABSD-TSK-0010"),
    ("TSK10", "KABSD-TSK-0010"),
    ("usr-29 chunking", "KABSD-USR-0029"),
])
def test_a_number_after_a_type_word_is_an_id_of_that_type(kano_index: Index, kano_corpus: Path,
                                                          query: str, doc_id: str) -> None:
    """Other types share the number (KABSD-TSK-0011, KABSD-FTR-0010, ...): only the
    named type's document is pinned."""
    number = doc_id.rsplit("-", 1)[1]
    assert sum(str(fm["id"]).endswith(f"-{number}")
               for fm in front_matter(kano_corpus).values()) > 1
    hits = kano_index.search(query, mode="keyword", explain=True)
    assert hits[0].path == only_path(kano_corpus, doc_id)
    assert [h.path for h in hits if h.explain and h.explain["pinned"]] == [hits[0].path]


def test_item_and_ticket_numbers_are_ids_of_any_type(kano_index: Index, kano_corpus: Path) -> None:
    assert sum(str(fm["id"]).endswith("-0083") for fm in front_matter(kano_corpus).values()) == 1
    for query in ("item 0083", "ticket 83 status"):
        hits = kano_index.search(query, mode="keyword", explain=True)
        assert hits[0].path == only_path(kano_corpus, "KABSD-TSK-0083"), query
        assert hits[0].explain and hits[0].explain["pinned"]


def test_a_uid_prefix_inside_a_sentence_is_an_id(kano_index: Index, kano_corpus: Path) -> None:
    path = only_path(kano_corpus, "KABSD-BUG-0006")
    uid = str(front_matter(kano_corpus)[path]["uid"])
    hits = kano_index.search(f"what is {uid[:13]} about", mode="keyword", explain=True)
    assert hits[0].path == path and hits[0].explain and hits[0].explain["pinned"]
    # a date is eight digits but no uid prefix
    dated = kano_index.search("released on 20260105", mode="keyword", explain=True)
    assert not any(h.explain and h.explain["pinned"] for h in dated)


def test_the_type_inside_a_display_id_is_no_typed_number(kano_index: Index,
                                                        kano_corpus: Path) -> None:
    """KO-FTR-0001 is one feature; other features numbered 0001 stay unpinned."""
    features = [p for p, fm in front_matter(kano_corpus).items()
                if str(fm["id"]).endswith("FTR-0001")]
    assert len(features) > 1
    hits = kano_index.search("KO-FTR-0001 gitignore", mode="keyword", explain=True)
    assert [h.path for h in hits if h.explain and h.explain["pinned"]] == [
        only_path(kano_corpus, "KO-FTR-0001")]
