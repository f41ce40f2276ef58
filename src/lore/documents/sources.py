"""Find the files to index under a root, and turn their bytes into text safely.

The walk is deterministic (entries sorted by name, depth first) and never
raises for one bad entry: anything that would have been indexed but cannot be
(too large, unreadable, a broken or looping symlink) comes out as a
``Skipped`` with a reason the user can act on. Files that are merely not
wanted (ignored, not matching ``index.include``) are left out silently.

Ignore rules follow git: every directory's ``.gitignore`` and ``.loreignore``
apply below it, deeper files and later patterns win, ``!pattern`` re-includes,
and an ignored directory is not entered. ``index.exclude`` is applied last, so
it overrides both.
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from lore._files import read_bounded
from lore.errors import ConfigError, DocumentError
from lore.settings import IndexSettings

DEFAULT_EXCLUDED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__"})
IGNORE_FILES = (".gitignore", ".loreignore")  # later files win over earlier ones in one folder

# Ignore files are a few lines; a huge one (or a link to /dev/zero) is refused.
MAX_IGNORE_FILE_BYTES = 1_000_000
_NOT_UTF8_NAME = ("{} name is not valid UTF-8, so it cannot be stored or shown; rename it "
                  "(e.g. `convmv -f latin1 -t utf8`) or exclude it")

_OUTSIDE = ("symlinked {} points outside the indexed root and is not followed; set "
            "index.follow_symlinks_outside = true in your user config to index it")

_SNIFF_BYTES = 8192
# Text files have almost no C0 control bytes besides whitespace; a few stray
# ESC or form feeds are fine, a third of the sample is not text.
_MAX_CONTROL_RATIO = 0.3
_CONTROL_BYTES = bytes(sorted(set(range(32)) - set(b"\t\n\r\f\v\b\x1b") | {0x7F}))


@dataclass(frozen=True)
class SourceFile:
    """A file the walk found and that passed every guard.

    Attributes:
        path: where to read it (under the root, possibly through a symlink).
        relpath: root-relative path with ``/`` separators: the document's identity.
        size: size in bytes (of the symlink target when followed).
        mtime_ns: modification time in nanoseconds, for cheap change detection.
    """

    path: Path
    relpath: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Skipped:
    """An entry that would have been indexed but cannot be, and why."""

    relpath: str
    reason: str


class _IgnoreRules:
    """The stack of gitignore-style specs in force for one directory."""

    def __init__(self, specs: tuple[tuple[str, GitIgnoreSpec], ...], last: GitIgnoreSpec) -> None:
        self._specs = specs  # (folder prefix "a/b/" or "", spec), outermost first
        self._last = last    # index.exclude, relative to the root, applied after the files

    def below(self, folder: Path, rel: str, names: set[str]) -> tuple[_IgnoreRules, list[Skipped]]:
        """The rules for ``folder``'s entries: these plus its own ignore files."""
        specs = list(self._specs)
        problems = []
        prefix = f"{rel}/" if rel else ""
        for name in IGNORE_FILES:
            if name not in names:
                continue
            try:
                data = read_bounded(folder / name, MAX_IGNORE_FILE_BYTES)
            except OSError as exc:
                problems.append(Skipped(prefix + name, f"cannot read ignore file: {exc.strerror}; "
                                        "its patterns were not applied. Make it a readable "
                                        "regular file"))
                continue
            lines = data.decode("utf-8", errors="replace").splitlines()
            specs.append((prefix, GitIgnoreSpec.from_lines(lines)))
        return _IgnoreRules(tuple(specs), self._last), problems

    def ignores(self, rel: str, is_dir: bool) -> bool:
        """Whether ``rel`` is excluded; the last spec with an opinion decides."""
        suffix = "/" if is_dir else ""
        verdict: bool | None = None
        for prefix, spec in self._specs:
            if rel.startswith(prefix):
                result = spec.check_file(rel[len(prefix):] + suffix)
                if result.include is not None:
                    verdict = result.include
        result = self._last.check_file(rel + suffix)
        if result.include is not None:
            verdict = result.include
        return bool(verdict)


