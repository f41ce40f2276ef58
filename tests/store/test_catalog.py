"""The catalog: documents with their chunks, FTS rows, links and fields, kept in step."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from lore.documents.model import Chunk, Document, Link
from lore.errors import IndexCorruptError, IndexNotFoundError, QueryError
from lore.store.catalog import CATALOG_FILE, Catalog
from lore.store.fields import field_spelling, flatten_fields
from lore.store.filter_sql import chunks_filter_sql, documents_filter_sql


def make_doc(path: str, *, doc_id: str | None = None, title: str = "A title",
             metadata: dict[str, object] | None = None, links: tuple[Link, ...] = (),
             uid: str | None = None, body: str = "body text") -> Document:
    meta = {"type": "Note", "title": title, **(metadata or {})}
    return Document(path=path, doc_id=doc_id or path, uid=uid, title=title,
                    doctype=str(meta["type"]), metadata=meta, links=links, body=body,
                    content_hash=f"hash-{path}-{body}", size=len(body), mtime_ns=1)


def make_chunks(*texts: str) -> list[Chunk]:
    return [Chunk(i, ("Top", f"Section {i}"), text, "section", len(text.split()))
            for i, text in enumerate(texts)]


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.memory()


def fts_match(catalog: Catalog, query: str) -> list[int]:
    rows = catalog.conn.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? "
                                "ORDER BY rowid", (query,))
    return [r[0] for r in rows]


def count(catalog: Catalog, table: str) -> int:
    return int(catalog.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_open_creates_dir_gitignore_and_wal(tmp_path: Path) -> None:
    index_dir = tmp_path / "deep" / ".lore"
    with Catalog.open(index_dir) as catalog:
        assert (index_dir / CATALOG_FILE).is_file()
        assert (index_dir / ".gitignore").read_text().strip() == "*"
        assert catalog.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert catalog.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert catalog.index_dir == index_dir


def test_open_without_create_needs_an_existing_catalog(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="lore index"):
        Catalog.open(tmp_path / "none", create=False)
    assert not (tmp_path / "none").exists()


def test_open_refuses_a_file_that_is_not_a_catalog(tmp_path: Path) -> None:
    (tmp_path / CATALOG_FILE).write_bytes(b"this is not sqlite" * 200)
    with pytest.raises(IndexCorruptError, match="rebuild"):
        Catalog.open(tmp_path)


def test_replace_document_writes_chunks_fts_links_and_fields(catalog: Catalog) -> None:
    doc = make_doc("items/a.md", doc_id="KAB-1", title="Vector cache",
                   metadata={"state": "Done", "links": {"blocks": ["KAB-2", "KAB-3"]}},
                   links=(Link("blocks", "KAB-2"), Link("blocks", "KAB-3")))
    ids = catalog.replace_document(doc, make_chunks("alpha quantisation", "beta rollout"), "v1")
    assert len(ids) == 2 and ids == sorted(ids)
    assert fts_match(catalog, "quantisation") == [ids[0]]
    assert fts_match(catalog, "title:vector") == ids
    headings = catalog.conn.execute("SELECT headings FROM chunks_fts WHERE rowid = ?",
                                    (ids[1],)).fetchone()[0]
    assert headings == "Top > Section 1"
    assert catalog.conn.execute("SELECT kind, target FROM links ORDER BY target").fetchall() \
        == [("blocks", "KAB-2"), ("blocks", "KAB-3")]
    fields = set(catalog.conn.execute("SELECT key, value FROM fields"))
    assert {("state", "done"), ("links.blocks", "kab-2"), ("links.blocks", "kab-3"),
            ("type", "note"), ("title", "vector cache")} <= fields
    assert catalog.verify() == []


def test_replacing_keeps_the_row_id_and_drops_old_chunks(catalog: Catalog) -> None:
    doc = make_doc("a.md", title="Old title")
    old_ids = catalog.replace_document(doc, make_chunks("first words", "second words"), "v1")
    row_id = catalog.get_document("a.md").id  # type: ignore[union-attr]
    new = make_doc("a.md", title="New title", body="changed")
    new_ids = catalog.replace_document(new, make_chunks("replacement words"), "v1")
    assert catalog.get_document("a.md").id == row_id  # type: ignore[union-attr]
    assert min(new_ids) > max(old_ids)  # chunk ids are never reused
    assert [r[0] for r in catalog.conn.execute("SELECT id FROM chunks")] == new_ids
    assert fts_match(catalog, "first") == []
    assert fts_match(catalog, "title:new") == new_ids and fts_match(catalog, "title:old") == []
    assert catalog.verify() == []


def test_delete_documents_cascades_everywhere(catalog: Catalog) -> None:
    keep = catalog.replace_document(make_doc("keep.md", links=(Link("wiki", "X"),)),
                                    make_chunks("kept text"), "v1")
    catalog.replace_document(make_doc("gone.md", links=(Link("wiki", "Y"),),
                                      metadata={"tags": ["a", "b"]}),
                             make_chunks("gone text", "more gone"), "v1")
    catalog.register_space("s", "test")
    catalog.store_vectors("s", [*keep], [[1.0, 0.0]])
    gone_ids = [r[0] for r in catalog.conn.execute(
        "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
        "WHERE d.path = 'gone.md'")]
    catalog.store_vectors("s", gone_ids, [[0.0, 1.0]] * len(gone_ids))
    assert catalog.delete_documents(["gone.md", "never-was.md"]) == 1
    assert [r[0] for r in catalog.conn.execute("SELECT path FROM documents")] == ["keep.md"]
    assert [r[0] for r in catalog.conn.execute("SELECT id FROM chunks")] == keep
    assert fts_match(catalog, "gone") == []
    assert [r[0] for r in catalog.conn.execute("SELECT target FROM links")] == ["X"]
    assert ("tags", "a") not in set(catalog.conn.execute("SELECT key, value FROM fields"))
    assert catalog.vector_count("s") == 1
    assert catalog.verify() == []


def test_rename_keeps_the_document_row(catalog: Catalog) -> None:
    ids = catalog.replace_document(make_doc("old.md", doc_id="N-1"), make_chunks("text"), "v1")
    row_id = catalog.get_document("old.md").id  # type: ignore[union-attr]
    catalog.rename("old.md", "new/place.md")
    assert catalog.get_document("old.md") is None
    moved = catalog.get_document("new/place.md")
    assert moved is not None and moved.id == row_id and [c.id for c in moved.chunks] == ids


def test_get_document_by_id_path_doc_id_and_uid(catalog: Catalog) -> None:
    catalog.replace_document(
        make_doc("items/t.md", doc_id="KABSD-TSK-0001", uid="019b-uid", title="Task one",
                 links=(Link("parent", "KABSD-FTR-0001"),), metadata={"state": "Done"}),
        make_chunks("one", "two"), "v1")
    by_path = catalog.get_document("items/t.md")
    assert by_path is not None
    assert catalog.get_document("kabsd-tsk-0001") == by_path
    assert catalog.get_document("019B-UID") == by_path
    assert catalog.get_document(by_path.id) == by_path
    assert catalog.get_document("nope") is None
    assert by_path.links == (Link("parent", "KABSD-FTR-0001"),)
    assert by_path.metadata["state"] == "Done"
    assert [(c.ordinal, c.text, c.heading_path) for c in by_path.chunks] == \
        [(0, "one", ("Top", "Section 0")), (1, "two", ("Top", "Section 1"))]


def test_path_match_beats_an_id_match(catalog: Catalog) -> None:
    catalog.replace_document(make_doc("a.md", doc_id="b.md"), make_chunks("x"), "v1")
    catalog.replace_document(make_doc("b.md"), make_chunks("y"), "v1")
    assert catalog.get_document("b.md").path == "b.md"  # type: ignore[union-attr]


def test_duplicate_doc_ids_are_listed_case_insensitively(catalog: Catalog) -> None:
    catalog.replace_document(make_doc("b.md", doc_id="ADR-0004"), make_chunks("x"), "v1")
    catalog.replace_document(make_doc("a.md", doc_id="adr-0004"), make_chunks("y"), "v1")
    catalog.replace_document(make_doc("c.md", doc_id="ADR-0005"), make_chunks("z"), "v1")
    dupes = catalog.duplicate_doc_ids()
    assert list(dupes.values()) == [["a.md", "b.md"]]
    assert next(iter(dupes)).lower() == "adr-0004"


def filter_corpus(catalog: Catalog) -> dict[str, list[int]]:
    docs = {
        "t1.md": {"type": "Task", "state": "Done", "tags": ["search", "Cache"]},
        "t2.md": {"type": "Task", "state": "Proposed", "tags": ["search"]},
        "a1.md": {"type": "ADR", "state": "Accepted"},
    }
    return {path: catalog.replace_document(make_doc(path, metadata=meta),
                                           make_chunks(f"{path} one", f"{path} two"), "v1")
            for path, meta in docs.items()}


def test_filters_and_across_keys_or_within_case_insensitive(catalog: Catalog) -> None:
    ids = filter_corpus(catalog)
    got = catalog.chunk_ids_for_filters({"TYPE": ["task"], "state": ["DONE", "accepted"]})
    assert got.dtype.name == "int64" and got.tolist() == ids["t1.md"]
    got = catalog.chunk_ids_for_filters({"tags": ["cache", "nothing"]})
    assert got.tolist() == ids["t1.md"]
    got = catalog.chunk_ids_for_filters({"type": ["adr", "task"]})
    assert got.tolist() == sorted(ids["t1.md"] + ids["t2.md"] + ids["a1.md"])
    assert catalog.chunk_ids_for_filters({"type": ["bug"]}).tolist() == []
    assert catalog.count_chunks_for_filters({"tags": ["search"]}) == 4


def test_no_filters_select_everything(catalog: Catalog) -> None:
    ids = filter_corpus(catalog)
    assert catalog.chunk_ids_for_filters({}).tolist() == sorted(i for chunk_ids in ids.values() for i in chunk_ids)
    assert catalog.count_chunks_for_filters({}) == 6


def test_filter_key_without_values_is_an_error(catalog: Catalog) -> None:
    with pytest.raises(QueryError, match="no values"):
        catalog.chunk_ids_for_filters({"type": []})


def test_filter_sql_uses_parameters_only() -> None:
    sql, params = documents_filter_sql({"state": ["x' OR 1=1 --"]})
    assert "OR 1=1" not in sql
    assert json.loads(params[1]) == ["x' or 1=1 --"]
    sql, params = chunks_filter_sql({"type": ["adr"]})
    assert sql.startswith("SELECT id FROM chunks") and params[0] == "type"


def test_flatten_fields_nests_lists_and_skips_none() -> None:
    rows = flatten_fields({"Links": {"Blocks": ["A-1", "a-1"], "relates": []}, "owner": None,
                           "done": True, "points": 3, "ext": {"jira": {"key": "J-9"}}})
    assert rows == [("links.blocks", "a-1"), ("done", "true"), ("points", "3"),
                    ("ext.jira.key", "j-9")]


def test_field_spelling_reads_the_value_back_as_written() -> None:
    metadata = {"Type": "UserStory", "tags": ["CLI", "Search"], "links": {"blocks": ["A-1"]}}
    assert field_spelling(metadata, "type", "userstory") == "UserStory"
    assert field_spelling(metadata, "tags", "search") == "Search"
    assert field_spelling(metadata, "links.blocks", "a-1") == "A-1"
    assert field_spelling(metadata, "state", "done") == "done"     # not there: as stored


def test_meta_round_trip(catalog: Catalog) -> None:
    assert catalog.get_meta("k") is None and catalog.get_meta("k", "d") == "d"
    catalog.set_meta("k", "1")
    catalog.set_meta("k", "2")
    assert catalog.get_meta("k") == "2"


def test_document_states_and_file_state_update(catalog: Catalog) -> None:
    doc = make_doc("a.md")
    catalog.replace_document(doc, make_chunks("x"), "v7")
    assert catalog.document_states() == {"a.md": (doc.size, 1, doc.content_hash, "v7")}
    catalog.update_file_state("a.md", 99, 12345)
    assert catalog.document_states()["a.md"][:2] == (99, 12345)


def test_stats_counts(tmp_path: Path) -> None:
    with Catalog.open(tmp_path) as catalog:
        filter_corpus(catalog)
        stats = catalog.stats()
    assert (stats["documents"], stats["chunks"]) == (3, 6)
    assert stats["doctypes"] == {"ADR": 1, "Task": 2}
    assert stats["bytes"] > 0 and stats["schema_version"] >= 1


def test_verify_finds_fts_drift_and_orphans(catalog: Catalog) -> None:
    ids = filter_corpus(catalog)["t1.md"]
    assert catalog.verify() == []
    catalog.conn.execute("DELETE FROM chunks_fts WHERE rowid = ?", (ids[0],))
    catalog.conn.execute("PRAGMA foreign_keys = OFF")
    catalog.conn.execute("INSERT INTO links(document_id, kind, target) VALUES (999, 'wiki', 'x')")
    catalog.conn.execute("INSERT INTO chunk_vectors VALUES ('nospace', ?, x'00000000')",
                         (ids[1],))
    problems = catalog.verify()
    assert any("no full-text row" in p for p in problems)
    assert any("links" in p and "missing parents" in p for p in problems)
    assert any("no registered space" in p for p in problems)


def test_foreign_keys_refuse_orphan_chunks(catalog: Catalog) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        catalog.conn.execute("INSERT INTO chunks(document_id, ordinal, kind, heading_path, "
                             "text, token_estimate) VALUES (42, 0, 'section', '[]', 't', 1)")
