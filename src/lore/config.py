"""Layered settings with provenance: which layer set each value, and why a value is refused.

Layers, lowest first: the defaults in ``lore.settings`` < the user file
(``lore.paths.user_config_file()``) < the project's ``<root>/lore.toml`` <
``LORE_<SECTION>__<FIELD>`` environment variables < flags (dotted keys).

Everything is derived from the dataclasses in ``lore.settings``: the keys, the
types values are coerced to, and the allowed values of choice fields (typed
with a ``Literal`` from ``lore.types``). A field added there is settable from
every layer with no change here.

Every refusal is a ``ConfigError`` naming the source (file, variable or flag)
and the dotted key, with a hint: a close spelling, or the type expected.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import math
import os
import sys
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lore._files import read_bounded
from lore.errors import ConfigError
from lore.paths import PROJECT_FILE, user_config_file
from lore.settings import Settings

logger = logging.getLogger(__name__)

ENV_PREFIX = "LORE_"
# Only variables with this separator are settings: LORE_HOME, LORE_CONFIG and
# other single-underscore names belong to other parts of lore.
ENV_SEPARATOR = "__"
# Short names for settings people set per shell (LORE_SECTION__FIELD still wins over them).
ENV_ALIASES = {"LORE_STORE": "index.store"}

# A config file is a few hundred bytes; a bigger one is a mistake (or /dev/zero).
MAX_CONFIG_BYTES = 1_000_000

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_NONE = frozenset({"", "none", "null"})


@dataclass(frozen=True)
class LoadedSettings:
    """The effective settings and, for every dotted key, the layer that set it.

    Attributes:
        settings: the merged, validated settings.
        origins: dotted key ("search.limit", "embed.primary.model") -> "default",
            "user config <path>", "project <root>/lore.toml", "env LORE_X__Y" or "flag".
    """

    settings: Settings
    origins: dict[str, str]


@dataclass(frozen=True)
class _Field:
    """What the schema says about one dataclass field."""

    tp: Any
    choices: tuple[str, ...]
    bounds: tuple[float, float | None] | None = None

    @property
    def is_section(self) -> bool:
        return _is_dataclass_type(self.tp)


@dataclass(frozen=True)
class _Source:
    """Where values come from: ``label`` for error messages, ``origin`` for provenance."""

    label: str
    origin: str


def load_settings(root: Path | None, *, flags: Mapping[str, object] | None = None,
                  env: Mapping[str, str] | None = None,
                  user_file: Path | None = None) -> LoadedSettings:
    """Merge every layer into one ``Settings`` and record where each value came from.

    Args:
        root: the indexed folder; its ``lore.toml`` (if present) is the project layer.
            ``None`` skips the project layer.
        flags: dotted key -> value from a front end ("search.limit": 5). Strings are
            parsed like environment values; ``None`` means "flag not given" and is skipped.
        env: the environment to read ``LORE_<SECTION>__<FIELD>`` from (default ``os.environ``).
        user_file: the user config file (default ``lore.paths.user_config_file()``).

    Raises:
        ConfigError: unknown key, bad value or unreadable TOML, naming the source and key.
    """
    values = flatten_settings(Settings())
    origins = dict.fromkeys(values, "default")

    def apply(layer: Iterator[tuple[str, object, str]]) -> None:
        for key, value, origin in layer:
            values[key] = value
            origins[key] = origin

    user = user_file if user_file is not None else user_config_file()
    apply(_file_layer(user, f"user config {user}"))
    if root is not None:
        project = root / PROJECT_FILE
        apply(_file_layer(project, f"project {project}"))
    apply(_env_layer(os.environ if env is None else env))
    apply(_flag_layer(flags or {}))
    settings = _build(Settings, values, "")
    if root is not None:
        from lore.trust import check_project_trust

        check_project_trust(root, settings, origins)
    return LoadedSettings(settings, origins)


def default_settings() -> LoadedSettings:
    """The built-in defaults alone, every origin "default" (``lore config --defaults``)."""
    values = flatten_settings(Settings())
    return LoadedSettings(Settings(), dict.fromkeys(values, "default"))


def flatten_settings(settings: Settings) -> dict[str, object]:
    """Dotted key -> value for every leaf setting, in schema order.

    Nested sections (``embed.primary``) are expanded; arrays of tables
    (``embed.fallback``) and dicts stay one value.
    """
    return dict(_flatten(settings, ""))


def settings_to_dict(settings: object) -> Any:
    """Settings (or any part of them) as JSON-ready nested dicts and lists."""
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        return {f.name: settings_to_dict(getattr(settings, f.name))
                for f in dataclasses.fields(settings)}
    if isinstance(settings, (tuple, list)):
        return [settings_to_dict(item) for item in settings]
    if isinstance(settings, dict):
        return {str(k): settings_to_dict(v) for k, v in settings.items()}
    return settings


# --- schema -------------------------------------------------------------------------------


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


_SCHEMAS: dict[type, dict[str, _Field]] = {}


def _schema(cls: type) -> dict[str, _Field]:
    """Field name -> resolved type and choices (annotations are strings under PEP 563)."""
    if cls not in _SCHEMAS:
        hints = typing.get_type_hints(cls)
        _SCHEMAS[cls] = {f.name: _field(hints[f.name], f.metadata.get("range"))
                         for f in dataclasses.fields(cls)}
    return _SCHEMAS[cls]


def _field(hint: Any, bounds: tuple[float, float | None] | None = None) -> _Field:
    """A ``Literal[...]`` field is a string whose choices are the literal's values."""
    if typing.get_origin(hint) is typing.Literal:
        return _Field(str, tuple(typing.get_args(hint)))
    return _Field(hint, (), bounds)


