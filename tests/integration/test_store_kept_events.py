"""A journal replayed onto a fresh log never makes an operation row without its start.

A kernel killed after its first operation's ``OperationStarted`` reached the log leaves a
journal holding only that operation's tail; if the log is then found corrupt and moved
aside, the fresh log must not get a row with no session, request, mode or start time
(``%mira history`` showed ``NaT completed NaN``). The tail is kept in a named file beside
the journal, said once, and operations whose start is in the journal or the log replay.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from mira_jupyter.core.events import OperationFinished, OperationStarted
from mira_jupyter.store.db import Database
from mira_jupyter.store.journal import Journal, read_journal
from mira_jupyter.store.session import SessionInfo


def _started(op: str, session: SessionInfo, seq: int = 0) -> OperationStarted:
    return OperationStarted(
        operation_id=op,
        seq=seq,
        session_id=session.id,
        request=f"request of {op}",
        mode="simple",
        orchestrator_model="scripted:gpt-5",
        executor_model="scripted:deepseek-chat",
        project_root=session.project_root or "",
    )


def _finished(op: str, seq: int) -> OperationFinished:
    return OperationFinished(operation_id=op, seq=seq, status="completed", result_text="ok")


def _orphan(directory: Path, name: str, session: SessionInfo, events: list) -> Path:
    """A journal whose writer is gone (closed without removing it, as a killed kernel's)."""
    journal = Journal(directory / f"{name}.jsonl", session)
    for event in events:
        journal.append(event.model_dump_json())
    journal.close(remove=False)
    return journal.path


def test_the_tail_of_an_operation_started_in_a_moved_aside_log_is_kept_not_replayed(
    tmp_path: Path,
) -> None:
    db = tmp_path / ".mira" / "mira.duckdb"
    journals = db.with_name(db.name + ".journal")
    session = SessionInfo.current(str(tmp_path), "sess_killed")
    # op_started_before: its start reached the log in an earlier replay; its tail did not
    _orphan(journals, "a-earlier", session, [_started("op_started_before", session)])
    Database(db).recover()
    # the killed kernel's journal: the tail of op_lost (its start was in the old file), the
    # tail of op_started_before, and the whole of op_whole
    tail = [_finished("op_lost", 5), _finished("op_started_before", 3)]
    path = _orphan(
        journals, "b-killed", session, [*tail, _started("op_whole", session), _finished("op_whole", 1)]
    )
    database = Database(db)
    recovery = database.recover()
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT id, session_id, request, started_at IS NOT NULL, status FROM operations ORDER BY id"
        ).fetchall()
        lost_events = con.execute(
            "SELECT count(*) FROM operation_events WHERE operation_id = 'op_lost'"
        ).fetchone()
    finally:
        con.close()
    assert rows == [
        ("op_started_before", "sess_killed", "request of op_started_before", True, "completed"),
        ("op_whole", "sess_killed", "request of op_whole", True, "completed"),
    ]
    assert lost_events == (0,)
    assert not path.exists()  # the journal was replayed and removed ...
    kept = [p for p in journals.iterdir() if p.name.endswith(".unreplayed")]
    assert len(kept) == 1 and kept[0].name.startswith("b-killed.jsonl.")
    # ... and what it held of op_lost is kept, readable as a journal, with its session
    kept_session, kept_items = read_journal(kept[0])
    assert kept_session is not None and kept_session.id == "sess_killed"
    assert [(i.event.operation_id, i.event.seq) for i in kept_items] == [("op_lost", 5)]
    assert (recovery.kept_events, recovery.kept_operations) == (1, 1)
    said = database.take_notices()
    assert said == [
        "1 journaled events of 1 operation(s) whose start was in a log moved aside were not "
        f"replayed; they are kept in {kept[0]}"
    ]
    # said once: a later recovery finds nothing to replay and keeps nothing more
    again = Database(db).recover()
    assert again.kept_events == 0 and database.take_notices() == []
    assert [p for p in journals.iterdir() if p.name.endswith(".unreplayed")] == kept
