"""A cell does not wait for the DuckDB log, and a killed kernel still loses nothing.

The cell ends as soon as its operation does: the events are already in the journal (written
on the engine's thread before the view saw them), and the recorder writes them to DuckDB
after the cell returns. Here the log is held by another process the whole time, so nothing
can reach it before the kernel is killed; the next process to open the log replays the
journal and finds the operation complete.
"""

from __future__ import annotations

import os
import signal

import duckdb

from mira_jupyter.store.db import Database
from mira_jupyter.testing.kernel import Kernel

SETUP = """
%load_ext mira_jupyter
import mira_jupyter, mira_jupyter.testing as mt
mt.use_script(mt.Script({"gpt-5": ["first answer", "second answer"]}))
%config Mira.orchestrator_model = "scripted:gpt-5"
%config Mira.executor_model = "scripted:deepseek-chat"
%config Mira.view = "text"
"""


def test_a_killed_kernel_loses_no_operation_its_cells_did_not_wait_to_write(tmp_path):
    db = tmp_path / ".mira" / "mira.duckdb"
    kernel = Kernel(str(tmp_path))
    try:
        reply, _ = kernel.execute(SETUP)
        assert reply["status"] == "ok", reply
        reply, _ = kernel.execute("%%mira --mode simple\nthe first question")
        assert reply["status"] == "ok"
        kernel.execute("assert mira_jupyter.current_session().flush(30)")
        holder = duckdb.connect(str(db))  # another process holds the log from now on
        try:
            reply, outputs = kernel.execute("%%mira --mode simple -o op\nthe second question")
            assert reply["status"] == "ok"
            assert "second answer" in kernel.text_of(outputs)
            # the cell has returned; its operation is journaled, not in the database
            _, outputs = kernel.execute(
                "print(op.id, op.status, mira_jupyter.current_session().recorder().pending > 0)"
            )
            op_id, status, pending = kernel.text_of(outputs).split()
            assert (status, pending) == ("completed", "True")
            # SIGKILL: no atexit hook, no last flush
            os.kill(kernel.manager.provisioner.process.pid, signal.SIGKILL)
            kernel.manager.provisioner.process.wait(30)
        finally:
            holder.close()
    finally:
        kernel.client.stop_channels()
    # the next process to open the log replays the dead kernel's journal
    Database(db).recover()
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT request, status, result_text FROM operations ORDER BY started_at"
        ).fetchall()
        finished = con.execute(
            "SELECT count(*) FROM operation_events WHERE operation_id = ? AND type = 'OperationFinished'",
            [op_id],
        ).fetchone()[0]
    finally:
        con.close()
    assert rows == [
        ("the first question", "completed", "first answer"),
        ("the second question", "completed", "second answer"),
    ]
    assert finished == 1
