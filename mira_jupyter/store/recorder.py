"""The recorder: an event sink that journals synchronously and writes DuckDB in batches."""

from __future__ import annotations

import atexit
import contextlib
import logging
import random
import threading
import time
import uuid
import weakref
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from mira_jupyter.core.events import Event, OperationFinished
from mira_jupyter.core.unicode import valid_unicode

from . import faults, lake
from .db import Database, DatabaseLocked
from .faults import StoreUnavailable
from .journal import SUFFIX, Journal, Pending
from .location import Location
from .rows import apply_events, upsert_session
from .session import SessionInfo

log = logging.getLogger(__name__)


# the recorders of this process: a reader here first lets them write what they hold
_live: weakref.WeakSet[Recorder] = weakref.WeakSet()


def wait_for_writes(location: Location, timeout: float) -> None:
    """Let this process's recorders of `location` write their pending events (bounded).

    Cells do not wait for the log; whatever reads it in the same process does, so a query
    right after a cell sees that cell's operation. A locked database is not waited for (the
    reader then answers with what is there, or its own one-line lock error).
    """
    for recorder in list(_live):
        if recorder.db.location.key == location.key and threading.current_thread() is not recorder._thread:
            recorder.flush(timeout, until_blocked=True)


class _ApplyError(Exception):
    """Writing rows failed (as opposed to reaching the database)."""


