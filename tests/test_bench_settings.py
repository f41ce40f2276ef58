"""The bench scripts load lore's settings as ``lore eval`` does, so ``LORE_*`` overrides reach
them, and what a script fixes for its measurement is set over the overrides.

Every script builds its settings through ``bench/_shared.py``'s ``lore_settings`` (checked
on the source of every ``bench/*.py``); each script's settings-building function is called;
nothing is indexed or embedded.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import lore.settings
from lore.config import flatten_settings

BENCH = Path(__file__).resolve().parents[1] / "bench"
# What builds settings other than the helper: the loader itself, and every settings class.
BUILDERS = frozenset({"load_settings", "default_settings"} | {
    name for name, obj in vars(lore.settings).items()
    if isinstance(obj, type) and dataclasses.is_dataclass(obj)})

# script -> its settings as its main() builds them (flags at their defaults where it takes any)
SETTINGS_OF: dict[str, Callable[[ModuleType], Any]] = {
    "chinese_fold_bench": lambda m: m.bench_settings(),
    "embed_bench": lambda m: m.settings_for("onnx-fp32", 2),
    "index_bench": lambda m: m.bench_settings(),
    "index_profile_bench": lambda m: m.bench_settings(),
    "keyword_ablation": lambda m: m.bench_settings(),
    "models_bench": lambda m: m.settings_for("multilingual-e5-small", "int8", 2),
    "onnx_ops_profile": lambda m: m.profile_settings(None),
    "peers": lambda m: m.bench_settings("fp32"),
    "postgres_bench": lambda m: m.settings_for("hashing"),
    "query_bench": lambda m: m.keyword_settings(None),
    "robustness_bench": lambda m: m.fault_settings("http://127.0.0.1:9/v1"),
}


def settings_builders(source: str) -> Iterator[tuple[int, str]]:
    """(line, name) of every call or import in ``source`` that builds settings itself."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "lore.config":
            yield from ((node.lineno, a.name) for a in node.names if a.name in BUILDERS)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else \
                func.attr if isinstance(func, ast.Attribute) else ""
            if name in BUILDERS:
                yield node.lineno, name


def test_the_check_finds_settings_built_in_code() -> None:
    source = ("from lore.config import load_settings\n"
              "from lore import settings as s\n"
              "a = s.Settings(embed=s.EmbedSettings(enabled=False))\n"
              "b = ProviderSettings().max_tokens\n")
    assert sorted(settings_builders(source)) == [
        (1, "load_settings"), (3, "EmbedSettings"), (3, "Settings"), (4, "ProviderSettings")]


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("*.py")
                                          if p.name != "_shared.py"))
def test_every_bench_script_builds_its_settings_through_the_helper(script: str) -> None:
    found = list(settings_builders((BENCH / script).read_text(encoding="utf-8")))
    assert not found, (
        f"bench/{script} builds settings itself ({found}), so LORE_* variables and the config "
        "file would not reach it or not be printed: call _shared.lore_settings(root, "
        "fixed={...}) with what the measurement must fix")


def test_the_helper_prints_every_value_that_is_not_a_default(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    shared = importlib.import_module("_shared")
    monkeypatch.setattr(shared, "_SHOWN", set())
    monkeypatch.setenv("LORE_SEARCH__DOCUMENT_SHARE", "0.7")
    settings = shared.lore_settings(fixed={"embed.cache": False,
                                           "index.store": "postgresql://me:secret@db/lore"})
    assert (settings.search.document_share, settings.embed.cache) == (0.7, False)
    printed = capsys.readouterr()
    assert "search.document_share=0.7 (env LORE_SEARCH__DOCUMENT_SHARE)" in printed.err
    assert "embed.cache=False (fixed by this bench)" in printed.err
    assert "postgresql://me:***@db/lore" in printed.err and "secret" not in printed.err
    assert printed.out == ""   # a script's own output (tables, --json) stays clean
    shared.lore_settings(fixed={"embed.cache": False,
                                "index.store": "postgresql://me:secret@db/lore"})
    assert capsys.readouterr().err == ""   # the same line is printed once


def script_settings(script: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(BENCH))
    return SETTINGS_OF[script](importlib.import_module(script))


@pytest.mark.parametrize("script", sorted(SETTINGS_OF))
def test_a_lore_variable_reaches_the_scripts_settings(script: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LORE_SEARCH__DOCUMENT_SHARE", "0.7")
    monkeypatch.setenv("LORE_CHUNKING__MAX_TOKENS", "192")
    monkeypatch.setenv("LORE_EMBED__PRIMARY__QUERY_PREFIX", "query: ")
    settings = script_settings(script, monkeypatch)
    assert settings.search.document_share == 0.7
    assert settings.chunking.max_tokens == 192
    assert settings.embed.primary.query_prefix == "query: "


def test_the_user_config_file_reaches_the_scripts_settings(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[search]\nproximity_weight = 0.25\n")
    monkeypatch.setenv("LORE_CONFIG", str(config))
    for script in SETTINGS_OF:
        assert script_settings(script, monkeypatch).search.proximity_weight == 0.25, script


@pytest.mark.parametrize(("script", "fixed"), [
    ("embed_bench", {"embed.primary.provider": "onnx", "embed.primary.model": "all-MiniLM-L6-v2",
                     "embed.primary.model_path": None, "embed.primary.precision": "fp32",
                     "embed.primary.threads": 2, "embed.primary.max_tokens": 256}),
    ("index_profile_bench", {"embed.cache": False}),
    ("keyword_ablation", {"embed.enabled": False}),
    ("models_bench", {"embed.cache": False, "embed.primary.model": "multilingual-e5-small",
                      "embed.primary.precision": "int8", "embed.primary.threads": 2,
                      "embed.primary.max_tokens": 256}),
    ("peers", {"embed.primary.provider": "onnx", "embed.primary.model": "all-MiniLM-L6-v2",
               "embed.primary.precision": "fp32"}),
    ("postgres_bench", {"index.store": "", "index.store_name": "", "embed.cache": True,
                        "embed.primary.provider": "hashing", "embed.primary.dimensions": 256}),
    ("query_bench", {"embed.enabled": False}),
    ("robustness_bench", {"embed.primary.provider": "openai", "embed.primary.model": "fake",
                          "embed.primary.base_url": "http://127.0.0.1:9/v1",
                          "embed.primary.dimensions": 16, "embed.primary.timeout_s": 0.5,
                          "embed.primary.batch_size": 4}),
])
def test_what_a_script_fixes_wins_over_the_environment(script: str, fixed: dict[str, object],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in fixed.items():   # a LORE_* variable asking for something else
        monkeypatch.setenv("LORE_" + key.upper().replace(".", "__"), other_than(key, value))
    flat = flatten_settings(script_settings(script, monkeypatch))
    assert {key: flat[key] for key in fixed} == fixed


def other_than(key: str, value: object) -> str:
    """A valid environment value for ``key`` that differs from ``value``."""
    if isinstance(value, bool):
        return str(not value).lower()
    if isinstance(value, int | float):
        return str(value + 1)
    if key.endswith("precision"):
        return "int8" if value == "fp32" else "fp32"
    return f"/elsewhere/{value}" if key.endswith("model_path") or value is None \
        else f"other-{value}"
