"""Per-session JSONL journals: every event is on disk before the recorder accepts it.

A recorder owns one journal file and holds an exclusive ``flock`` on it for its whole
life. The kernel drops that lock when the process dies, however it dies (SIGKILL
included), so "I can lock this journal" means "its writer is gone and whatever it holds
must be replayed". Lines are appended with unbuffered ``os.write`` so a killed process
loses nothing that was accepted (the page cache survives the process).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mira_jupyter.core.events import Event, event_from_json

from .session import SessionInfo, pid_alive

try:
    import fcntl
except ImportError:  # Windows: fall back to pid checks
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"
_HEADER_KEY = "mira_journal"


@dataclass(slots=True)
class Pending:
    """An accepted event and its full JSON form (the journal line)."""

    event: Event
    line: str


def _try_lock(fd: int) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Journal:
    """The append-only journal of one live recorder."""

    def __init__(self, path: Path, session: SessionInfo) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._header = (json.dumps({_HEADER_KEY: 1, "session": session.to_json()}) + "\n").encode()
        # created under a name recovery ignores, locked, then renamed into place: a
        # recovering process must never see this journal unlocked and take it for orphaned
        staging = path.with_name(path.name + ".new")
        self._fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        if not _try_lock(self._fd):
            os.close(self._fd)
            raise RuntimeError(f"journal {path} is owned by another live recorder")
        _write_all(self._fd, self._header)
        os.replace(staging, path)

    def append(self, line: str) -> None:
        """Append one event line (already JSON)."""
        _write_all(self._fd, line.encode() + b"\n")

    def sync(self) -> None:
        """fsync, so accepted events also survive a power loss."""
        if self._fd >= 0:
            os.fsync(self._fd)

    def reset(self) -> None:
        """Forget every event: all of them are in the database now."""
        if self._fd < 0:  # closed while a last write was finishing; replay is idempotent
            return
        os.ftruncate(self._fd, 0)
        _write_all(self._fd, self._header)

    def close(self, remove: bool) -> None:
        """Release the lock, deleting the file first if nothing in it is still needed."""
        if self._fd < 0:
            return
        if remove:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        os.close(self._fd)
        self._fd = -1


def read_journal(path: Path) -> tuple[SessionInfo | None, list[Pending]]:
    """Parse a journal, skipping a torn last line or any line that is not an event."""
    session: SessionInfo | None = None
    items: list[Pending] = []
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.rstrip("\n")
            if not line:
                continue
            try:
                if line.startswith('{"' + _HEADER_KEY):
                    session = SessionInfo.from_json(json.loads(line)["session"])
                    continue
                items.append(Pending(event_from_json(line), line))
            except Exception as exc:  # a torn write from a killed process
                log.warning("skipping unreadable line %d of journal %s: %s", number, path, exc)
    return session, items


def is_owned(path: str | os.PathLike[str]) -> bool:
    """Whether a live process still holds the journal at `path` (missing means no)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        if fcntl is None:
            session, _ = read_journal(Path(path))
            return session is not None and pid_alive(session.pid)
        return not _try_lock(fd)
    finally:
        os.close(fd)  # closing drops a lock we may just have taken


@contextlib.contextmanager
def claim(path: Path) -> Iterator[bool]:
    """Lock an orphaned journal for replay; yields False if its writer is alive."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield False
        return
    try:
        if fcntl is None:
            yield not is_owned(path)
        else:
            yield _try_lock(fd)
    finally:
        os.close(fd)


def journals(directory: Path | None) -> list[Path]:
    """The journal files in `directory`, oldest first."""
    if directory is None or not directory.is_dir():
        return []
    found = []
    for path in directory.glob("*" + SUFFIX):
        with contextlib.suppress(FileNotFoundError):  # replayed and removed meanwhile
            found.append((path.stat().st_mtime, path))
    return [path for _, path in sorted(found)]