class Recorder:
    """Record engine events into the DuckDB log without ever losing one.

    ``recorder(event)`` runs on the engine's thread: it appends the event to this
    session's journal (unbuffered, so it survives the process being killed) and to an
    in-memory buffer, and returns. A background thread writes the buffer in batches, each
    in one short transaction, every `flush_interval` seconds, when `batch_size` events are
    waiting, and at once on ``OperationFinished``. While the database is locked by another
    process the events stay buffered and journaled; if this process dies they are replayed
    by the next process that opens the store.
    """

    def __init__(
        self,
        db_location: str | Path | Location | Database,
        session_info: SessionInfo,
        *,
        journal_dir: Path | None | Literal["default"] = "default",
        flush_interval: float = 0.2,
        batch_size: int = 500,
        lock_timeout: float = 1.0,
        recover_interval: float = 60.0,
    ) -> None:
        self.db = (
            db_location
            if isinstance(db_location, Database)
            else Database(db_location, journal_dir=journal_dir)
        )
        self._notices: list[str] = []
        self._journal = self._open_journal(session_info)
        self.session = replace(
            session_info, journal_path=str(self._journal.path) if self._journal else None
        )
        self._interval = flush_interval
        self._batch_size = batch_size
        self._lock_timeout = lock_timeout
        self._recover_interval = recover_interval
        self._last_recover = time.monotonic()
        self._buffer: list[Pending] = []
        self._accepted = 0
        self._written = 0
        self._seqs: dict[str, int] = {}
        self._cond = threading.Condition()
        self._urgent = False
        self._stopping = False
        self._closed = False
        self._session_written = False
        self.last_error: BaseException | None = None
        # a database that cannot be written (not merely locked): flushes stop waiting for
        # it and the user is told once; cleared when a write succeeds again
        self.fault: str | None = None
        self._attempts = 0  # write attempts finished (ok or not)
        self._last_ok = True
        self._thread = threading.Thread(target=self._run, name="mira-recorder", daemon=True)
        self._thread.start()
        _live.add(self)
        # a kernel shutting down normally still gets its last events written
        self._atexit = _close_at_exit(weakref.ref(self))
        atexit.register(self._atexit)

    # -- where events wait ------------------------------------------------------------------

    def _open_journal(self, session_info: SessionInfo) -> Journal | None:
        """The journal in the default directory, else a fallback one, else none (memory)."""
        default = self.db.journal_dir
        if default is None:
            return None
        name = f"{session_info.id}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        candidates = [default]
        if default == self.db.location.default_journal_dir():
            candidates += self.db.location.fallback_journal_dirs()
        for directory in candidates:
            session = replace(session_info, journal_path=str(directory / name))
            try:
                opened = Journal(directory / name, session)
            except OSError as exc:
                log.debug("journal directory %s unusable: %s", directory, exc)
                continue
            if directory != default:
                self._notices.append(
                    f"{default} cannot be written; this session journals its events in "
                    f"{directory} until they reach the log"
                )
            return opened
        self._notices.append(
            f"no journal directory can be written ({default} and its fallbacks); this "
            "session keeps its events in memory until they reach the log"
        )
        return None

    def _move_journal(self, exc: OSError, pending: list[Pending]) -> None:
        """The journal cannot grow: go on in a fallback directory, with every event not yet in
        the log, or in memory; said once, not once per event (called holding the lock)."""
        old = self._journal
        assert old is not None
        self._journal = None
        reason = exc.strerror or type(exc).__name__
        directories = [d for d in self.db.location.fallback_journal_dirs() if d != old.path.parent]
        for directory in directories:
            session = replace(self.session, journal_path=str(directory / old.path.name))
            try:
                moved = Journal(directory / old.path.name, session)
                for item in pending:
                    moved.append(item.line)
            except (OSError, RuntimeError) as failed:
                log.debug("fallback journal directory %s unusable: %s", directory, failed)
                continue
            self._journal = moved
            self._notices.append(
                f"the journal in {old.path.parent} cannot grow ({reason}); this session now "
                f"journals its events in {directory} until they reach the log"
            )
            break
        else:
            self._notices.append(
                f"the journal in {old.path.parent} cannot grow ({reason}) and no fallback "
                "directory can be written; this session keeps its events in memory until they "
                "reach the log"
            )
        # the old file keeps what it holds: recovery replays both, and replay is idempotent
        with contextlib.suppress(OSError):
            old.close(remove=False)

    def drop_fault_notice(self) -> None:
        """Forget the untaken notice of the current fault (a fuller line said it instead)."""
        with self._cond:
            fault = f"{self.fault};"
            self._notices = [n for n in self._notices if not n.startswith(fault)]

    def take_notices(self) -> list[str]:
        """One-line reports for the user (journal fallbacks, store faults), each once."""
        with self._cond:
            notices, self._notices = self._notices, []
        return notices + self.db.take_notices()

    # -- the sink -------------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        """Accept an event: journal it, buffer it, wake the writer if it is urgent."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the recorder is closed; the event was not recorded")
            last = self._seqs.get(event.operation_id, 0)
            if event.seq <= 0:  # not numbered by a bus (hand-built events)
                event.seq = last + 1
            self._seqs[event.operation_id] = max(last, event.seq)
            event, line = _serialised(event)
            if self._journal is not None:
                try:
                    self._journal.append(line)
                except OSError as exc:  # disk full, quota, journal removed
                    self._move_journal(exc, pending=[*self._buffer, Pending(event, line)])
            self._buffer.append(Pending(event, line))
            self._accepted += 1
            if isinstance(event, OperationFinished) or len(self._buffer) >= self._batch_size:
                self._urgent = True
                self._cond.notify_all()

    @property
    def pending(self) -> int:
        """Events accepted but not yet in the database."""
        with self._cond:
            return len(self._buffer)

    def unwritten(self) -> tuple[str | None, Path | None, list[str]]:
        """(fault, this journal's path, operation id of each event not yet written), at once."""
        with self._cond:
            own = self._journal.path if self._journal is not None else None
            return self.fault, own, [p.event.operation_id for p in self._buffer]

    def flush(
        self, timeout: float = 10.0, *, until_blocked: bool = False, outage: bool = False
    ) -> bool:
        """Write every event accepted so far; False if the database stayed unreachable.

        A database that cannot be written at all (see `fault`) is tried once, not waited
        for: the events are safe in the journal, and the cell should not hang on it. With
        `until_blocked`, a locked database is not waited for either (one failed attempt).
        With `outage`, a team log's catalog that cannot be reached is waited for until the
        timeout (it is usually being restarted), retried at the writer's own pace.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._accepted
            attempts = self._attempts
            while self._written < target:
                if not self._thread.is_alive():
                    return False
                failed_since = self._attempts > attempts and not self._last_ok
                if failed_since and (until_blocked or self.fault is not None):
                    if not (outage and isinstance(self.last_error, lake.LakeUnreachable)):
                        return False
                else:  # a store known to be down is not hammered: its backoff paces retries
                    self._urgent = True
                    self._cond.notify_all()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def close(self, timeout: float = 10.0) -> bool:
        """Final flush, end the session, stop the writer; False if events were left journaled."""
        with self._cond:
            if self._closed:
                return not self._buffer
        flushed = self.flush(timeout, outage=True)
        with self._cond:
            self._closed = True
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=max(1.0, timeout))
        _live.discard(self)
        atexit.unregister(self._atexit)
        if flushed:
            try:
                with self.db.transaction(timeout=min(timeout, 5.0)) as con:
                    upsert_session(con, self.session, self.session.id)
                    con.execute(
                        "UPDATE sessions SET ended_at = ? WHERE id = ?",
                        [datetime.now(UTC), self.session.id],
                    )
            except Exception as exc:  # the session row is bookkeeping; the events are safe
                log.warning("could not mark session %s ended: %s", self.session.id, exc)
        if self._journal is not None:
            # a journal still holding events stays on disk for the next process to replay
            self._journal.close(remove=flushed)
        return flushed

    # -- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.0
        while True:
            with self._cond:
                if not self._urgent and not self._stopping:
                    self._cond.wait(backoff or self._interval)
                if self._stopping:  # close() has flushed what it could
                    return
                self._urgent = False
                batch = self._buffer[: self._batch_size]
            if not batch:
                continue
            ok = self._write(batch)
            with self._cond:
                self._attempts += 1
                self._last_ok = ok
                if ok:
                    del self._buffer[: len(batch)]
                    self._written += len(batch)
                    if not self._buffer and self._journal is not None:
                        # close() may have just closed it; the events are written anyway
                        with contextlib.suppress(OSError):
                            self._journal.reset()
                    self._urgent = bool(self._buffer)
                    backoff = 0.0
                else:
                    # an unwritable database is retried slowly; a lock soon
                    ceiling = 10.0 if self.fault is not None else 2.0
                    backoff = min(max(backoff * 2, 0.05), ceiling)
                    # jitter: writers that conflicted on one commit must not retry in step
                    backoff = random.uniform(backoff / 2, backoff)
                self._cond.notify_all()
            if ok and time.monotonic() - self._last_recover > self._recover_interval:
                self._recover_others()

    def _recover_others(self) -> None:
        """Replay journals of processes that died while this one kept running."""
        self._last_recover = time.monotonic()
        try:
            self.db.recover(timeout=self._lock_timeout)
        except Exception as exc:
            log.debug("periodic recovery skipped: %s", exc)

    def _transaction(self, batch: list[Pending]) -> None:
        with self.db.transaction(timeout=self._lock_timeout) as con:
            try:
                if not self._session_written:
                    upsert_session(con, self.session, self.session.id, claim=True)
                apply_events(con, batch, self.session)
            except Exception as exc:
                if lake.classify(exc, self.db.location.raw) is not exc:
                    raise  # a lake's conflict or lost catalog: the batch is retried later
                raise _ApplyError(exc) from exc
        self._session_written = True

    def _write(self, batch: list[Pending], replaced: bool = False) -> bool:
        """Write one batch; False means keep it and try again later."""
        seen = self.db.file_identity()
        try:
            if self._journal is not None:
                with contextlib.suppress(OSError):  # fsync is extra safety, not a condition
                    self._journal.sync()
            self._transaction(batch)
        except DatabaseLocked:
            return False
        except Exception as exc:
            cause = exc.__cause__ or exc if isinstance(exc, _ApplyError) else exc
            if not replaced and self._replaced_corrupt(cause, seen):
                return self._write(batch, replaced=True)
            return self._write_failed(batch, exc)
        self._clear_fault()
        return True

    def _replaced_corrupt(self, cause: BaseException, seen: tuple[int, int] | None) -> bool:
        """A log that opened but is corrupt (truncated): moved aside, a fresh one started."""
        try:
            if not self.db.replace_corrupt_found_later(cause, seen):
                return False
        except Exception as exc:  # could not move it: the usual fault path says why, once
            log.debug("replacing the corrupt log failed: %s", exc)
            return False
        self._session_written = False  # the fresh log has no row for this session yet
        return True

    def _write_failed(self, batch: list[Pending], exc: Exception) -> bool:
        """What a failed batch write means: keep the batch (False) or it was dealt with."""
        if isinstance(exc, _ApplyError):
            cause = exc.__cause__ or exc
            if faults.is_unwritable(cause):  # e.g. the commit could not create the WAL
                self._set_fault(StoreUnavailable(faults.unwritable_message(self._path(), cause)))
                return False
            self.last_error = cause
            log.warning("writing %d events failed (%s); retrying one by one", len(batch), exc)
            return self._write_singly(batch)
        # the database itself is unusable (disk, schema): keep events
        if faults.is_unwritable(exc) and not isinstance(exc, StoreUnavailable):
            exc = StoreUnavailable(faults.unwritable_message(self._path(), exc))
        self._set_fault(exc)
        return False

    def _path(self) -> str:
        return lake.redact(str(self.db.location.path or self.db.location.raw))

    def _set_fault(self, exc: BaseException) -> None:
        """Remember why the database cannot be written; tell the user once per reason."""
        self.last_error = exc
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        with self._cond:
            if message == self.fault:
                return
            self.fault = message
            where = (
                f"kept in {self._journal.path.parent}" if self._journal is not None
                else "kept in memory"
            )
            self._notices.append(f"{message}; events are {where} and written once it can be")
        log.info("mira log database %s unavailable: %s", self._path(), message)

    def _clear_fault(self) -> None:
        with self._cond:
            if self.fault is None:
                return
            self.fault = None
            self._notices.append(f"the log database {self._path()} is writable again")

    def _write_singly(self, batch: list[Pending]) -> bool:
        """Isolate events whose rows cannot be written so they do not block the rest."""
        rejected: list[Pending] = []
        for item in batch:
            try:
                self._transaction([item])
            except _ApplyError as exc:
                if faults.is_unwritable(exc.__cause__ or exc):
                    return False
                rejected.append(item)
            except Exception:
                return False  # lost the database meanwhile; replay is idempotent
        if len(rejected) == len(batch) and len(batch) > 1:
            return False
        if rejected:
            self._quarantine(rejected)
        return True

    def _quarantine(self, items: list[Pending]) -> None:
        target = (
            Path(self._journal.path).with_suffix(".rejected") if self._journal is not None else None
        )
        log.error(
            "%d events could not be stored%s", len(items), f"; kept in {target}" if target else ""
        )
        if target is not None:
            with target.open("a", encoding="utf-8") as handle:
                handle.writelines(item.line + "\n" for item in items)


def _serialised(event: Event) -> tuple[Event, str]:
    """The event and its JSON line; an event holding text JSON cannot carry (a lone
    surrogate from a model's tool arguments, say) is recorded with that text escaped."""
    try:
        return event, event.model_dump_json()
    except (ValueError, UnicodeError):  # PydanticSerializationError is a ValueError
        clean = type(event).model_validate(valid_unicode(event.model_dump()))
        return clean, clean.model_dump_json()


def _close_at_exit(ref: weakref.ref[Recorder]):  # type: ignore[no-untyped-def]
    def close() -> None:
        recorder = ref()
        if recorder is not None:
            recorder.close(timeout=2.0)

    return close
