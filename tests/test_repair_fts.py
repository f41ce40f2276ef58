"""`lore repair` rebuilds the full-text rows a sync writes, column for column: a repaired
index finds what a fresh one finds, Chinese (the cjk bigram column) included."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from _cjk_notes import NOTES
from click.testing import CliRunner

from lore.cli import main
from lore.store import migrations
from lore.store.connection import connect
from lore.store.migrations import LATEST_VERSION, schema_version


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def index_folder(path: Path) -> Path:
    path.mkdir()
    for name, text in NOTES.items():
        (path / name).write_text(text, encoding="utf-8")
    code, out = cli("index", str(path), "--no-embed")
    assert code == 0, out
    return path


def hits(root: Path, query: str) -> list[str]:
    code, out = cli("search", query, "--root", str(root), "--mode", "keyword", "--json")
    assert code == 0, out
    return sorted(hit["path"] for hit in json.loads(out)["hits"])


def failed(root: Path) -> set[str]:
    code, out = cli("verify", "--root", str(root), "--json")
    payload = json.loads(out)
    assert code == (0 if payload["healthy"] else 1)
    return {f["check"] for f in payload["findings"] if not f["ok"]}


def fts_content(root: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every token FTS5 indexed (term, column, offset) and every stored chunk row, keyed
    by document path and chunk ordinal (not row ids), for both FTS tables."""
    conn = sqlite3.connect(root / ".lore" / "catalog.sqlite")
    try:
        content: dict[str, list[tuple[object, ...]]] = {}
        keys = {"documents_fts": "SELECT id, path FROM documents",
                "chunks_fts": "SELECT c.id, d.path || '#' || c.ordinal FROM chunks c"
                              " JOIN documents d ON d.id = c.document_id"}
        for table, key_sql in keys.items():
            name = dict(conn.execute(key_sql))
            conn.execute(f"CREATE VIRTUAL TABLE temp.{table}_i USING fts5vocab(main, {table},"
                         " instance)")
            content[table] = sorted((name[doc], term, col, offset) for term, doc, col, offset
                                    in conn.execute(f"SELECT * FROM temp.{table}_i"))
        stored = conn.execute("SELECT d.path, c.ordinal, f.* FROM chunks_fts f JOIN chunks c"
                              " ON c.id = f.rowid JOIN documents d ON d.id = c.document_id")
        content["chunks_fts rows"] = sorted(tuple(row) for row in stored)
        return content
    finally:
        conn.close()


def execute(root: Path, *statements: str) -> None:
    conn = sqlite3.connect(root / ".lore" / "catalog.sqlite")
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()


QUERIES = ("提醒", "检查", "溫柔", "中文", "ranking", "批次")


@pytest.mark.parametrize("damage", [
    ("DELETE FROM chunks_fts",),
    ("INSERT INTO documents_fts(documents_fts) VALUES ('delete-all')",),
    ("DELETE FROM chunks_fts WHERE rowid = (SELECT min(id) FROM chunks)",
     "UPDATE chunks_fts SET cjk = ''"),
], ids=["chunks emptied", "documents emptied", "cjk column lost"])
def test_repaired_index_equals_a_fresh_one(tmp_path: Path, damage: tuple[str, ...]) -> None:
    root = index_folder(tmp_path / "notes")
    fresh = fts_content(index_folder(tmp_path / "fresh"))
    before = {q: hits(root, q) for q in QUERIES}
    assert before["提醒"] == ["hans.md", "hant.md"] and before["中文"] == ["mixed.md"]
    execute(root, *damage)
    assert "fts" in failed(root)
    code, out = cli("repair", "--root", str(root))
    assert code == 0, out
    assert failed(root) == set()
    assert fts_content(root) == fresh
    assert {q: hits(root, q) for q in QUERIES} == before


def test_edits_and_deletes_leave_the_rows_of_a_fresh_index(tmp_path: Path) -> None:
    """The triggers remove a document's old contentless row with the values it was given:
    after edits (title and body), a delete and a new file, the index holds what a fresh
    index of the final folder holds, token for token."""
    root = index_folder(tmp_path / "notes")
    (root / "hant.md").unlink()
    (root / "hans.md").write_text("# 检查清单\n\n每周检查一次。\n", encoding="utf-8")
    (root / "new.md").write_text("# 新笔记\n\n溫柔提醒 again.\n", encoding="utf-8")
    assert cli("index", str(root), "--no-embed")[0] == 0
    final = tmp_path / "final"
    final.mkdir()
    for path in root.glob("*.md"):
        (final / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert cli("index", str(final), "--no-embed")[0] == 0
    assert fts_content(root) == fts_content(final)
    assert failed(root) == set()
    assert hits(root, "提醒") == ["new.md"] and hits(root, "检查") == ["hans.md"]


def test_an_index_written_before_the_row_views_keeps_its_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Migration 5 changes how rows are written, not what they hold."""
    with monkeypatch.context() as old_lore:
        old_lore.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:4])
        root = index_folder(tmp_path / "notes")
        before = fts_content(root)
    assert failed(root) == set()   # opens (and migrates) the index, then finds no row differs
    assert schema_version(connect(root / ".lore" / "catalog.sqlite")) == LATEST_VERSION == 5
    assert fts_content(root) == before == fts_content(index_folder(tmp_path / "fresh"))
