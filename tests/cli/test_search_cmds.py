"""`lore search` and `lore show`: JSON shape, human output, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lore.cli import main
from lore.index import Index

NOTES = {
    "tasks/KABSD-TSK-0001_cache.md": (
        "---\nid: KABSD-TSK-0001\ntitle: Embedding cache\ntype: Task\nstate: Done\n"
        "links:\n  blocks: [KABSD-TSK-0002]\n---\n\n# Context\n\n"
        "The embedding cache keys vectors by content hash.\n"),
    "tasks/KABSD-TSK-0002_store.md": (
        "---\nid: KABSD-TSK-0002\ntitle: Vector store\ntype: Task\nstate: Proposed\n---\n\n"
        "# Context\n\nStore vectors in a sidecar index; the cache is shared.\n"),
    "decisions/ADR-0001_sqlite.md": (
        "---\ntitle: Use SQLite\nstatus: Accepted\n---\n\n# Decision\n\n"
        "We keep the catalog in SQLite with FTS5 and an embedding cache.\n"),
}
ENV = {"LORE_EMBED__ENABLED": "false"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=ENV)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A small folder of notes, indexed (keyword-only)."""
    folder = tmp_path / "notes"
    for rel, text in NOTES.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    result = invoke("index", str(folder), "--quiet")
    assert result.exit_code == 0, result.output
    return folder


def search_json(root: Path, *args: str) -> list[dict[str, Any]]:
    result = invoke("search", *args, "--root", str(root), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert isinstance(data, list)
    return data


def test_json_is_a_list_of_hits_with_stable_fields(root: Path) -> None:
    hits = search_json(root, "embedding cache", "--explain")
    assert {h["path"] for h in hits} == set(NOTES)
    for hit in hits:
        assert set(hit) == {"path", "doc_id", "title", "doctype", "score", "snippet",
                            "highlights", "metadata", "chunk", "explain", "via", "also_at",
                            "vector_only", "hub"}
        assert isinstance(hit["explain"], dict) and "keyword" in hit["explain"]["legs"]
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_words_need_no_quotes_and_inline_filters_work(root: Path) -> None:
    hits = search_json(root, "type:ADR", "embedding", "cache")
    assert [h["path"] for h in hits] == ["decisions/ADR-0001_sqlite.md"]


def test_filter_option_and_limit(root: Path) -> None:
    hits = search_json(root, "cache", "--filter", "state=done", "-f", "type=Task")
    assert [h["doc_id"] for h in hits] == ["KABSD-TSK-0001"]
    assert len(search_json(root, "cache", "--limit", "1")) == 1


def test_id_query_pins_its_document(root: Path) -> None:
    hits = search_json(root, "kabsd-tsk-0002")
    assert hits[0]["doc_id"] == "KABSD-TSK-0002"


def test_chunks_flag_gives_chunk_hits(root: Path) -> None:
    hits = search_json(root, "cache", "--chunks")
    assert all(set(h["chunk"]) == {"ordinal", "heading_path", "kind"} for h in hits)


def test_human_output_marks_terms(root: Path) -> None:
    result = invoke("search", "sidecar", "--root", str(root), "--explain")
    assert result.exit_code == 0, result.output
    assert "Vector store" in result.output
    assert "tasks/KABSD-TSK-0002_store.md" in result.output
    assert "[sidecar]" in result.output
    assert "legs: keyword #1" in result.output


def test_no_matches_is_not_an_error(root: Path) -> None:
    result = invoke("search", "zzzzqqq", "--root", str(root))
    assert result.exit_code == 0
    assert "No matches" in result.output
    assert search_json(root, '"unbalanced', "NEAR(", "-") == []


@pytest.mark.parametrize("args, code", [
    (["search", "x", "--filter", "novalue"], 2),
    (["search", "x", "--limit", "0"], 2),
    (["search"], 2),
    (["search", "x", "--mode", "vector"], 1),
])
def test_usage_errors(root: Path, args: list[str], code: int) -> None:
    result = invoke(*args, "--root", str(root))
    assert result.exit_code == code, result.output


def test_missing_index_says_what_to_do(tmp_path: Path) -> None:
    result = invoke("search", "x", "--root", str(tmp_path))
    assert result.exit_code == 1
    assert "lore index" in result.output


def test_show_by_id_path_and_json(root: Path) -> None:
    by_id = invoke("show", "kabsd-tsk-0001", "--root", str(root))
    assert by_id.exit_code == 0, by_id.output
    assert "Embedding cache" in by_id.output
    assert "blocks → KABSD-TSK-0002" in by_id.output
    assert "The embedding cache keys vectors" in by_id.output
    by_path = invoke("show", str(root / "tasks" / "KABSD-TSK-0002_store.md"), "--root", str(root))
    assert by_path.exit_code == 0 and "Vector store" in by_path.output
    data = json.loads(invoke("show", "decisions/ADR-0001_sqlite.md", "--root", str(root),
                             "--json").output)
    assert data["doctype"] == "ADR" and data["metadata"]["status"] == "Accepted"


def test_show_unknown_document_fails_with_a_hint(root: Path) -> None:
    result = invoke("show", "NOPE-0001", "--root", str(root))
    assert result.exit_code == 1
    assert "lore search" in result.output


def test_commands_have_help_with_examples() -> None:
    for command in ("search", "show"):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.output


def test_kano_id_search(kano_index: Index) -> None:
    result = invoke("search", "KABSD-TSK-0350", "--root", str(kano_index.root),
                    "--index-dir", str(kano_index.index_dir), "--json")
    assert result.exit_code == 0, result.output
    assert "KABSD-TSK-0350" in json.loads(result.output)[0]["path"]
