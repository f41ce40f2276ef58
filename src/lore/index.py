"""``Index``: the Python API object over one indexed folder.

An ``Index`` ties a root folder, its settings and its catalog together, so
callers say ``open_index("~/notes").search("...")`` and never handle paths to
SQLite files. The CLI, the servers and the evaluation runner all go through
it, which keeps "what ``lore index`` does" one definition.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lore.errors import ConfigError, IndexNotFoundError
from lore.settings import Settings
from lore.store.catalog import CATALOG_FILE, Catalog
from lore.store.records import DocumentRecord
from lore.sync import ProgressCallback, SyncReport, sync

if TYPE_CHECKING:
    from typing_extensions import Self

    from lore.search.hits import Hit

log = logging.getLogger(__name__)


def resolve_index_dir(root: Path, settings: Settings, index_dir: Path | None = None) -> Path:
    """Where the index of ``root`` lives: ``index_dir``, else ``settings.index.dir``.

    A relative ``settings.index.dir`` is taken relative to the root, so an
    index travels with its folder.
    """
    if index_dir is not None:
        return Path(index_dir).expanduser().absolute()
    configured = Path(settings.index.dir).expanduser()
    return configured if configured.is_absolute() else root / configured


class Index:
    """An open index over one folder. Close it (or use ``with``) when done."""

    def __init__(self, root: Path, catalog: Catalog, settings: Settings) -> None:
        self.root = root
        self.catalog = catalog
        self.settings = settings

    @property
    def index_dir(self) -> Path:
        """The directory holding the catalog (and, later, vector sidecars)."""
        assert self.catalog.index_dir is not None  # open_index always opens a file catalog
        return self.catalog.index_dir

    def sync(self, progress: ProgressCallback | None = None) -> SyncReport:
        """Bring the index in line with the files (see ``lore.sync.sync``).

        Args:
            progress: called after each file with (done, total, path).
        """
        return sync(self.root, self.catalog, self.settings, progress=progress)

    def search(self, query: str, *, limit: int | None = None,
               filters: dict[str, list[str]] | None = None, chunks: bool = False,
               mode: str | None = None, explain: bool = False) -> list[Hit]:
        """Ranked hits for ``query``.

        Args:
            query: free text; may hold inline filters (``type:ADR``) and ids.
            limit: how many hits (default ``settings.search.limit``).
            filters: field -> accepted values, ANDed with inline filters.
            chunks: one hit per chunk instead of per document.
            mode: "keyword", "vector" or "hybrid" (default ``settings.search.mode``).
            explain: attach which legs found each hit and why it ranks there.
        """
        from lore.search.engine import search_catalog

        return search_catalog(self.catalog, query, settings=self.settings, limit=limit,
                              filters=filters, chunks=chunks, explain=explain, mode=mode)

    def get(self, id_or_path: int | str) -> DocumentRecord | None:
        """One document by root-relative path, doc id or uid (ids case-insensitive)."""
        return self.catalog.get_document(id_or_path)

    def status(self) -> dict[str, Any]:
        """What the index holds and when it was last synced (``lore status``)."""
        last_sync = self.catalog.get_meta("last_sync")
        return {
            "root": str(self.root),
            "index_dir": str(self.index_dir),
            **self.catalog.stats(),
            "chunker_version": self.catalog.get_meta("chunker_version"),
            "last_sync": float(last_sync) if last_sync is not None else None,
            "last_sync_age_s": (round(time.time() - float(last_sync), 1)
                                if last_sync is not None else None),
        }

    def close(self) -> None:
        """Close the catalog."""
        self.catalog.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_index(root: str | Path, *, settings: Settings | None = None,
               index_dir: Path | None = None, create: bool = True) -> Index:
    """Open the index of the folder ``root``, creating it unless ``create`` is false.

    Args:
        root: the folder of documents.
        settings: the settings to use; default: loaded by ``lore.config`` from
            the layers (user file, ``ROOT/lore.toml``, ``LORE_*`` env).
        index_dir: where the index lives (default ``ROOT/<settings.index.dir>``).
        create: make a new, empty index when there is none.

    Raises:
        ConfigError: ``root`` is not an existing folder, or a setting is bad.
        IndexNotFoundError: ``create`` is false and there is no index yet.
    """
    root_path = Path(root).expanduser().absolute()
    if not root_path.is_dir():
        what = "is not a folder" if root_path.exists() else "does not exist"
        raise ConfigError(f"The root {root_path} {what}. Pass the folder of documents to "
                          "index, e.g. `lore index ~/notes` or --root / LORE_ROOT.")
    if settings is None:
        from lore.config import load_settings

        settings = load_settings(root_path).settings
    directory = resolve_index_dir(root_path, settings, index_dir)
    if not create and not (directory / CATALOG_FILE).exists():
        raise IndexNotFoundError(f"No lore index for {root_path} (looked in {directory}). "
                                 f"Run `lore index {root_path}` first.")
    log.debug("opening index %s for %s", directory, root_path)
    return Index(root_path, Catalog.open(directory, create=create), settings)
