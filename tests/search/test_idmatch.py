"""Ids in any form a person types, on the real kano backlog."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import yaml

from lore.index import Index, open_index
from lore.search.hits import Hit
from lore.search.idmatch import id_candidates, spellings
from lore.search.query import parse_query
from lore.settings import EmbedSettings, Settings


@functools.cache
def front_matter(root: Path) -> dict[str, dict[str, object]]:
    """Path -> front matter of every Markdown file that has an ``id``, read from disk
    (once per root: the kano corpus is read-only, and parsing its YAML takes a second)."""
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


@pytest.mark.parametrize(("query", "doc_id"), [
    ("KABSD-TSK-350", "KABSD-TSK-0350"), ("kabsd-tsk-350", "KABSD-TSK-0350"),
    ("fix for KABSD-TSK-350", "KABSD-TSK-0350"), ("KABSD-TSK-350 status", "KABSD-TSK-0350"),
    ("KABSD-USR-35", "KABSD-USR-0035"), ("usr 35", "KABSD-USR-0035"),
    ("TSK0350", "KABSD-TSK-0350"),
])
def test_an_unpadded_number_with_its_full_prefix_pins_the_item(kano_index: Index,
                                                               kano_corpus: Path, query: str,
                                                               doc_id: str) -> None:
    """The lead's probes: ``KABSD-TSK-350`` found nothing but vector neighbours."""
    hits = kano_index.search(query, mode="keyword", explain=True)
    assert [h.path for h in hits if h.explain and h.explain["pinned"]] == [
        only_path(kano_corpus, doc_id)]


def test_hash_and_bare_numbers_pin_every_item_so_numbered(kano_index: Index,
                                                          kano_corpus: Path) -> None:
    """``#35`` and ``35`` name every file whose id ends in 0035, read off the front matter."""
    numbered = {p for p, fm in front_matter(kano_corpus).items()
                if str(fm["id"]).endswith("-0035")}
    assert len(numbered) > 1
    for query in ("#35", "35", "what is #35"):
        hits = kano_index.search(query, mode="keyword", explain=True, limit=len(numbered) + 5)
        pinned = {h.path for h in hits if h.explain and h.explain["pinned"]}
        assert pinned == numbered, query
        assert hits[0].explain is not None
        assert any("ambiguous" in n and f"{len(numbered)} documents" in n
                   for n in hits[0].explain["query"]), query


# --- Every form a person types, on a tiny folder (always runs) -------------------------

# (file, front matter): two products (ABC, XYZ) both numbering an epic 1; ABC-EPIC-0016's
# title holds a "1" (the title matcher once anchored "children of epic 1" there).
_FORMS_FOLDER = {
    "items/ABC-TSK-0350_warm.md": {"id": "ABC-TSK-0350", "type": "Task", "title": "Cache warm-up",
                                   "uid": "019c0000-aaaa-7000-8000-000000000350",
                                   "parent": "ABC-FTR-0002",
                                   "links": {"blocked_by": ["ABC-TSK-0349"]}},
    "items/ABC-TSK-0349_store.md": {"id": "ABC-TSK-0349", "type": "Task", "title": "Sidecar store"},
    "items/ABC-USR-0035_reader.md": {"id": "ABC-USR-0035", "type": "UserStory",
                                     "title": "Reader journey"},
    "items/ABC-FTR-0002_speed.md": {"id": "ABC-FTR-0002", "type": "Feature", "title": "Speed",
                                    "parent": "ABC-EPIC-0001"},
    "items/ABC-EPIC-0001_platform.md": {"id": "ABC-EPIC-0001", "type": "Epic", "title": "Platform"},
    "items/XYZ-EPIC-0001_tools.md": {"id": "XYZ-EPIC-0001", "type": "Epic", "title": "Tooling"},
    "items/XYZ-TSK-0003_lint.md": {"id": "XYZ-TSK-0003", "type": "Task", "title": "Lint rules",
                                   "parent": "XYZ-EPIC-0001"},
    "items/ABC-EPIC-0016_beta.md": {"id": "ABC-EPIC-0016", "type": "Epic",
                                    "title": "Milestone 1 beta"},
    "items/ABC-TSK-0360_gate.md": {"id": "ABC-TSK-0360", "type": "Task", "title": "Release gate",
                                   "parent": "ABC-EPIC-0016"},
    "items/ABC-TSK-0370_phase.md": {"id": "ABC-TSK-0370", "type": "Task", "title": "Phase 9 rollout",
                                    "links": {"blocked_by": ["ABC-TSK-0349"]}},
    "decisions/ADR-0004_sqlite.md": {"id": "ADR-0004", "type": "ADR", "title": "Use SQLite"},
}
_BODY = ("The top 10 results of the python 3 migration follow the ADR process; "
         "the C#10 release and version 2 of the store are planned.\n")


@pytest.fixture(scope="module")
def forms_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """The folder above indexed keyword-only (bodies hold no ids: only the id leg finds
    an item by its id)."""
    root = tmp_path_factory.mktemp("forms")
    for name, meta in _FORMS_FOLDER.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"---\n{yaml.safe_dump(meta)}---\n{_BODY}", encoding="utf-8")
    index = open_index(root, settings=Settings(embed=EmbedSettings(enabled=False)),
                       index_dir=tmp_path_factory.mktemp("forms-index"))
    index.sync()
    yield index
    index.close()


def _pinned(hits: Sequence[Hit]) -> list[str]:
    return [h.doc_id for h in hits if h.explain and h.explain["pinned"]]


