"""The end of a cell never waits for the log's write.

A cell ends by printing the store's notices. Those were taken under the location's
connection lock, which a write holds for its whole connection (the first one of a kernel
also migrates the log): so every cell waited, at its end, for the write of its own events
that had just started, and the first cell for the migrations too.
"""

from __future__ import annotations

import threading

from mira_jupyter.session import Session
from mira_jupyter.store.db import Database


def _hold_a_write(db: Database) -> tuple[threading.Event, threading.Thread]:
    """A writer thread inside ``db.connect()`` until the returned event is set."""
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.connect():  # what the recorder's transaction holds while it writes
            holding.set()
            release.wait(120)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    assert holding.wait(60)
    return release, thread


def _returns_while_held(call) -> list:
    got: list = []
    taker = threading.Thread(target=lambda: got.append(call()), daemon=True)
    taker.start()
    taker.join(20)  # not a timing bound: on the old code it returns only after the release
    return got


def test_notices_are_taken_while_a_write_holds_the_log(tmp_path):
    path = tmp_path / "log.duckdb"
    db = Database(path)
    with db.connect():  # created and migrated
        pass
    release, writer = _hold_a_write(db)
    try:
        assert _returns_while_held(Database(path).take_notices) == [[]]
    finally:
        release.set()
        writer.join(60)


def test_a_sessions_cell_end_notices_do_not_wait_for_its_recorder(tmp_path):
    from mira_jupyter.config import Mira

    session = Session(Mira(database=str(tmp_path / "log.duckdb"), project_root=str(tmp_path)))
    recorder = session.recorder()
    release, writer = _hold_a_write(recorder.db)
    try:
        assert _returns_while_held(session.store_notices) == [[]]
    finally:
        release.set()
        writer.join(60)
        session.close()
