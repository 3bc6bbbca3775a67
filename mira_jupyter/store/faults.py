"""Faults of the log database file, each recognised and handled by one small function.

- **locked**: another process holds DuckDB's write lock (``DatabaseLocked``, raised by
  :func:`retry_locked` once its budget is spent). Transient: events
  wait in the journal and are written when the lock is free.
- **unwritable**: the file or its directory cannot be written (a read-only ``.mira``, a
  read-only file system, permissions). Not transient: the recorder stops waiting for it,
  keeps events in its journal (in a fallback directory if need be) and says so once.
- **corrupt**: the file is not a DuckDB database (0 bytes, garbage, truncated, failed
  checksums). It is moved aside under a timestamped name and a fresh log starts.

Nothing here decides policy for a particular backend beyond these rules, so another
storage backend can reuse the classifiers and the fallback journal location.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from ..core.errors import MiraError

T = TypeVar("T")

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

CORRUPT_SUFFIX = ".corrupt-"
_CORRUPT_MARKERS = (
    "not a valid duckdb database file",
    "corrupt database file",
    "could not read enough bytes from file",
    "database file is truncated",
    "invalid database header",
)
_UNWRITABLE_MARKERS = (
    "permission denied",
    "operation not permitted",
    "read-only file system",
    "read only file system",
    "no space left on device",
    "disk quota exceeded",
)
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


class StoreUnavailable(MiraError, RuntimeError):
    """The log database cannot be used right now; the message is one line for the user."""


class DatabaseLocked(MiraError, TimeoutError):
    """Another process held the database file for longer than we were willing to wait."""


def retry(
    work: Callable[[], T],
    retryable: Callable[[Exception, int], bool],
    *,
    first: float,
    most: float = 1.0,
    deadline: float | None = None,
    attempts: int | None = None,
    full_jitter: bool = False,
    on_retry: Callable[[Exception], None] | None = None,
) -> T:
    """Call `work` until it returns, retrying what `retryable(exc, attempt)` accepts with
    exponential backoff from `first` to `most` seconds, until `attempts` or the monotonic
    `deadline` run out (then the last failure is raised).

    The jitter keeps processes that collided once from colliding again in step: each
    sleep is drawn from [delay/2, delay], or [0, delay] with `full_jitter`, and never
    sleeps past the deadline.
    """
    delay = first
    attempt = 0
    while True:
        attempt += 1
        try:
            return work()
        except Exception as exc:
            if not retryable(exc, attempt):
                raise
            if attempts is not None and attempt >= attempts:
                raise
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise
            if on_retry is not None:
                on_retry(exc)
            pause = random.uniform(0 if full_jitter else delay / 2, delay)
            time.sleep(pause if remaining is None else min(pause, remaining))
            delay = min(delay * 2, most)


def is_lock_error(exc: BaseException) -> bool:
    """Whether `exc` is DuckDB refusing to open a file another process holds."""
    return "could not set lock" in str(exc).lower()


def retry_locked(open_: Callable[[], T], deadline: float, what: str) -> T:
    """Call `open_` until it stops failing on another process's file lock, or time runs out."""
    import duckdb

    began = time.monotonic()
    try:
        # full jitter: kernels that collided once must not collide again in step
        return retry(
            open_,
            lambda exc, _attempt: isinstance(exc, duckdb.IOException) and is_lock_error(exc),
            first=0.01,
            most=0.5,
            deadline=deadline,
            full_jitter=True,
        )
    except duckdb.IOException as exc:
        if not is_lock_error(exc):
            raise
        waited = time.monotonic() - began
        raise DatabaseLocked(locked_message(what, exc, waited)) from exc


def one_line(exc: BaseException) -> str | None:
    """The user-facing line for a fault of the log database, or None if `exc` is not one."""
    if isinstance(exc, StoreUnavailable | DatabaseLocked):
        return _first_line(exc)
    if type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb"):
        return f"the log database failed: {_first_line(exc)}"
    return None


def is_corrupt(exc: BaseException) -> bool:
    """Whether opening failed because the file is not a readable DuckDB database."""
    text = str(exc).lower()
    return any(marker in text for marker in _CORRUPT_MARKERS)


def is_unwritable(exc: BaseException) -> bool:
    """Whether a write failed on permissions, a read-only file system, or a full disk/quota."""
    if isinstance(exc, OSError) and exc.errno in (
        errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT
    ):
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _UNWRITABLE_MARKERS)


def lock_holder(exc: BaseException) -> str | None:
    """'program (PID n)' of the process DuckDB names as holding the lock, if it says."""
    for link in _chain(exc):
        match = _HOLDER.search(str(link))
        if match:
            return f"{Path(match['program']).name} (PID {match['pid']})"
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def unwritable_message(path: Path, exc: BaseException) -> str:
    """One line: which file cannot be written and why (no traceback, no SQL context)."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else _first_line(exc)
    return f"the log database {path} cannot be written ({reason})"


def locked_message(path: Path | str, exc: BaseException, waited: float) -> str:
    """One line: who holds the database and for how long we waited."""
    holder = lock_holder(exc)
    who = f"another process ({holder})" if holder else "another process"
    return (
        f"the log database {path} is held by {who}; gave up after {waited:.0f} s. "
        "Try again once it lets go (a DuckDB connection left open elsewhere holds it)"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


# -- corrupt files --------------------------------------------------------------------------


def aside_name(path: Path, now: datetime | None = None) -> Path:
    """Where a corrupt `path` goes: ``<name>.corrupt-<UTC timestamp>`` beside it."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
    return path.with_name(f"{path.name}{CORRUPT_SUFFIX}{stamp}")


def move_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename a corrupt database and its WAL out of the way; returns the new name."""
    target = aside_name(path, now)
    os.replace(path, target)
    wal = path.with_name(path.name + ".wal")
    # a WAL of the broken file must not be replayed into the fresh one
    with contextlib.suppress(FileNotFoundError):
        os.replace(wal, target.with_name(target.name + ".wal"))
    return target


@contextlib.contextmanager
def repair_lock(path: Path) -> Iterator[None]:
    """Serialise repairs of one database file between processes (flock on its directory).

    Two kernels finding the same corrupt file must not both move it: the second would
    move the fresh log the first just created.
    """
    if fcntl is None:
        yield
        return
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # drops the lock


# -- where events go when the journal directory is not writable -------------------------


def cache_root() -> Path:
    """``$XDG_CACHE_HOME`` or ``~/.cache``, then ``mira_jupyter``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mira_jupyter"


def location_slug(raw: str) -> str:
    """A file-name-safe, collision-free name for a database location."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", raw).strip("_")[-60:]
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return f"{slug}-{digest}"


def fallback_journal_dirs(key: str) -> list[Path]:
    """Journal directories to try, in order, when the database's own one is unusable."""
    slug = location_slug(key)
    return [
        cache_root() / "journal" / slug,
        Path(tempfile.gettempdir()) / f"mira_jupyter-{os.getuid() if hasattr(os, 'getuid') else 'user'}" / "journal" / slug,
    ]


def writable_dir(directory: Path) -> bool:
    """Whether files can be created in `directory` (made if missing)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe-"):
            pass
    except OSError:
        return False
    return True
