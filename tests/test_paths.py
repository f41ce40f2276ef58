"""User data dir and index dir checks (#14 item 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lore.errors import ConfigError
from lore.index import resolve_index_dir
from lore.paths import check_index_dir, data_dir
from lore.settings import IndexSettings, Settings


@pytest.mark.parametrize("configured", ["/", "", ".", "..", "/proc", "/etc", "/usr",
                                        "/proc/self", "/dev/shm/x"])
def test_index_dir_can_never_be_root_above_it_or_a_system_folder(
        tmp_path: Path, configured: str) -> None:
    root = tmp_path / "notes"
    root.mkdir()
    settings = Settings(index=IndexSettings(dir=configured))
    with pytest.raises(ConfigError, match="index dir .* (system folder|root)"):
        resolve_index_dir(root, settings)


def test_index_dir_flag_is_checked_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="system folder"):
        resolve_index_dir(tmp_path, Settings(), Path("/proc"))
    assert resolve_index_dir(tmp_path, Settings(), tmp_path / "elsewhere") == \
        tmp_path / "elsewhere"


def test_index_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        check_index_dir(tmp_path / "root", tmp_path / "file")


@pytest.mark.parametrize("home", ["/proc/nonexistent", "/proc", "/"])
def test_bad_lore_home_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, home: str) -> None:
    monkeypatch.setenv("LORE_HOME", home)
    with pytest.raises(ConfigError, match="LORE_HOME"):
        data_dir()


def test_lore_home_that_is_a_file_is_refused(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    monkeypatch.setenv("LORE_HOME", str(tmp_path / "f"))
    with pytest.raises(ConfigError, match="not a folder"):
        data_dir()
