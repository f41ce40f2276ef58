"""Registry: builtin names, entry points, lazy resolution, availability checks."""

from __future__ import annotations

import importlib.metadata
import sys

import pytest

from lore.embed import registry
from lore.embed.base import Embedder
from lore.embed.hashing import HashingEmbedder
from lore.errors import ConfigError, MissingDependencyError, UnknownEmbedderError
from lore.settings import ProviderSettings


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, **targets: str) -> None:
    eps = [importlib.metadata.EntryPoint(name, value, registry.ENTRY_POINT_GROUP)
           for name, value in targets.items()]

    def entry_points(*, group: str) -> list[importlib.metadata.EntryPoint]:
        return [ep for ep in eps if ep.group == group]

    monkeypatch.setattr(registry.importlib.metadata, "entry_points", entry_points)


def test_builtin_names_map_to_import_paths() -> None:
    for name in ("hashing", "onnx", "sentence-transformers", "openai", "ollama", "sagemaker"):
        module, _, attr = registry.PROVIDERS[name].partition(":")
        assert module.startswith("lore.embed.") and attr


def test_get_embedder_builds_hashing_from_settings() -> None:
    embedder = registry.get_embedder(ProviderSettings(provider="hashing", dimensions=64))
    assert isinstance(embedder, HashingEmbedder)
    assert isinstance(embedder, Embedder)
    assert embedder.dimensions == 64


def test_unknown_name_lists_known_providers() -> None:
    with pytest.raises(UnknownEmbedderError) as err:
        registry.get_embedder(ProviderSettings(provider="no-such-thing"))
    message = str(err.value)
    assert "no-such-thing" in message
    for name in registry.PROVIDERS:
        assert name in message


def test_entry_point_provider_is_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, **{"demo-hash": "lore.embed.hashing:HashingEmbedder"})
    embedder = registry.get_embedder(ProviderSettings(provider="demo-hash", dimensions=32))
    assert embedder.dimensions == 32
    assert "demo-hash" in registry.registered_providers()


def test_entry_point_cannot_shadow_a_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, hashing="lore.embed.base:EmbeddingSpace")
    assert registry.registered_providers()["hashing"] == registry.PROVIDERS["hashing"]


def test_provider_without_from_settings_is_a_config_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, bare="lore.embed.base:EmbeddingSpace")
    with pytest.raises(ConfigError, match="from_settings"):
        registry.get_embedder(ProviderSettings(provider="bare"))


def test_unimportable_provider_module_is_a_missing_dependency(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, ghost="lore_no_such_module_xyz:Embedder")
    with pytest.raises(MissingDependencyError, match="lore_no_such_module_xyz"):
        registry.get_embedder(ProviderSettings(provider="ghost"))


def test_available_providers_reports_missing_extra_without_importing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    infos = {info.name: info for info in registry.available_providers()}
    assert set(registry.PROVIDERS) <= set(infos)
    assert infos["hashing"].available and infos["hashing"].reason == ""
    assert not infos["sagemaker"].available
    assert "lore[sagemaker]" in infos["sagemaker"].reason


def test_available_providers_flags_an_absent_provider_module(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, ghost="lore_no_such_module_xyz:Embedder")
    infos = {info.name: info for info in registry.available_providers()}
    assert not infos["ghost"].available
    assert "lore_no_such_module_xyz" in infos["ghost"].reason


def test_offline_setting_reaches_providers_that_take_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from lore.embed.chain import build_embedder
    from lore.settings import EmbedSettings

    seen: list[object] = []

    class Local(HashingEmbedder):
        @classmethod
        def from_settings(cls, p: ProviderSettings, *, offline: bool = False) -> Local:
            seen.append(offline)
            return cls(dimensions=8)

    monkeypatch.setattr(registry, "resolve_provider", lambda name: Local)
    build_embedder(EmbedSettings(primary=ProviderSettings(provider="local"), offline=True))
    build_embedder(EmbedSettings(primary=ProviderSettings(provider="local")))
    assert seen == [True, False]   # always told: the setting is the one source
