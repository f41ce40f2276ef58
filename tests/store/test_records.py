"""Document records: built from catalog rows, and a stable JSON shape."""

from __future__ import annotations

import json

from lore.documents.model import Link
from lore.store.records import ChunkRecord, document_record


def test_record_from_row_and_json_shape() -> None:
    row = {"id": 3, "path": "a.md", "doc_id": "A-1", "uid": None, "title": "T",
           "doctype": "Task", "metadata": '{"type": "Task", "tags": ["x"]}', "body": "b",
           "content_hash": "h", "size": 1, "mtime_ns": 2, "indexed_at": 3.5}
    record = document_record(row, [("parent", "E-1")],
                             [ChunkRecord(9, 0, "document", ("H",), "b", 1)])
    assert record.links == (Link("parent", "E-1"),)
    assert record.metadata == {"type": "Task", "tags": ["x"]}
    data = json.loads(json.dumps(record.to_dict()))
    assert set(data) == {"id", "path", "doc_id", "uid", "title", "doctype", "metadata",
                         "links", "body", "content_hash", "size", "mtime_ns", "indexed_at",
                         "chunks"}
    assert data["links"] == [{"kind": "parent", "target": "E-1"}]
    assert data["chunks"][0] == {"id": 9, "ordinal": 0, "kind": "document",
                                 "heading_path": ["H"], "text": "b", "token_estimate": 1}
