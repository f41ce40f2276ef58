"""Layered settings: precedence, provenance, coercion and the errors for bad input."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from lore.config import (
    LoadedSettings,
    default_settings,
    flatten_settings,
    load_settings,
    settings_to_dict,
)
from lore.errors import ConfigError
from lore.settings import ProviderSettings, Settings


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, *, user: str = "", project: str | None = None,
         env: dict[str, str] | None = None,
         flags: dict[str, object] | None = None) -> LoadedSettings:
    """Load with a user file and (optionally) a project file under ``tmp_path``."""
    user_file = write(tmp_path / "user" / "config.toml", user)
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    if project is not None:
        write(root / "lore.toml", project)
    return load_settings(root, flags=flags, env=env or {}, user_file=user_file)


def test_defaults_when_no_layer_sets_anything(tmp_path: Path) -> None:
    loaded = load(tmp_path)
    assert loaded.settings == Settings()
    assert set(loaded.origins.values()) == {"default"}
    assert set(loaded.origins) == set(flatten_settings(Settings()))
    assert {"search.limit", "embed.primary.model", "index.exclude"} <= set(loaded.origins)
    assert default_settings() == loaded


def test_each_layer_overrides_the_one_below(tmp_path: Path) -> None:
    user = "[search]\nlimit = 1\nrrf_k = 1\ncandidates = 1\nid_weight = 1.5\n"
    project = "[search]\nlimit = 2\nrrf_k = 2\ncandidates = 2\n"
    env = {"LORE_SEARCH__LIMIT": "3", "LORE_SEARCH__RRF_K": "3"}
    loaded = load(tmp_path, user=user, project=project, env=env, flags={"search.limit": 4})

    search = loaded.settings.search
    assert (search.limit, search.rrf_k, search.candidates, search.id_weight) == (4, 3, 2, 1.5)
    user_file = tmp_path / "user" / "config.toml"
    project_file = tmp_path / "project" / "lore.toml"
    assert loaded.origins["search.limit"] == "flag"
    assert loaded.origins["search.rrf_k"] == "env LORE_SEARCH__RRF_K"
    assert loaded.origins["search.candidates"] == f"project {project_file}"
    assert loaded.origins["search.id_weight"] == f"user config {user_file}"
    assert loaded.origins["search.mode"] == "default"


def test_user_file_defaults_to_lore_config(isolated_user_dirs: Path) -> None:
    user_file = write(isolated_user_dirs / "config.toml", "[index]\nexclude = ['drafts/**']\n")
    loaded = load_settings(None, env={})
    assert loaded.settings.index.exclude == ("drafts/**",)
    assert loaded.origins["index.exclude"] == f"user config {user_file}"


def test_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LORE_SEARCH__MODE", "keyword")
    loaded = load_settings(None)
    assert loaded.settings.search.mode == "keyword"
    assert loaded.origins["search.mode"] == "env LORE_SEARCH__MODE"


def test_nested_provider_and_fallback_array_of_tables(tmp_path: Path) -> None:
    project = """
[embed.primary]
provider = "hashing"
dimensions = 64

[[embed.fallback]]
provider = "sentence-transformers"
model = "other"

