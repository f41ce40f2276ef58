"""The index under a hostile environment (#14 items 5, 6, 9, 10): full disks,
read-only places, a second writer, a long-lived reader while others write."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from lore.errors import IndexBusyError, IndexWriteError
from lore.index import Index, open_index
from lore.locking import WriterLock
from lore.settings import EmbedSettings, IndexSettings, Settings
from lore.store import _ann_file


def corpus(root: Path, count: int = 12, start: int = 0) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        (root / f"n{i:03d}.md").write_text(
            f"---\ntype: Task\nid: T-{i}\n---\n# Note {i}\n\nalpha beta topic{i} gamma\n\n"
            f"## Details\n\n" + " ".join(f"word{(i * 7 + j) % 97}" for j in range(400)) + "\n")
    return root


def snapshot(index_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(index_dir.iterdir()) if p.is_file()
            and not p.name.endswith(("-wal", "-shm"))}


def documents(root: Path) -> list[str]:
    conn = sqlite3.connect(root / ".lore" / "catalog.sqlite")
    try:
        return [p for (p,) in conn.execute("SELECT path FROM documents ORDER BY path")]
    finally:
        conn.close()


@contextmanager
def mounted_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A small tmpfs at ``where`` (root only; skips elsewhere)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


# --- item 9: a full disk -------------------------------------------------------------------


def test_disk_full_in_the_catalog_is_clear_and_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = corpus(tmp_path / "notes")
    with open_index(root) as index:
        index.sync()
    before = documents(root)
    corpus(root, count=10, start=100)
    import lore.store.catalog as catalog_module

    real = catalog_module.Catalog.replace_document
    calls = {"n": 0, "full": True}

    def full_after_three(self: object, *args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] > 3 and calls["full"]:
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(catalog_module.Catalog, "replace_document", full_after_three)
    with open_index(root) as index, pytest.raises(IndexWriteError, match="disk is full.*"
                                                  "Nothing was lost"):
        index.sync()
    calls["full"] = False   # space freed
    after = documents(root)
    assert set(before) <= set(after) and len(after) <= len(before) + 3
    with open_index(root) as index:
        assert index.search("topic5 gamma")[0].path == "n005.md"
        assert index.verify().healthy
        index.sync()
    assert len(documents(root)) == 22


def test_disk_full_while_saving_the_sidecar_keeps_the_old_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = corpus(tmp_path / "notes")
    with open_index(root) as index:
        index.sync()
    sidecar = next((root / ".lore").glob("vectors-*.idx"))
    old = sidecar.read_bytes()
    corpus(root, count=3, start=200)

    real_write = _ann_file.write_sections
    full = [True]

    def no_space(out: object, sections: list[bytes]) -> None:
        if full[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(out, sections)

    monkeypatch.setattr(_ann_file, "write_sections", no_space)
    with open_index(root) as index, pytest.raises(IndexWriteError, match="disk is full"):
        index.sync()
    full[0] = False
    assert sidecar.read_bytes() == old
    assert not list((root / ".lore").glob(".vectors-*.tmp"))
    with open_index(root) as index:   # hybrid search: no crash, new notes found by vector too
        hits = index.search("topic201 gamma", mode="vector")
        assert hits.notices == () and "n201.md" in [h.path for h in hits[:3]]
    assert sidecar.read_bytes() == old   # and the search wrote nothing


def test_real_full_tmpfs(tmp_path: Path) -> None:
    """The same on a real 1 MB tmpfs: clear errors, a searchable index, no traceback."""
    from click.testing import CliRunner

    from lore.cli import main

    with mounted_tmpfs(tmp_path / "small", "1m") as disk:
        root = corpus(disk / "notes", count=4)
        assert CliRunner().invoke(main, ["index", str(root)]).exit_code == 0
        corpus(root, count=60, start=300)
        result = CliRunner().invoke(main, ["index", str(root)])
        assert result.exit_code == 1 and "disk is full" in result.output, result.output
        assert not isinstance(result.exception, (OSError, sqlite3.Error))
        result = CliRunner().invoke(main, ["search", "topic2 gamma", "--root", str(root)])
        assert result.exit_code == 0 and "n002.md" in result.output


# --- item 10: a read-only index ------------------------------------------------------------


@contextmanager
def read_only(folder: Path, tmp_path: Path) -> Iterator[Path]:
    """``folder``'s index made read-only: a ro tmpfs copy as root, chmod a-w otherwise."""
    if os.geteuid() != 0:
        for path in [folder / ".lore", *(folder / ".lore").iterdir()]:
            path.chmod(path.stat().st_mode & ~0o222)
        yield folder
        return
    with mounted_tmpfs(tmp_path / "ro", "20m") as disk:
        shutil.copytree(folder, disk / folder.name)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        yield disk / folder.name


