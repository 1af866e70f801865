"""Files that appear whole: written to a temp file in the same directory, then linked or renamed.

A reader (another replica starting, a process re-reading its keys) sees either no file, the old
file or the new file, never a half-written one: ``os.link`` and ``os.replace`` are atomic within
one filesystem, and ``os.link`` refuses an existing name, so of several creators exactly one wins.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")


def write_temp(path: Path, data: bytes, mode: int) -> Path:
    """``data`` in a new temp file beside ``path``, flushed to disk."""
    temp = temp_path(path)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(fd, mode)  # exactly ``mode``, whatever the umask: public keys stay readable
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def publish(temp: Path, path: Path, *, overwrite: bool) -> bool:
    """Move a complete ``temp`` to ``path``; without ``overwrite``, False if ``path`` exists."""
    try:
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)  # fails if the name exists, unlike rename
    except FileExistsError:
        return False
    finally:
        temp.unlink(missing_ok=True)
    sync_directory(path.parent)
    return True


def create_once(path: Path, make: Callable[[], bytes], *, mode: int = 0o600) -> bytes:
    """The file's content, creating it with ``make()`` if absent; concurrent creators agree."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        publish(write_temp(path, make(), mode), path, overwrite=False)
    return path.read_bytes()


def replace(path: Path, data: bytes, *, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    publish(write_temp(path, data, mode), path, overwrite=True)


def move(source: Path, path: Path) -> None:
    """Put the complete file ``source`` at ``path`` in one step (both in one filesystem)."""
    os.replace(source, path)
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    """Make a new name durable: after a crash the file is there, not only its data."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