def _flatten(obj: Any, prefix: str) -> Iterator[tuple[str, object]]:
    for name, fld in _schema(type(obj)).items():
        value = getattr(obj, name)
        if fld.is_section:
            yield from _flatten(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value


def _build(cls: type, values: Mapping[str, object], prefix: str) -> Any:
    kwargs = {name: _build(fld.tp, values, f"{prefix}{name}.") if fld.is_section
              else values[f"{prefix}{name}"]
              for name, fld in _schema(cls).items()}
    return cls(**kwargs)


# --- layers -------------------------------------------------------------------------------


def _read_toml(path: Path, label: str) -> dict[str, Any] | None:
    """The parsed file, or None when it does not exist."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        from lore._optional import require

        tomllib = require("tomli", purpose="reading TOML config files on Python 3.10")
    try:
        text = read_bounded(path, MAX_CONFIG_BYTES).decode("utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot be read ({exc.strerror}). Make it a regular TOML "
                          "file or remove it.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: is not UTF-8 text ({exc.reason} at byte {exc.start}). "
                          "Save it as UTF-8.") from exc
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: invalid TOML: {exc}. Fix the file at that position.") from exc
    return data


def _file_layer(path: Path, origin: str) -> Iterator[tuple[str, object, str]]:
    source = _Source(f"config file {path}", origin)
    data = _read_toml(path, source.label)
    if data is None:
        return
    logger.debug("reading settings from %s", path)
    for key, value in _walk_table(data, Settings, "", source):
        yield key, value, origin


def _env_layer(env: Mapping[str, str]) -> Iterator[tuple[str, object, str]]:
    for name, dotted in ENV_ALIASES.items():
        if env.get(name):
            yield dotted, env[name], f"env {name}"
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or ENV_SEPARATOR not in upper:
            continue
        source = _Source(f"environment variable {name}", f"env {name}")
        parts = upper[len(ENV_PREFIX):].lower().split(ENV_SEPARATOR)
        key, fld = _resolve(parts, source)
        yield key, _coerce(env[name], fld, key, source, text=True), source.origin


def _flag_layer(flags: Mapping[str, object]) -> Iterator[tuple[str, object, str]]:
    for dotted, raw in flags.items():
        if raw is None:
            continue
        source = _Source(f"flag {dotted!r}", "flag")
        key, fld = _resolve(dotted.split("."), source)
        yield key, _coerce(raw, fld, key, source, text=isinstance(raw, str)), "flag"


def _walk_table(table: Mapping[str, object], cls: type, prefix: str,
                source: _Source) -> Iterator[tuple[str, object]]:
    """Validate a TOML table against ``cls``: (dotted key, coerced value) per leaf."""
    schema = _schema(cls)
    for name, raw in table.items():
        key = f"{prefix}{name}"
        fld = schema.get(name)
        if fld is None:
            raise _unknown(source, key, name, schema, prefix)
        if not fld.is_section:
            yield key, _coerce(raw, fld, key, source, text=False)
        elif isinstance(raw, dict):
            yield from _walk_table(raw, fld.tp, f"{key}.", source)
        else:
            raise ConfigError(f"{source.label}: '{key}' is a section, not a value; "
                              f"write it as a [{key}] table with its fields under it.")


def _resolve(parts: list[str], source: _Source) -> tuple[str, _Field]:
    """Find the leaf field a dotted path (env var or flag) names."""
    cls: type = Settings
    for i in range(len(parts) - 1):
        section = _lookup(cls, parts, i, source)
        if not section.is_section:
            key = ".".join(parts[: i + 1])
            raise ConfigError(f"{source.label}: '{key}' is a value and has no field "
                              f"'{parts[i + 1]}'; set '{key}' itself.")
        cls = section.tp
    fld = _lookup(cls, parts, len(parts) - 1, source)
    key = ".".join(parts)
    if fld.is_section:
        raise ConfigError(f"{source.label}: '{key}' is a section, not a value; set one of "
                          f"its fields instead: {', '.join(_schema(fld.tp))}.")
    return key, fld


def _lookup(cls: type, parts: list[str], i: int, source: _Source) -> _Field:
    schema = _schema(cls)
    fld = schema.get(parts[i])
    if fld is None:
        raise _unknown(source, ".".join(parts[: i + 1]), parts[i], schema, ".".join(parts[:i]))
    return fld


def _unknown(source: _Source, key: str, name: str, schema: Mapping[str, _Field],
             prefix: str) -> ConfigError:
    where = f"in [{prefix.rstrip('.')}]" if prefix else "at the top level"
    close = difflib.get_close_matches(name, list(schema), n=1, cutoff=0.6)
    if close:
        hint = f"did you mean '{close[0]}'?"
    elif not prefix:
        homes = [k for k in flatten_settings(Settings()) if k.endswith(f".{name}")]
        hint = (f"settings live in sections: did you mean '{homes[0]}'?" if homes
                else f"the sections are: {', '.join(schema)}.")
    else:
        hint = f"the fields {where} are: {', '.join(schema)}."
    return ConfigError(f"{source.label}: unknown setting '{key}' {where} — {hint} "
                       "Run `lore config --defaults` to list every setting.")


# --- values -------------------------------------------------------------------------------


def _bad(source: _Source, key: str, expected: str, raw: object) -> ConfigError:
    shown = repr(raw) if isinstance(raw, str) else f"{raw!r} ({type(raw).__name__})"
    return ConfigError(f"{source.label}: bad value for '{key}': expected {expected}, got {shown}.")


def _coerce(raw: object, fld: _Field, key: str, source: _Source, *, text: bool) -> object:
    """Check ``raw`` against the field's type (and choices); parse it first if ``text``."""
    value = _coerce_type(raw, fld.tp, key, source, text=text)
    if fld.choices and value not in fld.choices:
        raise _bad(source, key, "one of " + ", ".join(repr(c) for c in fld.choices), raw)
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad(source, key, "a finite number", raw)
    if fld.bounds is not None and isinstance(value, (int, float)):
        low, high = fld.bounds
        if value < low or (high is not None and value > high):
            span = f"at least {low:g}" if high is None else f"between {low:g} and {high:g}"
            raise _bad(source, key, f"a number {span}", raw)
    return value


def _coerce_type(raw: object, tp: Any, key: str, source: _Source, *, text: bool) -> object:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"lore.config cannot read {key} of type {tp!r}: use 'X | None'")
        if raw is None or (text and isinstance(raw, str) and raw.strip().lower() in _NONE):
            return None
        return _coerce_type(raw, inner[0], key, source, text=text)
    if tp is str:
        if isinstance(raw, str):
            return raw
        raise _bad(source, key, "a string", raw)
    if tp is bool:
        return _to_bool(raw, key, source, text=text)
    if tp is int or tp is float:
        return _to_number(raw, tp, key, source, text=text)
    if origin is tuple:
        return _to_tuple(raw, tp, key, source, text=text)
    if origin is dict:
        return _to_dict(raw, tp, key, source, text=text)
    raise TypeError(f"lore.config cannot read {key} of type {tp!r}; teach lore.config._coerce_type")


