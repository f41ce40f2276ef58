"""PostgresStore catalog facts: kept while the root stands, rebuilt after any write."""

from __future__ import annotations

from conftest import fill_mini, pg_store

from lore.documents.model import Chunk, Document, Link
from lore.search.link_evidence import link_neighbours
from lore.store.postgres import PostgresStore


def _linked_document(path: str, doc_id: str, target: str, *, linked: bool = True) -> Document:
    body = f"Depends on {target}."
    return Document(path=path, doc_id=doc_id, uid=None, title=doc_id, doctype="Task",
                    metadata={"id": doc_id, "type": "Task"},
                    links=(Link("blocks", target),) if linked else (), body=body, content_hash=body,
                    size=len(body), mtime_ns=0)


def test_the_neighbour_table_follows_another_connections_writes(pg_url: str) -> None:
    reader = pg_store(pg_url)
    writer = PostgresStore.open(pg_url, reader.name)
    try:
        fill_mini(writer)
        before = link_neighbours(reader)
        assert before.linked == {}
        assert link_neighbours(reader) is before            # kept while nothing is written

        doc = _linked_document("items/KABSD-TSK-0009_new.md", "KABSD-TSK-0009", "ADR-0001")
        writer.replace_document(doc, [Chunk(0, (), doc.body, "section", 3)], "test")
        ids = {i.doc_id: i.id for i in reader.document_identities()}
        after = link_neighbours(reader)
        assert ids["ADR-0001"] in after.linked[ids["KABSD-TSK-0009"]]

        # A rename moves the state too (a link may name a path), and so does a delete.
        writer.rename("items/KABSD-TSK-0009_new.md", "items/KABSD-TSK-0009_moved.md")
        assert link_neighbours(reader) is not after
        writer.delete_documents(["items/KABSD-TSK-0009_moved.md"])
        assert link_neighbours(reader).linked == {}
    finally:
        reader.drop_root()
        reader.close()
        writer.close()


def test_a_rolled_back_write_never_names_a_later_state(pg_url: str) -> None:
    store = pg_store(pg_url)
    try:
        fill_mini(store)
        doc = _linked_document("items/KABSD-TSK-0009_new.md", "KABSD-TSK-0009", "ADR-0001")
        conn = store._conn
        conn.execute("BEGIN")
        store.replace_document(doc, [Chunk(0, (), doc.body, "section", 3)], "test")
        assert link_neighbours(store).linked               # its own uncommitted link
        conn.execute("ROLLBACK")
        other = PostgresStore.open(pg_url, store.name)     # the same count, committed elsewhere
        try:
            plain = _linked_document(doc.path, doc.doc_id, "ADR-0001", linked=False)
            other.replace_document(plain, [Chunk(0, (), plain.body, "section", 3)], "test")
            assert link_neighbours(store).linked == {}
        finally:
            other.close()
    finally:
        store.drop_root()
        store.close()
