"""Repair what dead kernels left behind: replay their journals, mark their work interrupted."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import journal
from .interrupted import mark_interrupted
from .kept_events import keep_aside, split_startless
from .rows import apply_events, upsert_session

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovery:
    """What opening the store repaired."""

    replayed_events: int
    replayed_journals: int
    interrupted_operations: list[str]
    # events not replayed because their operation's start is not in the log (it was in a
    # log moved aside as corrupt): how many, of how many operations, and the file keeping them
    kept_events: int = 0
    kept_operations: int = 0
    kept_in: tuple[Path, ...] = ()

    def kept_notice(self) -> str | None:
        """The one line saying which journaled events were kept aside, or None."""
        if not self.kept_events:
            return None
        where = ", ".join(str(p) for p in self.kept_in)
        return (
            f"{self.kept_events} journaled events of {self.kept_operations} operation(s) whose start "
            f"was in a log moved aside were not replayed; they are kept in {where}"
        )


def replay_journals(con: duckdb.DuckDBPyConnection, journal_dirs: Iterable[Path]) -> Recovery:
    """Write the events of every orphaned journal in `journal_dirs` (each in one transaction,
    then delete it) and mark operations whose kernel died as interrupted."""
    events = journals = kept_events = 0
    kept_operations: set[str] = set()
    kept_in: list[Path] = []
    paths = [p for d in journal_dirs for p in journal.journals(d)]
    for path in paths:
        with journal.claim(path) as orphaned:
            if not orphaned:
                continue
            session, items = journal.read_journal(path)
            # an operation row is never made without its start: the tail of an operation
            # whose OperationStarted went to a log since moved aside is kept, not applied
            items, startless = split_startless(con, items)
            if startless:
                kept_in.append(keep_aside(path, session, startless))
                kept_events += len(startless)
                kept_operations.update(i.event.operation_id for i in startless)
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
    return Recovery(
        events, journals, interrupted, kept_events, len(kept_operations), tuple(kept_in)
    )

