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


def replay_journals(con: duckdb.DuckDBPyConnection, journal_dirs: Iterable[Path]) -> Recovery:
    """Write the events of every orphaned journal in `journal_dirs` (each in one transaction,
    then delete it) and mark operations whose kernel died as interrupted."""
    events = journals = 0
    paths = [p for d in journal_dirs for p in journal.journals(d)]
    for path in paths:
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
