"""The Index object: opening rules, sync, get, status, and delegation of search."""

from __future__ import annotations

import sqlite3
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from lore.errors import ConfigError, IndexNotFoundError
from lore.index import Index, open_index, resolve_index_dir
from lore.search.hits import SearchResult
from lore.settings import EmbedSettings, IndexSettings, Settings

# These tests are about the catalog side: no embedding model is needed or fetched.
KEYWORD_ONLY = Settings(embed=EmbedSettings(enabled=False))


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "task.md").write_text(
        "---\nid: PRJ-TSK-0001\nuid: 0190-abc\ntitle: Cache embeddings\ntype: Task\n"
        "parent: PRJ-FTR-0001\n---\n\n# Context\n\nEmbedding cache keyed by content hash.\n")
    (root / "plain.md").write_text("# Plain note\n\nNothing special.\n")
    return root


def test_open_creates_the_index_inside_the_root(notes: Path) -> None:
    with open_index(notes, settings=KEYWORD_ONLY) as index:
        assert index.index_dir == notes / ".lore"
        assert (notes / ".lore" / ".gitignore").read_text().strip() == "*"
        assert index.root == notes


def test_missing_root_is_a_config_error_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist.*lore index"):
        open_index(tmp_path / "absent", settings=KEYWORD_ONLY)
    (tmp_path / "file.md").write_text("x")
    with pytest.raises(ConfigError, match="is not a folder"):
        open_index(tmp_path / "file.md", settings=KEYWORD_ONLY)


def test_open_without_create_needs_an_index(notes: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="lore index"):
        open_index(notes, settings=KEYWORD_ONLY, create=False)
    assert not (notes / ".lore").exists()


def test_sync_get_and_status(notes: Path) -> None:
    with open_index(notes, settings=KEYWORD_ONLY) as index:
        report = index.sync()
        assert sorted(report.added) == ["plain.md", "task.md"]
        doc = index.get("prj-tsk-0001")
        assert doc is not None and doc.path == "task.md" and doc.title == "Cache embeddings"
        assert index.get("0190-ABC") == doc == index.get("task.md")
        assert any(link.target == "PRJ-FTR-0001" for link in doc.links)
        assert doc.chunks and "content hash" in doc.chunks[0].text
        assert index.get("missing") is None
        status = index.status()
        assert status["documents"] == 2 and status["chunks"] >= 2
        assert status["root"] == str(notes) and status["last_sync"] is not None
        assert status["chunker_version"] == index._store.get_meta("chunker_version")
    with open_index(notes, settings=KEYWORD_ONLY, create=False) as again:
        assert not again.sync().changed


