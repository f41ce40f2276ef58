"""``lore verify`` and ``lore repair``: do catalog, full-text index, stored vectors,
sidecar, space record and embedding cache agree, and if not, make them agree.

Verification reads and never writes, so it runs beside searches and on a
read-only index. Repair holds the writer lock and rebuilds only what is
derived from what is stored: full-text rows from chunks and documents, the active-space
record from the registered spaces, the sidecar from ``chunk_vectors``. It never
calls an embedding provider: a stored vector is either kept or, when it is not
a usable vector (wrong size, NaN, zero), dropped so the next ``lore index``
embeds that one chunk again. A damaged SQLite file cannot be repaired in
place; the report says to rebuild the index.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from lore.embed.base import EmbeddingSpace
from lore.errors import LoreError
from lore.locking import WriterLock, write_errors
from lore.store import fts_rows, integrity
from lore.store.base import SPACE_META
from lore.store.catalog import Catalog
from lore.store.keys import document_keys
from lore.store.sidecar import sidecar_path
from lore.store.vectors import LocalVectorIndex

_SAME = 0.999   # cosine above which two copies of a vector are the same vector


@dataclass
class Finding:
    """One check's verdict.

    Attributes:
        check: catalog, fts, space, vectors, sidecar or cache.
        ok: whether it agrees.
        detail: what was found, in words.
        repairable: whether ``lore repair`` can fix it from what is stored.
    """

    check: str
    ok: bool
    detail: str
    repairable: bool = True


@dataclass
class VerifyReport:
    """Every check's finding, and notes that are not problems (unfinished embedding)."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """True when every check agrees."""
        return all(f.ok for f in self.findings)

    def problems(self) -> list[Finding]:
        """The checks that failed."""
        return [f for f in self.findings if not f.ok]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``lore verify --json``."""
        return {"healthy": self.healthy, "findings": [asdict(f) for f in self.findings],
                "notes": self.notes}


def verify_index(catalog: Catalog, cache_path: Any = None) -> VerifyReport:
    """Check that every part of the index agrees with what the catalog stores.

    Args:
        catalog: the open catalog (read only here).
        cache_path: the embedding cache file (default: the user's); absent means no cache.
    """
    report = VerifyReport()
    _check_catalog(catalog, report)
    space = _check_space(catalog, report)
    if space is not None:
        _check_vectors(catalog, space, report)
        _check_sidecar(catalog, space, report)
        _check_cache(catalog, space, report, cache_path)
    return report


def repair_index(catalog: Catalog, *, cache_path: Any = None,
                 lock_timeout_s: float = 600.0) -> tuple[list[str], VerifyReport]:
    """Fix every repairable finding from what is stored; return (actions, final report).

    Raises:
        IndexBusyError: another process is writing the index.
        IndexWriteError: the repair could not be written (disk full, read-only).
    """
    assert catalog.index_dir is not None, "repair needs an on-disk index"
    actions: list[str] = []
    with WriterLock(catalog.index_dir, timeout_s=lock_timeout_s), write_errors(catalog.index_dir):
        before = verify_index(catalog, cache_path)
        failed = {f.check for f in before.problems()}
        conn = catalog.conn
        if "catalog" in failed:
            actions.append(f"removed {integrity.delete_orphans(conn)} orphan rows")
        if "fts" in failed or "catalog" in failed:
            fts_rows.rebuild(conn)
            actions.append("rebuilt the full-text index from the chunks")
        if "space" in failed:
            actions.append(_repair_space(catalog))
        space = _active_space(catalog)
        if space is not None:
            bad = integrity.bad_vectors(conn, space.id, space.dimensions)
            if bad:
                integrity.delete_vectors(conn, space.id, bad)
                actions.append(f"dropped {len(bad)} unusable stored vectors (the next "
                               "`lore index` embeds those chunks again)")
            if failed & {"sidecar", "space", "vectors", "catalog"}:
                catalog.rebuild_vector_index(space)
                actions.append("rebuilt the vector sidecar from the stored vectors")
            if "cache" in failed:
                actions.append(_repair_cache(catalog, space, cache_path))
    return actions, verify_index(catalog, cache_path)


# --- checks ---------------------------------------------------------------------------------


def _check_catalog(catalog: Catalog, report: VerifyReport) -> None:
    problems = catalog.verify()
    damaged = [p for p in problems if p.startswith("sqlite:")]
    fts = [p for p in problems if "full-text" in p]
    other = [p for p in problems if p not in damaged and p not in fts]
    if damaged:
        report.findings.append(Finding("catalog", False, "; ".join(damaged) + ". The SQLite "
                                       "file is damaged: delete the index folder and run "
                                       "`lore index` to rebuild it from the files",
                                       repairable=False))
    else:
        report.findings.append(Finding("catalog", not other, "; ".join(other) or
                                       "documents, chunks, links and fields agree"))
    report.findings.append(Finding("fts", not fts, "; ".join(fts) or
                                   "every chunk and document has its full-text row, "
                                   "as a sync writes it"))


def _active_space(catalog: Catalog) -> EmbeddingSpace | None:
    """The active space if its record is sound, else None."""
    space_id = catalog.get_meta(SPACE_META)
    descriptor = catalog.spaces().get(space_id or "")
    if descriptor is None:
        return None
    try:
        space = EmbeddingSpace(**json.loads(descriptor))
    except (TypeError, ValueError):
        return None
    return space if space.id == space_id else None


def _check_space(catalog: Catalog, report: VerifyReport) -> EmbeddingSpace | None:
    space_id = catalog.get_meta(SPACE_META)
    with_vectors = integrity.spaces_with_vectors(catalog.conn)
    space = _active_space(catalog)
    if space_id is None and not with_vectors:
        report.findings.append(Finding("space", True, "no vectors yet (keyword-only index)"))
        return None
    if space is None:
        report.findings.append(Finding("space", False, f"the active space record "
                                       f"{space_id!r} names no registered space with a valid "
                                       f"descriptor ({len(with_vectors)} spaces hold vectors)",
                                       repairable=bool(with_vectors)))
        return None
    report.findings.append(Finding("space", True, f"active space {space.describe()}"))
    return space


def _check_vectors(catalog: Catalog, space: EmbeddingSpace, report: VerifyReport) -> None:
    bad = integrity.bad_vectors(catalog.conn, space.id, space.dimensions)
    report.findings.append(Finding("vectors", not bad, f"{len(bad)} stored vectors are not "
                                   f"finite, non-zero {space.dimensions}-d vectors" if bad else
                                   f"{catalog.vector_count(space.id)} stored vectors are sound"))
    pending = integrity.pending_count(catalog.conn, space.id)
    if pending:
        report.notes.append(f"{pending} chunks have no vector yet; `lore index` embeds them")


def expected_keys(catalog: Catalog, space: EmbeddingSpace) -> np.ndarray:
    """The sidecar keys the catalog implies: chunk vectors plus pooled documents."""
    chunks = np.fromiter((cid for cid, _, _ in integrity.embedded_texts(catalog.conn, space.id)),
                         dtype=np.int64)
    return np.union1d(chunks, document_keys(catalog.pooled_documents(space.id)))


def _check_sidecar(catalog: Catalog, space: EmbeddingSpace, report: VerifyReport) -> None:
    assert catalog.index_dir is not None
    path = sidecar_path(catalog.index_dir, space.id)
    try:
        sidecar = LocalVectorIndex.open(path, space.dimensions, options=catalog.vector_options,
                                        space_id=space.id, create=False)
    except LoreError as exc:
        report.findings.append(Finding("sidecar", False, str(exc)))
        return
    expected = expected_keys(catalog, space)
    present = np.sort(sidecar.keys())
    missing = np.setdiff1d(expected, present)
    extra = np.setdiff1d(present, expected)
    if len(missing) or len(extra):
        report.findings.append(Finding("sidecar", False, f"{len(missing)} vectors missing from "
                                       f"the sidecar, {len(extra)} it should not hold"))
        return
    stored = list(integrity.embedded_texts(catalog.conn, space.id))
    sample = stored[:: max(1, len(stored) // 200)]
    if sample:
        keys = np.array([cid for cid, _, _ in sample], dtype=np.int64)
        cosines = np.einsum("ij,ij->i", sidecar.get(keys), np.stack([v for _, _, v in sample]))
        if (cosines < 0.99).any():
            report.findings.append(Finding("sidecar", False, f"{int((cosines < 0.99).sum())} "
                                           "sidecar vectors differ from the stored ones"))
            return
    report.findings.append(Finding("sidecar", True, f"{len(present)} keys match the catalog"))


def _open_cache(cache_path: Any) -> Any:
    from lore.embed.cache import EmbeddingCache
    from lore.paths import embed_cache_file

    path = cache_path or embed_cache_file()
    return EmbeddingCache(path) if path.exists() else None


def _cache_mismatches(catalog: Catalog, space: EmbeddingSpace, cache: Any) -> list[str]:
    """Texts whose cached vector is unusable or differs from the stored one."""
    from lore.embed.runner import usable_vector

    stored = list(integrity.embedded_texts(catalog.conn, space.id))
    cached = cache.get_many(space.id, "document", [text for _, text, _ in stored])
    wrong = []
    for (_, text, vector), hit in zip(stored, cached):
        if hit is None:
            continue
        if not usable_vector(hit, space.dimensions) or \
                float(hit @ vector) / max(float(np.linalg.norm(hit) * np.linalg.norm(vector)),
                                          1e-12) < _SAME:
            wrong.append(text)
    return wrong


def _check_cache(catalog: Catalog, space: EmbeddingSpace, report: VerifyReport,
                 cache_path: Any) -> None:
    try:
        cache = _open_cache(cache_path)
    except (LoreError, sqlite3.Error) as exc:
        report.findings.append(Finding("cache", False, f"the embedding cache cannot be read "
                                       f"({exc})", repairable=False))
        return
    if cache is None:
        report.findings.append(Finding("cache", True, "no embedding cache"))
        return
    try:
        wrong = _cache_mismatches(catalog, space, cache)
    finally:
        cache.close()
    report.findings.append(Finding("cache", not wrong, f"{len(wrong)} cached vectors differ "
                                   "from the index's stored ones" if wrong else
                                   "cached vectors agree with the stored ones"))


# --- repairs --------------------------------------------------------------------------------


def _repair_space(catalog: Catalog) -> str:
    """Point the active-space record at the registered space that holds the vectors."""
    for space_id in integrity.spaces_with_vectors(catalog.conn):
        try:
            space = EmbeddingSpace(**json.loads(catalog.spaces()[space_id]))
        except (TypeError, ValueError, KeyError):
            continue
        if space.id == space_id:
            with catalog.transaction():
                catalog.set_meta(SPACE_META, space_id)
            return f"set the active space to {space.describe()}, the space holding the vectors"
    return "the active space could not be restored: no registered space holds vectors"


def _repair_cache(catalog: Catalog, space: EmbeddingSpace, cache_path: Any) -> str:
    cache = _open_cache(cache_path)
    if cache is None:
        return "no cache to repair"
    try:
        removed = cache.delete_many(space.id, "document", _cache_mismatches(catalog, space, cache))
    finally:
        cache.close()
    return f"removed {removed} cached vectors that disagreed with the index"
