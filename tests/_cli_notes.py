"""A small folder of notes for CLI tests, indexed keyword-only through the real entry point."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from click.testing import CliRunner, Result

from lore.cli import main

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


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run `lore ARGS` in-process, keyword-only unless ``env`` says otherwise."""
    return CliRunner().invoke(main, list(args), env=ENV | (env or {}))


def indexed_notes(folder: Path, notes: Mapping[str, str] = NOTES) -> Path:
    """Write ``notes`` under ``folder`` and index it; returns the folder."""
    for rel, text in notes.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    result = invoke("index", str(folder), "--quiet")
    assert result.exit_code == 0, result.output
    return folder
