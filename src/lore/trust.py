"""Which settings a project's ``lore.toml`` may not choose on its own.

A repository you clone brings its ``lore.toml``. Most of it is harmless
(chunk sizes, ranking weights), but two things would let a stranger's file
act with your credentials or carry your text away: naming the environment
variable the API key is read from (``api_key_env = "MY_OTHER_SECRET"``), and
choosing where document and query text is sent (a provider or reranker that
is not on this machine), and following symlinks out of the root (``p.md ->
~/.ssh/id_rsa``). Those may come from the user's own config or the
environment; from a project file they are refused until the user trusts that
root once with ``lore trust ROOT``.

Trusted roots are recorded beside the user config (``trusted-roots.json`` in
the folder of ``lore.paths.user_config_file()``): a list lore writes and only
the user's own account edits, never anything under a root.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from lore._files import read_bounded
from lore.errors import ConfigError
from lore.paths import user_config_file
from lore.settings import ProviderSettings, Settings

TRUST_FILE = "trusted-roots.json"
# Providers that send text off this machine whatever base_url says, and the
# endpoint each uses when base_url is unset (None: always remote).
_REMOTE_DEFAULTS: dict[str, str | None] = {
    "openai": "https://api.openai.com/v1",
    "ollama": "http://127.0.0.1:11434",
    "sagemaker": None,
}


def trust_file() -> Path:
    """Where the list of trusted roots lives (beside the user config)."""
    return user_config_file().parent / TRUST_FILE


def trusted_roots() -> set[str]:
    """The roots the user trusts, as resolved absolute paths."""
    try:
        data = json.loads(read_bounded(trust_file(), 1_000_000))
    except FileNotFoundError:
        return set()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{trust_file()} cannot be read ({exc}); fix or delete it and "
                          "run `lore trust ROOT` again.") from exc
    roots = data.get("roots") if isinstance(data, dict) else None
    return {str(r) for r in roots if isinstance(r, str)} if isinstance(roots, list) else set()


def trust_root(root: Path) -> Path:
    """Record ``root`` as trusted to name keys and remote endpoints; return the file.

    Raises:
        ConfigError: ``root`` is not a folder.
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise ConfigError(f"{root} is not a folder; pass the folder whose lore.toml you trust")
    path = trust_file()
    roots = sorted(trusted_roots() | {str(root)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"roots": roots}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def is_local_url(url: str) -> bool:
    """Whether ``url`` names this machine (loopback address or ``localhost``)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _provider_destination(p: ProviderSettings) -> str | None:
    """Where a provider sends text, or None when it runs on this machine."""
    if p.provider not in _REMOTE_DEFAULTS:
        return None
    url = p.base_url or _REMOTE_DEFAULTS[p.provider]
    if url is None:
        return f"{p.provider} endpoint {p.endpoint_name or '(unnamed)'}"
    return None if is_local_url(url) else url


def _project_requests(settings: Settings,
                      origins: Mapping[str, str]) -> Iterator[str]:
    """What the project layer asks for that needs trust, one phrase each."""
    def from_project(key: str) -> bool:
        return origins.get(key, "").startswith("project ")

    members = [("embed.primary", settings.embed.primary, "embed.primary.")]
    members += [(f"embed.fallback[{i}]", p, "embed.fallback")
                for i, p in enumerate(settings.embed.fallback)]
    for label, p, prefix in members:
        keys = [k for k in origins if k.startswith(prefix)] if prefix.endswith(".") else [prefix]
        if not any(from_project(k) for k in keys):
            continue
        if p.api_key_env:
            yield f"{label}.api_key_env = {p.api_key_env!r} (reads that environment variable)"
        where = _provider_destination(p)
        if where is not None:
            yield f"{label} sends text to {where}"
    if settings.index.follow_symlinks_outside and from_project("index.follow_symlinks_outside"):
        yield "index.follow_symlinks_outside = true (indexes files outside the folder)"
    rerank = settings.rerank
    if rerank.provider == "http" and rerank.base_url and not is_local_url(rerank.base_url) \
            and any(from_project(k) for k in ("rerank.provider", "rerank.base_url")):
        yield f"rerank sends text to {rerank.base_url}"


def check_project_trust(root: Path, settings: Settings, origins: Mapping[str, str]) -> None:
    """Refuse settings from ``root``'s lore.toml that need trust, unless the root is trusted.

    Raises:
        ConfigError: names what the project asks for and how to allow it.
    """
    requests = list(_project_requests(settings, origins))
    if not requests or str(Path(root).resolve()) in trusted_roots():
        return
    from lore.redact import redact_url

    asked = "; ".join(redact_url(r) for r in requests)
    raise ConfigError(
        f"{root / 'lore.toml'} asks for what only your own config may choose: {asked}. "
        f"If you trust this folder's lore.toml, run `lore trust {root}` once; otherwise "
        "remove these settings from it (set them in your user config or the environment).")
