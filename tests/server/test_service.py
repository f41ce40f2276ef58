"""IndexService: concurrent readers, pinned generations, reads during a sync."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lore.config import load_settings
from lore.index import open_index
from lore.server.service import IndexService


def test_concurrent_searches_from_many_threads_all_answer(service: IndexService) -> None:
    def one(i: int) -> list[str]:
        with service.reader() as idx:
            return [hit.doc_id for hit in idx.search("vector cache", limit=5)]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(40)))
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]


def test_reads_during_a_sync_see_the_previous_state_until_it_completes(
        service: IndexService, backlog: Path) -> None:
    """A sync commits in batches; readers keep the last complete state, then the new one."""
    (backlog / "zebras").mkdir()              # walked last: the held sync is mid-way in them
    for i in range(60):
        (backlog / "zebras" / f"z-{i:02}.md").write_text(f"# Zebra note {i}\n\nzebra stripes {i}\n")
    started = threading.Event()
    release = threading.Event()
    seen_during: list[int] = []

    def hold_near_the_end(done: int, total: int, _path: str) -> None:
        if done == total - 6:
            time.sleep(0.3)                 # the next file's write commits the batch
        if done == total - 5:
            started.set()
            release.wait(10)

    syncer = threading.Thread(target=service.sync, kwargs={"progress": hold_near_the_end})
    syncer.start()
    assert started.wait(10)
    try:
        with open_index(backlog, settings=service.settings) as unpinned:
            committed = unpinned.status()["documents"] - 15
        for _ in range(5):
            with service.reader() as idx:
                seen_during.append(len(idx.search("zebra", mode="keyword", limit=100)))
    finally:
        release.set()
        syncer.join(30)
    assert 0 < committed < 60               # a half-done sync is on disk...
    assert seen_during == [0] * 5           # ...and the server answered from the old state
    with service.reader() as idx:
        assert len(idx.search("zebra", mode="keyword", limit=100)) == 60


def test_a_reader_borrowed_before_a_swap_keeps_its_snapshot(
        service: IndexService, backlog: Path) -> None:
    with service.reader() as idx:
        before = idx.status()["documents"]
        (backlog / "extra.md").write_text("# Extra\n\nbrand new words\n")
        service.sync()                      # swaps in a new generation meanwhile
        assert idx.status()["documents"] == before
        # (its near words are searched for "brand" and "words" too: anything but extra.md)
        assert "extra.md" not in [h.path for h in idx.search("brand new words", mode="keyword")]
    with service.reader() as idx:
        assert idx.status()["documents"] == before + 1


def test_a_sync_by_another_process_is_picked_up(backlog: Path) -> None:
    settings = load_settings(backlog).settings
    service = IndexService(backlog, settings, readers=1, probe_interval_s=0.0)
    try:
        service.sync()
        generation = service.generation
        (backlog / "outside.md").write_text("# Outside\n\nwritten by another lore index\n")
        with open_index(backlog, settings=settings) as other:
            other.sync()
        deadline = time.monotonic() + 10
        while service.generation == generation and time.monotonic() < deadline:
            with service.reader():
                pass
            time.sleep(0.05)
        with service.reader() as idx:
            assert idx.get("outside.md") is not None
    finally:
        service.close()


def test_status_reports_generation_and_syncs(service: IndexService) -> None:
    info = service.status()
    assert info["syncs"] == 1
    assert info["generation"] == service.generation
    assert info["syncing"] is False
    assert info["documents"] == 15


def test_new_text_is_found_by_keyword_before_its_vectors_are_in(
        service: IndexService, backlog: Path) -> None:
    """Readers are swapped once the catalog is committed, and again after embedding."""
    (backlog / "okapi.md").write_text("# Okapi\n\nokapis hide in the forest\n")
    during: list[tuple[list[str], int]] = []

    def while_embedding(done: int, total: int) -> None:
        if done == 0:                       # the plan, before the first batch is embedded
            with service.reader() as idx:
                hits = idx.search("okapis", mode="keyword", limit=5)
                during.append(([hit.path for hit in hits], service.generation))

    before = service.generation
    service.sync(embed_progress=while_embedding)
    assert during == [(["okapi.md"], before + 1)]
    assert service.generation == before + 2
    with service.reader() as idx:
        assert [hit.path for hit in idx.search("okapis forest", mode="vector", limit=1)] \
            == ["okapi.md"]


def test_a_request_waiting_for_a_reader_moves_on_to_the_next_generation(
        backlog: Path) -> None:
    """All readers busy, a swap retires them: the waiting request gets a new one."""
    settings = load_settings(backlog).settings
    service = IndexService(backlog, settings, readers=1)
    try:
        answered = threading.Event()

        def waiting_request() -> None:
            with service.reader() as idx:
                idx.search("vector", mode="keyword")
                answered.set()

        with service.reader():                     # the only reader is busy
            waiter = threading.Thread(target=waiting_request, daemon=True)
            waiter.start()
            time.sleep(0.2)
            (backlog / "new.md").write_text("# New\n\nfresh text\n")
            service.sync()                         # retires the generation waited on
        assert answered.wait(10), "the waiting request never got a reader"
        waiter.join(10)
    finally:
        service.close()


def test_a_started_server_answers_its_first_searches_from_the_keyword_copy(
        backlog: Path) -> None:
    """``lore serve`` and ``lore mcp`` start the in-memory keyword copy with their
    readers, so their first searches need no earlier search to have asked for it."""
    from lore.cli.serve_cmds import _open_service

    service = _open_service(backlog, None, readers=2)
    try:
        with service.reader() as idx:
            store = idx._store
            deadline = time.monotonic() + 20
            while store.held_keyword_copy() is None and time.monotonic() < deadline:  # type: ignore[attr-defined]
                time.sleep(0.02)
            served = [hit.doc_id for hit in idx.search("vector cache", mode="keyword")]
            assert store.keyword_paths == {"memory": 1}   # type: ignore[attr-defined]
            assert served
    finally:
        service.close()
