"""Pulling, installing and checking local models (a tiny random BERT stands in for real weights)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lore import paths
from lore.embed import models
from lore.embed.models import (
    CATALOGUE,
    ModelFiles,
    ModelSpec,
    ensure_model,
    model_dir,
    pull_model,
    pulled_models,
    sha256_file,
)
from lore.errors import ConfigError, ModelNotFoundError


@pytest.fixture
def tiny_spec(tiny_bert_dir: Path, monkeypatch: pytest.MonkeyPatch) -> ModelSpec:
    """A catalogue entry for the tiny model, installed as a fake package."""
    spec = ModelSpec(name="tiny", package="tiny-bert-pkg", version="0.1",
                     wheel_folder="tiny_bert_pkg/model", hub_id="example/tiny",
                     weights_sha256=sha256_file(tiny_bert_dir / "model.safetensors"),
                     dimensions=32, license="MIT", query_prefix="q: ")
    monkeypatch.setitem(CATALOGUE, "tiny", spec)
    return spec


def test_pull_from_a_folder_converts_and_records_checksums(tiny_bert_dir: Path) -> None:
    steps: list[str] = []
    files = pull_model("tiny", "all", tiny_bert_dir, steps.append)
    assert files.dir == paths.models_dir() / "tiny"
    assert files.precisions == ("fp32", "int8")
    assert (files.hidden_size, files.pooling, files.max_tokens, files.max_positions) == (
        32, "mean", 48, 64)
    assert files.source == f"path:{tiny_bert_dir}"
    assert files.weights_sha256 == sha256_file(tiny_bert_dir / "model.safetensors")
    for name, digest in files.files.items():
        assert sha256_file(files.dir / name) == digest
    assert ModelFiles.load(files.dir) == files
    assert steps[-1] == "done" and any("int8" in s for s in steps)


def test_catalogue_prefixes_and_license_are_recorded(tiny_spec: ModelSpec,
                                                     tiny_bert_dir: Path) -> None:
    files = pull_model("tiny", "fp32", tiny_bert_dir)
    assert (files.query_prefix, files.license) == ("q: ", "MIT")


def test_pulling_another_precision_keeps_the_first(tiny_bert_dir: Path) -> None:
    pull_model("tiny", "int8", tiny_bert_dir)
    files = pull_model("tiny", "fp32", tiny_bert_dir)
    assert files.precisions == ("fp32", "int8")
    assert (files.dir / "model.int8.onnx").is_file()


def test_a_complete_model_is_not_converted_again(tiny_bert_dir: Path, tmp_path: Path) -> None:
    from _tiny_bert import write_tiny_bert

    first = pull_model("tiny", "fp32", tiny_bert_dir)
    mtime = (first.dir / "model.fp32.onnx").stat().st_mtime_ns
    steps: list[str] = []
    assert pull_model("tiny", "fp32", tiny_bert_dir, steps.append) == first
    assert steps[-1] == "already pulled"
    assert (first.dir / "model.fp32.onnx").stat().st_mtime_ns == mtime
    forced = pull_model("tiny", "fp32", tiny_bert_dir, force=True)
    assert (forced.dir / "model.fp32.onnx").stat().st_mtime_ns != mtime
    other = pull_model("tiny", "fp32", write_tiny_bert(tmp_path / "other", seed=2))
    assert other.weights_sha256 != first.weights_sha256     # other weights: converted


def test_a_complete_catalogue_model_is_kept_without_looking_for_weights(
        tiny_spec: ModelSpec, tiny_bert_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pull_model("tiny", "fp32", tiny_bert_dir)

    def no_lookup(*args: object, **kwargs: object) -> None:
        raise AssertionError("weights were looked for")

    monkeypatch.setattr("lore.embed.model_sources.locate", no_lookup)
    steps: list[str] = []
    assert pull_model("tiny", "fp32", progress=steps.append).precisions == ("fp32",)
    assert steps == ["already pulled"]


def test_a_damaged_file_fails_verification_and_pull_repairs_it(tiny_bert_dir: Path) -> None:
    files = pull_model("tiny", "fp32", tiny_bert_dir)
    files.verify("fp32")
    with (files.dir / "model.fp32.onnx").open("r+b") as fh:
        fh.seek(200)
        fh.write(b"\x00\x01\x02")
    with pytest.raises(ModelNotFoundError, match="Re-run `lore models pull tiny`"):
        files.verify("fp32")
    repaired = pull_model("tiny", "fp32", tiny_bert_dir)
    repaired.verify("fp32")


def test_a_fresh_pull_is_not_hashed_again_on_first_load(
        tiny_bert_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = pull_model("tiny", "fp32", tiny_bert_dir)

    def no_hashing(path: Path) -> str:
        raise AssertionError(f"{path} was hashed again")

    monkeypatch.setattr(models, "sha256_file", no_hashing)
    files.verify("fp32")


def test_a_missing_file_fails_verification(tiny_bert_dir: Path) -> None:
    files = pull_model("tiny", "fp32", tiny_bert_dir)
    (files.dir / "tokenizer.json").unlink()
    with pytest.raises(ModelNotFoundError, match="tokenizer.json is missing"):
        files.verify("fp32")


def test_an_unreadable_manifest_is_reported(tiny_bert_dir: Path) -> None:
    files = pull_model("tiny", "fp32", tiny_bert_dir)
    (files.dir / "manifest.json").write_text("{not json")
    with pytest.raises(ModelNotFoundError, match="lore models pull tiny"):
        ModelFiles.load(files.dir)
    listing = pulled_models()
    assert isinstance(listing["tiny"], ModelNotFoundError)


def test_pulled_models_lists_folders_with_a_manifest(tiny_bert_dir: Path) -> None:
    assert pulled_models() == {}
    pull_model("tiny", "fp32", tiny_bert_dir)
    (paths.models_dir() / "stray-folder").mkdir()
    assert list(pulled_models()) == ["tiny"]


def test_a_failed_pull_leaves_no_half_written_model(tiny_bert_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ConfigError("conversion exploded")

    monkeypatch.setattr("lore.embed.onnx_convert.convert", broken)
    with pytest.raises(ConfigError, match="exploded"):
        pull_model("tiny", "fp32", tiny_bert_dir)
    assert os.listdir(paths.models_dir()) == []


def test_unknown_names_and_precisions_are_refused(tiny_bert_dir: Path) -> None:
    with pytest.raises(ConfigError, match="--from PATH"):
        pull_model("not-in-catalogue")
    with pytest.raises(ConfigError, match="fp32, int8"):
        pull_model("tiny", "fp16", tiny_bert_dir)
    with pytest.raises(ConfigError, match="cannot name a folder"):
        model_dir("../escape")


def test_ensure_model_without_auto_pull_names_the_command() -> None:
    with pytest.raises(ModelNotFoundError,
                       match=r"run `lore models pull all-MiniLM-L6-v2 --precision int8`"):
        ensure_model("all-MiniLM-L6-v2", "int8", auto_pull=False)


def test_ensure_model_pulls_a_catalogue_model_on_first_use(
        tiny_spec: ModelSpec, tiny_bert_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def installed(spec: ModelSpec, workdir: Path, offline: bool,
                  report: models.Progress) -> tuple[Path, str]:
        seen.append(offline)
        return tiny_bert_dir, "installed:test"

    monkeypatch.setattr("lore.embed.model_sources._installed", installed)
    files = ensure_model("tiny", "int8", offline=True)
    assert files.precisions == ("int8",) and files.source == "installed:test"
    assert seen == [True]
    assert ensure_model("tiny", "int8") == files      # second use: no pull
    assert seen == [True]


def test_weights_that_differ_from_the_pin_are_refused_from_automatic_sources(
        tiny_spec: ModelSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from _tiny_bert import write_tiny_bert

    other = write_tiny_bert(tmp_path / "other", seed=1)
    monkeypatch.setattr("lore.embed.model_sources._installed",
                        lambda spec, workdir, offline, report: (other, "installed:test"))
    with pytest.raises(ModelNotFoundError, match="not the expected model"):
        pull_model("tiny", "fp32")


def test_weights_that_differ_from_the_pin_are_converted_when_given_explicitly(
        tiny_spec: ModelSpec, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from _tiny_bert import write_tiny_bert

    other = write_tiny_bert(tmp_path / "other", seed=1)
    files = pull_model("tiny", "fp32", other)
    assert files.weights_sha256 != tiny_spec.weights_sha256
    assert "pinned to" in caplog.text


def test_manifest_is_plain_json_without_the_folder(tiny_bert_dir: Path) -> None:
    files = pull_model("tiny", "fp32", tiny_bert_dir)
    manifest = json.loads((files.dir / "manifest.json").read_text())
    assert manifest["format"] == models.FORMAT
    assert "dir" not in manifest
    assert set(manifest["files"]) == {"config.json", "model.fp32.onnx", "tokenizer.json"}


def test_switching_model_is_estimated_from_the_measured_speed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from lore.embed.models import switch_notice

    slow = replace(CATALOGUE["all-mpnet-base-v2"], passages_per_s=2.0)
    monkeypatch.setitem(CATALOGUE, "all-mpnet-base-v2", slow)
    assert switch_notice("all-mpnet-base-v2", 1200) == (
        "the new space needs 1,200 chunks embedded with all-mpnet-base-v2: up to about 10 min "
        "at 2 passages/s (measured on 2 cores; shorter chunks go faster)")
    assert switch_notice("my-own-model", 5) == "the new space needs 5 chunks embedded with my-own-model"


def test_every_catalogue_model_says_what_it_is_for() -> None:
    for spec in CATALOGUE.values():
        assert spec.good_for and spec.languages and spec.dimensions in (384, 768)
        assert len(spec.requirements) == spec.parts
