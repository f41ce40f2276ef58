"""lore migrate: local -> PostgreSQL -> local, bit for bit, without one provider call."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import pg_store

from lore.embed.hashing import HashingEmbedder
from lore.errors import StoreError
from lore.index import open_index
from lore.migrate import copy_index
from lore.settings import ChunkSettings, EmbedSettings, IndexSettings, ProviderSettings, Settings
from lore.store.base import Store
from lore.store.catalog import Catalog
from lore.store.keys import is_document_key

HASHING = Settings(embed=EmbedSettings(primary=ProviderSettings(provider="hashing",
                                                                 dimensions=32)),
                   chunking=ChunkSettings(max_tokens=40, min_tokens=1, whole_document_tokens=10))


QUERY = "caches vectors topic 3"


def write_notes(root: Path) -> None:
    root.mkdir(parents=True)
    for i in range(12):
        sections = "\n\n".join(f"## Part {j}\n\nText {i}.{j} about caches and vectors, "
                               f"topic {(i + j) % 5}." for j in range(1 + i % 3))
        (root / f"n{i:02}.md").write_text(
            f"---\nid: N-{i}\ntype: {'ADR' if i % 4 == 0 else 'Task'}\n"
            f"parent: N-{(i + 1) % 12}\ntags: [t{i % 2}]\n---\n# Note {i}\n\n{sections}\n"
            f"\nSee [[N-{(i + 3) % 12}]].\n", encoding="utf-8")


def snapshot(store: Store) -> dict[str, Any]:
    """Everything that must survive a migration, keyed by path (row ids may differ)."""
    docs: dict[str, Any] = {}
    owner: dict[int, tuple[str, int]] = {}
    for path in sorted(store.document_states()):
        record = store.get_document(path)
        assert record is not None
        data = record.to_dict()
        for key in ("id", "indexed_at"):
            data.pop(key)
        for chunk in data["chunks"]:
            owner[chunk.pop("id")] = (path, chunk["ordinal"])
        docs[path] = data
    space = store.active_space()
    assert space is not None
    vectors = {owner[int(k)]: row.tobytes()
               for keys, matrix in store.iter_vectors(space.id)
               for k, row in zip(keys.tolist(), matrix)}
    meta = {k: store.get_meta(k) for k in ("chunker_version", "last_sync")}
    return {"documents": docs, "vectors": vectors, "space": space, "meta": meta}


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every embedding call any hashing provider makes from now on."""
    calls: list[int] = []
    original = HashingEmbedder.embed

    def embed(self: HashingEmbedder, texts: Any, kind: Any) -> Any:
        calls.append(len(texts))
        return original(self, texts, kind)

    monkeypatch.setattr(HashingEmbedder, "embed", embed)
    return calls


def test_round_trip_is_bit_for_bit_and_embeds_nothing(pg_url: str, tmp_path: Path,
                                                       counted: list[int]) -> None:
    root = tmp_path / "notes"
    write_notes(root)
    with open_index(root, settings=HASHING) as index:
        index.sync()
        local_hits = [h.path for h in index.search(QUERY, limit=5, mode="vector")]
    assert counted, "the first index embeds (the counter works)"
    counted.clear()

    with Catalog.open(root / ".lore", create=False) as source:
        before = snapshot(source)
        remote = pg_store(pg_url)
        try:
            report = copy_index(source, remote)
            assert report.documents == 12 and report.vectors == len(before["vectors"])
            assert snapshot(remote) == before
            with Catalog.open(tmp_path / "back") as back:
                copy_index(remote, back)
                assert snapshot(back) == before
            with pytest.raises(StoreError, match="already holds an index"):
                copy_index(source, remote)
            settings = replace(HASHING, index=replace(HASHING.index, store=pg_url,
                                                      store_name=remote.name))
            with open_index(root, settings=settings) as index:
                remote_hits = [h.path for h in index.search(QUERY, limit=5, mode="vector")]
        finally:
            remote.drop_root()
            remote.close()
    assert remote_hits == local_hits
    # Nothing was embedded: not by the migrations, nor by the search on the copy (its query
    # vector comes from the shared embedding cache, as the local search left it).
    assert counted == []


def test_pooled_document_vectors_match_across_backends(pg_url: str, tmp_path: Path) -> None:
    root = tmp_path / "notes"
    write_notes(root)
    with open_index(root, settings=HASHING) as index:
        index.sync()
    with Catalog.open(root / ".lore", create=False) as source:
        space = source.active_space()
        assert space is not None
        remote = pg_store(pg_url)
        try:
            copy_index(source, remote)
            local_index, remote_index = source.vector_index(space), remote.vector_index(space)
            assert len(local_index) == len(remote_index)
            query = next(source.iter_vectors(space.id))[1][0]
            pooled = int(is_document_key(local_index.keys()).sum())
            assert pooled > 0 and int(is_document_key(remote_index.keys()).sum()) == pooled
            _, local_scores = local_index.search(query, 40)
            _, remote_scores = remote_index.search(query, 40)
            np.testing.assert_allclose(local_scores, remote_scores, atol=1e-5)
        finally:
            remote.drop_root()
            remote.close()


def test_cli_migrate_round_trip(pg_url: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lore.cli import main

    root = tmp_path / "notes"
    write_notes(root)
    (root / "lore.toml").write_text('[embed.primary]\nprovider = "hashing"\ndimensions = 32\n'
                                    f'[index]\nstore_name = "cli-{tmp_path.name}"\n')
    runner = CliRunner()
    assert runner.invoke(main, ["index", str(root)]).exit_code == 0
    out = runner.invoke(main, ["migrate", "--root", str(root), "--to", pg_url])
    assert out.exit_code == 0, out.output
    assert "12 documents" in out.output and "nothing was embedded" in out.output
    both = runner.invoke(main, ["migrate", "--root", str(root), "--to", pg_url,
                                "--from", pg_url])
    assert both.exit_code != 0 and "exactly one of" in both.output
    status = runner.invoke(main, ["--store", pg_url, "status", "--root", str(root), "--json"])
    assert status.exit_code == 0, status.output
    assert '"documents": 12' in status.output and '"store_root": "cli-' in status.output
    settings = replace(HASHING, index=IndexSettings(store=pg_url,
                                                    store_name=f"cli-{tmp_path.name}"))
    with open_index(root, settings=settings) as index:
        index._store.drop_root()   # type: ignore[attr-defined]
