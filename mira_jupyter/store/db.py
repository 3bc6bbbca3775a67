"""Open the DuckDB log briefly, with retries, and repair what dead kernels left behind.

Where the log lives (``location``):

- a file path (``str`` or ``Path``, ``~`` expanded), e.g. ``<project>/.mira/mira.duckdb``.
  DuckDB lets one process at a time open a file read-write, and while it does, no other
  process can open it at all. Several kernels and an analytics notebook share the file, so
  nothing here keeps a connection: each use opens, runs one short transaction and closes,
  and an open that hits the lock (``duckdb.IOException`` "Could not set lock on file")
  is retried with exponential backoff and jitter. Events that cannot be written yet wait
  in the recorder's journal, ``<file>.journal/``.
- ``":memory:"`` or ``":memory:NAME"``: an in-process database kept alive for the life of
  the process (tests, throwaway sessions); no journal unless one is given.
- a MotherDuck connection string (``md:`` or ``motherduck:``), e.g. ``"md:team_db"`` for a shared
  database: passed to ``duckdb.connect`` unchanged; the service handles
  concurrency, and the journal defaults to ``~/.cache/mira_jupyter/journal/<name>/``.
- a DuckLake (``ducklake:postgres:...``), the shared team log of :mod:`.lake`: many
  processes on many machines write it at once. One connection per process is kept (it holds
  no lock anyone waits for) and each use takes a cursor of it; the journal is local as for
  MotherDuck.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import faults, lake
from .faults import DatabaseLocked, StoreUnavailable, is_lock_error, retry_locked
from .interrupted import OPERATION_INTERRUPTED, TASK_INTERRUPTED, mark_interrupted
from .location import Location, default_location, first_file
from .migrate import migrate
from .recovery import Recovery, replay_journals

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

__all__ = [
    "OPERATION_INTERRUPTED",
    "TASK_INTERRUPTED",
    "Database",
    "DatabaseLocked",
    "Location",
    "Recovery",
    "StoreUnavailable",
    "default_location",
    "is_lock_error",
    "mark_interrupted",
    "retry_locked",
]


@dataclass
class _Shared:
    """Per-process state of one location: threads take turns, and setup runs once."""

    lock: threading.RLock
    ready: bool = False
    memory: Any = None  # the anchor connection keeping a :memory: database (or a lake) open
    notices: list[str] = field(default_factory=list)  # one-line reports for the user
    # the notices' own lock: a cell's end takes them without waiting for a write in progress,
    # which holds `lock` for its whole connection (the first one migrating the log)
    notices_lock: threading.Lock = field(default_factory=threading.Lock)


_SHARED: dict[str, _Shared] = {}
_SHARED_LOCK = threading.Lock()


def _shared(location: Location) -> _Shared:
    with _SHARED_LOCK:
        state = _SHARED.get(location.key)
        if state is None:
            state = _SHARED[location.key] = _Shared(threading.RLock())
        return state


def _refuse_special_files(path: Path) -> None:
    """A FIFO, device or socket where the log or its WAL should be: opening it would block
    (a FIFO waits for a writer) or read a device, so it is refused before DuckDB opens it."""
    for candidate in (path, path.with_name(path.name + ".wal")):
        try:
            mode = os.stat(candidate).st_mode
        except OSError:  # absent (created on open) or unreadable (DuckDB says why)
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
            raise StoreUnavailable(
                f"the log database {path} cannot be opened: {candidate.name} is {kind}, not a file"
            )


class Database:
    """A log database that is opened per use, never held open."""

    def __init__(
        self,
        location: str | Path | Location,
        *,
        journal_dir: Path | None | Literal["default"] = "default",
        timeout: float = 30.0,
    ) -> None:
        self.location = Location.parse(location)
        self.journal_dir = (
            self.location.default_journal_dir() if journal_dir == "default" else journal_dir
        )
        self.timeout = timeout
        self.last_recovery: Recovery | None = None
        self._shared = _shared(self.location)

    def _open(self, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        return _quiet(self._connect(read_only, deadline))

    def _connect(self, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        import duckdb

        loc = self.location
        if loc.kind == "memory":
            if self._shared.memory is None:
                self._shared.memory = duckdb.connect(":memory:")
            return self._shared.memory.cursor()
        if loc.kind == "remote":
            return duckdb.connect(loc.raw)
        if loc.kind == "lake":
            return self._lake_cursor()
        assert loc.path is not None
        path = loc.path
        try:
            if not read_only:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except (FileExistsError, NotADirectoryError):
                    # e.g. a regular file called .mira: one line, not a traceback
                    raise StoreUnavailable(
                        f"the log database {path} cannot be created: "
                        f"{first_file(path.parent)} is a file, not a directory"
                    ) from None
            _refuse_special_files(path)
            return retry_locked(
                lambda: duckdb.connect(str(path), read_only=read_only), deadline, str(path)
            )
        except (DatabaseLocked, StoreUnavailable):
            raise
        except Exception as exc:
            if faults.is_unwritable(exc):
                raise StoreUnavailable(faults.unwritable_message(path, exc)) from None
            if read_only and faults.is_corrupt(exc):
                raise StoreUnavailable(f"the log database {path} is corrupt") from None
            raise

    def _lake_cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of this process's lake connection (attached once, again after a fault)."""
        if self._shared.memory is None:
            self._shared.memory = lake.open_lake(self.location.raw)
        try:
            cursor = self._shared.memory.cursor()
            cursor.execute(f"USE {lake.ALIAS}")
        except Exception as exc:
            self.forget_connection()
            raise lake.classify(exc, self.location.raw) from None
        return cursor

    def forget_connection(self) -> None:
        """Drop this process's lake connection (after a fault) so the next use attaches anew."""
        anchor, self._shared.memory = self._shared.memory, None
        if anchor is not None and self.location.kind == "lake":
            with contextlib.suppress(Exception):
                anchor.close()

    def _lake_fault(self, exc: BaseException) -> BaseException | None:
        """The store fault `exc` is on a lake (conflict, catalog away), else None."""
        if self.location.kind != "lake":
            return None
        fault = lake.classify(exc, self.location.raw)
        if fault is exc:
            return None
        if isinstance(fault, lake.LakeUnreachable):
            self.forget_connection()
        return fault

    @contextlib.contextmanager
    def connect(
        self, *, read_only: bool = False, timeout: float | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open (waiting out other processes' locks), yield, and close again."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self._shared.lock:
            read_only = read_only and self.location.kind == "file"
            try:
                self._ensure_ready(deadline)
            except StoreUnavailable:
                # a log that cannot be written (read-only .mira) can often still be read
                if not (read_only and self.location.path and self.location.path.is_file()):
                    raise
            con = self._open(read_only, deadline)
            try:
                yield con
            except Exception as exc:
                fault = self._lake_fault(exc)
                if fault is None:
                    raise
                raise fault from exc
            finally:
                con.close()

    def take_notices(self) -> list[str]:
        """One-line reports about the database (e.g. a corrupt file moved aside), once each."""
        with self._shared.notices_lock:
            notices, self._shared.notices[:] = list(self._shared.notices), []
        return notices

    def snapshot(self, timeout: float | None = None) -> duckdb.DuckDBPyConnection:
        """An in-memory copy of the whole database (tables, views, macros) that holds no lock."""
        import duckdb

        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        if self.location.kind == "remote":
            return _quiet(duckdb.connect(self.location.raw))
        if self.location.kind == "lake":
            # the lake holds no lock anyone waits for: a live read-only connection of its own
            with self._shared.lock:
                self._ensure_ready(deadline)
            return _quiet(lake.open_lake(self.location.raw, read_only=True))
        with self._shared.lock:
            self._ensure_ready(deadline)
            if self.location.kind == "memory":
                return self._shared.memory.cursor()
            copy = _quiet(duckdb.connect(":memory:"))
            quoted = str(self.location.path).replace("'", "''")
            # the file lock is held only while the copy is made, then released by DETACH
            retry_locked(
                lambda: copy.execute(f"ATTACH '{quoted}' AS mira_source (READ_ONLY)"),
                deadline,
                quoted,
            )
            try:
                copy.execute("COPY FROM DATABASE mira_source TO memory")
            finally:
                copy.execute("DETACH mira_source")
            return copy

    @contextlib.contextmanager
    def transaction(self, timeout: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open read-write and run the body as one transaction (rolled back on error)."""
        with self.connect(timeout=timeout) as con:
            con.begin()
            try:
                yield con
            except BaseException:
                with contextlib.suppress(Exception):  # a lost catalog cannot roll back either
                    con.rollback()
                raise
            try:
                con.commit()
            except Exception as exc:  # on a lake, a commit the catalog never saw is an outage
                fault = lake.classify(exc, self.location.raw) if self.location.kind == "lake" else exc
                if fault is exc:
                    raise
                raise fault from exc

    def _ensure_ready(self, deadline: float) -> None:
        """Migrate and recover, once per process and location; replace a corrupt file."""
        if self._shared.ready:
            return
        try:
            self._prepare(deadline)
        except (DatabaseLocked, StoreUnavailable):
            raise
        except Exception as exc:
            if self.location.kind != "file" or not faults.is_corrupt(exc):
                raise
            self._replace_corrupt(deadline)
        self._shared.ready = True

    def _prepare(self, deadline: float) -> None:
        if self.location.kind == "lake":
            self._prepare_lake(deadline)
            return
        con = self._open(False, deadline)
        try:
            migrate(con)
            self.last_recovery = self._recover(con)
        finally:
            con.close()

    def _prepare_lake(self, deadline: float) -> None:
        """Migrate the lake and recover. Kernels starting together race to apply the same
        migration: the loser's commit conflicts or its DDL finds the winner's ("already
        exists"), so any failure but a lost catalog is tried again, a few times, with jitter.
        This happens once per process, so it may take longer than one query's wait."""
        deadline = max(deadline, time.monotonic() + 60.0)

        def attempt() -> None:
            try:
                con = self._open(False, deadline)
                try:
                    migrate(con, translate=lake.lake_sql, lock=lake.migration_lock)
                    self.last_recovery = self._recover(con)
                finally:
                    con.close()
            except Exception as exc:
                fault = self._lake_fault(exc)
                if fault is None:
                    raise
                raise fault from exc

        def retryable(exc: Exception, attempts: int) -> bool:
            # conflicts are retried until the deadline, other failures a few times
            if isinstance(exc, lake.LakeUnreachable):
                return False
            return isinstance(exc, lake.LakeConflict) or attempts < 6

        def again(exc: Exception) -> None:
            log.debug("preparing the team log again after: %s", lake.redact(str(exc)))
            # attach afresh: the old attachment may still see the catalog as it was
            self.forget_connection()

        faults.retry(attempt, retryable, first=0.05, most=1.0, deadline=deadline, on_retry=again)

    def file_identity(self) -> tuple[int, int] | None:
        """(device, inode) of the database file now, or None (not a file, or not there)."""
        if self.location.kind != "file" or self.location.path is None:
            return None
        try:
            st = os.stat(self.location.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def replace_corrupt_found_later(self, exc: BaseException, seen: tuple[int, int] | None) -> bool:
        """A file that opened but failed a later read or write as corrupt (a truncated log):
        move it aside and start a fresh log, as at open, and say so once. `seen` is the
        file's identity before the failed use: if another process already replaced it, the
        fresh file is kept. True when the caller should try again."""
        if self.location.kind != "file" or self.location.path is None or not faults.is_corrupt(exc):
            return False
        path = self.location.path
        deadline = time.monotonic() + self.timeout
        with self._shared.lock:
            try:
                with faults.repair_lock(path):
                    if seen is not None and self.file_identity() not in (seen, None):
                        return True  # replaced meanwhile by another kernel
                    aside = faults.move_aside(path)
                    self._prepare(deadline)
            except OSError as exc2:
                raise StoreUnavailable(
                    f"the log database {path} is corrupt and could not be moved aside ({exc2})"
                ) from None
            self._say_replaced(path, aside)
        return True

    def _replace_corrupt(self, deadline: float) -> None:
        """Move a file DuckDB cannot read aside (timestamped), start a fresh log, say so."""
        path = self.location.path
        assert path is not None
        try:
            with faults.repair_lock(path):
                try:  # another process may have replaced it while we waited for the lock
                    self._prepare(deadline)
                    return
                except Exception as exc:
                    if not faults.is_corrupt(exc):
                        raise
                aside = faults.move_aside(path)
                self._prepare(deadline)
        except OSError as exc:
            raise StoreUnavailable(
                f"the log database {path} is corrupt and could not be moved aside ({exc})"
            ) from None
        self._say_replaced(path, aside)

    def _say_replaced(self, path: Path, aside: Path) -> None:
        """Tell the user once that a corrupt log was moved aside for a fresh one."""
        self._say(f"the log database {path} was corrupt; moved it to {aside.name} and started a fresh log")

    def _say(self, message: str) -> None:
        log.info(message)
        with self._shared.notices_lock:
            self._shared.notices.append(message)

    def recover(self, timeout: float | None = None) -> Recovery:
        """Replay orphaned journals and mark dead kernels' operations interrupted."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self._shared.lock:
            self._ensure_ready(deadline)
            con = self._open(False, deadline)
            try:
                return self._recover(con)
            finally:
                con.close()

    def journal_dirs(self) -> list[Path]:
        """Every directory recovery looks in: the default one, then the fallbacks."""
        dirs = [self.journal_dir] if self.journal_dir is not None else []
        if self.journal_dir == self.location.default_journal_dir():
            dirs += [d for d in self.location.fallback_journal_dirs() if d not in dirs]
        return dirs

    def _recover(self, con: duckdb.DuckDBPyConnection) -> Recovery:
        recovery = replay_journals(con, self.journal_dirs())
        if (notice := recovery.kept_notice()) is not None:
            self._say(notice)  # once: each journal is replayed (and deleted) once
        return recovery


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """No progress bar: in a kernel DuckDB draws one as a widget in the cell when a query of
    the log is slow, so a busy machine would add outputs to %mira history and the notebooks."""
    con.execute("SET enable_progress_bar = false")
    return con