class _Walker:
    """State of one walk: settings, the root's identity and the directories seen."""

    def __init__(self, root: Path, settings: IndexSettings, index_dir: Path) -> None:
        self.root = root
        self.root_real = os.path.realpath(root)
        self.settings = settings
        self.include = GitIgnoreSpec.from_lines(settings.include)
        index_path = index_dir if index_dir.is_absolute() else root / index_dir
        self.index_key = _dir_key(index_path)
        self.seen: dict[tuple[int, int], str] = {}  # (st_dev, st_ino) -> relpath walked

    def inside_root(self, real: str) -> bool:
        """Whether the resolved path ``real`` is the root or below it."""
        return real == self.root_real or real.startswith(self.root_real + os.sep)

    def walk_dir(self, folder: Path, rel: str, rules: _IgnoreRules) -> Iterator[SourceFile | Skipped]:
        """Yield the results for every entry below ``folder``, sorted by name."""
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            yield Skipped(rel or ".", f"cannot list directory: {exc.strerror}; "
                          "fix its permissions or exclude it in .loreignore")
            return
        rules, problems = rules.below(folder, rel, {entry.name for entry in entries})
        yield from problems
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if _is_dir(entry):
                yield from self.visit_dir(entry, child, rules)
            else:
                result = self.visit_file(entry, child, rules)
                if result is not None:
                    yield result

    def visit_dir(self, entry: os.DirEntry[str], rel: str,
                  rules: _IgnoreRules) -> Iterator[SourceFile | Skipped]:
        """Descend into a directory unless it is excluded, the index, or a symlink loop."""
        if entry.name in DEFAULT_EXCLUDED_DIRS or rules.ignores(rel, is_dir=True):
            return
        if not _is_utf8(entry.name):
            yield Skipped(printable_path(rel), _NOT_UTF8_NAME.format("folder"))
            return
        key = _dir_key(Path(entry.path))
        if key is None or key == self.index_key:
            return
        if entry.is_symlink():
            skipped = self.check_dir_link(entry, rel, key)
            if skipped is not None:
                yield skipped
                return
        self.seen[key] = rel
        yield from self.walk_dir(Path(entry.path), rel, rules)

    def check_dir_link(self, entry: os.DirEntry[str], rel: str,
                       key: tuple[int, int]) -> Skipped | None:
        """Why a symlinked directory must not be walked, or None to follow it."""
        if not self.settings.follow_symlinks:
            return Skipped(rel, "symlinked directory not followed; set index.follow_symlinks = "
                                "true in lore.toml to index it")
        # A link into the root would index the same files twice (or forever, when
        # it points at an ancestor); the target is walked under its own path.
        target = os.path.realpath(entry.path)
        if not self.inside_root(target):
            if not self.settings.follow_symlinks_outside:
                return Skipped(rel, _OUTSIDE.format("directory"))
        else:
            inside = Path(os.path.relpath(target, self.root_real)).as_posix()  # "." is the root
            if inside == "." or rel.startswith(inside + "/"):
                return Skipped(rel, f"symlink loop: points back to its ancestor '{inside}'")
            return Skipped(rel, f"symlink to '{inside}' inside the indexed root; "
                                "its files are indexed there")
        if key in self.seen:
            return Skipped(rel, f"symlink loop: the same directory was already walked as "
                                f"'{self.seen[key]}'")
        return None

    def visit_file(self, entry: os.DirEntry[str], rel: str,
                   rules: _IgnoreRules) -> SourceFile | Skipped | None:
        """Apply include/ignore rules and the symlink, type, size and permission guards."""
        if not self.include.match_file(rel) or rules.ignores(rel, is_dir=False):
            return None
        if not _is_utf8(entry.name):
            # The catalog, JSON output and every terminal speak UTF-8: a name that
            # is not cannot be stored or shown faithfully, so it is reported instead.
            return Skipped(printable_path(rel), _NOT_UTF8_NAME.format("file"))
        is_link = entry.is_symlink()
        if is_link and not self.settings.follow_symlinks:
            return Skipped(rel, "symlink not followed; set index.follow_symlinks = true in "
                                "lore.toml to index it")
        if is_link and not self.settings.follow_symlinks_outside and \
                not self.inside_root(os.path.realpath(entry.path)):
            return Skipped(rel, _OUTSIDE.format("file"))
        try:
            info = entry.stat()
        except FileNotFoundError:
            target = os.readlink(entry.path) if is_link else "?"
            return Skipped(rel, f"broken symlink: its target '{target}' does not exist; "
                                "fix or remove the link")
        except OSError as exc:
            return Skipped(rel, f"cannot read file metadata: {exc.strerror}; fix its permissions")
        if not stat.S_ISREG(info.st_mode):
            return Skipped(rel, "not a regular file (a device, socket or pipe); exclude it")
        limit = self.settings.max_file_bytes
        if info.st_size > limit:
            return Skipped(rel, f"{info.st_size} bytes exceeds index.max_file_bytes={limit}; "
                                "raise it in lore.toml to index this file")
        if not os.access(entry.path, os.R_OK):
            return Skipped(rel, "cannot read file: permission denied; fix its permissions or "
                                "exclude it in .loreignore")
        return SourceFile(Path(entry.path), rel, info.st_size, info.st_mtime_ns)