def test_index_dir_argument_and_absolute_setting(notes: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    with open_index(notes, settings=KEYWORD_ONLY, index_dir=elsewhere) as index:
        assert index.index_dir == elsewhere
    settings = Settings(index=IndexSettings(dir=str(tmp_path / "abs")))
    assert resolve_index_dir(notes, settings) == tmp_path / "abs"
    assert resolve_index_dir(notes, Settings()) == notes / ".lore"


def test_settings_default_to_the_project_lore_toml(notes: Path) -> None:
    (notes / "lore.toml").write_text('[index]\ndir = "custom-index"\n')
    with open_index(notes) as index:
        assert index.index_dir == notes / "custom-index"
        assert index.settings.index.dir == "custom-index"


def test_search_delegates_to_the_engine(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def search_store(store: object, query: str, **kwargs: Any) -> SearchResult:
        calls.append({"store": store, "query": query, **kwargs})
        return SearchResult(["hit"], weak_match=True)  # type: ignore[list-item]

    fake = types.ModuleType("lore.search.engine")
    fake.search_store = search_store  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lore.search.engine", fake)
    with open_index(notes, settings=KEYWORD_ONLY) as index:
        result = index.search("cache", limit=3, filters={"type": ["task"]}, chunks=True,
                              mode="keyword", explain=True)
        assert result == ["hit"] and result.weak_match
        assert any("No strong match" in notice for notice in result.notices)
        assert calls == [{"store": index._store, "query": "cache",
                          "settings": index.settings, "limit": 3,
                          "filters": {"type": ["task"]}, "chunks": True, "explain": True,
                          "mode": "keyword", "vector_leg": None}]


def test_a_search_that_finds_nothing_does_not_call_its_hits_the_nearest(notes: Path) -> None:
    with open_index(notes, settings=KEYWORD_ONLY) as index:
        index.sync()
        result = index.search("zzyzx", mode="keyword")
    assert list(result) == [] and result.weak_match
    assert not any("nearest" in notice for notice in result.notices), result.notices


def test_search_finds_indexed_text(notes: Path) -> None:
    with open_index(notes, settings=KEYWORD_ONLY) as index:
        index.sync()
        hits = index.search("embedding cache", mode="keyword")
        assert hits and hits[0].path == "task.md"


def test_close_closes_the_catalog(notes: Path) -> None:
    index = open_index(notes, settings=KEYWORD_ONLY)
    assert isinstance(index, Index)
    index.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        index.status()


def test_package_exports_open_index_lazily() -> None:
    import subprocess

    import lore

    assert lore.open_index is open_index and lore.Index is Index
    assert {"open_index", "Index"} <= set(lore.__all__)
    code = "import sys, lore; print('lore.index' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def test_a_store_that_is_not_postgres_is_refused(notes: Path) -> None:
    from dataclasses import replace

    from lore.errors import ConfigError

    settings = replace(KEYWORD_ONLY, index=replace(KEYWORD_ONLY.index,
                                                   store="mysql://root:pw@db/x"))
    with pytest.raises(ConfigError, match=r"postgresql://.*'mysql://root:\*\*\*@db/x'|"
                                          r"'mysql://root:\*\*\*@db/x'.*postgresql://"):
        open_index(notes, settings=settings)


SECOND_WRITER = """
import sys
from lore.index import open_index
from lore.settings import EmbedSettings, Settings
with open_index(sys.argv[1], settings=Settings(embed=EmbedSettings(enabled=False))) as index:
    assert index.sync().updated == ["loose.md"]
"""


def test_expand_and_related_read_one_link_graph_per_catalog_state(
        notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from lore.search.graph import LinkGraph

    built: list[int] = []
    resolve = LinkGraph.from_store.__func__   # type: ignore[attr-defined]

    def counted(cls: type[LinkGraph], store: Any) -> LinkGraph:
        built.append(1)
        return resolve(cls, store)

    monkeypatch.setattr(LinkGraph, "from_store", classmethod(counted))
    (notes / "feature.md").write_text("---\nid: PRJ-FTR-0001\ntitle: Embedding cache\n"
                                      "type: Feature\n---\n\nThe cache feature.\n")
    loose = notes / "loose.md"
    loose.write_text("---\nid: PRJ-TSK-0002\ntitle: Zebra crossing\ntype: Task\n---\n\n"
                     "Stripes on the road.\n")

    def expanded(query: str) -> dict[str, tuple[tuple[str, str], ...]]:
        return {h.path: h.via for h in index.search(query, mode="keyword", expand=True)}

    with open_index(notes, settings=KEYWORD_ONLY) as index:
        index.sync()
        for _ in range(3):
            assert expanded("zebra stripes") == {"loose.md": ()}
            assert [n.doc.path for n in index.related("PRJ-FTR-0001")] == ["task.md"]
        assert expanded("feature")["task.md"] == (("child", "PRJ-FTR-0001"),)
        assert len(built) == 1   # one graph for every search and `related` of this state

        # Another process links the loose task to the feature; the open index sees it.
        loose.write_text(loose.read_text().replace("type: Task\n",
                                                   "type: Task\nrelates: [PRJ-FTR-0001]\n"))
        subprocess.run([sys.executable, "-c", SECOND_WRITER, str(notes)], check=True)
        for _ in range(2):
            assert expanded("zebra stripes")["feature.md"] == (("relates", "PRJ-TSK-0002"),)
        assert sorted(n.doc.path for n in index.related("PRJ-FTR-0001")) == ["loose.md",
                                                                             "task.md"]
        assert len(built) == 2

        # This process's own sync unlinks it again.
        loose.write_text(loose.read_text().replace("relates: [PRJ-FTR-0001]\n", ""))
        index.sync()
        assert expanded("zebra stripes") == {"loose.md": ()}
        assert [n.doc.path for n in index.related("PRJ-FTR-0001")] == ["task.md"]
        assert len(built) == 3
