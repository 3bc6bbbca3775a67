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
- any other DuckDB connection string with a scheme, e.g. ``"md:team_db"`` for a shared
  MotherDuck database: passed to ``duckdb.connect`` unchanged; the service handles
  concurrency, and the journal defaults to ``~/.cache/mira_jupyter/journal/<name>/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..core.errors import MiraError
from . import journal
from .migrate import migrate
from .rows import apply_events, upsert_session
from .session import pid_alive, this_host

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)
T = TypeVar("T")

TASK_INTERRUPTED = "kernel stopped before the task finished"
OPERATION_INTERRUPTED = "kernel stopped before the operation finished"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


def default_location(project_root: str | Path) -> Path:
    """The log of a project: ``<project_root>/.mira/mira.duckdb``."""
    return Path(project_root).expanduser().absolute() / ".mira" / "mira.duckdb"


class DatabaseLocked(MiraError, TimeoutError):
    """Another process held the database file for longer than we were willing to wait."""


def is_lock_error(exc: BaseException) -> bool:
    """Whether `exc` is DuckDB refusing to open a file another process holds."""
    return "could not set lock" in str(exc).lower()


def retry_locked(open_: Callable[[], T], deadline: float, what: str) -> T:
    """Call `open_` until it stops failing on another process's file lock, or time runs out."""
    import duckdb

    delay = 0.01
    while True:
        try:
            return open_()
        except duckdb.IOException as exc:
            remaining = deadline - time.monotonic()
            if not is_lock_error(exc):
                raise
            if remaining <= 0:
                raise DatabaseLocked(f"{what} stayed locked: {exc}") from exc
            # full jitter: kernels that collided once must not collide again in step
            time.sleep(min(remaining, random.uniform(0, delay)))
            delay = min(delay * 2, 0.5)


@dataclass(frozen=True)
class Location:
    """A parsed database location: a file, an in-process memory database, or a service."""

    raw: str
    kind: Literal["file", "memory", "remote"]
    path: Path | None = None

    @classmethod
    def parse(cls, value: str | Path | Location) -> Location:
        """Classify `value` (see the module docstring)."""
        if isinstance(value, Location):
            return value
        if isinstance(value, Path):
            return cls(str(value), "file", value.expanduser().absolute())
        if value == ":memory:" or value.startswith(":memory:"):
            return cls(value, "memory")
        # one-letter schemes are Windows drives (C:\...), not connection strings
        if _SCHEME.match(value) and not re.match(r"^[A-Za-z]:[\\/]", value):
            return cls(value, "remote")
        path = Path(value).expanduser().absolute()
        return cls(str(path), "file", path)

    @property
    def key(self) -> str:
        """Identity of the database within this process."""
        return str(self.path) if self.path is not None else self.raw

    def default_journal_dir(self) -> Path | None:
        """Where recorders journal events for this location by default."""
        if self.kind == "file":
            assert self.path is not None
            return self.path.with_name(self.path.name + ".journal")
        if self.kind == "remote":
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.raw)[:60]
            digest = hashlib.sha256(self.raw.encode()).hexdigest()[:8]
            return Path.home() / ".cache" / "mira_jupyter" / "journal" / f"{slug}-{digest}"
        return None


@dataclass
class _Shared:
    """Per-process state of one location: threads take turns, and setup runs once."""

    lock: threading.RLock
    ready: bool = False
    memory: Any = None  # the anchor connection keeping a :memory: database alive


_SHARED: dict[str, _Shared] = {}
_SHARED_LOCK = threading.Lock()


def _shared(location: Location) -> _Shared:
    with _SHARED_LOCK:
        state = _SHARED.get(location.key)
        if state is None:
            state = _SHARED[location.key] = _Shared(threading.RLock())
        return state