@pytest.mark.parametrize("query", [
    "ABC-TSK-0350", "abc-tsk-0350", "ABC-TSK-350", "abc-tsk-350", "TSK-0350", "TSK-350",
    "tsk-350", "TSK0350", "tsk350", "tsk 350", "task 350", "#350", "350", "0350",
    "fix for ABC-TSK-350", "ABC-TSK-350 status", "what about #350?", "ABC-TSK-0350@019c0000",
    "019c0000-aaaa"])
def test_every_form_of_an_id_pins_its_item_alone(forms_index: Index, query: str) -> None:
    hits = forms_index.search(query, mode="keyword", explain=True)
    assert _pinned(hits) == ["ABC-TSK-0350"]
    assert hits[0].doc_id == "ABC-TSK-0350"


@pytest.mark.parametrize("query", ["ABC-USR-35", "usr 35", "USR-35", "user story 35",
                                   "story 35", "ADR 4", "ADR-4", "adr0004", "#4"])
def test_unpadded_and_typed_numbers_of_other_types(forms_index: Index, query: str) -> None:
    want = "ADR-0004" if "4" in query else "ABC-USR-0035"
    assert _pinned(forms_index.search(query, mode="keyword", explain=True)) == [want]


def test_a_number_two_items_share_pins_both_and_names_them(forms_index: Index) -> None:
    for query in ("epic 1", "EPIC-1", "EPIC-0001"):
        hits = forms_index.search(query, mode="keyword", explain=True)
        assert sorted(_pinned(hits)) == ["ABC-EPIC-0001", "XYZ-EPIC-0001"], query
        assert hits[0].explain is not None
        (note,) = hits[0].explain["query"]
        assert "ambiguous" in note and "ABC-EPIC-0001" in note and "XYZ-EPIC-0001" in note


def _anchors(hits: Sequence[Hit]) -> dict[str, str]:
    """Answer doc id -> the anchor its relation path starts from."""
    return {h.doc_id: str(h.explain["relation"]["anchor"]) for h in hits
            if h.explain and "relation" in h.explain and "->" in h.explain["relation"]["path"]}


@pytest.mark.parametrize("form", ["ABC-TSK-0350", "ABC-TSK-350", "abc-tsk-350", "TSK-350",
                                  "TSK0350", "tsk 350", "task 350", "#350", "350",
                                  "ABC-TSK-0350@019c0000"])
def test_every_form_anchors_a_relation_question(forms_index: Index, form: str) -> None:
    """The anchor resolves as the plain query does: one code path for both."""
    hits = forms_index.search(f"what blocks {form}", mode="keyword", explain=True)
    assert _anchors(hits) == {"ABC-TSK-0349": "ABC-TSK-0350"}
    assert hits[0].doc_id == "ABC-TSK-0349"


@pytest.mark.parametrize("form", ["ABC-EPIC-1", "abc-epic-0001", "ABC-EPIC-0001"])
def test_a_full_id_anchors_its_own_item_only(forms_index: Index, form: str) -> None:
    hits = forms_index.search(f"children of {form}", mode="keyword", explain=True)
    assert _anchors(hits) == {"ABC-FTR-0002": "ABC-EPIC-0001"}
    assert not any("ambiguous" in n for n in hits.notices)


@pytest.mark.parametrize("question", ["children of epic 1", "children of EPIC-1",
                                      "children of the epic 1", "children of #1"])
def test_an_ambiguous_anchor_answers_for_every_item_it_names(forms_index: Index,
                                                             question: str) -> None:
    """Both epics numbered 1 are answered for, in turn, and the notice names them; the
    epic whose title holds a "1" is never the anchor."""
    hits = forms_index.search(question, mode="keyword", explain=True)
    assert _anchors(hits) == {"ABC-FTR-0002": "ABC-EPIC-0001", "XYZ-TSK-0003": "XYZ-EPIC-0001"}
    assert {h.doc_id for h in hits[:2]} == {"ABC-FTR-0002", "XYZ-TSK-0003"}
    (notice,) = [n for n in hits.notices if "ambiguous" in n]
    assert "ABC-EPIC-0001" in notice and "XYZ-EPIC-0001" in notice and "children" in notice


def test_a_number_no_item_has_anchors_nothing(forms_index: Index) -> None:
    """No task is numbered 9: "what blocks task 9" is an ordinary search, not an answer
    for the task whose title holds a 9."""
    hits = forms_index.search("what blocks task 9", mode="keyword", explain=True)
    assert _anchors(hits) == {}
    assert forms_index.search("what blocks Phase 9 rollout", mode="keyword", explain=True)[0] \
        .doc_id == "ABC-TSK-0349"   # the title itself still anchors


@pytest.mark.parametrize("query", ["top 10 results", "python 3 migration", "ADR process",
                                   "C#10 release", "version 2 of the store", "release 1 beta"])
def test_ordinary_text_with_numbers_is_no_id(forms_index: Index, query: str) -> None:
    assert id_candidates(parse_query(query, set())) == []
    assert _pinned(forms_index.search(query, mode="keyword", explain=True)) == []


def test_a_hash_after_a_type_word_is_that_type_only() -> None:
    """"bug #11" asks for bug 11 (and an id typed BUG-11), not every item numbered 11."""
    found = {(c.text, c.doctype) for c in id_candidates(parse_query("bug #11", set()))}
    assert found == {("11", "Bug"), ("bug-11", None)}


@pytest.mark.parametrize(("text", "expected"), [
    ("KABSD-TSK-350", ["KABSD-TSK-350", "KABSD-TSK-0350"]), ("35", ["35", "0035"]),
    ("KABSD-TSK-0350", ["KABSD-TSK-0350"]), ("2024", ["2024"]), ("python3", ["python3"]),
    ("019b8f52", ["019b8f52"]), ("README", ["README"]),
])
def test_spellings_pad_only_a_short_trailing_number(text: str, expected: list[str]) -> None:
    assert spellings(text) == expected
