"""Where lore keeps files outside an index: user config, models, embedding cache.

``LORE_HOME`` moves the whole user data directory (tests point it at a temp
dir); ``LORE_CONFIG`` names the user config file directly.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The user data directory (models, embedding cache)."""
    env = os.environ.get("LORE_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("lore", appauthor=False))


def user_config_file() -> Path:
    """The user config file: ``$LORE_CONFIG``, else ``~/.config/lore/config.toml``."""
    env = os.environ.get("LORE_CONFIG")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("lore", appauthor=False)) / "config.toml"


def models_dir() -> Path:
    """Converted model files, one folder per model and precision."""
    return data_dir() / "models"


def embed_cache_file() -> Path:
    """The embedding cache shared by every index on this machine."""
    return data_dir() / "embed-cache.sqlite"


def index_dir_for(root: Path, configured: str, explicit: Path | None = None) -> Path:
    """Where the index of ``root`` lives: ``explicit``, else the ``index.dir`` setting.

    A relative ``configured`` directory is taken relative to the root, so an
    index travels with its folder. Kept here (not in ``lore.index``) so a
    client finds a running server's address without importing the engine.
    """
    if explicit is not None:
        return Path(explicit).expanduser().absolute()
    path = Path(configured).expanduser()
    return path if path.is_absolute() else root / path
