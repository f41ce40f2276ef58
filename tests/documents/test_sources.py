"""Walking a root (ignore rules, symlinks, guards) and decoding file bytes."""

from __future__ import annotations

import codecs
import os
from dataclasses import replace
from pathlib import Path

import pytest

from lore.documents import sources
from lore.documents.sources import Skipped, SourceFile, decode_text, walk
from lore.errors import ConfigError, DocumentError
from lore.settings import IndexSettings

SETTINGS = IndexSettings()
OUTSIDE_TOO = IndexSettings(follow_symlinks_outside=True)


def write(root: Path, relpath: str, text: str = "# note\n") -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run_walk(root: Path, settings: IndexSettings = SETTINGS,
             index_dir: Path | None = None) -> tuple[list[str], dict[str, str]]:
    """Relpaths of the files found, and skipped relpath -> reason."""
    found: list[str] = []
    skipped: dict[str, str] = {}
    for item in walk(root, settings, index_dir or root / ".lore"):
        if isinstance(item, SourceFile):
            found.append(item.relpath)
        else:
            assert isinstance(item, Skipped)
            skipped[item.relpath] = item.reason
    return found, skipped


def test_walk_finds_markdown_with_stat_fields(tmp_path: Path) -> None:
    note = write(tmp_path, "b/deep/note.md", "hello")
    write(tmp_path, "a.markdown")
    write(tmp_path, "image.png")
    write(tmp_path, "readme.txt")
    items = list(walk(tmp_path, SETTINGS, tmp_path / ".lore"))
    by_rel = {item.relpath: item for item in items if isinstance(item, SourceFile)}
    assert sorted(by_rel) == ["a.markdown", "b/deep/note.md"]
    info = note.stat()
    assert by_rel["b/deep/note.md"] == SourceFile(note, "b/deep/note.md", info.st_size,
                                                  info.st_mtime_ns)


def test_walk_is_deterministic_and_sorted(tmp_path: Path) -> None:
    for name in ["z.md", "a.md", "m/b.md", "m/a.md", "B.md"]:
        write(tmp_path, name)
    first, _ = run_walk(tmp_path)
    assert first == run_walk(tmp_path)[0]
    assert first == ["B.md", "a.md", "m/a.md", "m/b.md", "z.md"]


def test_root_and_nested_gitignore(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "drafts/\n*.tmp.md\n")
    write(tmp_path, "drafts/idea.md")
    write(tmp_path, "x.tmp.md")
    write(tmp_path, "keep.md")
    write(tmp_path, "sub/.gitignore", "secret.md\n!y.tmp.md\n")
    write(tmp_path, "sub/secret.md")
    write(tmp_path, "sub/y.tmp.md")
    write(tmp_path, "sub/open.md")
    write(tmp_path, "other/secret.md")  # the nested rule only applies below sub/
    found, skipped = run_walk(tmp_path)
    assert found == ["keep.md", "other/secret.md", "sub/open.md", "sub/y.tmp.md"]
    assert skipped == {}


def test_loreignore_and_settings_exclude(tmp_path: Path) -> None:
    write(tmp_path, ".loreignore", "archive/\n")
    write(tmp_path, "archive/old.md")
    write(tmp_path, "notes/a.md")
    write(tmp_path, "notes/b.md")
    write(tmp_path, "notes/.loreignore", "b.md\n")
    write(tmp_path, "generated/c.md")
    found, _ = run_walk(tmp_path, replace(SETTINGS, exclude=("generated/",)))
    assert found == ["notes/a.md"]


def test_settings_exclude_overrides_ignore_files(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.md\n")
    write(tmp_path, "wanted.md")
    write(tmp_path, "unwanted.md")
    found, _ = run_walk(tmp_path, replace(SETTINGS, exclude=("!wanted.md",)))
    assert found == ["wanted.md"]


def test_include_patterns(tmp_path: Path) -> None:
    write(tmp_path, "a.md")
    write(tmp_path, "b.txt")
    found, _ = run_walk(tmp_path, replace(SETTINGS, include=("*.txt",)))
    assert found == ["b.txt"]


@pytest.mark.parametrize("folder", sorted(sources.DEFAULT_EXCLUDED_DIRS))
def test_default_excluded_dirs(tmp_path: Path, folder: str) -> None:
    write(tmp_path, f"{folder}/inside.md")
    write(tmp_path, f"deeper/{folder}/inside.md")
    write(tmp_path, "visible.md")
    assert run_walk(tmp_path)[0] == ["visible.md"]


def test_index_dir_is_never_walked(tmp_path: Path) -> None:
    write(tmp_path, ".lore/cache.md")
    write(tmp_path, "elsewhere/idx/x.md")
    write(tmp_path, "doc.md")
    assert run_walk(tmp_path)[0] == ["doc.md", "elsewhere/idx/x.md"]
    # relative to the root, and spelled through a symlink: still recognised
    assert run_walk(tmp_path, index_dir=Path("elsewhere/idx"))[0] == [".lore/cache.md", "doc.md"]
    os.symlink(tmp_path / "elsewhere", tmp_path.parent / f"{tmp_path.name}-link")
    alias = tmp_path.parent / f"{tmp_path.name}-link" / "idx"
    assert run_walk(tmp_path, index_dir=alias)[0] == [".lore/cache.md", "doc.md"]


def test_symlink_loop_to_ancestor_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, "a/note.md")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    found, skipped = run_walk(tmp_path)
    assert found == ["a/note.md"]
    assert "symlink loop" in skipped["a/loop"]


