"""Files -> catalog, incrementally: only what changed is read, parsed and re-chunked.

Change detection is layered from cheap to dear. A file whose size, mtime and
chunker version match the catalog is skipped without being opened; otherwise
it is read and hashed, and an unchanged hash only refreshes the stored mtime
(a ``touch`` or a checkout costs a hash, not a re-chunk). Only new or changed
content is parsed, chunked and written.

Crash safety comes from SQLite: file updates commit in short transactions
(each file's writes inside one of them, never split) and all deletions are
one transaction at the end, so killing the process at any moment leaves a
catalog that is consistent (each document entirely old or entirely new) and
a re-run finishes the job. Updates are grouped into transactions of about
``BATCH_SECONDS`` rather than one per file because every commit costs a
journal write and a new FTS5 segment: on SciFact (5,183 one-chunk files) one
commit per file made the full index 2.5x slower. Deletions wait for the end
because a file missing from the walk might be a rename, detected by content
hash, which keeps the document's row id.

Embedding is not done here: it runs after a sync over ``Store.pending_chunks``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from lore._files import read_bounded
from lore.documents import load_document
from lore.documents.chunking import CHUNKER_VERSION, TokenMeasure, chunk_document
from lore.documents.doctypes import PARSER_VERSION
from lore.documents.sources import Skipped, SourceFile, walk
from lore.errors import DocumentError
from lore.settings import ChunkSettings, Settings
from lore.store.base import FileState, SyncWrites

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger(__name__)

# progress(files done, files total, root-relative path of the last file)
ProgressCallback = Callable[[int, int, str], None]

# A write transaction stays open at most about this long: short enough that a
# writer waiting on the lock, or an interrupted sync, loses little; long
# enough to amortise the per-commit cost over many files.
BATCH_SECONDS = 0.25
# Catalog meta key: JSON {path: [warning, ...]} of the indexed files.
FILE_WARNINGS_META = "file_warnings"


@dataclass
class SyncReport:
    """What one sync did, path by path.

    Attributes:
        added: new documents.
        updated: documents whose content (or chunking) changed.
        removed: documents deleted because their file is gone, or can no
            longer be indexed (see ``skipped`` for why).
        renamed: (old path, new path) of moved files, matched by content hash.
        unchanged: files left as they were.
        skipped: (path, reason) of files that could not be indexed.
        warnings: (path, message) of non-fatal problems in the files read by
            this sync (bad front matter, invalid UTF-8...).
        duplicate_ids: doc ids that more than one file holds -> their paths
            (the whole index, every sync; an id lookup finds only one of them).
        new_chunk_ids: ids of the chunks written, i.e. what needs embedding.
        duration: wall-clock seconds.
        vectors: what the embedding pass did (``VectorReport.to_dict``), when it ran.
        notices: why vectors were not updated, when they were not.
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    duplicate_ids: dict[str, list[str]] = field(default_factory=dict)
    new_chunk_ids: list[int] = field(default_factory=list)
    duration: float = 0.0
    vectors: dict[str, Any] | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the catalog's documents changed at all."""
        return bool(self.added or self.updated or self.removed or self.renamed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with stable field names (``lore index --json``)."""
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "renamed": [{"from": old, "to": new} for old, new in self.renamed],
            "unchanged": len(self.unchanged),
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "warnings": [{"path": p, "message": m} for p, m in self.warnings],
            "duplicate_ids": self.duplicate_ids,
            "new_chunks": len(self.new_chunk_ids),
            "duration_s": round(self.duration, 4),
            "vectors": self.vectors,
            "notices": self.notices,
        }


def file_warnings(catalog: SyncWrites) -> list[tuple[str, str]]:
    """(path, message) of every indexed file's warnings, as of the last sync."""
    kept: dict[str, list[str]] = json.loads(catalog.get_meta(FILE_WARNINGS_META) or "{}")
    return [(path, message) for path in sorted(kept) for message in kept[path]]


def chunker_version(settings: ChunkSettings, measure: TokenMeasure | None = None) -> str:
    """The chunker and parser code versions plus a digest of the chunk settings and tokenizer.

    Chunk output depends on all three, so changing any (a new lore, a new
    ``chunking.max_tokens``, another embedding model) re-chunks every
    document on the next sync. ``chunking.fit_window`` is digested through the
    measure (its name, or None when off), so turning it on re-chunks while an
    index made before the setting existed keeps its chunks.
    """
    budgets = {key: value for key, value in asdict(settings).items() if key != "fit_window"}
    blob = json.dumps([budgets, measure.name if measure else None],
                      sort_keys=True).encode()
    return f"{CHUNKER_VERSION}.{PARSER_VERSION}+{hashlib.sha256(blob).hexdigest()[:8]}"


def sync(root: Path, catalog: SyncWrites, settings: Settings, *, index_dir: Path | None = None,
         progress: ProgressCallback | None = None,
         measure: TokenMeasure | None = None) -> SyncReport:
    """Bring ``catalog`` in line with the files under ``root``.

    Args:
        root: the indexed folder.
        catalog: the open store to update.
        index_dir: the index's own folder, never indexed (default ``root/settings.index.dir``).
        settings: what to index (``settings.index``) and how to chunk it.
        progress: called after each file with (done, total, path).
        measure: the embedding model's tokenizer, so chunks fit its window
            (None: chunk by the estimate; see ``lore.documents.chunking``).

    Raises:
        ConfigError: ``root`` is not a directory.
    """
    started = time.perf_counter()
    root = Path(root)
    index_dir = index_dir or root / settings.index.dir
    run = _SyncRun(root, catalog, settings, catalog.document_states(), measure)
    sources = run.walk(index_dir)
    with run.batch:
        for done, source in enumerate(sources, 1):
            run.sync_file(source)
            if progress is not None:
                progress(done, len(sources), source.relpath)
    run.finish()
    report = run.report
    report.duration = time.perf_counter() - started
    log.info("synced %s in %.2f s: %d added, %d updated, %d removed, %d renamed, "
             "%d unchanged, %d skipped, %d warnings", root, report.duration, len(report.added),
             len(report.updated), len(report.removed), len(report.renamed),
             len(report.unchanged), len(report.skipped), len(report.warnings))
    return report


class _SyncRun:
    """The state of one sync: what the catalog held, and what became of it."""

    def __init__(self, root: Path, catalog: SyncWrites, settings: Settings,
                 known: dict[str, FileState], measure: TokenMeasure | None) -> None:
        self.root = root
        self.catalog = catalog
        self.settings = settings
        self.measure = measure
        self.version = chunker_version(settings.chunking, measure)
        self.known = known
        self.report = SyncReport()
        self.batch = _Batches(catalog)
        self.vanished: dict[str, FileState] = {}   # indexed paths the walk did not yield
        self.vanished_by_hash: dict[str, list[str]] = {}
        self.broken: list[str] = []                # indexed paths that no longer load

    def walk(self, index_dir: Path) -> list[SourceFile]:
        """Every indexable file, in walk order; skipped entries go to the report."""
        sources: list[SourceFile] = []
        for item in walk(self.root, self.settings.index, index_dir):
            if isinstance(item, Skipped):
                self.report.skipped.append((item.relpath, item.reason))
            else:
                sources.append(item)
        seen = {source.relpath for source in sources}
        self.vanished = {p: s for p, s in self.known.items() if p not in seen}
        for path, state in sorted(self.vanished.items()):
            self.vanished_by_hash.setdefault(state.content_hash, []).append(path)
        return sources

    def sync_file(self, source: SourceFile) -> None:
        """Bring one file's document up to date (its writes inside one transaction)."""
        rel = source.relpath
        state = self.known.get(rel)
        if state is not None and state.chunker_version == self.version and (
                state.size, state.mtime_ns) == (source.size, source.mtime_ns):
            self.report.unchanged.append(rel)
            return
        try:
            # Bounded and non-blocking: the file may have become a FIFO or grown since the walk.
            data = read_bounded(source.path, self.settings.index.max_file_bytes)
        except OSError as exc:
            self.skip(rel, f"cannot read file: {exc.strerror}; make it a readable regular file "
                           "within index.max_file_bytes", state)
            return
        digest = hashlib.sha256(data).hexdigest()
        if state is not None and state.content_hash == digest \
                and state.chunker_version == self.version:
            with self.batch.writing():
                self.catalog.update_file_state(rel, len(data), source.mtime_ns)
            self.report.unchanged.append(rel)
            return
        try:
            doc = load_document(self.root, source, data)
            chunks = chunk_document(doc, self.settings.chunking, self.measure)
        except DocumentError as exc:
            self.skip(rel, exc.reason, state)
            return
        except Exception as exc:  # one file's parser bug must not stop the whole sync
            log.exception("unexpected error while indexing %s", rel)
            self.skip(rel, f"unexpected error ({type(exc).__name__}: {exc}); please report "
                           "it as a lore bug", state)
            return
        old = None if state is not None else self.claim_rename(digest)
        with self.batch.writing(), self.catalog.transaction():
            if old is not None:
                self.catalog.rename(old, rel)
            self.report.new_chunk_ids += self.catalog.replace_document(doc, chunks, self.version)
        self.report.warnings += [(rel, message) for message in doc.warnings]
        if old is not None:
            self.report.renamed.append((old, rel))
        elif state is None:
            self.report.added.append(rel)
        else:
            self.report.updated.append(rel)

    def skip(self, rel: str, reason: str, state: FileState | None) -> None:
        """Report a file that cannot be indexed; an indexed copy of it is removed at the end."""
        log.info("skipped %s: %s", rel, reason)
        self.report.skipped.append((rel, reason))
        if state is not None:
            self.broken.append(rel)

    def claim_rename(self, digest: str) -> str | None:
        """A vanished path with this content, taken so no second file claims it."""
        candidates = self.vanished_by_hash.get(digest)
        if not candidates:
            return None
        path = candidates.pop(0)
        del self.vanished[path]
        return path

    def finish(self) -> None:
        """Delete what is gone (one transaction), then warn about duplicate ids."""
        gone = sorted([*self.vanished, *self.broken])
        if gone:
            self.catalog.delete_documents(gone)
        self.report.removed = gone
        r = self.report
        if r.added or r.updated or r.renamed or gone:
            self.catalog.refresh_copies()
        self.report.duplicate_ids = self.catalog.duplicate_doc_ids()
        self.catalog.set_meta(FILE_WARNINGS_META, json.dumps(self._current_warnings()))
        self.catalog.set_meta("chunker_version", self.version)
        self.catalog.set_meta("last_sync", str(time.time()))

    def _current_warnings(self) -> dict[str, list[str]]:
        """Every indexed file's warnings: the last sync's, updated by this one's.

        A file's warnings are only found when it is read, so they are kept
        with the index (for ``lore status --warnings``) until the file changes.
        """
        kept: dict[str, list[str]] = json.loads(self.catalog.get_meta(FILE_WARNINGS_META) or "{}")
        renamed = [path for pair in self.report.renamed for path in pair]
        for path in [*self.report.added, *self.report.updated, *self.report.removed, *renamed]:
            kept.pop(path, None)
        for path, message in self.report.warnings:
            kept.setdefault(path, []).append(message)
        return kept


class _Batches:
    """Groups the per-file writes of a sync into transactions of about ``BATCH_SECONDS``.

    Used as a context manager around the file loop: on normal exit the last
    batch commits; on any exception (an interrupt included) it rolls back,
    and every earlier batch stays committed.
    """

    def __init__(self, catalog: SyncWrites) -> None:
        self._catalog = catalog
        self._stack = ExitStack()  # holds the open transaction, if any
        self._since: float | None = None

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Run one file's writes inside the current batch, starting one if needed."""
        if self._since is None:
            self._stack.enter_context(self._catalog.transaction())
            self._since = time.monotonic()
        yield
        if time.monotonic() - self._since >= BATCH_SECONDS:
            self._since = None
            self._stack.close()  # commits

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._since = None
        self._stack.__exit__(exc_type, exc, tb)  # commits, or rolls back on an exception