[[embed.fallback]]
precision = "int8"
"""
    loaded = load(tmp_path, project=project)
    embed = loaded.settings.embed
    assert embed.primary == ProviderSettings(provider="hashing", dimensions=64)
    assert embed.fallback == (ProviderSettings(provider="sentence-transformers", model="other"),
                              ProviderSettings(precision="int8"))
    assert loaded.origins["embed.primary.dimensions"].startswith("project ")
    assert loaded.origins["embed.primary.model"] == "default"
    assert loaded.origins["embed.fallback"].startswith("project ")


def test_env_nested_keys_and_value_syntax(tmp_path: Path) -> None:
    env = {
        "LORE_EMBED__PRIMARY__MODEL": "bge-small",
        "LORE_EMBED__PRIMARY__DIMENSIONS": "384",
        "LORE_EMBED__PRIMARY__TIMEOUT_S": "2.5",
        "LORE_EMBED__OFFLINE": "yes",
        "LORE_INDEX__EXCLUDE": "drafts/**, tmp/ ,",
        "LORE_INDEX__INCLUDE": '["*.md", "*.txt"]',
        "LORE_SEARCH__DOCTYPE_BOOSTS": '{"ADR": 1.5, "Task": 2}',
        "LORE_EMBED__FALLBACK": '[{"provider": "hashing", "dimensions": 32}]',
        "LORE_HOME": "/not/a/setting",  # no "__": belongs to lore.paths, ignored here
    }
    loaded = load(tmp_path, env=env)
    s = loaded.settings
    assert (s.embed.primary.model, s.embed.primary.dimensions) == ("bge-small", 384)
    assert s.embed.primary.timeout_s == 2.5
    assert s.embed.offline is True
    assert s.index.exclude == ("drafts/**", "tmp/")
    assert s.index.include == ("*.md", "*.txt")
    assert s.search.doctype_boosts == {"ADR": 1.5, "Task": 2.0}
    assert s.embed.fallback == (ProviderSettings(provider="hashing", dimensions=32),)
    assert loaded.origins["embed.primary.model"] == "env LORE_EMBED__PRIMARY__MODEL"


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("1", True), ("YES", True), ("on", True),
    ("false", False), ("0", False), ("no", False), ("Off", False),
])
def test_env_booleans(tmp_path: Path, text: str, expected: bool) -> None:
    loaded = load(tmp_path, env={"LORE_EMBED__CACHE": text})
    assert loaded.settings.embed.cache is expected


def test_env_empty_value_unsets_an_optional_field(tmp_path: Path) -> None:
    loaded = load(tmp_path, project="[embed.primary]\nthreads = 4\n",
                  env={"LORE_EMBED__PRIMARY__THREADS": ""})
    assert loaded.settings.embed.primary.threads is None
    assert loaded.origins["embed.primary.threads"] == "env LORE_EMBED__PRIMARY__THREADS"


def test_flags_parse_strings_and_skip_none(tmp_path: Path) -> None:
    loaded = load(tmp_path, project="[search]\nlimit = 7\n",
                  flags={"search.limit": None, "search.mode": "vector",
                         "index.exclude": ("a", "b"), "search.keyword_weight": "0.5"})
    assert loaded.settings.search.limit == 7
    assert loaded.settings.search.mode == "vector"
    assert loaded.settings.index.exclude == ("a", "b")
    assert loaded.settings.search.keyword_weight == 0.5


@pytest.mark.parametrize("layer", ["user", "project"])
def test_unknown_key_in_a_file_names_the_file_key_and_spelling(tmp_path: Path,
                                                                layer: str) -> None:
    text = "[search]\nlimt = 3\n"
    user, project = (text, None) if layer == "user" else ("", text)
    with pytest.raises(ConfigError) as err:
        load(tmp_path, user=user, project=project)
    message = str(err.value)
    filename = "config.toml" if layer == "user" else "lore.toml"
    assert filename in message
    assert "'search.limt'" in message
    assert "did you mean 'limit'?" in message


def test_unknown_key_in_env_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LORE_EMBED__PRIMARY__MODLE") as err:
        load(tmp_path, env={"LORE_EMBED__PRIMARY__MODLE": "x"})
    assert "did you mean 'model'?" in str(err.value)


def test_unknown_section_and_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'search'"):
        load(tmp_path, env={"LORE_SERACH__LIMIT": "3"})
    with pytest.raises(ConfigError, match="flag 'search.limitt'"):
        load(tmp_path, flags={"search.limitt": 3})


def test_top_level_key_points_to_its_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'search.limit'"):
        load(tmp_path, project="limit = 3\n")


@pytest.mark.parametrize(("toml", "hint"), [
    ('[search]\nlimit = "ten"', "expected an integer, got 'ten'"),
    ("[search]\nlimit = 2.5", "expected an integer"),
    ("[search]\nkeyword_weight = true", "expected a number"),
    ("[index]\nfollow_symlinks = 1", "expected true or false"),
    ('[index]\ninclude = "*.md"', "expected an array"),
    ("[index]\ninclude = [1]", "expected a string"),
    ('[search]\ndoctype_boosts = { ADR = "high" }', "expected a number"),
    ('[search]\nmode = "fuzzy"', "one of 'keyword', 'vector', 'hybrid'"),
    ('[[embed.fallback]]\nprecision = "fp16"', "one of 'fp32', 'int8'"),
    ("[[embed.fallback]]\nmodle = 'x'", "did you mean 'model'?"),
    ("search = 5", "is a section"),
    ("[embed]\nfallback = [1]", "expected a table"),
])
def test_bad_values_in_a_file(tmp_path: Path, toml: str, hint: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, project=toml + "\n")
    assert hint in str(err.value)
    assert "lore.toml" in str(err.value)


@pytest.mark.parametrize(("env", "hint"), [
    ({"LORE_SEARCH__LIMIT": "ten"}, "expected an integer, got 'ten'"),
    ({"LORE_EMBED__CACHE": "maybe"}, "expected true or false"),
    ({"LORE_SEARCH__MODE": "fuzzy"}, "one of 'keyword', 'vector', 'hybrid'"),
    ({"LORE_SEARCH__DOCTYPE_BOOSTS": "{ADR: 1}"}, "does not parse"),
    ({"LORE_EMBED__FALLBACK": "hashing"}, "a JSON array of objects"),
    ({"LORE_EMBED__PRIMARY": "hashing"}, "is a section"),
    ({"LORE_SEARCH__LIMIT__MAX": "3"}, "is a value and has no field 'max'"),
])
def test_bad_values_in_env(tmp_path: Path, env: dict[str, str], hint: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, env=env)
    assert hint in str(err.value)
    assert next(iter(env)) in str(err.value)


def test_broken_toml_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, user="[search]\nlimit = 3\nmode = \n")
    message = str(err.value)
    assert str(tmp_path / "user" / "config.toml") in message
    assert "line 3" in message


def _toml_value(value: object) -> str:
    """Just enough of a TOML writer for settings_to_dict output (no None)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}"
                               for k, v in value.items() if v is not None) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def test_every_field_of_the_schema_round_trips_through_toml(tmp_path: Path) -> None:
    """Guards fields added to lore.settings: each must be readable from a file."""
    sections = settings_to_dict(Settings())
    project = "".join(f"[{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n"
                                              for k, v in fields.items() if v is not None)
                      for name, fields in sections.items())
    loaded = load(tmp_path, project=project)
    assert loaded.settings == Settings()
    unset = {k for k, v in flatten_settings(Settings()).items() if v is None}
    assert all(origin.startswith("project ")
               for key, origin in loaded.origins.items() if key not in unset)


def test_settings_to_dict_is_json_ready() -> None:
    settings = dataclasses.replace(Settings(), embed=dataclasses.replace(
        Settings().embed, fallback=(ProviderSettings(model="m"),)))
    data = json.loads(json.dumps(settings_to_dict(settings)))
    assert data["embed"]["fallback"][0]["model"] == "m"
    assert data["index"]["include"] == list(Settings().index.include)
    assert data["search"]["limit"] == Settings().search.limit


def test_lore_store_is_a_short_name_for_index_store(tmp_path: Path) -> None:
    url = "postgresql://lore:pw@db/lore"
    loaded = load(tmp_path, env={"LORE_STORE": url})
    assert loaded.settings.index.store == url and loaded.origins["index.store"] == "env LORE_STORE"
    both = load(tmp_path, env={"LORE_STORE": url, "LORE_INDEX__STORE": "postgresql://other/x"})
    assert both.settings.index.store == "postgresql://other/x"   # the full name wins
