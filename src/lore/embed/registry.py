"""Provider names -> import paths, resolved only when a provider is needed.

The registry maps names to ``"module:Class"`` strings rather than classes, so
that naming a provider costs nothing until it is used: ``lore --help`` never
imports onnxruntime or torch. Third-party packages add providers through the
``lore.embedders`` entry-point group; a dotted path from a config file is never
imported (that would let a settings file run arbitrary code).

Every provider class implements :class:`lore.embed.base.Embedder` and a
``from_settings(p: ProviderSettings)`` classmethod.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
from dataclasses import dataclass
from typing import Any

from lore.embed.base import Embedder
from lore.errors import ConfigError, MissingDependencyError, UnknownEmbedderError
from lore.settings import ProviderSettings

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "lore.embedders"

# name -> "module:Class" for the providers that ship with lore.
PROVIDERS: dict[str, str] = {
    "hashing": "lore.embed.hashing:HashingEmbedder",
    "onnx": "lore.embed.onnx:OnnxEmbedder",
    "sentence-transformers": "lore.embed.sentence_transformers:SentenceTransformerEmbedder",
    "openai": "lore.embed.openai_http:OpenAIEmbedder",
    "ollama": "lore.embed.ollama:OllamaEmbedder",
    "sagemaker": "lore.embed.sagemaker:SageMakerEmbedder",
}

# Providers that talk to a server; `embed.offline = true` refuses them.
REMOTE_PROVIDERS: frozenset[str] = frozenset({"openai", "ollama", "sagemaker"})

# The importable modules each builtin needs, and the extra that installs them.
_REQUIREMENTS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "hashing": (("numpy",), None),
    "onnx": (("onnxruntime", "tokenizers"), None),
    "sentence-transformers": (("sentence_transformers", "torch"), "sbert"),
    "openai": (("httpx",), None),
    "ollama": (("httpx",), None),
    "sagemaker": (("boto3",), "sagemaker"),
}


@dataclass(frozen=True)
class ProviderInfo:
    """What ``available_providers`` knows about one provider without loading it.

    Attributes:
        name: the registry name used in settings (``provider = "onnx"``).
        target: the ``"module:Class"`` it resolves to.
        available: whether its module and dependencies are importable.
        reason: why it is unavailable and how to fix it ("" when available).
    """

    name: str
    target: str
    available: bool
    reason: str = ""


def registered_providers() -> dict[str, str]:
    """Every provider name -> target: builtins, then entry points (builtins win)."""
    import importlib.metadata  # scanning installed packages is slow: only when needed

    targets = dict(PROVIDERS)
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in targets:
            logger.warning("entry point %r (%s) ignored: the name is a builtin provider",
                           ep.name, ep.value)
            continue
        targets[ep.name] = ep.value
    return targets


def resolve_provider(name: str) -> type[Any]:
    """Import and return the class registered under ``name``.

    Raises:
        UnknownEmbedderError: no provider has that name (the message lists them).
    """
    # Builtins first: scanning entry points costs more than the rest of a cold start.
    target = PROVIDERS.get(name) or registered_providers().get(name)
    if target is None:
        known = ", ".join(sorted(registered_providers()))
        raise UnknownEmbedderError(
            f"No embedding provider named {name!r}. Known providers: {known}. "
            f"Set [embed.primary] provider to one of them."
        )
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except MissingDependencyError:
        raise
    except ImportError as exc:
        raise MissingDependencyError(
            f"Provider {name!r} cannot be loaded: importing {module_name} failed ({exc}). "
            f"Install the missing package, or reinstall the package that provides {name!r}."
        ) from exc
    cls = getattr(module, attr, None)
    if cls is None:
        raise UnknownEmbedderError(
            f"Provider {name!r} points at {target!r}, but {module_name} has no {attr!r}; "
            f"reinstall the package that registers it."
        )
    return cls


def get_embedder(p: ProviderSettings, *, offline: bool = False) -> Embedder:
    """Build the embedder that ``p`` describes, importing its module only now.

    Args:
        p: one provider's settings (``provider`` is the registry name).
        offline: ``[embed] offline``; passed to providers whose ``from_settings``
            takes it (local providers that could otherwise fetch a model). Providers
            never read the environment themselves: settings are the one source.

    Raises:
        UnknownEmbedderError: ``p.provider`` is not registered.
        MissingDependencyError: the provider's optional package is not installed.
        ConfigError: the settings are invalid for that provider.
    """
    cls = resolve_provider(p.provider)
    from_settings = getattr(cls, "from_settings", None)
    if from_settings is None:
        raise ConfigError(
            f"Provider {p.provider!r} ({cls.__module__}.{cls.__name__}) has no "
            f"from_settings() classmethod; it cannot be configured from settings."
        )
    takes_offline = "offline" in inspect.signature(from_settings).parameters
    if takes_offline:
        embedder = from_settings(p, offline=offline)
    else:
        embedder = from_settings(p)
    if not isinstance(embedder, Embedder):
        raise ConfigError(
            f"Provider {p.provider!r} built a {type(embedder).__name__}, which does not "
            f"implement the Embedder protocol (space, dimensions, max_tokens, embed)."
        )
    return embedder


def available_providers() -> list[ProviderInfo]:
    """Every registered provider and whether it could be loaded, without loading it.

    Only ``importlib.util.find_spec`` is used, so no model or heavy library is
    imported: this is safe for ``lore doctor`` and ``--help`` paths.
    """
    infos = []
    for name, target in sorted(registered_providers().items()):
        module_name = target.partition(":")[0]
        needs, extra = _REQUIREMENTS.get(name, ((), None))
        if not _importable(module_name):
            reason = f"module {module_name} not found; reinstall the package that provides it"
            infos.append(ProviderInfo(name, target, False, reason))
            continue
        missing = [m for m in needs if not _importable(m)]
        if not missing:
            infos.append(ProviderInfo(name, target, True))
            continue
        how = f"pip install 'lore[{extra}]'" if extra else f"pip install {' '.join(missing)}"
        reason = f"missing module(s) {', '.join(missing)}; install with: {how}"
        infos.append(ProviderInfo(name, target, False, reason))
    return infos


def _importable(module: str) -> bool:
    """Whether ``module`` can be found (a parent package may be imported to look)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        # ValueError: a module set to None in sys.modules (how tests hide packages).
        return False
