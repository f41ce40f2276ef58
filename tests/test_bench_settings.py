"""The bench scripts load lore's settings as ``lore eval`` does, so ``LORE_*`` overrides reach
them, and what a script fixes for its measurement is set over the overrides.

Each script's settings-building function is called; nothing is indexed or embedded.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"

# script -> its settings as its main() builds them (flags at their defaults where it takes any)
SETTINGS_OF: dict[str, Callable[[ModuleType], Any]] = {
    "chinese_fold_bench": lambda m: m.bench_settings(),
    "index_bench": lambda m: m.bench_settings(),
    "index_profile_bench": lambda m: m.bench_settings(),
    "keyword_ablation": lambda m: m.bench_settings(),
    "models_bench": lambda m: m.settings_for("multilingual-e5-small", "int8", 2),
    "peers": lambda m: m.bench_settings("fp32"),
}


def script_settings(script: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(BENCH))
    return SETTINGS_OF[script](importlib.import_module(script))


@pytest.mark.parametrize("script", sorted(SETTINGS_OF))
def test_a_lore_variable_reaches_the_scripts_settings(script: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LORE_SEARCH__DOCUMENT_SHARE", "0.7")
    monkeypatch.setenv("LORE_CHUNKING__MAX_TOKENS", "192")
    monkeypatch.setenv("LORE_EMBED__PRIMARY__BATCH_SIZE", "7")
    settings = script_settings(script, monkeypatch)
    assert settings.search.document_share == 0.7
    assert settings.chunking.max_tokens == 192
    assert settings.embed.primary.batch_size == 7


def test_the_user_config_file_reaches_the_scripts_settings(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[search]\nproximity_weight = 0.25\n")
    monkeypatch.setenv("LORE_CONFIG", str(config))
    for script in SETTINGS_OF:
        assert script_settings(script, monkeypatch).search.proximity_weight == 0.25, script


@pytest.mark.parametrize(("script", "fixed"), [
    ("index_profile_bench", {"cache": False}),
    ("keyword_ablation", {"enabled": False}),
    ("models_bench", {"cache": False, "model": "multilingual-e5-small", "precision": "int8",
                      "threads": 2, "max_tokens": 256}),
    ("peers", {"provider": "onnx", "model": "all-MiniLM-L6-v2", "precision": "fp32"}),
])
def test_what_a_script_fixes_wins_over_the_environment(script: str, fixed: dict[str, object],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"ENABLED": "true", "CACHE": "true", "PRIMARY__PROVIDER": "hashing",
                       "PRIMARY__MODEL": "all-mpnet-base-v2", "PRIMARY__THREADS": "5",
                       "PRIMARY__MAX_TOKENS": "128"}.items():
        monkeypatch.setenv(f"LORE_EMBED__{key}", value)
    # the opposite of the precision the script is given
    monkeypatch.setenv("LORE_EMBED__PRIMARY__PRECISION", "int8" if script == "peers" else "fp32")
    embed = script_settings(script, monkeypatch).embed
    found = {key: getattr(embed if key in ("cache", "enabled") else embed.primary, key)
             for key in fixed}
    assert found == fixed