def _is_utf8(name: str) -> bool:
    """Whether a name from the file system is valid UTF-8 (no surrogate escapes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_path(rel: str) -> str:
    """``rel`` with undecodable bytes shown as U+FFFD, safe to store and print."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """``entry.is_dir()`` following symlinks, False when it cannot be told."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _dir_key(path: Path) -> tuple[int, int] | None:
    """The (st_dev, st_ino) identity of a directory, or None if it is not one."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


def walk(root: Path, settings: IndexSettings, index_dir: Path) -> Iterator[SourceFile | Skipped]:
    """Yield every indexable file under ``root``, and every file that had to be skipped.

    Args:
        root: the folder to index.
        settings: include/exclude patterns, the size limit and the symlink policy.
        index_dir: lore's own index folder (absolute, or relative to ``root``); never walked.

    Raises:
        ConfigError: ``root`` is not a directory.
    """
    root = Path(root).absolute()
    if not root.is_dir():
        raise ConfigError(f"{root} is not a directory; pass the folder whose documents to index")
    walker = _Walker(root, settings, index_dir)
    root_key = _dir_key(root)
    if root_key is not None:
        walker.seen[root_key] = "."
    rules = _IgnoreRules((), GitIgnoreSpec.from_lines(settings.exclude))
    yield from walker.walk_dir(root, "", rules)


def decode_text(relpath: str, data: bytes) -> tuple[str, list[str]]:
    """Decode a file's bytes to text with ``\\n`` newlines, refusing binary data.

    UTF-8 (a BOM is dropped) is expected; UTF-16 with a BOM is accepted too
    because Windows tools write it. Invalid UTF-8 is decoded with U+FFFD
    replacements and a warning, so one bad byte does not hide a whole note.

    Args:
        relpath: the file's root-relative path, for error messages.
        data: the raw file contents.

    Raises:
        DocumentError: the data looks binary (NUL bytes or mostly control bytes).
    """
    warnings: list[str] = []
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    else:
        _refuse_binary(relpath, data[:_SNIFF_BYTES])
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            text = data.decode("utf-8-sig", errors="replace")
            warnings.append(f"not valid UTF-8 (first bad byte at offset {exc.start}); undecodable "
                            "bytes were replaced with U+FFFD. Re-save the file as UTF-8")
    return text.replace("\r\n", "\n").replace("\r", "\n"), warnings


def _refuse_binary(relpath: str, sample: bytes) -> None:
    """Raise DocumentError when a sample of the file does not look like text."""
    hint = "exclude it with a pattern in .loreignore or index.exclude"
    if b"\0" in sample:
        raise DocumentError(relpath, f"binary file (NUL byte in the first 8 KiB); {hint}")
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if sample and controls / len(sample) > _MAX_CONTROL_RATIO:
        raise DocumentError(relpath, f"binary file ({controls} control bytes in the first "
                                     f"{len(sample)}); {hint}")
