"""Temp files of writes in flight, so a kernel killed mid-write leaves nothing behind.

Each atomic write notes its temp file in ``<root>/.mira/pending/`` (one small marker per
write, naming the process) before creating it and drops the note after the rename. When a
session next opens the store, notes of processes that are gone are replayed: their temp
files are removed. A project whose ``.mira`` cannot be written gets no notes (the temp
files are still hidden, uniquely named, and never listed as changes).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import stat
import time
from collections.abc import Iterator

_DIR = (".mira", "pending")
# ".mira-<hex>.tmp"; older versions wrote ".<name>.mira-<hex>.tmp", still cleaned up
_TEMP_NAME = re.compile(r"^(?:\.[^/]+)?\.mira-[0-9a-f]{12}\.tmp$")
_STALE_SECONDS = 7 * 24 * 3600  # a note from another host is trusted this long
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def temp_name() -> str:
    """A hidden temp name for a write in the same directory.

    Short and independent of the destination's name, so any name the file system
    accepts (up to 255 bytes) can be written.
    """
    return f".mira-{secrets.token_hex(6)}.tmp"


def _pending_dir(root: str, create: bool) -> int | None:
    """A descriptor for root/.mira/pending, reached without following links."""
    try:
        fd = os.open(root, os.O_RDONLY | _DIRECTORY)
    except OSError:
        return None
    try:
        for part in _DIR:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o700, dir_fd=fd)
            nxt = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nxt
        return fd
    except OSError:
        os.close(fd)
        return None


@contextlib.contextmanager
def noted(root: str, rel_tmp: str) -> Iterator[None]:
    """Note the temp file `rel_tmp` (relative to `root`) for as long as the block runs."""
    dfd = _pending_dir(root, create=True)
    marker = f"{secrets.token_hex(8)}.json"
    if dfd is not None:
        note = {"pid": os.getpid(), "host": socket.gethostname(), "path": rel_tmp, "at": time.time()}
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, dir_fd=dfd)
            with os.fdopen(fd, "w") as handle:
                json.dump(note, handle)
        except OSError:
            os.close(dfd)
            dfd = None
    try:
        yield
    finally:
        if dfd is not None:
            with contextlib.suppress(OSError):
                os.unlink(marker, dir_fd=dfd)
            os.close(dfd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _orphaned(note: dict, now: float) -> bool:
    if note.get("host") == socket.gethostname():
        return not _alive(int(note.get("pid", 0)))
    return now - float(note.get("at", now)) > _STALE_SECONDS


def clean_orphans(root: str) -> list[str]:
    """Remove the temp files of writes whose process died; returns their paths."""
    dfd = _pending_dir(root, create=False)
    if dfd is None:
        return []
    removed: list[str] = []
    now = time.time()
    try:
        for marker in os.listdir(dfd):
            try:
                fd = os.open(marker, os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd)
                with os.fdopen(fd) as handle:
                    note = json.loads(handle.read(4096))
            except (OSError, ValueError):
                continue
            if not isinstance(note, dict) or not _orphaned(note, now):
                continue
            path = str(note.get("path", ""))
            if _remove_temp(root, path):
                removed.append(path)
            with contextlib.suppress(OSError):
                os.unlink(marker, dir_fd=dfd)
    finally:
        os.close(dfd)
    return removed


def _remove_temp(root: str, rel: str) -> bool:
    """Unlink root/rel if it is one of our temp files: a regular file, reached without links."""
    parts = rel.split("/")
    if not parts or any(p in ("", ".", "..") for p in parts) or not _TEMP_NAME.match(parts[-1]):
        return False
    try:
        fd = os.open(root, os.O_RDONLY | _DIRECTORY)
    except OSError:
        return False
    try:
        for part in parts[:-1]:
            nxt = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nxt
        st = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode):
            return False
        os.unlink(parts[-1], dir_fd=fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
