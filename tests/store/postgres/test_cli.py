"""The CLI on a PostgreSQL store: ``--store`` on each command, and ``lore verify`` there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_notes import NOTES, invoke

from lore.store.postgres import PostgresStore

HASHING = {"LORE_EMBED__ENABLED": "true", "LORE_EMBED__PRIMARY__PROVIDER": "hashing",
           "LORE_EMBED__PRIMARY__DIMENSIONS": "32"}


@pytest.fixture
def notes_on_pg(pg_url: str, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The CLI notes indexed into their own root of the test server with ``index --store``."""
    root = tmp_path / "notes"
    for rel, text in NOTES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "lore.toml").write_text(f'[index]\nstore_name = "cli-{tmp_path.name}"\n')
    result = invoke("index", str(root), "--store", pg_url, "--quiet", env=HASHING)
    assert result.exit_code == 0, result.output
    yield root, pg_url
    store = PostgresStore.open(pg_url, f"cli-{tmp_path.name}", create=False)
    store.drop_root()
    store.close()


def test_store_after_the_command_reaches_the_database(notes_on_pg: tuple[Path, str]) -> None:
    root, url = notes_on_pg
    assert not (root / ".lore").exists()       # the index went to PostgreSQL only
    status = invoke("status", "--root", str(root), "--store", url, "--json", "--no-server")
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["documents"] == len(NOTES)
    found = invoke("search", "embedding cache", "--root", str(root), "--store", url, "--json",
                   "--no-server", env=HASHING)
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["hits"][0]["path"] == "tasks/KABSD-TSK-0001_cache.md"
    # Without --store the command looks for a local index and says there is none.
    local = invoke("status", "--root", str(root), "--no-server")
    assert local.exit_code != 0 and "lore index" in local.output


def test_verify_checks_the_postgres_root(notes_on_pg: tuple[Path, str]) -> None:
    root, url = notes_on_pg
    healthy = invoke("verify", "--root", str(root), "--store", url, "--json", env=HASHING)
    assert healthy.exit_code == 0, healthy.output
    report = json.loads(healthy.output)
    assert {f["check"] for f in report["findings"]} == {"catalog", "fts", "space", "vectors"}
    assert any("no sidecar" in note for note in report["notes"])
    store = PostgresStore.open(url, f"cli-{root.parent.name}", create=False)
    try:
        store.query_one("WITH gone AS (DELETE FROM lore_chunk_terms WHERE chunk_id ="
                        " (SELECT min(id) FROM lore_chunks WHERE root_id = %(root)s)"
                        " RETURNING 1) SELECT count(*) FROM gone", {"root": store.root_id})
    finally:
        store.close()
    broken = invoke("verify", "--root", str(root), "--store", url, env=HASHING)
    assert broken.exit_code == 1
    assert "[FAIL] fts: 1 chunks with words have no postings" in broken.output
    repair = invoke("repair", "--root", str(root), "--store", url, env=HASHING)
    assert repair.exit_code != 0 and "`lore verify` names what disagrees" in repair.output
