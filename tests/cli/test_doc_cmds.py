"""`lore show` and `lore related`: lookup by id or path, ambiguous ids, stale files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cli_notes import NOTES as BASE_NOTES
from _cli_notes import indexed_notes, invoke

NOTES = {
    **BASE_NOTES,
    "decisions/ADR-0004_one.md": "---\nid: ADR-0004\ntitle: File first\n---\n\nOne.\n",
    "decisions/ADR-0004_two.md": "---\nid: ADR-0004\ntitle: Per product\n---\n\nTwo.\n",
}
@pytest.fixture
def root(tmp_path: Path) -> Path:
    return indexed_notes(tmp_path / "notes", NOTES)


def test_show_by_id_path_and_json(root: Path) -> None:
    by_id = invoke("show", "kabsd-tsk-0001", "--root", str(root))
    assert by_id.exit_code == 0, by_id.output
    assert "Embedding cache" in by_id.output
    assert "blocks → KABSD-TSK-0002" in by_id.output
    assert "The embedding cache keys vectors" in by_id.output
    by_path = invoke("show", str(root / "tasks" / "KABSD-TSK-0002_store.md"), "--root", str(root))
    assert by_path.exit_code == 0 and "Vector store" in by_path.output
    data = json.loads(invoke("show", "decisions/ADR-0001_sqlite.md", "--root", str(root),
                             "--json").stdout)
    assert data["doctype"] == "ADR" and data["metadata"]["status"] == "Accepted"
    assert data["stale"] is False


def test_show_unknown_document_fails_with_a_hint(root: Path) -> None:
    result = invoke("show", "NOPE-0001", "--root", str(root))
    assert result.exit_code == 1
    assert "lore search" in result.output


@pytest.mark.parametrize("command", ["show", "related"])
def test_a_name_the_file_system_cannot_look_up_is_an_unknown_id(root: Path, command: str) -> None:
    """Looking the name up as a file must not crash (the OS refuses names this long)."""
    for name in ("Ṱo invoke" * 60, "~no-such-user-here/x", "a\x00b", "~a\x00b"):
        result = invoke(command, name, "--root", str(root))
        assert result.exit_code == 1, name
        assert "No indexed document" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", ["show", "related"])
def test_shared_id_is_ambiguous_and_lists_every_file(root: Path, command: str) -> None:
    result = invoke(command, "adr-0004", "--root", str(root))
    assert result.exit_code == 1
    assert "ambiguous" in result.output
    assert "decisions/ADR-0004_one.md" in result.output
    assert "decisions/ADR-0004_two.md" in result.output
    assert f"e.g. `lore {command} decisions/ADR-0004_" in result.output   # the command asked
    by_path = invoke(command, "decisions/ADR-0004_two.md", "--root", str(root), "--json")
    assert by_path.exit_code == 0, by_path.output


def test_deleted_file_is_shown_as_stale(root: Path) -> None:
    path = root / "tasks" / "KABSD-TSK-0002_store.md"
    path.unlink()
    result = invoke("show", "KABSD-TSK-0002", "--root", str(root))
    assert result.exit_code == 0, result.output
    assert "Vector store" in result.stdout
    assert "deleted since the last `lore index`" in result.stderr
    by_old_path = invoke("show", str(path), "--root", str(root), "--json")
    assert json.loads(by_old_path.stdout)["stale"] is True


def test_show_works_from_a_subfolder(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root / "tasks")
    result = invoke("show", "KABSD-TSK-0001_cache.md")
    assert result.exit_code == 0, result.output
    assert "Embedding cache" in result.stdout
