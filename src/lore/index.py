"""``Index``: the Python API object over one indexed folder.

An ``Index`` ties a root folder, its settings and its store together, so
callers say ``open_index("~/notes").search("...")`` and never handle paths to
SQLite files. The CLI, the servers and the evaluation runner all go through
it, which keeps "what ``lore index`` does" one definition. What it returns
(``SearchResult`` of ``Hit``, ``SyncReport``, ``DocumentRecord``,
``ContextPack``, ``Neighbour``) is exported from ``lore``; everything it
holds (the store, the embedder, the vector index) is private. The link graph
is not held here: it is a fact of the catalog state (``LinkGraph.of_catalog``),
kept by the store and shared with the search's graph leg and link evidence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lore.embed.runner import EmbeddingRunner
from lore.embed.spaces import ensure_same_space
from lore.errors import (
    ConfigError,
    IndexNotFoundError,
    MissingDependencyError,
    ModelNotFoundError,
    ProviderError,
    QueryError,
)
from lore.locking import WriterLock, write_errors
from lore.paths import check_index_dir
from lore.search.hits import SearchResult
from lore.settings import Settings
from lore.store.base import Store
from lore.store.catalog import CATALOG_FILE, Catalog
from lore.store.records import DocumentRecord
from lore.store.vectors import VectorIndexOptions
from lore.sync import ProgressCallback, SyncReport, file_warnings, sync
from lore.vectorize import update_vectors

if TYPE_CHECKING:
    from typing_extensions import Self

    from lore.documents.chunking import TokenMeasure
    from lore.search.expand import ContextPack
    from lore.search.graph import LinkGraph, Neighbour
    from lore.search.hits import Hit
    from lore.search.rerank import Reranker
    from lore.search.vector import VectorLeg
    from lore.store.vectors import VectorSearch
    from lore.types import SearchMode
    from lore.verify import VerifyReport

log = logging.getLogger(__name__)


def resolve_index_dir(root: Path, settings: Settings, index_dir: Path | None = None) -> Path:
    """Where the index of ``root`` lives: ``index_dir``, else ``settings.index.dir``.

    A relative ``settings.index.dir`` is taken relative to the root, so an
    index travels with its folder.

    Raises:
        ConfigError: the folder is the root, above it, or a system folder.
    """
    if index_dir is not None:
        return check_index_dir(root, Path(index_dir).expanduser().absolute())
    configured = Path(settings.index.dir).expanduser()
    return check_index_dir(root, configured if configured.is_absolute() else root / configured)


class Index:
    """An open index over one folder. Close it (or use ``with``) when done."""

    def __init__(self, root: Path, store: Store, settings: Settings, index_dir: Path) -> None:
        self.root = root
        self.settings = settings
        self.index_dir = index_dir
        self._store = store
        self._embedder: EmbeddingRunner | None = None
        self._vectors: VectorSearch | None = None
        self._unembedded = 0  # chunks without a vector in the active space, at index load
        self._reranker: Reranker | None = None
        self._reranker_built = False
        self._generation: int | None = None   # store generation the caches were built on
        self._pinned = False

    def sync(self, progress: ProgressCallback | None = None, *, rebuild_vectors: bool = False,
             embed_progress: Callable[[int, int], None] | None = None,
             on_wait: Callable[[str], None] | None = None,
             on_catalog: Callable[[SyncReport], None] | None = None) -> SyncReport:
        """Bring the index in line with the files, then embed what is new.

        The catalog sync (see ``lore.sync.sync``) always runs. The embedding
        pass runs when ``settings.embed.enabled``; if the embedder cannot run
        (model missing offline, endpoint down) the catalog is still updated,
        the report's ``notices`` say why, and chunks without vectors are found
        by keyword only until a later sync embeds them.

        Args:
            progress: called after each file with (done, total, path).
            rebuild_vectors: re-embed everything when the configured embedding
                space differs from the index's (a model change).
            embed_progress: called as (chunks done, chunks total) while embedding.
            on_wait: told once, in words, when another process holds the writer lock
                (default: a log warning).
            on_catalog: called with the report once the catalog is committed and
                before embedding starts (a server shows the new text to keyword
                search then, without waiting for the vectors).

        Only one process writes an index at a time: a second sync waits for the
        first (saying so) up to ``settings.index.lock_timeout_s``.

        Raises:
            EmbedderMismatchError: the configured embedder's space differs from
                the index's and ``rebuild_vectors`` is false.
            IndexBusyError: another process kept the index busy past the timeout.
            IndexWriteError: the disk is full or the write was refused (nothing lost).
            ConfigError: the index is read-only.
        """
        if self._store.read_only:
            raise ConfigError(f"The index {self.index_dir} is read-only (a read-only mount or "
                              "no write permission): it can be searched, not updated. Make it "
                              "writable, or index into another folder with --index-dir.")
        # The file lock guards a local index (catalog and sidecar files); a database
        # store without a folder has its own lock (``writer_lock``) only.
        file_lock = WriterLock(self.index_dir, timeout_s=self.settings.index.lock_timeout_s,
                               on_wait=on_wait) if self.index_dir.is_dir() else nullcontext()
        with file_lock, write_errors(self.index_dir), self._store.writer_lock():
            return self._sync_locked(progress, rebuild_vectors, embed_progress, on_catalog)

    def _sync_locked(self, progress: ProgressCallback | None, rebuild_vectors: bool,
                     embed_progress: Callable[[int, int], None] | None,
                     on_catalog: Callable[[SyncReport], None] | None) -> SyncReport:
        """``sync`` once this process holds the index's writer lock."""
        measure = self._chunk_measure() if self.settings.chunking.fit_window else None
        report = sync(self.root, self._store, self.settings, progress=progress,
                      index_dir=self.index_dir, measure=measure)
        if on_catalog is not None:
            on_catalog(report)
        if self.settings.embed.enabled:
            try:
                vectors = update_vectors(self._store, self._runner(), rebuild=rebuild_vectors,
                                         progress=embed_progress)
            except (ModelNotFoundError, MissingDependencyError, ProviderError) as exc:
                report.notices.append(f"vectors not updated ({exc}); chunks without vectors "
                                      "are found by keyword only until a later `lore index`.")
                log.warning(report.notices[-1])
            else:
                report.vectors = vectors.to_dict()
            self._vectors = None
        return report

    def _chunk_measure(self) -> TokenMeasure | None:
        """The embedding model's token counter for the chunker (``chunking.fit_window``),
        or None to estimate.

        None when embeddings are off or the model cannot be loaded (the
        embedding pass then reports why); chunks are then cut by the estimate.
        """
        if not self.settings.embed.enabled:
            return None
        try:
            measure = self._runner().chunk_measure()
            if measure is not None:
                measure.count(["probe"])  # loads the tokenizer now, not mid-sync
        except (ModelNotFoundError, MissingDependencyError, ProviderError) as exc:
            log.info("chunking by estimate: the model's tokenizer is unavailable (%s)", exc)
            return None
        return measure

    def _no_vectors_notice(self) -> str:
        """Why there is no vector leg: never embedded, or a first embedding under way."""
        spaces = self._store.spaces()
        if self.settings.embed.enabled and spaces:
            # A first `lore index` registers its space before embedding, then fills it.
            space_id = next(reversed(spaces))
            pending = self._store.pending_count(space_id)
            total = pending + self._store.vector_count(space_id)
            return (f"this index has no vectors yet ({total - pending:,} of {total:,} chunks "
                    "embedded: `lore index` is embedding them, or its last run stopped "
                    "early); keyword results only until it finishes.")
        return ("this index has no vectors yet; keyword results only "
                "(run `lore index` with embeddings enabled).")

    def _refresh(self) -> None:
        """Forget the cached vector index if another process wrote the store.

        A server or a notebook keeps one ``Index`` open while ``lore index`` runs
        elsewhere; without this its vector search would keep the old sidecar,
        miss new documents and name chunks that no longer exist. (The link
        graph needs no forgetting: it is a fact of the catalog state, ``_link_graph``.)
        """
        if self._pinned:   # a pinned reader answers from its snapshot, on purpose
            return
        generation = self._store.generation()
        if generation != self._generation:
            self._vectors = None
            self._generation = generation

    def embedding_runner(self) -> EmbeddingRunner:
        """The configured embedder with its cache, for callers that embed text themselves.

        The server's ``/v1/embeddings`` answers with it, so its vectors are the
        ones this index searches with.

        Raises:
            ModelNotFoundError, MissingDependencyError, ProviderError: the
                embedder cannot be built.
        """
        return self._runner()

    def warm(self) -> list[str]:
        """Open the vector index and load the model now, so the first search does not.

        Returns the notices a search would carry when vectors are unusable
        (none yet, embedder unavailable). A long-lived reader calls it once.

        Raises:
            EmbedderMismatchError: the configured embedder's space is not the index's.
        """
        notices: list[str] = []
        if self.settings.embed.enabled and self._vector_leg(notices) is not None:
            # Past the cache: the model files load here, not in a first request.
            self._runner().embedder.embed(["warm up"], "query")
        return notices

    def prepare_keyword_search(self, *, wait: bool = True) -> bool:
        """Copy the keyword index into memory, so the next searches' keyword leg is
        answered from it (``lore.store.keyword_memory``; same rankings, about ten times
        faster) rather than after the background build a long-lived index starts a
        second after its first search.

        Args:
            wait: build the copy now, in this thread; without it the build runs in
                the background and this returns at once (a server does this when it
                opens its readers).

        Returns whether a copy is ready (never for a store without one, or past its
        size cap; without ``wait``, only when one was current already).
        """
        prepare = getattr(self._store, "prepare_keyword_memory", None)
        return bool(prepare(wait=wait)) if prepare is not None else False

    def share_loaded(self, other: Index, *, vectors: bool = True) -> None:
        """Reuse ``other``'s embedding runner and (with ``vectors``) its opened vector index.

        Readers of one state in a server answer from the same model and the
        same vector index (both are only read while searching), so a pool of
        readers costs one model load, not one per reader. Call it right after
        opening, before the first search.
        """
        if other._embedder is not None:
            self._embedder = other._embedder
        if vectors:
            self._vectors = other._vectors
            self._unembedded = other._unembedded

    def pin_snapshot(self) -> None:
        """Read the state committed now until ``close`` (a read-only, long-lived reader)."""
        self._store.pin_snapshot()
        self._pinned = True

    def _runner(self) -> EmbeddingRunner:
        """The configured embedder with its cache (built on first use)."""
        if self._embedder is None:
            self._embedder = EmbeddingRunner.from_settings(self.settings.embed)
        return self._embedder

    def _vector_leg(self, notices: list[str], *, force: bool = False) -> VectorLeg | None:
        """The vector leg over the active space, or None (saying why in ``notices``).

        Raises:
            EmbedderMismatchError: the configured embedder's space is not the
                index's and ``force`` is false.
        """
        space = self._store.active_space()
        if space is None:
            notices.append(self._no_vectors_notice())
            return None
        try:
            runner = self._runner()
        except (ModelNotFoundError, MissingDependencyError, ProviderError) as exc:
            notices.append(f"the embedder is unavailable ({exc}); keyword results only.")
            return None
        from lore.search.vector import VectorLeg

        ensure_same_space(space, runner.space, force=force)
        if self._vectors is None:
            self._vectors = self._store.vector_index(space)
            self._unembedded = self._store.pending_count(space.id)
        if self._unembedded:
            notices.append(f"{self._unembedded:,} chunks have no vector yet (`lore index` "
                           "is embedding them, or was interrupted); the vector leg "
                           "misses them, keyword search finds them.")
        return VectorLeg(runner, self._vectors,
                         document_vectors=self.settings.search.document_vectors)

    def search(self, query: str, *, limit: int | None = None,
               filters: dict[str, list[str]] | None = None, chunks: bool = False,
               mode: SearchMode | None = None, explain: bool = False,
               force: bool = False, expand: bool = False) -> SearchResult:
        """Ranked hits for ``query``.

        Args:
            query: free text; may hold inline filters (``type:ADR``) and ids.
            limit: how many hits (default ``settings.search.limit``).
            filters: field -> accepted values, ANDed with inline filters.
            chunks: one hit per chunk instead of per document.
            mode: "keyword", "vector" or "hybrid" (default ``settings.search.mode``).
            explain: attach which legs found each hit and why it ranks there.
            force: search vectors even if the configured embedder's space differs
                from the index's (scores may be meaningless).
            expand: append documents linked to the top hits (``settings.graph``),
                each with the edges that reached it in ``Hit.via``.

        With ``settings.rerank.provider`` set, the top ``rerank.candidates``
        fused hits (at least ``limit``) are reordered by the reranker before
        the cut to ``limit`` and before expansion; exact-id hits stay first.

        Raises:
            ConfigError: the reranker is misconfigured.
            EmbedderMismatchError: the embedding spaces differ and ``force`` is false.
            QueryError: a bad mode or limit, or vector mode without usable vectors.

        Returns:
            The hits, with ``notices`` saying whether the search ran degraded
            (e.g. keyword-only because the index has no vectors, or fused
            order because the reranker failed) or matched nothing strongly,
            which ``weak_match`` also says.
        """
        from lore.search.engine import search_store
        from lore.search.limits import check_filters, check_query

        query, filters = check_query(query), check_filters(filters)
        self._refresh()
        notices: list[str] = []
        mode = mode or self.settings.search.mode
        leg = None if mode == "keyword" or not self.settings.embed.enabled \
            else self._vector_leg(notices, force=force)
        reranker = self._get_reranker()
        wanted = self.settings.search.limit if limit is None else limit
        fetch = wanted if reranker is None or wanted < 1 \
            else max(wanted, self.settings.rerank.candidates)
        def run(vector_leg: VectorLeg | None) -> SearchResult:
            return search_store(self._store, query, settings=self.settings, limit=fetch,
                                filters=filters, chunks=chunks,
                                explain=explain or reranker is not None, mode=mode,
                                vector_leg=vector_leg)

        try:
            found = run(leg)
        except ProviderError as exc:
            # The query embedding failed (server down, bad reply): hybrid search still
            # has its keyword leg, as promised; vector mode has nothing else.
            if mode == "vector":
                raise
            notices.append(f"the embedder failed ({exc}); keyword results only.")
            log.warning(notices[-1])
            found = run(None)
        hits: list[Hit] = list(found)
        if reranker is not None:
            hits = self._reranked(reranker, query, hits, notices, limit=wanted, explain=explain)
        if expand:
            from lore.search.expand import expand_hits

            with self._store.read_snapshot():
                hits = expand_hits(self._store, hits, self._link_graph(), self.settings.graph)
        if found.weak_match and hits:   # with no hits at all, the front end says so itself
            notices.append("No strong match: no hit contains most of the query's words or "
                           "comes close in meaning; the hits are the nearest there are.")
        return SearchResult(hits, [*found.notices, *notices], weak_match=found.weak_match)

    def _reranked(self, reranker: Reranker, query: str, hits: list[Hit], notices: list[str], *,
                  limit: int, explain: bool) -> list[Hit]:
        """The top ``limit`` of ``hits`` (searched with explain) in the reranker's order."""
        from lore.search.engine import plan_query
        from lore.search.rerank import rerank_hits

        text = plan_query(self._store, query, None).parsed.text
        reordered, notice = rerank_hits(self._store, reranker, text, hits,
                                        time_budget_s=self.settings.rerank.time_budget_s)
        if notice:
            notices.append(notice)
        return [hit if explain else replace(hit, explain=None) for hit in reordered[:limit]]

    def _get_reranker(self) -> Reranker | None:
        """The configured reranker (built on first use), or None when reranking is off."""
        if not self._reranker_built:
            from lore.search.rerank import build_reranker

            self._reranker = build_reranker(self.settings.rerank, self.settings.embed.offline)
            self._reranker_built = True
        return self._reranker

    def context(self, query: str, *, budget: int | None = None, limit: int | None = None,
                filters: dict[str, list[str]] | None = None,
                mode: SearchMode | None = None) -> ContextPack:
        """Top passages for ``query`` plus their parents and decisions, within a token budget.

        Args:
            query: as for ``search``.
            budget: token budget (default ``settings.graph.context_tokens``).
            limit: how many hits to start from.
            filters: as for ``search``.
            mode: as for ``search``.
        """
        from lore.search.expand import pack_context

        result = self.search(query, limit=limit, filters=filters, mode=mode)
        with self._store.read_snapshot():
            pack = pack_context(self._store, result, self._link_graph(),
                                budget or self.settings.graph.context_tokens)
        pack.notices.extend(result.notices)
        return pack

    def _link_graph(self) -> LinkGraph:
        """The resolved typed-link graph of the catalog state read now, built once per state
        and shared with the search's graph leg and link evidence (``LinkGraph.of_catalog``).

        It is read inside a read snapshot because that is where the store keeps
        catalog facts: SQLite's fact cache serves and stores them only in a
        checked snapshot, and outside one the graph would be resolved anew on
        every call. A write, this process's or another's, moves the catalog
        state, so the next snapshot builds the graph again. Callers that read
        documents beside the graph hold one snapshot around both (this one then
        joins it), so graph and documents are of the same state.
        """
        from lore.search.graph import LinkGraph

        with self._store.read_snapshot():
            return LinkGraph.of_catalog(self._store)

    def related(self, id_or_path: str, *, depth: int = 1,
                kinds: list[str] | None = None) -> list[Neighbour]:
        """Documents linked to one document within ``depth`` hops, nearest first.

        Args:
            id_or_path: doc id, uid or root-relative path.
            depth: how many hops to walk.
            kinds: only these edge kinds (parent, child, blocks, blocked_by,
                relates, decision, decides, wiki, markdown, backlink).

        Raises:
            QueryError: no document has that id or path.
        """
        self._refresh()
        with self._store.read_snapshot():
            graph = self._link_graph()
            record = self.get(id_or_path)
            rowid = None if record is None else graph.resolver.resolve(record.path)
        if rowid is None:
            raise QueryError(f"No indexed document has the id, uid or path {id_or_path!r}; "
                             "find it with `lore search`, or run `lore index` if it is new.")
        return graph.neighbourhood(rowid, depth=depth, kinds=kinds)

    def get(self, id_or_path: int | str) -> DocumentRecord | None:
        """One document by root-relative path, doc id or uid (ids case-insensitive)."""
        return self._store.get_document(id_or_path)

    def verify(self) -> VerifyReport:
        """Whether catalog, FTS, stored vectors, sidecar, space record and cache agree
        (on PostgreSQL: ``lore.store.postgres.integrity`` says what is checked)."""
        if not isinstance(self._store, Catalog):
            from lore.store.postgres.integrity import verify_store
            from lore.store.postgres.store import PostgresStore

            if isinstance(self._store, PostgresStore):
                return verify_store(self._store)
        from lore.verify import verify_index

        return verify_index(self._catalog())

    def repair(self) -> tuple[list[str], VerifyReport]:
        """Rebuild what is derived and inconsistent from what is stored; (actions, report)."""
        from lore.verify import repair_index

        return repair_index(self._catalog(), lock_timeout_s=self.settings.index.lock_timeout_s)

    def _catalog(self) -> Catalog:
        if not isinstance(self._store, Catalog):
            raise ConfigError("`lore repair` mends the local SQLite index only. On PostgreSQL, "
                              "`lore verify` names what disagrees; `lore index --rebuild-vectors`"
                              " rebuilds vectors, and indexing into a new store_name rebuilds "
                              "the rest.")
        return self._store

    def duplicate_ids(self) -> dict[str, list[str]]:
        """Doc ids held by more than one file -> their paths (an id lookup finds only one)."""
        return self._store.duplicate_doc_ids()

    def warnings(self) -> dict[str, Any]:
        """What is wrong with the indexed files but did not stop indexing them.

        Returns:
            ``{"files": [(path, message), ...], "duplicate_ids": {id: [paths]}}``:
            each file's warnings as of the sync that last read it, and the ids
            that several files share.
        """
        return {"files": file_warnings(self._store), "duplicate_ids": self.duplicate_ids()}

    def status(self) -> dict[str, Any]:
        """What the index holds and when it was last synced (``lore status``)."""
        last_sync = self._store.get_meta("last_sync")
        active = self._store.active_space()
        return {
            "root": str(self.root),
            "index_dir": str(self.index_dir),
            **self._store.stats(),
            "active_space": None if active is None else active.id,
            "chunker_version": self._store.get_meta("chunker_version"),
            "last_sync": float(last_sync) if last_sync is not None else None,
            "last_sync_age_s": (round(time.time() - float(last_sync), 1)
                                if last_sync is not None else None),
        }

    def close(self) -> None:
        """Close the store."""
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_index(root: str | Path, *, settings: Settings | None = None,
               index_dir: Path | None = None, create: bool = True,
               any_thread: bool = False) -> Index:
    """Open the index of the folder ``root``, creating it unless ``create`` is false.

    Args:
        root: the folder of documents.
        settings: the settings to use; default: loaded by ``lore.config`` from
            the layers (user file, ``ROOT/lore.toml``, ``LORE_*`` env).
        index_dir: where the index lives (default ``ROOT/<settings.index.dir>``).
        create: make a new, empty index when there is none.
        any_thread: the catalog connection may be used from other threads, one
            at a time (a server's pool of readers).

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
    store = open_store(root_path, settings, directory, create=create, any_thread=any_thread)
    return Index(root_path, store, settings, directory)


def open_store(root: Path, settings: Settings, directory: Path, *, create: bool,
               any_thread: bool = False) -> Store:
    """The store ``settings.index.store`` names: the local catalog in ``directory``, or a
    PostgreSQL database (the root named ``index.store_name``, default the folder's name).

    ``any_thread`` lets the local catalog's connection be used from other threads
    (a server's worker threads); psycopg serialises the use of a PostgreSQL connection.

    Raises:
        ConfigError: ``index.store`` is neither empty nor a ``postgresql://`` URL.
        IndexNotFoundError: ``create`` is false and there is no index yet.
        StoreError: the PostgreSQL server cannot be used (the message says why).
    """
    from lore.store.postgres.connection import is_postgres_url, redact

    url = settings.index.store
    if url:
        if not is_postgres_url(url):
            raise ConfigError(f"index.store is {redact(url)!r}: leave it empty for the local "
                              "index, or give a postgresql://user:password@host/database URL.")
        from lore.store.postgres import PostgresStore

        log.debug("opening %s in %s", root, redact(url))
        return PostgresStore.open(url, settings.index.store_name or root.name,
                                  text_config=settings.index.text_search, create=create)
    if not create and not (directory / CATALOG_FILE).exists():
        raise IndexNotFoundError(f"No lore index for {root} (looked in {directory}). "
                                 f"Run `lore index {root}` first.")
    log.debug("opening index %s for %s", directory, root)
    options = VectorIndexOptions(precision=settings.index.vector_precision)
    return Catalog.open(directory, create=create, vector_options=options, any_thread=any_thread)
