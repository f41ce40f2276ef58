"""The live index: create, edit, rename, delete, a new folder, and a 500-file burst = one sync."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("watchfiles")

from _backlog import write_backlog

from lore.config import load_settings
from lore.server.service import IndexService
from lore.watch import Watcher


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[IndexService, Watcher]]:
    root = write_backlog(tmp_path / "notes", tasks=3)
    service = IndexService(root, load_settings(root).settings, readers=1)
    service.sync()
    watcher = Watcher(root, service.index_dir, service.sync).start()
    yield service, watcher
    watcher.stop()
    service.close()


def paths_for(service: IndexService, query: str) -> list[str]:
    with service.reader() as idx:
        return [hit.path for hit in idx.search(query, mode="keyword", limit=1000)]


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the index did not follow the files in time"
        time.sleep(0.05)


def settle(service: IndexService, watcher: Watcher, quiet_s: float = 1.0) -> None:
    """Wait until no sync has started for ``quiet_s``."""
    last = (watcher.bursts, service.syncs)
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < quiet_s:
        time.sleep(0.05)
        now = (watcher.bursts, service.syncs)
        if now != last:
            last, stable_since = now, time.monotonic()


def test_create_edit_rename_delete_and_new_folders(
        watched: tuple[IndexService, Watcher]) -> None:
    service, watcher = watched
    root = service.root
    note = root / "wombat.md"
    note.write_text("# Wombat\n\nwombats dig burrows\n")
    eventually(lambda: paths_for(service, "wombats") == ["wombat.md"])

    note.write_text("# Wombat\n\nwombats eat grass\n")
    eventually(lambda: paths_for(service, "grass") == ["wombat.md"])
    assert paths_for(service, "burrows") == []

    note.rename(root / "marsupial.md")
    eventually(lambda: paths_for(service, "wombats") == ["marsupial.md"])

    (root / "marsupial.md").unlink()
    eventually(lambda: paths_for(service, "wombats") == [])

    deep = root / "made" / "later"
    deep.mkdir(parents=True)
    (deep / "echidna.md").write_text("# Echidna\n\nechidnas lay eggs\n")
    eventually(lambda: paths_for(service, "echidnas") == ["made/later/echidna.md"])
    (deep / "second.md").write_text("# Second\n\nechidnas again\n")
    eventually(lambda: len(paths_for(service, "echidnas")) == 2)
    assert watcher.errors == 0


def test_a_burst_of_500_files_is_one_sync(watched: tuple[IndexService, Watcher]) -> None:
    service, watcher = watched
    settle(service, watcher)
    bursts, syncs = watcher.bursts, service.syncs
    checkout = service.root / "checkout"
    checkout.mkdir()
    texts = [f"# Item {i}\n\nnumbat sighting {i}\n" for i in range(500)]
    for i, text in enumerate(texts):
        (checkout / f"item-{i:03}.md").write_text(text)
    eventually(lambda: len(paths_for(service, "numbat")) == 500, timeout=60)
    settle(service, watcher)
    assert (watcher.bursts - bursts, service.syncs - syncs) == (1, 1)
