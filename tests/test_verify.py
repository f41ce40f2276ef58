"""`lore verify` finds each kind of disagreement; `lore repair` fixes it from what is
stored, without an embedding provider (#14 item 16)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lore.cli import main
from lore.embed.cache import EmbeddingCache
from lore.embed.runner import EmbeddingRunner
from lore.store import integrity
from lore.store.catalog import Catalog


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    root.mkdir()
    for i in range(10):
        (root / f"n{i}.md").write_text(f"# Note {i}\n\nalpha {i}\n\n## Two\n\n"
                                       + " ".join(f"w{i * j}" for j in range(300)) + "\n")
    assert CliRunner().invoke(main, ["index", str(root)]).exit_code == 0
    return root


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def verify_json(root: Path) -> dict[str, object]:
    code, out = cli("verify", "--root", str(root), "--json")
    payload = json.loads(out)
    assert code == (0 if payload["healthy"] else 1)
    return payload


def failed(root: Path) -> set[str]:
    payload = verify_json(root)
    return {f["check"] for f in payload["findings"] if not f["ok"]}  # type: ignore[attr-defined]


def execute(root: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    conn = sqlite3.connect(root / ".lore" / "catalog.sqlite")
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def vectors(root: Path) -> dict[int, bytes]:
    conn = sqlite3.connect(root / ".lore" / "catalog.sqlite")
    try:
        return dict(conn.execute("SELECT chunk_id, vector FROM chunk_vectors"))
    finally:
        conn.close()


@pytest.fixture
def no_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("repair called the embedding provider")

    monkeypatch.setattr(EmbeddingRunner, "embed", refuse)


def test_healthy_index_verifies(root: Path) -> None:
    assert failed(root) == set()
    assert cli("verify", "--root", str(root))[1].rstrip().endswith("healthy")


def test_corrupted_space_id_is_repairable(root: Path, no_provider: None) -> None:
    """The repro: a corrupted meta.space_id pointed at --rebuild-vectors, which failed too."""
    execute(root, "UPDATE meta SET value = 'deadbeefdeadbeef' WHERE key = 'space_id'")
    assert failed(root) == {"space"}
    code, out = cli("search", "alpha", "--root", str(root))
    assert "lore repair" in out
    before = vectors(root)
    code, out = cli("repair", "--root", str(root))
    assert code == 0 and "set the active space" in out
    assert failed(root) == set() and vectors(root) == before


def test_missing_fts_rows_and_missing_sidecar_are_rebuilt(root: Path, no_provider: None) -> None:
    execute(root, "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks LIMIT 3)")
    for sidecar in (root / ".lore").glob("vectors-*.idx"):
        sidecar.unlink()
    assert failed(root) == {"fts", "sidecar"}
    assert cli("repair", "--root", str(root))[0] == 0
    assert failed(root) == set()
    code, out = cli("search", "alpha", "--root", str(root), "--mode", "keyword")
    assert code == 0 and "n0.md" in out


def test_sidecar_with_a_stale_key_is_rebuilt(root: Path, no_provider: None) -> None:
    execute(root, "DELETE FROM chunk_vectors WHERE chunk_id = (SELECT min(chunk_id) "
                  "FROM chunk_vectors)")
    assert "sidecar" in failed(root)
    assert cli("repair", "--root", str(root))[0] == 0 and failed(root) == set()


def test_unusable_stored_vector_is_dropped_then_reembedded(root: Path, tmp_path: Path) -> None:
    before = vectors(root)
    victim = min(before)
    execute(root, "UPDATE chunk_vectors SET vector = ? WHERE chunk_id = ?",
            (np.zeros(384, dtype=np.float32).tobytes(), victim))
    assert "vectors" in failed(root)
    code, out = cli("repair", "--root", str(root))
    assert code == 0 and "dropped 1 unusable" in out
    assert victim not in vectors(root)
    assert cli("index", str(root))[0] == 0
    assert vectors(root) == before


def test_poisoned_cache_entries_are_found_and_removed(root: Path) -> None:
    with Catalog.open(root / ".lore") as catalog:
        space_id = catalog.get_meta("space_id")
        assert space_id is not None
        stored = list(integrity.embedded_texts(catalog.conn, space_id))
    cache = EmbeddingCache()
    texts = [text for _, text, _ in stored[:4]]
    wrong = np.stack([v for _, _, v in reversed(stored[:4])])   # vectors of other texts
    cache.put_many(space_id, "document", texts, wrong)
    cache.close()
    assert failed(root) == {"cache"}
    code, out = cli("repair", "--root", str(root))
    assert code == 0 and "cached vectors that disagreed" in out
    assert failed(root) == set()


def test_verify_reads_only(root: Path) -> None:
    files = {p.name: p.read_bytes() for p in (root / ".lore").glob("vectors-*")}
    verify_json(root)
    assert {p.name: p.read_bytes() for p in (root / ".lore").glob("vectors-*")} == files
