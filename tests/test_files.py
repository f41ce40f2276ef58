"""Bounded, non-blocking reads of files lore does not control (#14 item 3)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lore._files import FileTooLargeError, NotRegularFileError, read_bounded


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail instead of hanging when the block blocks (on a FIFO, say)."""
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"blocked for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_reads_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(b"# a\n")
    assert read_bounded(path, 4) == b"# a\n"


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "lore.toml"
    os.mkfifo(fifo)
    with within(5), pytest.raises(NotRegularFileError):
        read_bounded(fifo, 1000)


def test_dev_zero_is_refused_not_read_forever(tmp_path: Path) -> None:
    link = tmp_path / ".loreignore"
    link.symlink_to("/dev/zero")
    with within(5), pytest.raises(NotRegularFileError):
        read_bounded(link, 1000)


def test_a_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    path.write_bytes(b"x" * 101)
    with pytest.raises(FileTooLargeError):
        read_bounded(path, 100)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "nope", 10)
