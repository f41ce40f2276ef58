"""`lore config`: table, JSON, defaults, paths and error output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lore.cli import main


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A root whose lore.toml sets search.limit; a wide terminal so table rows stay whole."""
    monkeypatch.setenv("COLUMNS", "300")
    (tmp_path / "lore.toml").write_text("[search]\nlimit = 17\n", encoding="utf-8")
    return tmp_path.resolve()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["config", *args], env=env)
    return result.exit_code, result.output


def test_table_shows_key_value_and_origin(project: Path) -> None:
    code, out = run("--root", str(project), env={"LORE_SEARCH__MODE": "vector"})
    assert code == 0, out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "17" in rows["search.limit"]
    assert f"project {project / 'lore.toml'}" in rows["search.limit"]
    assert "env LORE_SEARCH__MODE" in rows["search.mode"]
    assert "default" in rows["embed.primary.model"]


def test_json_gives_settings_and_origins(project: Path) -> None:
    code, out = run("--root", str(project), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["settings"]["search"]["limit"] == 17
    assert data["origins"]["search.limit"] == f"project {project / 'lore.toml'}"
    assert data["origins"]["index.exclude"] == "default"


def test_defaults_ignore_every_layer(project: Path) -> None:
    code, out = run("--root", str(project), "--json", "--defaults",
                    env={"LORE_SEARCH__RRF_K": "5"})
    assert code == 0, out
    data = json.loads(out)
    assert data["settings"]["search"]["limit"] != 17
    assert data["settings"]["search"]["rrf_k"] != 5
    assert set(data["origins"].values()) == {"default"}


def test_path_reports_both_files(project: Path, isolated_user_dirs: Path) -> None:
    (isolated_user_dirs / "config.toml").unlink()
    code, out = run("--root", str(project), "--path")
    assert code == 0, out
    assert f"{isolated_user_dirs / 'config.toml'} (not found)" in out
    assert f"{project / 'lore.toml'} (exists)" in out

    code, out = run("--root", str(project), "--path", "--json")
    data = json.loads(out)
    assert data["project"] == {"path": str(project / "lore.toml"), "exists": True}
    assert data["user"]["exists"] is False


def test_config_error_is_reported_not_raised(project: Path) -> None:
    code, out = run("--root", str(project), env={"LORE_SEARCH__LIMIT": "ten"})
    assert code == 1
    assert "LORE_SEARCH__LIMIT" in out
    assert "expected an integer, got 'ten'" in out


def test_help_has_an_example() -> None:
    code, out = run("--help")
    assert code == 0
    assert "Examples:" in out
    assert "lore config --root ~/notes --json" in out


def test_settings_from_a_file_cannot_write_escape_sequences(tmp_path: Path) -> None:
    (tmp_path / "lore.toml").write_text('[index]\ndir = ".lore\\u001b]52;c;AAAA\\u0007x"\n')
    result = CliRunner().invoke(main, ["config", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert ".lore" in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
