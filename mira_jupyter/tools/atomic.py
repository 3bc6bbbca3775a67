"""Atomic writes and removals inside a sandbox, through directory descriptors.

The destination directory is reached from the root without following links (see
``Sandbox.open_dir``); the new bytes go to a temp file created with ``O_EXCL | O_NOFOLLOW``
in that directory and are renamed over the destination, which replaces (never follows) a
link planted there. The directory's place under the root is verified before and after.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._fd import CLOEXEC, HAVE_DIR_FD, NOFOLLOW, NONBLOCK, split_rel
from .pending import noted, temp_name
from .policy import SandboxDenied
from .types import FileWrite

if TYPE_CHECKING:
    from .sandbox import Resolved, Sandbox


@dataclass(frozen=True)
class WriteOutcome:
    """What an atomic write did."""

    rel: str
    created: bool
    bytes_written: int
    sha256: str


def write_bytes(
    sb: Sandbox,
    path: str,
    data: bytes,
    on_write: Callable[[FileWrite], None] | None = None,
    max_bytes: int | None = None,
) -> WriteOutcome:
    """Atomically write `data`: temp file in the same directory, then ``os.replace``.

    `on_write` is told of the change (with the previous bytes, for undo) only once the
    rename has happened, so a kernel killed mid-write logs no change that never was; if it
    raises, the write is taken back. The temp file is noted in ``.mira/pending`` meanwhile,
    so a killed kernel's temp file is removed when the store next opens. `max_bytes`
    overrides the write cap (undo restores files up to ``limits.max_undo_bytes``).
    """
    cap = sb.limits.max_write_bytes if max_bytes is None else max_bytes
    if len(data) > cap:
        raise SandboxDenied("too_large", f"{len(data)} bytes exceeds the write cap of {cap} bytes")
    res = sb.check_writable(path)
    parent, name = split_rel(res.rel)
    digest = hashlib.sha256(data).hexdigest()
    with sb.open_dir(parent, create=True) as dfd:
        previous, mode = _previous(sb, dfd, name, res)
        sb.verify_dir(dfd, parent)
        tmp = temp_name()
        with noted(sb.root, tmp if parent == "." else f"{parent}/{tmp}"):
            _write_temp(dfd, tmp, data, mode, res)
            try:
                sb.verify_dir(dfd, parent)
                if HAVE_DIR_FD:
                    # rename replaces a link planted at the destination instead of following it
                    os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
                else:
                    os.replace(os.path.join(os.path.dirname(res.real), tmp), res.real)
            except BaseException:
                _unlink(dfd, tmp, res)
                raise
        try:
            sb.verify_dir(dfd, parent)
            if on_write is not None:
                on_write(FileWrite(path=res.rel, previous=previous, new_sha256=digest))
        except BaseException:
            # the directory was moved out while we wrote, or the change could not be
            # logged for undo: take the write back
            _rollback(dfd, name, previous, mode, res)
            raise
    return WriteOutcome(res.rel, previous is None, len(data), digest)


def remove_file(sb: Sandbox, path: str) -> bytes:
    """Delete a regular file (for undo of a creation); returns the bytes it held."""
    res = sb.check_writable(path)
    if not res.exists:
        raise SandboxDenied("not_found", f"{res.rel!r} does not exist")
    parent, name = split_rel(res.rel)
    with sb.open_dir(parent) as dfd:
        previous, _mode = _previous(sb, dfd, name, res)
        if previous is None:
            raise SandboxDenied("not_found", f"{res.rel!r} does not exist")
        sb.verify_dir(dfd, parent)
        if HAVE_DIR_FD:
            os.unlink(name, dir_fd=dfd)
        else:
            os.unlink(res.real)
    return previous


def _previous(sb: Sandbox, dfd: int, name: str, res: Resolved) -> tuple[bytes | None, int | None]:
    try:
        if HAVE_DIR_FD:
            sb.refuse_special(name, dfd, repr(res.rel))
            fd = os.open(name, os.O_RDONLY | NOFOLLOW | NONBLOCK | CLOEXEC, dir_fd=dfd)
        else:
            fd = os.open(res.real, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SandboxDenied(
                "symlink_escape", f"{res.rel!r} is a symbolic link planted at the destination"
            ) from exc
        raise SandboxDenied("invalid_path", f"cannot open {res.rel!r}: {exc.strerror}") from exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise SandboxDenied("invalid_path", f"{res.rel!r} is not a regular file")
    with os.fdopen(fd, "rb") as f:
        if st.st_size > sb.limits.max_undo_bytes:
            raise SandboxDenied(
                "too_large",
                f"{res.rel!r} is {st.st_size} bytes; files over {sb.limits.max_undo_bytes} bytes are not overwritten",
            )
        return f.read(), stat.S_IMODE(st.st_mode)


def _write_temp(dfd: int, tmp: str, data: bytes, mode: int | None, res: Resolved) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC | getattr(os, "O_BINARY", 0)
    if HAVE_DIR_FD:
        fd = os.open(tmp, flags, 0o666, dir_fd=dfd)
    else:
        fd = os.open(os.path.join(os.path.dirname(res.real), tmp), flags, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink(dfd, tmp, res)
        raise
    os.close(fd)


def _rollback(dfd: int, name: str, previous: bytes | None, mode: int | None, res: Resolved) -> None:
    with contextlib.suppress(OSError):
        if previous is None:
            _unlink(dfd, name, res)
        elif HAVE_DIR_FD:
            tmp = temp_name()
            _write_temp(dfd, tmp, previous, mode, res)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)


def _unlink(dfd: int, tmp: str, res: Resolved) -> None:
    with contextlib.suppress(OSError):
        if HAVE_DIR_FD:
            os.unlink(tmp, dir_fd=dfd)
        else:
            os.unlink(os.path.join(os.path.dirname(res.real), tmp))