def test_symlink_outside_root_is_followed_once(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    write(outside, "shared.md")
    os.symlink(outside, outside / "self")  # a loop outside the root
    root.mkdir()
    os.symlink(outside, root / "ext")
    os.symlink(outside, root / "ext2")  # the same directory again
    found, skipped = run_walk(root, OUTSIDE_TOO)
    assert found == ["ext/shared.md"]
    assert set(skipped) == {"ext/self", "ext2"}
    assert all("symlink loop" in reason for reason in skipped.values())


def test_symlink_into_root_is_not_walked_twice(tmp_path: Path) -> None:
    write(tmp_path, "z-real/doc.md")
    os.symlink(tmp_path / "z-real", tmp_path / "a-link")
    found, skipped = run_walk(tmp_path)
    assert found == ["z-real/doc.md"]
    assert "inside the indexed root" in skipped["a-link"]


def test_symlinked_file_followed_and_not_when_disabled(tmp_path: Path) -> None:
    target = write(tmp_path.parent / f"{tmp_path.name}-out", "t.md", "outside")
    os.symlink(target, tmp_path / "linked.md")
    os.symlink(target.parent, tmp_path / "linkdir")
    assert run_walk(tmp_path, OUTSIDE_TOO)[0] == ["linkdir/t.md", "linked.md"]
    found, skipped = run_walk(tmp_path, replace(SETTINGS, follow_symlinks=False))
    assert found == []
    assert set(skipped) == {"linked.md", "linkdir"}
    assert all("follow_symlinks" in reason for reason in skipped.values())


def test_broken_symlink_is_skipped(tmp_path: Path) -> None:
    os.symlink(tmp_path / "gone.md", tmp_path / "broken.md")
    os.symlink(tmp_path / "gone.png", tmp_path / "broken.png")  # not indexable anyway
    found, skipped = run_walk(tmp_path)
    assert found == []
    assert list(skipped) == ["broken.md"]
    assert "broken symlink" in skipped["broken.md"]


def test_file_over_size_limit_is_skipped(tmp_path: Path) -> None:
    big = tmp_path / "huge.md"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: instant, no disk used
    write(tmp_path, "small.md")
    found, skipped = run_walk(tmp_path)
    assert found == ["small.md"]
    limit = SETTINGS.max_file_bytes
    assert skipped["huge.md"].startswith(f"{50 * 1024 * 1024} bytes exceeds "
                                         f"index.max_file_bytes={limit}")
    assert "lore.toml" in skipped["huge.md"]
    found, _ = run_walk(tmp_path, replace(SETTINGS, max_file_bytes=60 * 1024 * 1024))
    assert found == ["huge.md", "small.md"]


def test_unreadable_file_chmod(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading")
    path = write(tmp_path, "locked.md")
    path.chmod(0)
    try:
        found, skipped = run_walk(tmp_path)
    finally:
        path.chmod(0o644)
    assert found == []
    assert "permission denied" in skipped["locked.md"]


def test_unreadable_file_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = write(tmp_path, "locked.md")
    write(tmp_path, "open.md")
    real_access = os.access
    monkeypatch.setattr(sources.os, "access",
                        lambda path, mode: Path(path) != locked and real_access(path, mode))
    found, skipped = run_walk(tmp_path)
    assert found == ["open.md"]
    assert "permission denied" in skipped["locked.md"]


def test_unreadable_directory_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "private/a.md")
    write(tmp_path, "public/b.md")
    real_scandir = os.scandir

    def scandir(path: Path) -> object:
        if Path(path).name == "private":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(sources.os, "scandir", scandir)
    found, skipped = run_walk(tmp_path)
    assert found == ["public/b.md"]
    assert "cannot list directory: Permission denied" in skipped["private"]


def test_unreadable_directory_chmod(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from listing")
    write(tmp_path, "private/a.md")
    (tmp_path / "private").chmod(0)
    try:
        found, skipped = run_walk(tmp_path)
    finally:
        (tmp_path / "private").chmod(0o755)
    assert found == []
    assert "cannot list directory" in skipped["private"]


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        list(walk(tmp_path / "missing", SETTINGS, tmp_path / ".lore"))


def test_kano_corpus_walk(kano_corpus: Path) -> None:
    expected = sorted(path.relative_to(kano_corpus).as_posix()
                      for path in kano_corpus.rglob("*.md"))
    found, skipped = run_walk(kano_corpus)
    assert sorted(found) == expected
    assert skipped == {}


# --- decoding -------------------------------------------------------------------------


def test_decode_strips_bom_and_normalises_newlines() -> None:
    text, warnings = decode_text("a.md", codecs.BOM_UTF8 + "# Tïtle\r\nbody\rend".encode())
    assert text == "# Tïtle\nbody\nend"
    assert warnings == []


def test_decode_utf16_with_bom() -> None:
    text, warnings = decode_text("a.md", "# Windows note\r\n".encode("utf-16"))
    assert text == "# Windows note\n"
    assert warnings == []


def test_decode_invalid_utf8_replaces_and_warns() -> None:
    data = b"ok \xff\xfe broken"
    text, warnings = decode_text("bad.md", data)
    assert text.startswith("ok \ufffd")
    assert len(warnings) == 1 and "offset 3" in warnings[0] and "UTF-8" in warnings[0]


@pytest.mark.parametrize("data", [
    b"PK\x03\x04\x00\x00binary zip",
    bytes(range(1, 32)) * 50,
])
def test_decode_refuses_binary(data: bytes) -> None:
    with pytest.raises(DocumentError) as info:
        decode_text("blob.md", data)
    assert info.value.path == "blob.md"
    assert "binary" in info.value.reason and ".loreignore" in info.value.reason


def test_decode_allows_some_control_characters() -> None:
    text, _ = decode_text("log.md", b"\x1b[31mred\x1b[0m\n\x0cpage\n" * 20)
    assert "red" in text


def test_non_utf8_file_name_is_skipped_with_a_reason(tmp_path: Path) -> None:
    """#14 item 1: a name that is not UTF-8 is reported, the rest is indexed."""
    write(tmp_path, "good.md")
    with open(os.fsencode(tmp_path) + b"/bad\xffname.md", "wb") as out:
        out.write(b"# a\n")
    os.mkdir(os.fsencode(tmp_path) + b"/dir\xfe")
    with open(os.fsencode(tmp_path) + b"/dir\xfe/inner.md", "wb") as out:
        out.write(b"# b\n")
    found, skipped = run_walk(tmp_path)
    assert found == ["good.md"]
    assert set(skipped) == {"bad\ufffdname.md", "dir\ufffd"}
    assert all("not valid UTF-8" in reason for reason in skipped.values())
    for path in skipped:
        path.encode("utf-8")  # storable and printable


def test_fifo_and_dev_zero_ignore_files_are_reported_not_read(tmp_path: Path) -> None:
    """#14 item 3: a FIFO .gitignore in a subfolder and a /dev/zero .loreignore."""
    write(tmp_path, "sub/a.md")
    write(tmp_path, "b.md")
    os.mkfifo(tmp_path / "sub" / ".gitignore")
    (tmp_path / ".loreignore").symlink_to("/dev/zero")
    found, skipped = run_walk(tmp_path)
    assert found == ["b.md", "sub/a.md"]
    assert "not a regular file" in skipped["sub/.gitignore"]
    assert "not a regular file" in skipped[".loreignore"]


def test_symlinks_out_of_the_root_are_not_followed_by_default(tmp_path: Path) -> None:
    """#14 item 14: `ln -s /etc/passwd R/p.md` and a link to /etc."""
    root = tmp_path / "root"
    write(root, "real.md")
    write(root, "sub/inner.md")
    os.symlink("/etc/passwd", root / "p.md")
    os.symlink("/etc", root / "etc")
    os.symlink(root / "sub" / "inner.md", root / "alias.md")  # inside: still followed
    found, skipped = run_walk(root)
    assert found == ["alias.md", "real.md", "sub/inner.md"]
    assert set(skipped) == {"p.md", "etc"}
    assert all("outside the indexed root" in reason for reason in skipped.values())
