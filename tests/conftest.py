"""Shared fixtures: isolated user dirs, the shared data sets, small corpora."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

import os

# ../shared beside the repo; LORE_SHARED points elsewhere (e.g. a clone in /tmp).
SHARED = Path(os.environ.get("LORE_SHARED") or Path(__file__).resolve().parents[2] / "shared")


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point LORE_HOME / LORE_CONFIG at temp paths and clear LORE_* settings."""
    home = tmp_path_factory.mktemp("lore-home")
    for key in list(os.environ):
        if key.startswith("LORE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LORE_HOME", str(home))
    monkeypatch.setenv("LORE_CONFIG", str(home / "config.toml"))
    return home


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared data sets live beside the repo in ../shared")
    return path


@pytest.fixture(scope="session")
def kano_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real kano-backlog corpus, extracted once per test session (read it, don't modify)."""
    tarball = shared_path("corpora", "kano-backlog.tar.gz")
    dest = tmp_path_factory.mktemp("kano")
    with tarfile.open(tarball) as tar:
        tar.extractall(dest, filter="data")
    return dest / "kano-backlog"


@pytest.fixture
def kano_copy(kano_corpus: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the kano corpus for tests that edit files."""
    import shutil

    dest = tmp_path / "kano"
    shutil.copytree(kano_corpus, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def scifact_dir() -> Path:
    """The BEIR SciFact data set in ../shared/datasets/scifact."""
    return shared_path("datasets", "scifact")
