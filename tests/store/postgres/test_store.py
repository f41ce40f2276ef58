"""PostgresStore: roots kept apart, per-root text search, one writer at a time, crash safety."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import MINI_DOCS, fill_mini, pg_store
from test_sync import write_corpus

from lore.errors import IndexNotFoundError, LoreError, StoreError
from lore.index import open_index
from lore.settings import EmbedSettings, IndexSettings, Settings
from lore.store.postgres import PostgresStore
from lore.store.postgres import store as pg_store_module
from lore.store.postgres.connection import redact


def test_roots_in_one_database_are_kept_apart(pg_url: str) -> None:
    first, second = pg_store(pg_url), pg_store(pg_url)
    try:
        fill_mini(first)
        assert len(first.document_states()) == len(MINI_DOCS)
        assert second.document_states() == {}
        assert second.keyword_ranking(['"cache"'], weights=(1, 1, 1), limit=10,
                                      restriction=None) == []
        assert second.get_document("ADR-0001") is None
        fill_mini(second)   # the same paths in another root are other rows
        assert len(second.document_states()) == len(MINI_DOCS)
        assert first.stats()["documents"] == second.stats()["documents"] == len(MINI_DOCS)
    finally:
        for store in (first, second):
            store.drop_root()
            store.close()


@pytest.mark.parametrize("config, stems", [("lore_english", True), ("english", True),
                                           ("simple", False)])
def test_text_search_configuration_is_per_root(pg_url: str, config: str, stems: bool) -> None:
    store = pg_store(pg_url, text_config=config)
    try:
        fill_mini(store)
        assert store.text_config == config
        # "caches" reaches "cache" only through English stemming.
        found = store.keyword_ranking(['"caches"'], weights=(1, 1, 1), limit=10,
                                      restriction=None)
        assert bool(found) == stems
        assert store.keyword_ranking(['"cache"'], weights=(1, 1, 1), limit=10, restriction=None)
    finally:
        store.drop_root()
        store.close()


def test_unknown_configuration_names_the_known_ones(pg_url: str) -> None:
    with pytest.raises(StoreError, match="Use one of: .*english.*simple"):
        pg_store(pg_url, text_config="klingon")


def test_a_missing_root_is_not_created_unless_asked(pg_url: str) -> None:
    with pytest.raises(IndexNotFoundError, match="lore migrate --to"):
        PostgresStore.open(pg_url, "no-such-root", create=False)


def test_hostile_query_text_is_only_text(pg_url: str) -> None:
    store = pg_store(pg_url)
    try:
        fill_mini(store)
        for term in ['"cache & !vector | (x"', '"\':* <-> "*', '"%"', '"*"*', '""']:
            store.keyword_ranking([term], weights=(1, 1, 1), limit=5, restriction=None)
        for form in ("exact", "stem", "id_at_uid", "suffix", "uid_prefix"):
            assert store.id_matches("'; DROP TABLE lore_documents; --", form=form,
                                    restriction=None, prefer=()) == []
        assert len(store.document_states()) == len(MINI_DOCS)
    finally:
        store.drop_root()
        store.close()


def test_second_writer_waits_then_fails_clearly(pg_url: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_store_module, "LOCK_WAIT_S", 0.5)
    holder = pg_store(pg_url)
    other = PostgresStore.open(pg_url, holder.name)   # same root, own connection
    try:
        with holder.writer_lock():
            started = time.monotonic()
            with pytest.raises(StoreError, match="Another lore sync is writing"), \
                    other.writer_lock():
                pass
            assert time.monotonic() - started >= 0.5
        with other.writer_lock():   # released: the next writer gets it
            pass
    finally:
        other.close()
        holder.drop_root()
        holder.close()


def pg_settings(url: str, name: str) -> Settings:
    return Settings(index=IndexSettings(store=url, store_name=name),
                    embed=EmbedSettings(enabled=False))


def test_two_concurrent_writers_on_one_root(pg_url: str, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write_corpus(root, 120)
    settings = pg_settings(pg_url, f"writers-{tmp_path.name}")
    errors: list[BaseException] = []

    def index_once() -> None:
        try:
            with open_index(root, settings=settings) as index:
                index.sync()
        except LoreError as exc:   # reported below, with the assertion
            errors.append(exc)

    threads = [threading.Thread(target=index_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    with open_index(root, settings=settings) as index:
        assert index.status()["documents"] == 120
        assert not index.sync().changed   # the second writer found nothing left to do
        store = index._store
        assert store.verify() == []
        store.drop_root()   # type: ignore[attr-defined]


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from lore.index import open_index
    from lore.settings import EmbedSettings, IndexSettings, Settings

    def progress(done, total, path):
        print(done, flush=True)
        time.sleep(0.01)

    settings = Settings(index=IndexSettings(store=sys.argv[2], store_name=sys.argv[3]),
                        embed=EmbedSettings(enabled=False))
    with open_index(Path(sys.argv[1]), settings=settings) as index:
        index.sync(progress=progress)
    print("finished", flush=True)
""")


def test_sync_killed_mid_way_leaves_the_database_consistent(pg_url: str, tmp_path: Path) -> None:
    root, total, name = tmp_path / "corpus", 400, f"killed-{tmp_path.name}"
    write_corpus(root, total)
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(root), pg_url, name],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "finished" or int(line) >= 150:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the sync finished before it could be killed"
    settings = pg_settings(pg_url, name)
    with open_index(root, settings=settings) as index:
        store = index._store
        assert store.verify() == []
        done = index.status()["documents"]
        assert 0 < done < total
        for path in list(store.document_states())[:20]:   # each stored document is whole
            record = index.get(path)
            assert record is not None and record.chunks
        report = index.sync()
        assert len(report.added) == total - done and len(report.unchanged) == done
        assert index.status()["documents"] == total and store.verify() == []
        store.drop_root()   # type: ignore[attr-defined]


def test_index_on_postgres_says_where_it_lives(pg_url: str, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write_corpus(root, 5)
    with open_index(root, settings=pg_settings(pg_url, "status-root")) as index:
        index.sync()
        status = index.status()
        assert status["documents"] == 5 and status["store_root"] == "status-root"
        assert status["store"] == redact(pg_url) and status["text_config"] == "lore_english"
        index._store.drop_root()   # type: ignore[attr-defined]
