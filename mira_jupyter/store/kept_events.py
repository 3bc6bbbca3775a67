"""Journaled events that cannot be replayed: the tail of an operation whose start is gone.

When a corrupt log is moved aside, a dead kernel's journal may still hold the last events of
an operation whose ``OperationStarted`` was written to the old file. Applying them to the
fresh log would make an ``operations`` row with no session, request, mode or start time.
They are kept in a file beside the journal instead (a journal of its own, under a name
recovery does not replay), so nothing is lost and nothing half-made is shown.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mira_jupyter.core.events import OperationStarted

from .journal import Pending
from .session import SessionInfo

if TYPE_CHECKING:
    import duckdb

# not ``journal.SUFFIX`` at the end, so recovery never picks the file up again
KEPT_SUFFIX = ".unreplayed"


def split_startless(
    con: duckdb.DuckDBPyConnection, items: Sequence[Pending]
) -> tuple[list[Pending], list[Pending]]:
    """(events to replay, events of operations started neither in `items` nor in the log)."""
    started = {i.event.operation_id for i in items if isinstance(i.event, OperationStarted)}
    others = sorted({i.event.operation_id for i in items} - started)
    if others:
        rows = con.execute(
            "SELECT id FROM operations WHERE list_contains(?::VARCHAR[], id) AND started_at IS NOT NULL",
            [others],
        ).fetchall()
        started.update(row[0] for row in rows)
    keep = [i for i in items if i.event.operation_id in started]
    aside = [i for i in items if i.event.operation_id not in started]
    return keep, aside


def keep_aside(journal_path: Path, session: SessionInfo | None, items: Sequence[Pending]) -> Path:
    """Write `items` (with the journal's header) to a new file beside `journal_path`."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = journal_path.with_name(f"{journal_path.name}.{stamp}{KEPT_SUFFIX}")
    lines = []
    if session is not None:
        lines.append(json.dumps({"mira_journal": 1, "session": session.to_json()}))
    lines += [item.line for item in items]
    data = ("\n".join(lines) + "\n").encode()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    return target
