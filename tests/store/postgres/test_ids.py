"""PostgresStore id lookups: index lookups with exactly the documents the ``LIKE`` scans found.

The oracle is the SQL of schema 3 (``_scanned``, as ``PgSearchReadsMixin.id_matches``
ran it before the id indexes, file stems without case since schema 5), run on the same rows: every form, generated and
edge candidates (case, ``%``, ``_``, ``\\``, non-ASCII, names shared by another
root of the database).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from conftest import fill_mini, pg_store

from lore.documents.model import Chunk, Document
from lore.index import Index
from lore.search.idmatch import id_candidates, lookup
from lore.search.query import parse_query
from lore.store.base import Restriction, SyncWrites
from lore.store.catalog import Catalog
from lore.store.lookups import ID_FORMS
from lore.store.postgres import PostgresStore, schema
from lore.store.postgres.connection import connect, psycopg
from lore.store.postgres.ids import id_condition

# (path, doc id, uid): ids and paths that make the forms' edge cases
EDGE_DOCS = [
    ("items/KABSD-TSK-0350_fix.md", "KABSD-TSK-0350", "019c18d9-aaaa-7000-8000-000000000350"),
    ("items/kabsd-tsk-0035.md", "kabsd-tsk-0035", None),
    ("items/100%_done.v2.md", "PCT-100%", "abcdef12-%_\\-0000"),
    ("items/a_b/c.d/e.md", "A_B-C_D", "ABCDEF12-0000"),
    ("items/back\\slash.md", "BS-\\1", None),
    ("notes/Straße-Notiz.md", "STRASSE-1", None),
    ("notes/ΣΟΦΊΑ-ΣΣ.md", "ΣΟΦΊΑ-ΣΣ", None),
    ("notes/İstanbul.md", "İL-6", "İ0123456-7"),
    ("notes/.hidden.md", "HID-0001", None),
    ("notes/README", "notes/README", None),
    ("README.md", "README.md", None),
    ("a.b.c/d.e.f", "X-Y-Z-1", None),
]
OTHER_ROOT = [("items/KABSD-TSK-0351_other.md", "KABSD-TSK-0351", "019c18d9-aaaa-7000-8000-000000000351"),
              ("README.md", "README.md", None)]
EDGE_CANDIDATES = ["", "%", "_", "\\", "%%", "-", ".", "/", "%-0350", "TSK_0350", "t%k-0350",
                   "0350", "350", "TSK-0350", "tsk-0350", "TSK-0351", "KABSD-TSK-0351", "100%",
                   "PCT-100%", "100_", "a_b/c", "A_B", "c.d/e", "c_d", "\\1", "BS-\\1", "slash",
                   "back\\slash", "STRASSE", "straße", "STRASSE-1", "ss-1", "σσ", "ΣΣ", "ςς",
                   "σοφία-σσ", "ΣΟΦΊΑ-ΣΣ", "il-6", "İL-6", "IL-6", "il̇-6", "i0123456", "İ0123456",
                   "hidden", ".hidden", "README", "readme", "notes/README", "NOTES/readme",
                   "README.MD", "a", "a.b", "a.b.c/d", "a.b.c/d.e", "d", "X-Y-Z-1", "Y-Z-1",
                   "z-1", "1", "019c18d9", "019C18D9-AAAA", "abcdef12-%_\\", "abcdef12-%",
                   "ABCDEF12", "KABSD-TSK-0350@019c", "kabsd-tsk-0350@019C18D9-AAAA",
                   "KABSD-TSK-0350@019d", "PCT-100%@abcdef12-%_", "PCT-100%@abcdef12-%x"]


def _document(path: str, doc_id: str, uid: str | None) -> Document:
    return Document(path=path, doc_id=doc_id, uid=uid, title=doc_id, doctype="Task",
                    metadata={"id": doc_id, "type": "Task"}, links=(), body=doc_id,
                    content_hash=path, size=len(doc_id), mtime_ns=0)


def _fill(store: SyncWrites, rows: list[tuple[str, str, str | None]]) -> None:
    for path, doc_id, uid in rows:
        store.replace_document(_document(path, doc_id, uid),
                               [Chunk(0, (), doc_id, "section", 1)], "test")


def _scanned(store: PostgresStore, candidate: str, form: str,
             restriction: Restriction | None = None) -> list[tuple[int, str]]:
    """Schema 3's lookup: ``LIKE`` scans of the root's documents, file stems compared
    without case (as SQLite's ``LIKE`` compares them, and schema 5 does)."""
    main, _, tail = candidate.partition("@") if form == "id_at_uid" else (candidate, "", "")
    stem = (tail or candidate).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    where, extra = store._restrict(restriction, "d.id")
    pick = ("SELECT (SELECT c.id FROM lore_chunks c WHERE c.document_id = d.id ORDER BY"
            " coalesce(array_position(%s::bigint[], c.id), 2147483647), c.ordinal LIMIT 1),"
            " d.doc_id FROM lore_documents d WHERE d.root_id = %s AND ")
    by_id = "(lower(d.doc_id) = lower(%s) OR lower(d.uid) = lower(%s))"
    by_stem = ("(lower(d.path) = lower(%s) OR lower(d.path) LIKE '%%/' || lower(%s) || '.%%'"
               " OR lower(d.path) LIKE lower(%s) || '.%%')")
    forms: dict[str, tuple[str, list[object]]] = {
        "exact": (by_id, [candidate, candidate]),
        "stem": (by_stem, [candidate, stem, stem]),
        "id_at_uid": ("(lower(d.doc_id) = lower(%s) AND lower(d.uid) LIKE lower(%s) || '%%')",
                      [main, stem]),
        "suffix": ("lower(d.doc_id) LIKE '%%-' || lower(%s)", [stem]),
        "uid_prefix": ("lower(d.uid) LIKE lower(%s) || '%%'", [stem]),
    }
    match, values = forms[form]
    rows = store._conn.execute(f"{pick}{match}{where} ORDER BY d.path COLLATE \"C\"",
                               [[], store._root_id, *values, *extra])
    return [(int(cid), str(doc_id)) for cid, doc_id in rows if cid is not None]


def _pieces(rows: list[tuple[str, str, str | None]]) -> set[str]:
    """Every text a form compares, cut from ``rows``, in three cases."""
    found: set[str] = set()
    for path, doc_id, uid in rows:
        ids = {doc_id, *(uid[:n] for n in (8, 13) if uid)}
        ids.update(doc_id[i + 1:] for i, c in enumerate(doc_id) if c == "-")
        if uid:
            ids.add(f"{doc_id}@{uid[:6]}")
        starts = [0, *(i + 1 for i, c in enumerate(path) if c == "/")]
        stems = {path, *(path[s:e] for s in starts for e, c in enumerate(path)
                         if c == "." and e >= s)}
        found.update(itertools.chain.from_iterable(
            (t, t.lower(), t.upper()) for t in ids | stems))
    return found


@pytest.fixture
def edge_store(pg_url: str) -> Iterator[PostgresStore]:
    """``EDGE_DOCS`` in a root, beside another root holding like-named documents."""
    store, other = pg_store(pg_url), pg_store(pg_url)
    _fill(store, EDGE_DOCS)
    _fill(other, OTHER_ROOT)
    yield store
    for each in (store, other):
        each.drop_root()
        each.close()


def test_every_form_finds_what_the_scans_found(edge_store: PostgresStore) -> None:
    candidates = sorted(_pieces(EDGE_DOCS + OTHER_ROOT) | set(EDGE_CANDIDATES))
    found = 0
    for candidate, form in itertools.product(candidates, ID_FORMS):
        expected = _scanned(edge_store, candidate, form)
        assert edge_store.id_matches(candidate, form=form, restriction=None,
                                     prefer=[]) == expected, (candidate, form)
        found += bool(expected)
    assert found > 100          # the candidates name documents in many forms, not only none


def test_a_restriction_still_narrows_every_form(edge_store: PostgresStore) -> None:
    nothing = Restriction({"type": ("adr",)})
    for form in ID_FORMS:
        assert edge_store.id_matches("KABSD-TSK-0350@019c" if form == "id_at_uid" else "0350",
                                     form=form, restriction=nothing, prefer=[]) == []
    tasks = Restriction({"type": ("task",)})
    assert edge_store.id_matches("0350", form="suffix", restriction=tasks, prefer=[]) == \
        _scanned(edge_store, "0350", "suffix", tasks)


def test_file_stems_are_found_in_any_case_as_sqlite_finds_them(pg_url: str) -> None:
    local, shared = Catalog.memory(), pg_store(pg_url)
    try:
        for store in (local, shared):
            _fill(store, EDGE_DOCS)
        for candidate in ("readme", "README", "ReadMe", "kabsd-tsk-0350_FIX", ".HIDDEN",
                          "a_B/C", "notes/readme"):
            found = [[d for _, d in s.id_matches(candidate, form="stem", restriction=None,
                                                  prefer=[])] for s in (local, shared)]
            assert found[1] == found[0] != [], candidate
        assert [d for _, d in shared.id_matches("readme", form="stem", restriction=None,
                                                prefer=[])] == ["README.md"]
    finally:
        local.close()
        shared.drop_root()
        shared.close()


@pytest.fixture
def large_root(pg_url: str) -> Iterator[PostgresStore]:
    """A root of 3,000 documents (rows written by SQL: a sync would take minutes), analysed,
    so the planner weighs an index against a scan of the root's rows as on a real store."""
    store = pg_store(pg_url)
    store._conn.execute(
        "INSERT INTO lore_documents(root_id, path, doc_id, uid, title, doctype, metadata, body,"
        " content_hash, size, mtime_ns, chunker_version, indexed_at)"
        " SELECT %s, 'items/' || i || '/PRJ-TSK-' || i || '_task.md', 'PRJ-TSK-' || i, md5(i::text),"
        " 't', 'Task', '{}', 'b', 'h', 1, 0, 'test', 0 FROM generate_series(1, 3000) i",
        (store._root_id,))
    store._conn.execute("ANALYZE lore_documents")
    yield store
    store.drop_root()
    store.close()


# form -> what its plan's index conditions must compare (a range for the LIKE forms)
INDEXED = {"exact": ("lower(doc_id) =", "lower(uid) ="), "id_at_uid": ("lower(doc_id) =",),
           "suffix": ("reverse(lower(doc_id)) ~>=~",), "uid_prefix": ("lower(uid) ~>=~",),
           "stem": ("lower(path) =", "path_stems @>")}


def test_every_form_is_answered_by_an_index(large_root: PostgresStore) -> None:
    """Each form's comparison is an index condition (a range for the ``LIKE`` forms,
    rechecked on the rows it finds), never a filter over the root's rows."""
    for form, compared in INDEXED.items():
        candidate = "PRJ-TSK-35@c4ca" if form == "id_at_uid" else "TSK-35"
        match, values = id_condition(candidate, form, large_root._root_id)
        plan = [str(row[0]) for row in large_root._conn.execute(
            f"EXPLAIN SELECT d.id FROM lore_documents d WHERE d.root_id = %s AND {match}",
            [large_root._root_id, *values])]
        conditions = " ".join(line for line in plan if "Index Cond:" in line)
        assert not any("Seq Scan" in line for line in plan), (form, plan)
        assert all(c in conditions for c in compared), (form, plan)


@pytest.fixture
def fresh_database(pg_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the test server (dropped afterwards)."""
    name = f"lore_test_{uuid.uuid4().hex[:12]}"
    admin = connect(pg_url)
    try:
        admin.execute(f"CREATE DATABASE {name}")
    except psycopg().Error as exc:   # a LORE_TEST_PG_URL user may not create databases
        admin.close()
        pytest.skip(f"cannot create a database on the test server: {exc}")
    parts = urlsplit(pg_url)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    admin.close()


def test_a_schema_3_database_migrates_and_finds_the_same(fresh_database: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as old_lore:      # lore as it was before the id indexes
        three, steps = schema.MIGRATIONS[2]       # (its postings with today's positions)
        old_lore.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS[:2],
                                               (three, [*steps, schema.POSITIONS_V5])])
        old_lore.setattr(schema, "LATEST_VERSION", 3)
        old = PostgresStore.open(fresh_database, "kano")
        fill_mini(old)
        _fill(old, EDGE_DOCS)
        before = {(c, f): _scanned(old, c, f) for c in ("TSK-0002", "README", "ADR-0001_sqlite",
                                                        "019c18d9", "0350") for f in ID_FORMS}
        assert schema.schema_version(old._conn) == 3
        old.close()
    store = PostgresStore.open(fresh_database, "kano", create=False)
    try:
        assert schema.schema_version(store._conn) == schema.LATEST_VERSION
        indexes = {str(name) for (name,) in store._conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'lore_documents'")}
        assert {"lore_documents_id_tail", "lore_documents_uid_prefix", "lore_documents_path",
                "lore_documents_stems"} <= indexes
        after = {(c, f): store.id_matches(c, form=f, restriction=None, prefer=[])
                 for c, f in before}
        assert after == before
        assert after[("TSK-0002", "suffix")] and after[("ADR-0001_sqlite", "stem")]
    finally:
        store.close()


@pytest.mark.slow
def test_kano_ids_find_what_the_local_store_finds(kano_index: Index, pg_url: str) -> None:
    """Each of kano's documents looked up in every form people type (``idmatch.lookup``:
    forms, zero padding, type words) names the same documents in the same order in
    both stores, file stems and paths in any case (both fold ASCII case)."""
    rows = [(i.path, i.doc_id, i.uid) for i in kano_index._store.document_identities()]
    local, shared = Catalog.memory(), pg_store(pg_url)
    try:
        for store in (local, shared):
            _fill(store, rows)
        sample = rows[::12]         # every store holds all rows; a twelfth are looked up
        texts = {t for t in _pieces(sample) if t} | {
            f"{word} {doc_id.split('-')[-1].lstrip('0')}" for _, doc_id, _ in sample
            for word in ("task", "epic", "adr")}
        named = 0
        for text in sorted(texts):
            for query in id_candidates(parse_query(text, set())):
                form, found = lookup(local, query, restriction=None)
                there, found_there = lookup(shared, query, restriction=None)
                assert (there, [d for _, d in found_there]) == (form, [d for _, d in found]), text
                named += bool(found)
        assert named > len(sample) * 4
    finally:
        local.close()
        shared.drop_root()
        shared.close()
