"""Where lore keeps files outside an index: user config, models, embedding cache.

``LORE_HOME`` moves the whole user data directory (tests point it at a temp
dir); ``LORE_CONFIG`` names the user config file directly.
"""

from __future__ import annotations

import os
from pathlib import Path

from lore.errors import ConfigError

DEFAULT_INDEX_DIR = ".lore"        # the index.dir setting's default, relative to the root
PROJECT_FILE = "lore.toml"         # a root's own settings
CATALOG_FILE = "catalog.sqlite"    # the catalog, inside the index folder

# Folders lore must never write an index (or its data) into, nor anything below
# the kernel's virtual file systems.
_SYSTEM_DIRS = frozenset({"/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64",
                          "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/var", "/tmp",
                          "/home", "/opt", "/srv", "/mnt", "/media"})
_VIRTUAL_TREES = ("/proc", "/sys", "/dev")


def is_system_path(path: Path) -> bool:
    """Whether ``path`` (resolved) is a system folder or lies in /proc, /sys or /dev."""
    real = os.path.realpath(path)
    return real in _SYSTEM_DIRS or any(real.startswith(tree + "/") for tree in _VIRTUAL_TREES)


def check_index_dir(root: Path, directory: Path) -> Path:
    """``directory`` if it can hold ``root``'s index, else a ConfigError saying why.

    An index dir is lore's own folder: it may not be the root itself (``dir = ""``
    would index lore's files and write beside the notes), a folder above the root,
    or a system folder (``dir = "/"`` wrote ``/catalog.sqlite``).

    Raises:
        ConfigError: the folder is unsuitable.
    """
    real, root_real = Path(os.path.realpath(directory)), Path(os.path.realpath(root))
    hint = ("Set index.dir to a folder of its own, e.g. '.lore' (the default) or "
            "'~/.cache/lore/notes', or pass --index-dir / LORE_INDEX_DIR")
    if is_system_path(real):
        raise ConfigError(f"The index dir {directory} is a system folder; lore will not "
                          f"write its index there. {hint}.")
    if real == root_real or real in root_real.parents:
        where = "the root itself" if real == root_real else "a folder above the root"
        raise ConfigError(f"The index dir {directory} is {where} ({root}); the index needs a "
                          f"folder of its own. {hint}.")
    if real.exists() and not real.is_dir():
        raise ConfigError(f"The index dir {directory} exists and is not a folder. {hint}.")
    return directory


def data_dir() -> Path:
    """The user data directory (models, embedding cache).

    Raises:
        ConfigError: ``LORE_HOME`` names a system folder or something that is not a folder.
    """
    env = os.environ.get("LORE_HOME")
    if env:
        path = Path(env).expanduser().absolute()
        if is_system_path(path) or (path.exists() and not path.is_dir()):
            raise ConfigError(f"LORE_HOME={env} cannot hold lore's data (models, embedding "
                              "cache): it is a system folder or not a folder. Point it at a "
                              "folder of your own, e.g. LORE_HOME=~/.local/share/lore, or "
                              "unset it.")
        return path
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


def enclosing_root(start: Path, index_dir: Path) -> Path:
    """The nearest folder at or above ``start`` holding a lore.toml or an index, else ``start``.

    As git finds its repository. ``index_dir`` is the index folder's name
    relative to a root (the ``index.dir`` setting).
    """
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file() or (folder / index_dir / CATALOG_FILE).is_file():
            return folder
    return start