def _to_bool(raw: object, key: str, source: _Source, *, text: bool) -> bool:
    if isinstance(raw, bool):
        return raw
    if text and isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise _bad(source, key, "true or false" + (" (or 1/0, yes/no)" if text else ""), raw)


def _to_number(raw: object, tp: type, key: str, source: _Source, *, text: bool) -> int | float:
    expected = "an integer" if tp is int else "a number"
    if text and isinstance(raw, str):
        try:
            return int(raw.strip()) if tp is int else float(raw.strip())
        except ValueError:
            raise _bad(source, key, expected, raw) from None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise _bad(source, key, expected, raw)
    if tp is int and not isinstance(raw, int):
        raise _bad(source, key, expected, raw)
    return tp(raw)


def _parse_json(raw: str, key: str, source: _Source, expected: str) -> object:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source.label}: bad value for '{key}': expected {expected} "
                          f"as JSON, which does not parse ({exc}).") from exc


def _to_tuple(raw: object, tp: Any, key: str, source: _Source, *, text: bool) -> tuple[object, ...]:
    item_tp = typing.get_args(tp)[0]
    items_are_text = False
    if text and isinstance(raw, str):
        if raw.lstrip().startswith("["):
            raw = _parse_json(raw, key, source, "an array")
        elif _is_dataclass_type(item_tp):
            raise _bad(source, key, "a JSON array of objects", raw)
        else:
            raw = [part.strip() for part in raw.split(",") if part.strip()]
            items_are_text = True
    if not isinstance(raw, (list, tuple)):
        raise _bad(source, key, "an array" + (" or comma-separated values" if text else ""), raw)
    if not _is_dataclass_type(item_tp):
        return tuple(_coerce_type(item, item_tp, f"{key}[{i}]", source, text=items_are_text)
                     for i, item in enumerate(raw))
    entries = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _bad(source, f"{key}[{i}]", "a table of fields", item)
        entries.append(_table_to_dataclass(item, item_tp, f"{key}[{i}].", source))
    return tuple(entries)


def _table_to_dataclass(table: Mapping[str, object], cls: type, prefix: str,
                        source: _Source) -> object:
    """One entry of an array of tables: the class defaults overridden by the table."""
    values = dict(_flatten(cls(), prefix))
    values.update(_walk_table(table, cls, prefix, source))
    return _build(cls, values, prefix)


def _to_dict(raw: object, tp: Any, key: str, source: _Source, *, text: bool) -> dict[str, object]:
    key_tp, value_tp = typing.get_args(tp)
    if text and isinstance(raw, str):
        raw = _parse_json(raw, key, source, "an object")
    if not isinstance(raw, dict):
        raise _bad(source, key, "a table (a JSON object in the environment)", raw)
    if key_tp is not str:
        raise TypeError(f"lore.config cannot read {key}: dict keys must be str")
    return {str(k): _coerce_type(v, value_tp, f"{key}.{k}", source, text=False)
            for k, v in raw.items()}
