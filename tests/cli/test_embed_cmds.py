"""`lore embed`, `lore doctor`, `lore cache` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lore.cli import main
from lore.embed.cache import EmbeddingCache
from lore.embed.hashing import HashingEmbedder


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project whose lore.toml selects the hashing provider (no model files needed)."""
    (tmp_path / "lore.toml").write_text(
        '[embed.primary]\nprovider = "hashing"\ndimensions = 48\nquery_prefix = "q: "\n')
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_embed_prints_space_dims_and_shortened_vectors(root: Path) -> None:
    code, out = run("embed", "vector cache", "adr storage", "--root", str(root))
    assert code == 0, out
    space = HashingEmbedder(48, query_prefix="q: ").space
    assert f"space: {space.describe()}" in out
    assert "dimensions: 48" in out
    assert out.count("...") == 2 and "norm 1.000" in out


def test_embed_json_has_full_vectors_matching_the_library(root: Path) -> None:
    code, out = run("embed", "vector cache", "--kind", "document", "--json", "--root", str(root))
    assert code == 0, out
    payload = json.loads(out)
    assert payload["kind"] == "document" and payload["space"]["dimensions"] == 48
    vector = np.array(payload["vectors"][0]["vector"], dtype=np.float32)
    expected = HashingEmbedder(48).embed(["vector cache"], "document")[0]
    np.testing.assert_allclose(vector, expected, atol=1e-6)


def test_embed_query_uses_the_configured_prefix(root: Path) -> None:
    q = json.loads(run("embed", "x y", "--json", "--root", str(root))[1])
    d = json.loads(run("embed", "x y", "--kind", "document", "--json", "--root", str(root))[1])
    assert q["vectors"][0]["vector"] != d["vectors"][0]["vector"]


def test_provider_flag_overrides_the_configured_one(tmp_path: Path) -> None:
    code, out = run("embed", "hi", "--provider", "hashing", "--json", "--root", str(tmp_path))
    assert code == 0, out
    assert json.loads(out)["space"]["provider"] == "hashing"


def test_unknown_provider_is_a_clean_error(tmp_path: Path) -> None:
    code, out = run("embed", "hi", "--provider", "nope", "--root", str(tmp_path))
    assert code == 1
    assert "No embedding provider named 'nope'" in out and "Traceback" not in out


def test_embed_fills_the_shared_cache(root: Path) -> None:
    run("embed", "cached words", "--root", str(root))
    assert EmbeddingCache().stats().total_entries == 1


def test_doctor_reports_a_working_primary(root: Path) -> None:
    code, out = run("doctor", "--json", "--root", str(root))
    assert code == 0, out
    report = json.loads(out)
    primary = report["configured"][0]
    assert primary["ok"] and primary["provider"] == "hashing"
    assert primary["embed_ms"] is not None and primary["space"]["dimensions"] == 48
    assert {"hashing", "onnx", "openai"} <= {i["name"] for i in report["installed"]}
    assert report["cache"]["enabled"] is True


def test_doctor_fails_with_status_1_and_the_reason(tmp_path: Path,
                                                   isolated_user_dirs: Path) -> None:
    # The user's own config may choose a remote provider (a project's may not, untrusted).
    (isolated_user_dirs / "config.toml").write_text('[embed.primary]\nprovider = "openai"\n')
    code, out = run("doctor", "--root", str(tmp_path))
    assert code == 1
    assert "FAIL" in out and "dimensions" in out


def test_cache_stats_and_clear(root: Path) -> None:
    run("embed", "one", "two", "--root", str(root))
    space_id = HashingEmbedder(48, query_prefix="q: ").space.id
    code, out = run("cache", "stats", "--json")
    assert code == 0 and json.loads(out)["entries"] == {space_id: 2}
    code, out = run("cache", "clear", "--space", "other")
    assert code == 1 and "no space 'other'" in out
    code, out = run("cache", "clear", "--space", space_id)
    assert "removed 2" in out
    assert EmbeddingCache().stats().total_entries == 0


@pytest.mark.parametrize("command", [["embed"], ["doctor"], ["cache"], ["cache", "stats"],
                                     ["cache", "clear"]])
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    code, out = run(*command, "--help")
    assert code == 0 and "Example" in out


def test_cache_clear_of_an_unknown_space_lists_the_known_ones(root: Path) -> None:
    assert run("embed", "warm the cache", "--root", str(root))[0] == 0
    known = next(iter(EmbeddingCache().stats().entries))
    code, out = run("cache", "clear", "--space", "deadbeef")
    assert code == 1
    assert "no space 'deadbeef'" in out and known in out
    assert EmbeddingCache().stats().entries[known] >= 1    # nothing was removed
    assert run("cache", "clear", "--space", known)[0] == 0


def test_doctor_passes_the_configured_offline_flag_to_providers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`[embed] offline = true` in a file (not only the env) must stop model downloads."""
    from lore.embed import registry

    seen: list[object] = []
    real = registry.get_embedder

    def spy(p: object, *, offline: bool | None = None) -> object:
        seen.append(offline)
        return real(p, offline=offline)  # type: ignore[arg-type]

    monkeypatch.setattr(registry, "get_embedder", spy)
    (tmp_path / "lore.toml").write_text(
        '[embed]\noffline = true\n[embed.primary]\nprovider = "hashing"\n')
    code, out = run("doctor", "--root", str(tmp_path))
    assert code == 0, out
    assert seen == [True]


def test_cache_counts_say_vector_for_one(root: Path) -> None:
    assert run("embed", "one text", "--root", str(root))[0] == 0
    known = next(iter(EmbeddingCache().stats().entries))
    code, out = run("cache", "stats")
    assert code == 0 and "MB, 1 vector)" in out and "1 vectors" not in out
    code, out = run("cache", "clear", "--space", "deadbeef")
    assert code == 1 and f"{known} (1 vector)" in out
    code, out = run("cache", "clear", "--space", known)
    assert code == 0 and "removed 1 cached vector (" in out
