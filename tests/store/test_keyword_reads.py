"""Keyword answers of each backend: id lookups (id, uid, stem, preference, restriction) and snippets."""

from __future__ import annotations

from typing import Any

from lore.store.base import Restriction, Store


def chunks(catalog: Store, path: str) -> list[int]:
    record = catalog.get_document(path)
    assert record is not None
    return [c.id for c in record.chunks]


TASK1 = "items/KABSD-TSK-0001_cache.md"


def ids(catalog: Store, candidate: str, form: str, **kwargs: Any) -> list[int]:
    kwargs = {"restriction": None, "prefer": ()} | kwargs
    return [chunk for chunk, _ in catalog.id_matches(candidate, form=form, **kwargs)]


def test_id_matches_by_id_uid_and_stem(mini_store: Store) -> None:
    first, _second = chunks(mini_store, TASK1)
    assert ids(mini_store, "kabsd-tsk-0001", "exact") == [first]
    uid = "019C18D9-0000-7000-8000-000000000001"
    assert ids(mini_store, uid, "exact") == [first]
    assert ids(mini_store, "README", "stem") == chunks(mini_store, "notes/README.md")
    assert ids(mini_store, "KABSD-TSK-9999", "exact") == []
    assert mini_store.id_matches("kabsd-tsk-0001", form="exact", restriction=None,
                                   prefer=()) == [(first, "KABSD-TSK-0001")]


def test_short_forms(mini_store: Store) -> None:
    first, _second = chunks(mini_store, TASK1)
    assert ids(mini_store, "TSK-0001", "suffix") == [first]
    adr = chunks(mini_store, "decisions/ADR-0001_sqlite.md")[0]
    assert ids(mini_store, "0001", "suffix") == [adr, first]     # by path
    assert ids(mini_store, "SK-0001", "suffix") == []          # whole parts only
    assert ids(mini_store, "019c18d9-0000", "uid_prefix") == [first]
    assert ids(mini_store, "KABSD-TSK-0001@019c18d9", "id_at_uid") == [first]
    assert ids(mini_store, "KABSD-TSK-0001@019c18d8", "id_at_uid") == []


def test_id_matches_prefer_the_listed_chunk_and_obey_the_restriction(
        mini_store: Store) -> None:
    _first, second = chunks(mini_store, TASK1)
    assert ids(mini_store, "KABSD-TSK-0001", "exact", prefer=[999, second]) == [second]
    adrs_only = Restriction({"type": ("adr",)})
    assert ids(mini_store, "KABSD-TSK-0001", "exact", restriction=adrs_only) == []


def test_patterns_are_escaped(mini_store: Store) -> None:
    # "%" and "_" in a candidate are literal characters, not LIKE wildcards.
    assert ids(mini_store, "%", "stem") == []
    assert ids(mini_store, "READ_E", "stem") == []
    assert ids(mini_store, "%", "suffix") == []
    assert ids(mini_store, "019c18d9%", "uid_prefix") == []


def test_field_facts(mini_store: Store) -> None:
    assert mini_store.field_keys()[:3] == ["id", "links.blocks", "state"]
    assert mini_store.unknown_field_values("state", ["done", "doen"]) == ["doen"]
    assert mini_store.field_values("state", limit=1) == (["done"], 2)
    # Messages show values as the files write them; a value nobody holds is left out.
    assert mini_store.field_spellings("state", ["done", "proposed", "doen"]) == {
        "done": "Done", "proposed": "Proposed"}
    assert mini_store.field_spellings("tags", ["perf"]) == {"perf": "perf"}


def test_marked_snippets_only_for_matching_chunks(mini_store: Store) -> None:
    first, second = chunks(mini_store, "items/KABSD-TSK-0002_store.md")
    marked = mini_store.marked_snippets(['"sidecar"'], [first, second], marks=("<", ">"),
                                          tokens=8)
    assert marked == {first: "Store vectors in a <sidecar> index."}
    assert mini_store.marked_snippets([], [first], marks=("<", ">"), tokens=8) == {}