def test_read_only_index_is_searchable_and_not_written(tmp_path: Path) -> None:
    root = corpus(tmp_path / "notes")
    with open_index(root) as index:
        index.sync()
    for sidecar in (root / ".lore").glob("vectors-*.idx"):
        sidecar.unlink()   # a reader must cope without it, and not recreate it
    with read_only(root, tmp_path) as ro_root:
        before = snapshot(ro_root / ".lore")
        with open_index(ro_root, create=False) as index:
            hits = index.search("topic3 gamma")
            assert hits[0].path == "n003.md" and not hits.notices
            assert index.search("topic4", mode="vector")
            with pytest.raises(Exception, match="read-only"):
                index.sync()
            report = index.verify()
            assert [f.check for f in report.problems()] == ["sidecar"]   # deleted above
        assert snapshot(ro_root / ".lore") == before


# --- item 5: readers never write, one writer at a time -------------------------------------


def test_search_never_recreates_or_saves_the_sidecar(tmp_path: Path) -> None:
    """The repro: `rm R/.lore/vectors-*.idx; lore search x --root R` recreated the file."""
    from click.testing import CliRunner

    from lore.cli import main

    root = corpus(tmp_path / "notes")
    with open_index(root) as index:
        index.sync()
    for sidecar in (root / ".lore").glob("vectors-*.idx"):
        sidecar.unlink()
    before = snapshot(root / ".lore")
    result = CliRunner().invoke(main, ["search", "topic7 gamma", "--root", str(root)])
    assert result.exit_code == 0 and "n007.md" in result.output
    assert snapshot(root / ".lore") == before


def test_a_save_never_deletes_a_live_writers_temporary(tmp_path: Path) -> None:
    path = tmp_path / "vectors-x.idx"
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        live = tmp_path / f".vectors-x.idx.{sleeper.pid}.abc.tmp"
        live.write_bytes(b"in progress")
        dead_pid = 2 ** 22 + 1   # above the largest pid Linux hands out
        stale = tmp_path / f".vectors-x.idx.{dead_pid}.def.tmp"
        stale.write_bytes(b"left by a crash")
        _ann_file.write_atomic(path, {}, [b"payload"])
        assert live.exists() and not stale.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_second_writer_waits_with_a_message_then_times_out(tmp_path: Path) -> None:
    root = corpus(tmp_path / "notes", count=3)
    settings = replace(Settings(), index=IndexSettings(lock_timeout_s=0.3),
                       embed=EmbedSettings(enabled=False))
    told: list[str] = []
    with open_index(root, settings=settings) as index:
        index.sync()
        with WriterLock(index.index_dir):
            waiter = WriterLock(index.index_dir, timeout_s=0.3, on_wait=told.append)
            started = time.monotonic()
            with pytest.raises(IndexBusyError, match=f"pid {os.getpid()}.*lock_timeout_s"):
                waiter.acquire()
            assert 0.3 <= time.monotonic() - started < 5
            with pytest.raises(IndexBusyError):
                index.sync()
    assert told and "waiting up to 0.3 s" in told[0]


def test_waiting_writer_proceeds_when_the_first_finishes(tmp_path: Path) -> None:
    root = corpus(tmp_path / "notes", count=3)
    with open_index(root) as index:
        index.sync()
        holder = WriterLock(index.index_dir)
        holder.acquire()
        threading.Timer(0.3, holder.release).start()
        corpus(root, count=1, start=50)
        report = index.sync()   # waits ~0.3 s, then runs
        assert report.added == ["n050.md"]


# --- item 6: a long-lived Index sees other processes' writes -------------------------------


def test_long_lived_index_reloads_after_another_writer(tmp_path: Path) -> None:
    root = corpus(tmp_path / "notes", count=20)
    with open_index(root) as writer:
        writer.sync()
    reader: Index = open_index(root, create=False)
    try:
        assert reader.search("topic3 gamma", mode="vector")     # sidecar loaded and cached
        for path in sorted(root.glob("n0*.md"))[:15]:
            path.unlink()                                    # chunks the reader's sidecar knows
        corpus(root, count=5, start=500)
        with open_index(root) as writer:
            writer.sync()
        for query in ("topic3 gamma", "topic502 gamma", "alpha beta"):
            for mode in ("vector", "hybrid"):
                reader.search(query, mode=mode)                  # no KeyError
        paths = [h.path for h in reader.search("topic502 gamma", mode="vector")]
        assert paths[0] == "n502.md"
        assert not {p for p in paths if p < "n015.md"}
    finally:
        reader.close()


def test_lore_index_says_it_waits_for_another_writer(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from lore.cli import main

    root = corpus(tmp_path / "notes", count=2)
    assert CliRunner().invoke(main, ["index", str(root)]).exit_code == 0
    monkeypatch.setenv("LORE_INDEX__LOCK_TIMEOUT_S", "0.3")
    with WriterLock(root / ".lore"):
        result = CliRunner().invoke(main, ["index", str(root)])
    assert result.exit_code == 1
    assert "waiting up to 0.3 s" in result.output and "lock_timeout_s" in result.output
