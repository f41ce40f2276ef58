"""PostgresStore id lookups: index lookups with exactly the documents the ``LIKE`` scans found.

The oracle is the SQL of schema 3 (``_scanned``, as ``PgSearchReadsMixin.id_matches``
ran it before the id indexes), run on the same rows: every form, generated and
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
from lore.store.base import Restriction
from lore.store.lookups import ID_FORMS
from lore.store.postgres import PostgresStore, schema
from lore.store.postgres.connection import connect
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


def _fill(store: object, rows: list[tuple[str, str, str | None]]) -> None:
    for path, doc_id, uid in rows:
        store.replace_document(_document(path, doc_id, uid),   # type: ignore[attr-defined]
                               [Chunk(0, (), doc_id, "section", 1)], "test")


def _scanned(store: PostgresStore, candidate: str, form: str,
             restriction: Restriction | None = None) -> list[tuple[int, str]]:
    """Schema 3's lookup, verbatim: ``LIKE`` scans of the root's documents."""
    main, _, tail = candidate.partition("@") if form == "id_at_uid" else (candidate, "", "")
    stem = (tail or candidate).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    where, extra = store._restrict(restriction, "d.id")
    pick = ("SELECT (SELECT c.id FROM lore_chunks c WHERE c.document_id = d.id ORDER BY"
            " coalesce(array_position(%s::bigint[], c.id), 2147483647), c.ordinal LIMIT 1),"
            " d.doc_id FROM lore_documents d WHERE d.root_id = %s AND ")
    by_id = "(lower(d.doc_id) = lower(%s) OR lower(d.uid) = lower(%s))"
    by_stem = ("(lower(d.path) = lower(%s) OR d.path LIKE '%%/' || %s || '.%%'"
               " OR d.path LIKE %s || '.%%')")
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
        texts = {path, doc_id, *(uid[:n] for n in (8, 13) if uid)}
        texts.update(doc_id[i + 1:] for i, c in enumerate(doc_id) if c == "-")
        starts = [0, *(i + 1 for i, c in enumerate(path) if c == "/")]
        texts.update(path[s:e] for s in starts for e, c in enumerate(path) if c == "." and e >= s)
        if uid:
            texts.add(f"{doc_id}@{uid[:6]}")
        found.update(itertools.chain.from_iterable((t, t.lower(), t.upper()) for t in texts))
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


def test_no_form_scans_the_documents(edge_store: PostgresStore) -> None:
    """With sequential scans priced out, every form's plan is index lookups only."""
    conn = edge_store._conn
    with conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        for form in ID_FORMS:
            candidate = "KABSD-TSK-0350@019c" if form == "id_at_uid" else "TSK-0350"
            plan = _plan(edge_store, candidate, form)
            assert "Seq Scan on lore_documents" not in plan, (form, plan)


def _plan(store: PostgresStore, candidate: str, form: str) -> str:
    match, values = id_condition(candidate, form)
    rows = store._conn.execute(f"EXPLAIN SELECT d.id FROM lore_documents d WHERE d.root_id = %s"
                               f" AND {match}", [store._root_id, *values])
    return "\n".join(str(row[0]) for row in rows)
