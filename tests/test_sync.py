"""Incremental sync: every file accounted for, only changes rewritten, crash-safe."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lore.settings import ChunkSettings, Settings
from lore.store.catalog import Catalog
from lore.sync import BATCH_SECONDS, SyncReport, chunker_version, sync


@dataclass
class Indexed:
    root: Path
    index_dir: Path
    report: SyncReport


def rows(catalog: Catalog, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    return [tuple(r) for r in catalog.conn.execute(sql, params)]


def chunk_ids_by_path(catalog: Catalog) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for path, cid in catalog.conn.execute(
            "SELECT d.path, c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
            "ORDER BY c.id"):
        out.setdefault(path, []).append(cid)
    return out


def markdown_files(root: Path) -> set[str]:
    """Every .md/.markdown file under root, found independently of lore's walk."""
    found = set()
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith((".md", ".markdown")):
                found.add(Path(folder, name).relative_to(root).as_posix())
    return found


@pytest.fixture(scope="module")
def kano_indexed(kano_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Indexed:
    """The kano corpus indexed once; tests copy it rather than index it again."""
    index_dir = tmp_path_factory.mktemp("kano-index")
    with Catalog.open(index_dir) as catalog:
        report = sync(kano_corpus, catalog, Settings())
    return Indexed(kano_corpus, index_dir, report)


@pytest.fixture
def kano_work(kano_indexed: Indexed, tmp_path: Path) -> Iterator[tuple[Path, Catalog]]:
    """A writable copy of the corpus (mtimes kept) with a copy of its index."""
    root = tmp_path / "kano"
    shutil.copytree(kano_indexed.root, root, symlinks=True)  # copy2 keeps mtime_ns
    index_dir = tmp_path / "index"
    shutil.copytree(kano_indexed.index_dir, index_dir)
    with Catalog.open(index_dir) as catalog:
        yield root, catalog


def test_every_kano_file_is_indexed_or_skipped_with_a_reason(kano_indexed: Indexed) -> None:
    report = kano_indexed.report
    expected = markdown_files(kano_indexed.root)
    skipped = {path for path, reason in report.skipped if reason}
    assert len(expected) >= 700
    assert set(report.added) | (skipped & expected) == expected
    assert not set(report.added) & skipped
    with Catalog.open(kano_indexed.index_dir, create=False) as catalog:
        assert {r[0] for r in rows(catalog, "SELECT path FROM documents")} == set(report.added)
        assert catalog.verify() == []
        assert len(report.new_chunk_ids) == rows(catalog, "SELECT count(*) FROM chunks")[0][0]


def test_noop_resync_rewrites_nothing(kano_work: tuple[Path, Catalog]) -> None:
    root, catalog = kano_work
    before = rows(catalog, "SELECT id, path, indexed_at, mtime_ns FROM documents ORDER BY id")
    chunks_before = chunk_ids_by_path(catalog)
    report = sync(root, catalog, Settings())
    assert sorted(report.unchanged) == sorted(p for _, p, _, _ in before)
    assert not report.changed and report.new_chunk_ids == []
    assert rows(catalog, "SELECT id, path, indexed_at, mtime_ns FROM documents ORDER BY id") \
        == before
    assert chunk_ids_by_path(catalog) == chunks_before


def test_touched_file_only_refreshes_its_mtime(kano_work: tuple[Path, Catalog]) -> None:
    root, catalog = kano_work
    path = min(chunk_ids_by_path(catalog))
    (indexed_at,) = rows(catalog, "SELECT indexed_at FROM documents WHERE path = ?", (path,))[0]
    os.utime(root / path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    report = sync(root, catalog, Settings())
    assert not report.changed and path in report.unchanged
    assert rows(catalog, "SELECT indexed_at, mtime_ns FROM documents WHERE path = ?",
                (path,)) == [(indexed_at, 1_000_000_000_000_000_000)]


def test_editing_one_file_rechunks_only_it(kano_work: tuple[Path, Catalog]) -> None:
    root, catalog = kano_work
    before = chunk_ids_by_path(catalog)
    edited = next(p for p in sorted(before) if p.endswith(".md") and "items/task" in p)
    with (root / edited).open("a", encoding="utf-8") as fh:
        fh.write("\n\n## Postscript\n\nzanzibarquokka appears only here.\n")
    report = sync(root, catalog, Settings())
    assert report.updated == [edited]
    assert not (report.added or report.removed or report.renamed)
    after = chunk_ids_by_path(catalog)
    assert {p: ids for p, ids in after.items() if p != edited} == \
        {p: ids for p, ids in before.items() if p != edited}
    assert min(after[edited]) > max(max(ids) for ids in before.values())
    assert sorted(report.new_chunk_ids) == after[edited]
    hits = rows(catalog, "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'zanzibarquokka'")
    assert len(hits) == 1 and hits[0][0] in after[edited]


def test_delete_and_rename_reach_every_table(kano_work: tuple[Path, Catalog]) -> None:
    root, catalog = kano_work
    # Links by id survive a move; relative Markdown links are re-resolved from the new folder.
    linked = [r[0] for r in rows(
        catalog, "SELECT d.path FROM documents d JOIN links l ON l.document_id = d.id "
                 "GROUP BY d.id HAVING sum(l.kind = 'markdown') = 0 ORDER BY d.path")]
    deleted, moved = linked[0], linked[1]
    (del_id,) = rows(catalog, "SELECT id FROM documents WHERE path = ?", (deleted,))[0]
    (moved_id,) = rows(catalog, "SELECT id FROM documents WHERE path = ?", (moved,))[0]
    deleted_chunks = chunk_ids_by_path(catalog)[deleted]
    moved_links = rows(catalog, "SELECT kind, target FROM links WHERE document_id = ?",
                       (moved_id,))
    (root / deleted).unlink()
    target = root / "archive" / "moved-here.md"
    target.parent.mkdir()
    (root / moved).rename(target)

    report = sync(root, catalog, Settings())
    assert report.removed == [deleted]
    assert report.renamed == [(moved, "archive/moved-here.md")]
    assert not report.added
    assert rows(catalog, "SELECT count(*) FROM documents WHERE path IN (?, ?)",
                (deleted, moved)) == [(0,)]
    for table in ("chunks", "links", "fields"):
        assert rows(catalog, f"SELECT count(*) FROM {table} WHERE document_id = ?",
                    (del_id,)) == [(0,)]
    placeholders = ",".join("?" * len(deleted_chunks))
    assert rows(catalog, f"SELECT count(*) FROM chunks_fts WHERE rowid IN ({placeholders})",
                tuple(deleted_chunks)) == [(0,)]
    assert rows(catalog, "SELECT id FROM documents WHERE path = 'archive/moved-here.md'") \
        == [(moved_id,)]
    assert rows(catalog, "SELECT kind, target FROM links WHERE document_id = ?",
                (moved_id,)) == moved_links
    assert catalog.verify() == []


def test_chunk_settings_change_rechunks_every_document(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write_corpus(root, 30)
    catalog = Catalog.memory()
    sync(root, catalog, Settings())
    settings = Settings(chunking=ChunkSettings(max_tokens=128))
    assert chunker_version(settings.chunking) != chunker_version(ChunkSettings())
    report = sync(root, catalog, settings)
    assert len(report.updated) == 30 and not report.unchanged
    assert {r[0] for r in rows(catalog, "SELECT DISTINCT chunker_version FROM documents")} \
        == {chunker_version(settings.chunking)}
    assert catalog.get_meta("chunker_version") == chunker_version(settings.chunking)
    assert not sync(root, catalog, settings).changed


def write_corpus(root: Path, count: int) -> None:
    for i in range(count):
        folder = root / f"d{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note-{i:05d}.md").write_text(
            f"---\nid: GEN-{i}\ntitle: Generated note {i}\ntags: [gen, batch{i % 3}]\n---\n\n"
            f"# Note {i}\n\nSome words about topic {i % 17} and more.\n\n"
            f"## Details\n\nDetail paragraph {i} links to [[GEN-{(i + 1) % count}]].\n",
            encoding="utf-8")


class Interrupt(BaseException):
    """Stands in for Ctrl-C or a kill between two files."""


def test_interrupted_sync_leaves_a_consistent_catalog(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write_corpus(root, 120)
    catalog = Catalog.open(tmp_path / "index")
    sync(root, catalog, Settings())
    # Next run: 30 files deleted, 30 edited, 30 new; interrupted after 50 files.
    for i in range(30):
        (root / f"d{i % 10}" / f"note-{i:05d}.md").unlink()
    for i in range(30, 60):
        with (root / f"d{i % 10}" / f"note-{i:05d}.md").open("a") as fh:
            fh.write("\nedited paragraph\n")
    for i in range(120, 150):
        (root / "new").mkdir(exist_ok=True)
        (root / "new" / f"n{i}.md").write_text(f"# New {i}\n\nfresh text {i}\n")

    def stop_after_50(done: int, total: int, path: str) -> None:
        if done == 50:
            raise Interrupt

    with pytest.raises(Interrupt):
        sync(root, catalog, Settings(), progress=stop_after_50)
    catalog.close()

    with Catalog.open(tmp_path / "index") as reopened:
        assert reopened.verify() == []
        # Deletions wait for the end, so nothing was removed yet.
        assert rows(reopened, "SELECT count(*) FROM documents")[0][0] == 120
        report = sync(root, reopened, Settings())
        assert len(report.removed) == 30
        assert rows(reopened, "SELECT count(*) FROM documents")[0][0] == 120
        assert rows(reopened, "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH "
                              "'edited'")[0][0] >= 30
        assert reopened.verify() == []
        assert not sync(root, reopened, Settings()).changed


@pytest.mark.parametrize(("batch_seconds", "kept"), [(0.0, 10), (3600.0, 0)])
def test_interrupt_keeps_committed_batches_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                batch_seconds: float, kept: int) -> None:
    import lore.sync

    monkeypatch.setattr(lore.sync, "BATCH_SECONDS", batch_seconds)
    root = tmp_path / "corpus"
    write_corpus(root, 20)
    catalog = Catalog.memory()

    def stop_after_10(done: int, total: int, path: str) -> None:
        if done == 10:
            raise Interrupt

    with pytest.raises(Interrupt):
        sync(root, catalog, Settings(), progress=stop_after_10)
    assert not catalog.conn.in_transaction
    assert rows(catalog, "SELECT count(*) FROM documents")[0][0] == kept
    assert catalog.verify() == []
    assert len(sync(root, catalog, Settings()).added) == 20 - kept


KILL_SCRIPT = textwrap.dedent("""
    import sys
    import time
    from pathlib import Path
    from lore.settings import Settings
    from lore.store.catalog import Catalog
    from lore.sync import sync

    def progress(done, total, path):
        print(done, flush=True)
        time.sleep(0.003)  # at least 3 s for 1000 files: the kill lands mid-sync

    catalog = Catalog.open(Path(sys.argv[2]))
    sync(Path(sys.argv[1]), catalog, Settings(), progress=progress)
    print("finished", flush=True)
""")


def test_sigkill_mid_sync_then_rerun_completes(tmp_path: Path) -> None:
    root, index_dir, total = tmp_path / "corpus", tmp_path / "index", 1000
    write_corpus(root, total)
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(root), str(index_dir)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    started = None
    for line in proc.stdout:
        if line.strip() == "finished":
            break
        started = started or time.monotonic()
        # Several batch periods in: some batches committed, one is in flight.
        if time.monotonic() - started > 4 * BATCH_SECONDS:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the sync finished before it could be killed"

    with Catalog.open(index_dir) as catalog:
        assert catalog.verify() == []
        done = rows(catalog, "SELECT count(*) FROM documents")[0][0]
        assert 0 < done < total
        # Every stored document is complete: it has its chunks and FTS rows.
        assert rows(catalog, "SELECT count(*) FROM documents d WHERE NOT EXISTS "
                             "(SELECT 1 FROM chunks c WHERE c.document_id = d.id)") == [(0,)]
        report = sync(root, catalog, Settings())
        assert len(report.added) == total - done and len(report.unchanged) == done
        assert rows(catalog, "SELECT count(*) FROM documents")[0][0] == total
        assert catalog.verify() == []


def make_bad_inputs(root: Path) -> dict[str, str]:
    """Files that cannot be indexed cleanly -> a word their report entry must contain."""
    (root / "binary.md").write_bytes(b"# title\0\x01\x02" * 100)
    (root / "latin1.md").write_bytes("caf\xe9 cr\xe8me\n".encode("latin-1"))
    with (root / "huge.md").open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    (root / "malformed.md").write_text("---\ntitle: [unclosed\n---\n# Body\n\ntext\n")
    (root / "listy.md").write_text("---\n- just\n- a list\n---\nbody words\n")
    (root / "empty.md").write_bytes(b"")
    (root / "loop").symlink_to(".")
    (root / "broken.md").symlink_to("missing-target.md")
    unreadable = root / "unreadable.md"
    unreadable.write_text("# secret\n")
    unreadable.chmod(0)
    (root / "dup-a.md").write_text("---\nid: DUP-1\n---\nfirst\n")
    (root / "dup-b.md").write_text("---\nid: DUP-1\n---\nsecond\n")
    return {"binary.md": "binary", "latin1.md": "UTF-8", "huge.md": "max_file_bytes",
            "malformed.md": "YAML", "listy.md": "mapping", "loop": "loop",
            "broken.md": "broken symlink", "unreadable.md": "permission"}


def test_bad_inputs_are_reported_and_lose_nothing(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "corpus"
    write_corpus(root, 20)
    catalog = Catalog.memory()
    sync(root, catalog, Settings())
    good = chunk_ids_by_path(catalog)
    expected = make_bad_inputs(root)
    if os.geteuid() == 0:  # root reads mode-000 files: make this one fail like for a user
        real_read = Path.read_bytes

        def read_bytes(self: Path) -> bytes:
            if self.name == "unreadable.md":
                raise PermissionError(13, "Permission denied")
            return real_read(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)

    report = sync(root, catalog, Settings())
    entries = [*report.skipped, *report.warnings]
    for path, word in expected.items():
        assert any(p == path and word.lower() in why.lower() for p, why in entries), path
    assert report.duplicate_ids == {"DUP-1": ["dup-a.md", "dup-b.md"]}
    indexed = {r[0] for r in rows(catalog, "SELECT path FROM documents")}
    assert {"latin1.md", "malformed.md", "listy.md", "empty.md", "dup-a.md", "dup-b.md"} \
        <= indexed
    assert not indexed & {"binary.md", "huge.md", "unreadable.md", "broken.md"}
    assert {p: ids for p, ids in chunk_ids_by_path(catalog).items() if p in good} == good
    assert catalog.verify() == []


def test_file_that_turns_bad_is_removed_and_says_why(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write_corpus(root, 3)
    catalog = Catalog.memory()
    sync(root, catalog, Settings())
    victim = "d1/note-00001.md"
    (root / victim).write_bytes(b"\0\0binary now")
    report = sync(root, catalog, Settings())
    assert report.removed == [victim]
    assert [p for p, _ in report.skipped] == [victim]
    assert catalog.get_document(victim) is None and catalog.verify() == []


def test_a_parser_crash_skips_only_that_file(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import lore.sync

    root = tmp_path / "corpus"
    write_corpus(root, 5)
    real = lore.sync.load_document

    def flaky(root: Path, source: object, data: bytes) -> object:
        if getattr(source, "relpath", "").endswith("00002.md"):
            raise RuntimeError("parser bug")
        return real(root, source, data)  # type: ignore[arg-type]

    monkeypatch.setattr(lore.sync, "load_document", flaky)
    report = sync(root, Catalog.memory(), Settings())
    assert len(report.added) == 4
    [(path, reason)] = report.skipped
    assert path == "d2/note-00002.md"
    assert reason.startswith("unexpected error (RuntimeError: parser bug)")


def test_copy_is_an_addition_not_a_rename(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write_corpus(root, 2)
    catalog = Catalog.memory()
    sync(root, catalog, Settings())
    shutil.copy(root / "d0" / "note-00000.md", root / "copy.md")
    report = sync(root, catalog, Settings())
    assert report.added == ["copy.md"] and report.renamed == []


def test_report_json_shape(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write_corpus(root, 2)
    data = sync(root, Catalog.memory(), Settings()).to_dict()
    assert set(data) == {"added", "updated", "removed", "renamed", "unchanged", "skipped",
                         "warnings", "duplicate_ids", "new_chunks", "duration_s", "vectors", "notices"}
    assert data["added"] == ["d0/note-00000.md", "d1/note-00001.md"]
    assert data["new_chunks"] >= 2
