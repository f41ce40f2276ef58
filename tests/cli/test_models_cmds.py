"""`lore models` and `lore models pull` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lore.cli import main
from lore.embed.models import ModelFiles, model_dir
from lore.embed.onnx import OnnxEmbedder
from lore.settings import ProviderSettings


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_listing_shows_providers_and_the_unpulled_default_model() -> None:
    code, out = run("models")
    assert code == 0, out
    assert "providers:" in out and "  onnx: available" in out
    assert "all-MiniLM-L6-v2 (384 dims, Apache-2.0)" in out
    assert "not pulled: run `lore models pull all-MiniLM-L6-v2`" in out


def test_pull_from_a_folder_then_list_as_json(tiny_bert_dir: Path) -> None:
    code, out = run("models", "pull", "tiny", "--from", str(tiny_bert_dir),
                    "--precision", "fp32")
    assert code == 0, out
    files = ModelFiles.load(model_dir("tiny"))
    assert files is not None and files.precisions == ("fp32",)
    space = OnnxEmbedder(files, precision="fp32").space
    assert f"space {space.describe()}" in out
    assert f"sha256 {files.revision('fp32')[:12]}" in out

    code, out = run("models", "--json")
    assert code == 0, out
    listed = {m["name"]: m for m in json.loads(out)["models"]}
    assert listed["tiny"]["pulled"] == ["fp32"] and not listed["tiny"]["catalogue"]
    assert listed["tiny"]["spaces"]["fp32"]["id"] == space.id
    assert listed["all-MiniLM-L6-v2"]["pulled"] == []
    providers = {p["name"] for p in json.loads(out)["providers"]}
    assert {"onnx", "hashing", "sentence-transformers"} <= providers


def test_listed_space_is_the_one_an_index_builds_with_default_settings(
        e5_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """multilingual-e5-small reads 512 tokens, but an index embeds 256: the listing says so."""
    from lore.embed.runner import EmbeddingRunner
    from lore.settings import EmbedSettings

    monkeypatch.setenv("LORE_HOME", str(e5_home))
    code, out = run("models", "--json")
    assert code == 0, out
    listed = {m["name"]: m for m in json.loads(out)["models"]}["multilingual-e5-small"]
    built = EmbeddingRunner.from_settings(EmbedSettings(
        primary=ProviderSettings(model="multilingual-e5-small"), cache=False)).space
    assert listed["max_tokens"] == 512 and built.max_tokens == 256
    assert listed["spaces"]["int8"]["id"] == built.id


def test_pull_json_describes_the_model(tiny_bert_dir: Path) -> None:
    code, out = run("models", "pull", "tiny", "--from", str(tiny_bert_dir), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["pulled"] == ["fp32", "int8"] and data["dimensions"] == 32


def test_pull_of_an_unknown_model_fails_with_advice() -> None:
    code, out = run("models", "pull", "no-such-model")
    assert code == 1
    assert "--from PATH" in out


def test_a_damaged_model_is_flagged_in_the_listing(tiny_bert_dir: Path) -> None:
    assert run("models", "pull", "tiny", "--from", str(tiny_bert_dir),
               "--precision", "fp32")[0] == 0
    (model_dir("tiny") / "manifest.json").write_text("[]")
    code, out = run("models")
    assert code == 0, out
    assert "damaged:" in out and "lore models pull tiny" in out


def test_every_models_command_has_help_with_an_example() -> None:
    for args in (["models", "--help"], ["models", "pull", "--help"]):
        code, out = run(*args)
        assert code == 0 and "Example" in out and "lore models" in out
