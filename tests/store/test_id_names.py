"""The id forms' negative filter: no SQL for a token that names nothing, never a lost match."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import MINI_DOCS, fill_mini
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lore.documents.model import Chunk, Document
from lore.search.engine import search_store
from lore.settings import Settings
from lore.store.catalog import Catalog
from lore.store.id_names import IdNames
from lore.store.lookups import ID_FORMS

# Identities where SQLite's ASCII-only folding and Python's differ, and LIKE's
# wildcard and escape characters stand for themselves.
TRICKY = [
    ("STRASSE-ß-ΑΣ", "ABCDEF01-ÄΣX", "x/Straße.Notes/ΟΔΟΣ.md"),
    ("100%-a_b", "0123abcd-%_\\", "odd/100%_done\\x.md"),
    ("K-İ-Σ", None, "KELVIN-K.txt"),
    ("ID-0001", "ffff0000-1111", "a.b/c.d/e"),
    ("DOT-1", None, ".dot/.hidden"),
]


def add(catalog: Catalog, path: str, doc_id: str, uid: str | None) -> None:
    doc = Document(path=path, doc_id=doc_id, uid=uid, title=doc_id, doctype="Note",
                   metadata={"id": doc_id}, links=(), body="text", content_hash=path,
                   size=4, mtime_ns=0)
    catalog.replace_document(doc, [Chunk(0, (), "text", "section", 1)], "test")


@pytest.fixture(scope="module")
def tricky() -> Iterator[Catalog]:
    catalog = Catalog.memory()
    fill_mini(catalog)
    for path_doc_uid in TRICKY:
        add(catalog, path_doc_uid[2], path_doc_uid[0], path_doc_uid[1])
    yield catalog
    catalog.close()


def both_ways(catalog: Catalog, candidate: str, form: str) -> tuple[object, object]:
    """(SQL alone, through the filter): outside a snapshot no fact is kept."""
    plain = catalog.id_matches(candidate, form=form, restriction=None, prefer=())
    with catalog.read_snapshot():
        filtered = catalog.id_matches(candidate, form=form, restriction=None, prefer=())
    return plain, filtered


def identity_texts() -> list[str]:
    """Every doc id, uid and path of the ``tricky`` catalog: candidates are cut from them."""
    rows = [(doc_id, uid, path) for path, doc_id, uid, *_ in MINI_DOCS] + TRICKY
    return [text for row in rows for text in row if text]


def mutate(text: str, start: int, end: int, flips: int) -> str:
    """A piece of ``text`` with the case of some characters flipped."""
    piece = list(text[start:end])
    for i in range(len(piece)):
        if flips >> (i % 16) & 1:
            piece[i] = piece[i].swapcase()
    return "".join(piece)


candidates = st.one_of(
    st.text(alphabet="aAkKßΣσςİi%_\\-/.0123456789ΑΔΟ@", max_size=12),
    st.builds(lambda texts, a, b, f: mutate(texts, min(a, b), max(a, b), f),
              st.sampled_from(identity_texts()), st.integers(0, 40), st.integers(0, 40),
              st.integers(0, 2 ** 16)),
)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(candidate=candidates)
def test_the_filter_never_hides_what_sql_finds(tricky: Catalog, candidate: str) -> None:
    names = IdNames.build([(d, u, p) for p, d, u in _all_rows(tricky)])
    for form in ID_FORMS:
        plain, filtered = both_ways(tricky, candidate, form)
        if plain:
            assert names.may_match(candidate, form), (candidate, form, plain)
        assert filtered == plain, (candidate, form)


def _all_rows(catalog: Catalog) -> list[tuple[str, str, str | None]]:
    return [(str(p), str(d), u) for p, d, u in
            catalog.conn.execute("SELECT path, doc_id, uid FROM documents")]


@pytest.mark.parametrize(("candidate", "form"), [
    ("strasse-SS-ας", "exact"),           # folded further than SQLite: a "maybe" SQL answers no
    ("ß-αΣ", "suffix"), ("a_B", "suffix"), ("abcdef01-Äσ", "uid_prefix"),
    ("abcdef01-ÄΣ", "uid_prefix"),    # str.lower would make this Σ final: a miss
    ("0123ABCD-%_\\", "uid_prefix"), ("ΟΔΟΣ", "stem"), ("Straße.Notes/ΟΔΟΣ", "stem"),
    ("100%_DONE\\X", "stem"), ("a", "stem"), ("c", "stem"), ("e", "stem"),
    ("ID-0001@FFFF0000", "id_at_uid"), ("kelvin-k", "stem"), ("", "stem"),
])
def test_edge_candidates_agree_with_sql(tricky: Catalog, candidate: str, form: str) -> None:
    plain, filtered = both_ways(tricky, candidate, form)
    assert filtered == plain


def test_the_filter_says_no_to_what_names_nothing() -> None:
    names = IdNames.build([("KABSD-TSK-0001", "019c18d9-0000", "items/KABSD-TSK-0001_cache.md"),
                           ("ADR-0001", None, "decisions/ADR-0001_sqlite.md")])
    assert names.may_match("tsk-0001", "suffix") and names.may_match("0001", "suffix")
    assert not names.may_match("IL-6", "suffix") and not names.may_match("SK-0001", "suffix")
    assert names.may_match("019C18D9", "uid_prefix")
    assert not names.may_match("019c18d8", "uid_prefix")
    assert not names.may_match("zzzzzzzz", "uid_prefix")        # past the last uid
    assert names.may_match("kabsd-tsk-0001_CACHE", "stem")
    assert names.may_match("items/KABSD-TSK-0001_cache.md", "stem")
    assert not names.may_match("cache", "stem") and not names.may_match("IL-6", "exact")
    assert names.may_match("KABSD-TSK-0001@019c18d9", "id_at_uid")
    assert not names.may_match("KABSD-TSK-0001@019c18d8", "id_at_uid")
    assert not names.may_match("ADR-0002@019c18d9", "id_at_uid")


def id_statements(catalog: Catalog, query: str) -> list[str]:
    statements: list[str] = []
    catalog.conn.set_trace_callback(statements.append)
    try:
        search_store(catalog, query, settings=Settings(), mode="keyword")
    finally:
        catalog.conn.set_trace_callback(None)
    return [sql for sql in statements if "FROM documents d WHERE" in sql]


def test_a_token_that_names_nothing_runs_no_id_sql(mini_catalog: Catalog) -> None:
    id_statements(mini_catalog, "warm up")          # the fact is built once per state
    assert id_statements(mini_catalog, "IL-6 and TDP-43 levels") == []
    assert id_statements(mini_catalog, "nothing") == []
    found = id_statements(mini_catalog, "TSK-0001 cache")
    assert found and any("LIKE '%-'" in sql for sql in found)   # the suffix form's SQL


def test_a_second_writers_new_id_is_found(tmp_path: Path) -> None:
    searcher = Catalog.open(tmp_path)
    fill_mini(searcher)
    writer = Catalog.open(tmp_path)
    try:
        hits = search_store(searcher, "GATA-3", settings=Settings(), mode="keyword")
        assert all(hit.path != "items/GATA-3.md" for hit in hits)
        add(writer, "items/GATA-3.md", "KO-GATA-3", None)
        hits = search_store(searcher, "GATA-3", settings=Settings(), mode="keyword")
        assert hits and hits[0].path == "items/GATA-3.md"
    finally:
        writer.close()
        searcher.close()
