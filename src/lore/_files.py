"""Reading a file that someone else controls, without hanging or exhausting memory.

A path lore reads (a note, ``lore.toml``, an ignore file, the user config)
may be a FIFO that blocks ``open`` until a writer appears, a device such as
``/dev/zero`` that never ends, or a regular file swapped for either between
the walk and the read. ``read_bounded`` opens without blocking, checks what
the open descriptor really is (so a swap after a ``stat`` cannot fool it) and
reads at most a limit, so each of these becomes an ``OSError`` with a reason
instead of a hang or a ``MemoryError``.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_CHUNK = 1 << 20


class NotRegularFileError(OSError):
    """The path is a pipe, device, socket or directory, not a file to read."""


class FileTooLargeError(OSError):
    """The file holds more bytes than the caller's limit."""


def read_bounded(path: Path | str, limit: int) -> bytes:
    """The whole content of the regular file ``path``, at most ``limit`` bytes.

    Args:
        path: the file (symlinks are followed; what they point at is checked).
        limit: the most bytes accepted; a longer file is refused, not cut.

    Raises:
        FileNotFoundError: the path does not exist.
        NotRegularFileError: it is not a regular file.
        FileTooLargeError: it holds more than ``limit`` bytes.
        OSError: any other reason it cannot be read (permissions...).
    """
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError(errno.EINVAL, "not a regular file (a pipe, device, "
                                      "socket or folder)", str(path))
        if info.st_size > limit:
            raise _too_large(path, info.st_size, limit)
        parts: list[bytes] = []
        size = 0
        while True:  # the file may grow after fstat: read to the end, never past limit + 1
            part = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
            if size > limit:
                raise _too_large(path, size, limit)
        return b"".join(parts)
    finally:
        os.close(fd)


def _too_large(path: Path | str, size: int, limit: int) -> FileTooLargeError:
    return FileTooLargeError(errno.EFBIG, f"{size} bytes or more, over the limit of {limit}",
                             str(path))
