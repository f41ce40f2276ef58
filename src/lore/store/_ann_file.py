"""The vector sidecar's file format and its crash-safe write.

A sidecar file is::

    MAGIC (8 bytes) | manifest length (u32, little endian) | manifest (UTF-8 JSON) | payload

The manifest records the format version, dimensions, metric, precision, counts,
the byte length of every payload section and a CRC-32 of the manifest body and
of the payload, so a truncated, overwritten or foreign file is refused on open
instead of being read as garbage. The index is derived data: every refusal
says to rebuild it from the catalog.

Writes go to a temporary file in the same directory, which is flushed and
fsynced before ``os.replace`` swaps it in and the directory itself is fsynced:
a crash at any point leaves either the old file or the new one, never a mix.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lore.errors import IndexCorruptError

log = logging.getLogger(__name__)

MAGIC = b"LOREVEC\x00"
FORMAT_VERSION = 1
REBUILD_HINT = "rebuild it from the catalog with `lore index --rebuild-vectors`"
_LENGTH = struct.Struct("<I")


def _crc(data: bytes | memoryview, start: int = 0) -> int:
    return zlib.crc32(data, start) & 0xFFFFFFFF


def write_atomic(path: Path, manifest: dict[str, Any],
                 sections: Sequence[bytes | memoryview]) -> None:
    """Write ``manifest`` and the payload ``sections`` to ``path`` atomically.

    ``manifest`` gains ``format_version``, ``sections`` (byte lengths) and
    ``payload_crc32``; the caller's keys are kept as they are.

    Args:
        path: destination file; its directory must exist.
        manifest: JSON-serialisable description of the payload.
        sections: payload parts, written back to back in this order.
    """
    payload_crc = 0
    for section in sections:
        payload_crc = _crc(section, payload_crc)
    body = dict(manifest, format_version=FORMAT_VERSION,
                sections=[memoryview(s).nbytes for s in sections],
                payload_crc32=payload_crc)
    header = json.dumps(body, sort_keys=True).encode()
    # The header carries its own CRC so a damaged manifest is not trusted either.
    prefix = MAGIC + _LENGTH.pack(len(header)) + header + _LENGTH.pack(_crc(header))
    _remove_stale_temporaries(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                    dir=path.parent)
    try:
        # mkstemp makes the file private; the sidecar is as readable as the catalog.
        os.fchmod(fd, _mode_like(path))
        with os.fdopen(fd, "wb") as out:
            write_sections(out, [prefix, *sections])
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def write_sections(out: Any, sections: Sequence[bytes | memoryview]) -> None:
    """Write each section to the open binary file ``out`` (a seam for crash tests)."""
    for section in sections:
        out.write(section)


def read(path: Path) -> tuple[dict[str, Any], list[memoryview]]:
    """Read and verify a sidecar file.

    Returns:
        The manifest and one read-only view per payload section.

    Raises:
        IndexCorruptError: the file is truncated, damaged, from another format
            version or not a sidecar at all.
    """
    data = memoryview(path.read_bytes())
    head = len(MAGIC) + _LENGTH.size
    if len(data) < head or bytes(data[: len(MAGIC)]) != MAGIC:
        raise _corrupt(path, "it is not a lore vector index")
    (header_len,) = _LENGTH.unpack_from(data, len(MAGIC))
    payload_at = head + header_len + _LENGTH.size
    if len(data) < payload_at:
        raise _corrupt(path, "its header is truncated")
    header = data[head: head + header_len]
    (header_crc,) = _LENGTH.unpack_from(data, head + header_len)
    if _crc(header) != header_crc:
        raise _corrupt(path, "its header checksum does not match")
    try:
        manifest: dict[str, Any] = json.loads(bytes(header))
        version = manifest["format_version"]
        lengths = [int(n) for n in manifest["sections"]]
        payload_crc = int(manifest["payload_crc32"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _corrupt(path, f"its manifest is unreadable ({exc})") from exc
    if version != FORMAT_VERSION:
        raise _corrupt(path, f"it has format version {version!r}, "
                             f"this lore reads version {FORMAT_VERSION}")
    if payload_at + sum(lengths) != len(data):
        raise _corrupt(path, f"it is {len(data)} bytes, the manifest says "
                             f"{payload_at + sum(lengths)} (truncated or appended to)")
    payload = data[payload_at:]
    if _crc(payload) != payload_crc:
        raise _corrupt(path, "its payload checksum does not match")
    views, offset = [], 0
    for length in lengths:
        views.append(payload[offset: offset + length])
        offset += length
    return manifest, views


def _corrupt(path: Path, why: str) -> IndexCorruptError:
    return IndexCorruptError(f"The vector index {path} cannot be used: {why}; {REBUILD_HINT}.")


def _remove_stale_temporaries(path: Path) -> None:
    """Delete temporaries left by saves that were killed, never a live process's.

    A temporary is named ``.<file>.<pid>.<random>.tmp``; it is stale when that
    process no longer exists. Another process's save in progress is left alone.
    """
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        owner = stale.name[len(path.name) + 2:].split(".", 1)[0]
        if owner.isdigit() and _alive(int(owner)):
            continue
        log.info("removing %s left by an interrupted save", stale)
        stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (this one included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # exists, owned by someone else
        return True
    return True


def _mode_like(path: Path) -> int:
    """The permission bits of the file being replaced, else the catalog's, else 0o644."""
    for candidate in (path, path.parent / "catalog.sqlite"):
        try:
            return candidate.stat().st_mode & 0o777
        except OSError:
            continue
    return 0o644


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        log.debug("fsync of directory %s is not supported here", directory)
    finally:
        os.close(fd)
