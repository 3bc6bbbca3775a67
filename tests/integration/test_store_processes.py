"""Several real processes sharing one DuckDB file: concurrent kernels, kills, readers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from mira_jupyter.store import analytics
from mira_jupyter.store.db import TASK_INTERRUPTED, Database

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("store_child.py")
EVENTS_PER_OP = 26
ROWS_PER_OP = 22  # five text deltas share a row


def spawn(*args: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(CHILD), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / ".mira" / "mira.duckdb"


def test_two_kernels_writing_at_once_land_every_event_exactly_once(db: Path) -> None:
    ops = 15
    kernels = [spawn("write", db, name, ops) for name in ("kA", "kB")]
    for kernel in kernels:
        out, err = kernel.communicate(timeout=180)
        assert kernel.returncode == 0, err
        assert out.split() == ["done", str(ops * EVENTS_PER_OP), "True"]
    # each operation's rows cover its sequence numbers 1..26 exactly once (how many rows
    # that takes depends on where batches split a run of text deltas)
    coverage = rows(
        db,
        """
        SELECT o.session_id, count(DISTINCT o.id), count(*), count(DISTINCT (o.id, s.n))
        FROM operations o, range(1, 27) s(n), operation_events e
        WHERE e.operation_id = o.id AND s.n BETWEEN e.seq AND e.seq_end
        GROUP BY 1 ORDER BY 1""",
    )
    assert coverage == [
        ("kA", ops, ops * EVENTS_PER_OP, ops * EVENTS_PER_OP),
        ("kB", ops, ops * EVENTS_PER_OP, ops * EVENTS_PER_OP),
    ]
    assert rows(db, "SELECT count(*) FROM operation_events WHERE seq_end > 26 OR seq < 1") == [(0,)]
    assert ops * ROWS_PER_OP <= rows(db, "SELECT count(*) FROM operation_events")[0][0]
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM llm_calls") == [(4 * ops, 4 * ops)]
    assert rows(db, "SELECT count(*) FROM tool_calls") == [(6 * ops,)]
    assert rows(db, "SELECT count(*) FROM operations WHERE status = 'failed'") == [(2 * ops,)]
    assert rows(db, "SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL") == [(2,)]
    assert list((db.parent / "mira.duckdb.journal").glob("*.jsonl")) == []


@pytest.mark.parametrize("flushed", [0, 8], ids=["nothing-flushed", "partly-flushed"])
def test_killed_kernel_leaves_operation_interrupted_and_loses_no_event(
    db: Path, flushed: int
) -> None:
    Database(db).recover()
    kernel = spawn("die", db, "kdead", flushed)
    ready = kernel.stdout.readline().split()
    assert ready[0] == "ready"
    accepted = int(ready[1])
    before = rows(db, "SELECT count(*) FROM operation_events")[0][0] if flushed else 0
    assert before == flushed  # the rest exists only in the journal
    if flushed:
        # another process opening the store meanwhile must leave a live kernel's work alone
        other = spawn("write", db, "kother", 0)
        assert other.communicate(timeout=120)[0].split()[0] == "done"
        assert rows(db, "SELECT status FROM operations WHERE id = 'kdead-op'") == [("running",)]
        assert rows(
            db, "SELECT count(*) FROM operation_events WHERE operation_id = 'kdead-op'"
        ) == [(flushed,)]
    kernel.send_signal(signal.SIGKILL)
    kernel.wait(timeout=30)

    # the next process to open the store repairs it
    survivor = spawn("write", db, "kalive", 1)
    out, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err

    op = "kdead-op"
    status = rows(
        db,
        f"SELECT status, error, finished_at IS NOT NULL, cost_usd, input_tokens "
        f"FROM operations WHERE id = '{op}'",
    )
    assert status == [
        (
            "interrupted",
            "kernel stopped before the operation finished",
            True,
            Decimal("0.005830"),
            6000,
        )
    ]
    # all accepted events are there (the text deltas share one row), then the synthetic finish
    covered = rows(
        db,
        f"SELECT sum(seq_end - seq + 1), max(seq_end) FROM operation_events "
        f"WHERE operation_id = '{op}' AND type <> 'OperationFinished'",
    )
    assert covered == [(accepted, accepted)]
    last = rows(
        db,
        f"SELECT seq, type, payload->>'status' FROM operation_events "
        f"WHERE operation_id = '{op}' ORDER BY seq DESC LIMIT 1",
    )
    assert last == [(accepted + 1, "OperationFinished", "interrupted")]
    tasks = rows(
        db,
        f"SELECT sequence, status, error_message FROM operation_tasks "
        f"WHERE operation_id = '{op}' ORDER BY sequence",
    )
    # task 1 had completed; task 2 had already failed on its own before the kill
    assert tasks == [(1, "completed", None), (2, "failed", "tests still fail")]
    assert rows(db, "SELECT ended_at IS NOT NULL FROM sessions WHERE id = 'kdead'") == [(True,)]
    assert rows(db, "SELECT status FROM operations WHERE id = 'kalive-op0'") == [("failed",)]


def test_killed_kernel_with_task_in_progress_fails_the_task(db: Path) -> None:
    Database(db).recover()
    # stop right after task 2 started (event 17): it is in progress when the kernel dies
    kernel = spawn("die", db, "kdead", 0)
    assert kernel.stdout.readline().startswith("ready")
    kernel.send_signal(signal.SIGKILL)
    kernel.wait(timeout=30)
    assert rows(db, "SELECT count(*) FROM operation_tasks") == [(0,)]  # journal only so far
    # cut the journal after TaskStarted(t2) so the replayed task is left in progress
    journal = next((db.parent / "mira.duckdb.journal").glob("kdead-*.jsonl"))
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:18]) + "\n" + lines[18][:40])  # plus a torn line
    report = Database(db).recover()
    assert report.replayed_events == 17 and report.interrupted_operations == ["kdead-op"]
    assert rows(db, "SELECT sequence, status, error_message FROM operation_tasks ORDER BY 1") == [
        (1, "completed", None),
        (2, "failed", TASK_INTERRUPTED),
    ]


def test_analytics_from_another_process_while_a_kernel_writes(db: Path) -> None:
    Database(db).recover()
    # long enough that a loaded machine still reads several times while the kernel writes
    kernel = spawn("stream", db, "kw", 10)
    reads = 0
    snapshot = None
    deadline = time.monotonic() + 60
    while kernel.poll() is None and time.monotonic() < deadline:
        frame = analytics.costs(db, by="day")
        recent = analytics.history(db, n=5)
        if snapshot is None and (frame.attrs["totals"]["calls"] or len(recent)):
            # an open snapshot connection must not block the kernel for the rest of the run
            snapshot = analytics.connect(db)
        reads += 1
    out, err = kernel.communicate(timeout=60)
    assert kernel.returncode == 0, err
    _, ops, failures, closed = out.split()
    assert failures == "0" and closed == "True" and int(ops) > 0
    assert reads > 3
    assert snapshot is not None
    seen = snapshot.execute("SELECT count(*) FROM operations").fetchone()[0]
    assert 0 < seen <= int(ops)
    assert snapshot.execute("SELECT count(*) FROM v_cost_by_day").fetchone()[0] >= 1
    assert rows(db, "SELECT count(*) FROM operations") == [(int(ops),)]
    assert rows(db, "SELECT sum(seq_end - seq + 1) FROM operation_events") == [
        (int(ops) * EVENTS_PER_OP,)
    ]
    snapshot.close()


def test_a_call_cut_by_a_killed_kernel_gets_an_estimated_cost(db: Path) -> None:
    import mira_jupyter.session  # noqa: F401 - installs the estimator, as in every kernel
    from mira_jupyter.llm import pricing
    from mira_jupyter.llm.tokens import count_tokens

    Database(db).recover()
    kernel = spawn("die-mid-call", db, "kcut")
    assert kernel.stdout.readline().strip() == "ready"
    kernel.send_signal(signal.SIGKILL)
    kernel.wait(timeout=30)
    # the call is in the log without tokens or cost: the kill came mid-stream
    assert rows(db, "SELECT cost_total_usd, status FROM llm_calls") == [(None, "running")]

    Database(db).recover()  # what the next kernel to open the store does

    (call,) = rows(
        db,
        "SELECT status, usage_source, input_tokens, output_tokens, cost_total_usd, priced, "
        "error FROM llm_calls WHERE id = 'call-cut'",
    )
    status, source, input_tokens, output_tokens, cost, priced, error = call
    partial = "".join(p * 25 for p in ("The loader ", "drops rows ", "whose date is empty ", "because "))
    request = "Explain what the CSV loader does with empty dates " * 20
    assert (status, source, priced) == ("interrupted", "estimated", True)
    assert output_tokens == count_tokens(partial)
    assert input_tokens >= count_tokens(request)
    from mira_jupyter.core.events import Usage

    expected = pricing.cost_of(
        Usage(input_tokens=input_tokens, output_tokens=output_tokens), "openai:gpt-5"
    ).total_usd
    assert cost == expected and cost > 0
    assert "estimated" in error
    op = rows(
        db,
        "SELECT status, cost_usd, usage_source, output_tokens FROM operations WHERE id = 'kcut-op'",
    )
    assert op == [("interrupted", expected, "estimated", output_tokens)]
    # recovering again changes nothing
    Database(db).recover()
    assert rows(db, "SELECT cost_total_usd FROM llm_calls") == [(expected,)]
