"""SQLite keyword answers: id lookups (id, uid, stem, preference, restriction) and snippets."""

from __future__ import annotations

from lore.store.base import Restriction
from lore.store.catalog import Catalog


def chunks(catalog: Catalog, path: str) -> list[int]:
    record = catalog.get_document(path)
    assert record is not None
    return [c.id for c in record.chunks]


TASK1 = "items/KABSD-TSK-0001_cache.md"


def test_id_matches_by_id_uid_and_stem(mini_catalog: Catalog) -> None:
    first, _second = chunks(mini_catalog, TASK1)
    assert mini_catalog.id_matches("kabsd-tsk-0001", restriction=None, prefer=()) == [first]
    uid = "019C18D9-0000-7000-8000-000000000001"
    assert mini_catalog.id_matches(uid, restriction=None, prefer=()) == [first]
    assert mini_catalog.id_matches("README", restriction=None, prefer=()) == \
        chunks(mini_catalog, "notes/README.md")
    assert mini_catalog.id_matches("KABSD-TSK-9999", restriction=None, prefer=()) == []


def test_id_matches_prefer_the_listed_chunk_and_obey_the_restriction(
        mini_catalog: Catalog) -> None:
    _first, second = chunks(mini_catalog, TASK1)
    assert mini_catalog.id_matches("KABSD-TSK-0001", restriction=None,
                                   prefer=[999, second]) == [second]
    adrs_only = Restriction({"type": ("adr",)})
    assert mini_catalog.id_matches("KABSD-TSK-0001", restriction=adrs_only, prefer=()) == []


def test_stem_patterns_are_escaped(mini_catalog: Catalog) -> None:
    # "%" and "_" in a candidate are literal characters, not LIKE wildcards.
    assert mini_catalog.id_matches("%", restriction=None, prefer=()) == []
    assert mini_catalog.id_matches("READ_E", restriction=None, prefer=()) == []


def test_marked_snippets_only_for_matching_chunks(mini_catalog: Catalog) -> None:
    first, second = chunks(mini_catalog, "items/KABSD-TSK-0002_store.md")
    marked = mini_catalog.marked_snippets(['"sidecar"'], [first, second], marks=("<", ">"),
                                          tokens=8)
    assert marked == {first: "Store vectors in a <sidecar> index."}
    assert mini_catalog.marked_snippets([], [first], marks=("<", ">"), tokens=8) == {}