@dataclass(frozen=True)
class Recovery:
    """What opening the store repaired."""

    replayed_events: int
    replayed_journals: int
    interrupted_operations: list[str]


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
        import duckdb

        loc = self.location
        if loc.kind == "memory":
            if self._shared.memory is None:
                self._shared.memory = duckdb.connect(":memory:")
            return self._shared.memory.cursor()
        if loc.kind == "remote":
            return duckdb.connect(loc.raw)
        assert loc.path is not None
        if not read_only:
            loc.path.parent.mkdir(parents=True, exist_ok=True)
        return retry_locked(
            lambda: duckdb.connect(str(loc.path), read_only=read_only), deadline, str(loc.path)
        )

    @contextlib.contextmanager
    def connect(
        self, *, read_only: bool = False, timeout: float | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open (waiting out other processes' locks), yield, and close again."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self._shared.lock:
            self._ensure_ready(deadline)
            read_only = read_only and self.location.kind == "file"
            con = self._open(read_only, deadline)
            try:
                yield con
            finally:
                con.close()

    def snapshot(self, timeout: float | None = None) -> duckdb.DuckDBPyConnection:
        """An in-memory copy of the whole database (tables, views, macros) that holds no lock."""
        import duckdb

        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        if self.location.kind == "remote":
            return duckdb.connect(self.location.raw)
        with self._shared.lock:
            self._ensure_ready(deadline)
            if self.location.kind == "memory":
                return self._shared.memory.cursor()
            copy = duckdb.connect(":memory:")
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
                con.rollback()
                raise
            con.commit()

    def _ensure_ready(self, deadline: float) -> None:
        """Migrate and recover, once per process and location."""
        if self._shared.ready:
            return
        con = self._open(False, deadline)
        try:
            migrate(con)
            self.last_recovery = self._recover(con)
        finally:
            con.close()
        self._shared.ready = True

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

    def _recover(self, con: duckdb.DuckDBPyConnection) -> Recovery:
        events = journals = 0
        for path in journal.journals(self.journal_dir):
            with journal.claim(path) as orphaned:
                if not orphaned:
                    continue
                session, items = journal.read_journal(path)
                con.begin()
                try:
                    if session is not None:
                        upsert_session(con, session, session.id)
                    events += apply_events(con, items, session)
                    if session is not None:
                        # its writer is gone for sure; say so rather than trust a pid that
                        # may have been reused
                        last = max((i.event.ts for i in items), default=datetime.now(UTC))
                        con.execute(
                            "UPDATE sessions SET ended_at = coalesce(ended_at, ?) WHERE id = ?",
                            [last, session.id],
                        )
                    con.commit()
                except BaseException:
                    con.rollback()
                    raise
                # the journal of a writer that closed cleanly may exist only briefly
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                journals += 1
        interrupted = mark_interrupted(con)
        if events or interrupted:
            log.info(
                "recovered %d journaled events, %d interrupted operations", events, len(interrupted)
            )
        return Recovery(events, journals, interrupted)


def _from_epoch_us(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def _session_dead(pid: int | None, host: str | None, ended: bool, journal_path: str | None) -> bool:
    if ended:
        return True
    if host != this_host():
        return False  # another machine's kernel: nothing here can tell whether it lives
    if journal_path:
        return not journal.is_owned(journal_path)
    return not pid_alive(pid)


def mark_interrupted(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Close out `running` operations whose kernel is gone; return their ids."""
    from mira_jupyter.core.events import Cost, OperationFinished, Usage

    # timestamps travel as epoch microseconds: fetching TIMESTAMPTZ values into Python
    # objects needs pytz, which is not a dependency
    rows = con.execute(
        """
        SELECT o.id, epoch_us(o.started_at), s.pid, s.hostname, s.ended_at IS NOT NULL,
               s.journal_path, s.id
        FROM operations o LEFT JOIN sessions s ON s.id = o.session_id
        WHERE o.status = 'running'
        """
    ).fetchall()
    done: list[str] = []
    for op_id, started_us, pid, host, ended, journal_path, session_id in rows:
        if session_id is None or not _session_dead(pid, host, ended, journal_path):
            continue
        con.begin()
        try:
            last_us, last_seq = con.execute(
                "SELECT epoch_us(max(ts)), max(seq_end) FROM operation_events "
                "WHERE operation_id = ?",
                [op_id],
            ).fetchone()
            micros = last_us or started_us
            finished = _from_epoch_us(micros) if micros is not None else datetime.now(UTC)
            tokens = con.execute(
                """
                SELECT coalesce(sum(input_tokens), 0), coalesce(sum(cached_input_tokens), 0),
                       coalesce(sum(output_tokens), 0), coalesce(sum(reasoning_tokens), 0),
                       coalesce(sum(cost_input_usd), 0), coalesce(sum(cost_cached_input_usd), 0),
                       coalesce(sum(cost_output_usd), 0),
                       coalesce(sum(orchestrator_equivalent_usd - cost_total_usd), 0)
                FROM llm_calls WHERE operation_id = ?
                """,
                [op_id],
            ).fetchone()
            usage = Usage(
                input_tokens=tokens[0],
                cached_input_tokens=tokens[1],
                output_tokens=tokens[2],
                reasoning_tokens=tokens[3],
            )
            cost = Cost(input_usd=tokens[4], cached_input_usd=tokens[5], output_usd=tokens[6])
            event = OperationFinished(
                operation_id=op_id,
                seq=(last_seq or 0) + 1,
                ts=finished,
                status="interrupted",
                error=OPERATION_INTERRUPTED,
                usage=usage,
                cost=cost,
                routing_savings_usd=tokens[7],
            )
            # recorded like any event so that `%mira show` rebuilds the final state too
            apply_events(con, [journal.Pending(event, event.model_dump_json())])
            con.execute(
                """
                UPDATE operation_tasks SET status = 'failed', error_message = ?, completed_at = ?
                WHERE operation_id = ? AND status IN ('pending', 'in_progress')
                """,
                [TASK_INTERRUPTED, finished, op_id],
            )
            for table in ("llm_calls", "tool_calls"):
                con.execute(
                    f"UPDATE {table} SET status = 'interrupted' "
                    "WHERE operation_id = ? AND status = 'running'",
                    [op_id],
                )
            con.execute(
                "UPDATE sessions SET ended_at = coalesce(ended_at, ?) WHERE id = ?",
                [finished, session_id],
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise
        done.append(op_id)
    return done
