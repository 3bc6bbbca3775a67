"""Recorder and event-to-row mapping against real DuckDB files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from store_events import EXEC_AS_ORCH, EXEC_COST, ORCH_COST, full_operation, numbered

from mira_jupyter.core.events import FileChanged, OperationStarted, TextDelta, event_from_json
from mira_jupyter.engine.bus import EventBus
from mira_jupyter.store import analytics
from mira_jupyter.store.db import Database
from mira_jupyter.store.journal import Pending
from mira_jupyter.store.recorder import Recorder
from mira_jupyter.store.rows import apply_events
from mira_jupyter.store.session import SessionInfo

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("store_child.py")


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def spawn(*args: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(CHILD), *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / ".mira" / "mira.duckdb"


def record_full(db: Path, op: str = "op1", session_id: str = "s1") -> Recorder:
    recorder = Recorder(db, SessionInfo.current("/proj", session_id))
    bus = EventBus()
    bus.subscribe(recorder)
    for event in full_operation(op, session_id):
        bus.emit(event)
    assert recorder.flush(timeout=30)
    return recorder


def test_full_operation_maps_onto_every_table(db: Path) -> None:
    recorder = record_full(db)
    assert recorder.close()
    op = rows(
        db,
        """SELECT session_id, request, mode, requested_mode, status, reasoning,
                            complexity_score, complexity_reasons, orchestrator_model,
                            executor_model, plan_text, plan_source,
                            plan_generated_at - plan_started_at, planning_input_tokens,
                            planning_output_tokens, planning_reasoning_tokens, result_text,
                            error, budget_usd, input_tokens, cached_input_tokens,
                            output_tokens, reasoning_tokens, cost_usd, routing_savings_usd,
                            finished_at - started_at, plan_only
                     FROM operations""",
    )
    assert len(op) == 1
    (
        session,
        request,
        mode,
        requested,
        status,
        reasoning,
        score,
        reasons,
        orch,
        execu,
        plan,
        source,
        plan_time,
        p_in,
        p_out,
        p_reason,
        result,
        error,
        budget,
        i,
        ci,
        o,
        r,
        cost,
        savings,
        duration,
        plan_only,
    ) = op[0]
    assert (session, mode, requested, status, reasoning) == (
        "s1",
        "planned",
        "auto",
        "failed",
        "high",
    )
    assert request == "Fix the CSV loader (op1)" and score == pytest.approx(0.35)
    assert json.loads(reasons) == ["multi-step", "tests"]
    assert (orch, execu) == ("openai:gpt-5", "deepseek:deepseek-chat")
    assert plan.startswith("1. Read loader") and source == "parsed"
    assert plan_time.total_seconds() == 1 and (p_in, p_out, p_reason) == (200, 90, 40)
    assert (result, error, budget) == (
        "Loader fixed but TESTS fail",
        "task 2 failed",
        Decimal("0.5"),
    )
    assert (i, ci, o, r) == (6000, 1400, 1100, 120)
    assert cost == ORCH_COST.total_usd + EXEC_COST.total_usd == Decimal("0.005830")
    assert savings == EXEC_AS_ORCH - EXEC_COST.total_usd
    assert duration.total_seconds() == 12 and plan_only is False

    tasks = rows(
        db,
        """SELECT id, sequence, description, active_form, status, note, error_message,
                               started_at IS NOT NULL, completed_at IS NOT NULL
                        FROM operation_tasks ORDER BY sequence""",
    )
    assert tasks == [
        ("op1-t1", 1, "Read loader", "Reading loader", "completed", "read it", None, True, True),
        ("op1-t2", 2, "Fix it", "Fixing it", "failed", None, "tests still fail", True, True),
    ]

    calls = rows(
        db,
        """SELECT id, task_id, role, provider, model, purpose, reasoning_effort, stream,
                               latency_ms, ttft_ms, input_tokens, cached_input_tokens,
                               output_tokens, reasoning_tokens, usage_source, cost_input_usd,
                               cost_cached_input_usd, cost_output_usd, cost_total_usd,
                               orchestrator_equivalent_usd, price_version, priced, finish_reason,
                               status, epoch(finished_at - started_at)
                        FROM llm_calls ORDER BY id""",
    )
    assert calls[0] == (
        "op1-c1",
        "op1-t1",
        "orchestrator",
        "openai",
        "gpt-5",
        "orchestrate",
        "high",
        True,
        2000.0,
        350.0,
        1000,
        400,
        300,
        120,
        "reported",
        Decimal("0.000750"),
        Decimal("0.000050"),
        Decimal("0.003000"),
        Decimal("0.003800"),
        None,
        "2026-11",
        True,
        "tool_calls",
        "ok",
        2.0,
    )
    assert calls[1][:3] == ("op1-c2", "op1-t1", "executor")
    assert calls[1][18:20] == (Decimal("0.002030"), EXEC_AS_ORCH)

    tools = rows(
        db,
        """SELECT id, llm_call_id, role, tool, arguments, status, denial_reason,
                               duration_ms, result_bytes, truncated, summary
                        FROM tool_calls ORDER BY id""",
    )
    assert [t[0] for t in tools] == ["op1-x1", "op1-x2", "op1-x3"]
    assert json.loads(tools[0][4]) == {"path": "loader.py"} and tools[0][5] == "ok"
    assert tools[1][5:] == ("ok", None, 12.5, 2048, True, "read 80 lines")
    # malformed arguments from the model are kept verbatim, as a JSON string
    assert json.loads(tools[2][4]) == '{"path": "../etc/passwd"'
    assert tools[2][5:7] == ("denied", "outside_root")

    changes = rows(
        db,
        "SELECT path, existed_before, previous_content, previous_sha256, "
        "new_sha256, tool_call_id FROM file_changes",
    )
    assert changes == [("loader.py", True, b"old\x00content\n", "a" * 64, "b" * 64, "op1-x2")]


def test_events_table_holds_every_event_with_text_coalesced(db: Path) -> None:
    record_full(db).close()
    events = rows(db, "SELECT seq, seq_end, type, payload FROM operation_events ORDER BY seq")
    # 26 events: the 5 text deltas become one row covering their 5 sequence numbers
    assert len(events) == 22
    assert [e[0] for e in events] == list(range(1, 22)) + [26]
    delta = events[20]
    assert delta[:3] == (21, 25, "TextDelta")
    assert event_from_json(delta[3]).text == "part0 part1 part2 part3 part4 "
    changed = next(e for e in events if e[2] == "FileChanged")
    assert "previous_content" not in json.loads(changed[3])
    rebuilt = event_from_json(changed[3])
    assert isinstance(rebuilt, FileChanged) and rebuilt.new_sha256 == "b" * 64
    # every payload rebuilds into the event type it names
    assert all(event_from_json(p).type == t for _, _, t, p in events)


def test_replaying_the_same_events_adds_nothing(db: Path) -> None:
    session = SessionInfo.current("/proj", "s1")
    items = [Pending(e, e.model_dump_json()) for e in numbered(full_operation("op1", "s1"))]
    database = Database(db, journal_dir=None)
    with database.transaction() as con:
        assert apply_events(con, items, session) == 26
    with database.transaction() as con:
        assert apply_events(con, items, session) == 0
        # a partial overlap (text deltas inside a coalesced row) is recognised too
        assert apply_events(con, items[19:23], session) == 0
    counts = rows(
        db,
        """SELECT (SELECT count(*) FROM operation_events),
                                (SELECT count(*) FROM llm_calls), (SELECT count(*) FROM tool_calls),
                                (SELECT count(*) FROM file_changes), (SELECT count(*) FROM operations)""",
    )
    assert counts == [(22, 2, 3, 1, 1)]


def test_rows_do_not_depend_on_event_order(tmp_path: Path) -> None:
    events = numbered(full_operation("op1", "s1"))
    session = SessionInfo.current("/proj", "s1")

    def table_dump(path: Path, order: list) -> list:
        database = Database(path, journal_dir=None)
        with database.transaction() as con:
            for item in order:  # one event per batch: the worst case for ordering
                apply_events(con, [Pending(item, item.model_dump_json())], session)
        return rows(
            path,
            """SELECT o.status, o.request, o.mode, o.finished_at IS NOT NULL,
            (SELECT list(status ORDER BY id) FROM operation_tasks),
            (SELECT list(status || ':' || coalesce(arguments::VARCHAR, '') ORDER BY id) FROM tool_calls),
            (SELECT list(status || ':' || cost_total_usd ORDER BY id) FROM llm_calls)
            FROM operations o""",
        )

    forward = table_dump(tmp_path / "a.duckdb", events)
    backward = table_dump(tmp_path / "b.duckdb", list(reversed(events)))
    assert forward == backward
    assert forward[0][0] == "failed" and forward[0][4] == ["completed", "failed"]


def test_unnumbered_events_get_sequence_numbers(db: Path) -> None:
    recorder = Recorder(db, SessionInfo.current("/proj", "s1"))
    for event in full_operation("op1", "s1"):
        recorder(event)  # straight in, no bus: seq is 0 on every event
    assert recorder.close()
    assert rows(db, "SELECT count(*), min(seq), max(seq_end) FROM operation_events") == [
        (22, 1, 26)
    ]


def test_flush_makes_history_visible_at_once(db: Path) -> None:
    recorder = Recorder(db, SessionInfo.current("/proj", "s1"), flush_interval=3600)
    for event in full_operation("op1", "s1")[:5]:
        recorder(event)
    assert recorder.pending == 5
    assert recorder.flush(timeout=30)
    assert recorder.pending == 0
    frame = analytics.history(db)
    assert list(frame["operation_id"]) == ["op1"] and frame["status"][0] == "running"
    recorder.close()


def test_memory_location_keeps_one_database_for_the_process() -> None:
    location = ":memory:recorder-test"
    recorder = Recorder(location, SessionInfo.current("/proj", "s1"))
    assert recorder.session.journal_path is None
    for event in full_operation("op1", "s1"):
        recorder(event)
    assert recorder.close()
    frame = analytics.costs(location, by="role")
    assert sorted(frame["role"]) == ["executor", "orchestrator"]
    assert frame.attrs["totals"]["cost_usd"] == Decimal("0.005830")


def test_blocked_writer_keeps_events_and_writes_them_later(db: Path) -> None:
    Database(db).recover()  # create the schema first
    holder = spawn("hold", db)
    assert holder.stdout.readline().strip() == "held"
    recorder = Recorder(db, SessionInfo.current("/proj", "s1"), lock_timeout=0.2)
    for event in full_operation("op1", "s1"):
        recorder(event)
    assert recorder.flush(timeout=0.5) is False
    assert recorder.pending == 26
    journal_lines = Path(recorder.session.journal_path).read_text().splitlines()
    assert len(journal_lines) == 27  # header + every accepted event, before any DB write
    holder.stdin.close()
    holder.wait(timeout=30)
    assert recorder.flush(timeout=30)
    assert recorder.pending == 0
    assert rows(db, "SELECT count(*), count(DISTINCT seq) FROM operation_events") == [(22, 22)]
    assert Path(recorder.session.journal_path).read_text().count("\n") == 1  # header only
    assert recorder.close()
    assert not Path(recorder.session.journal_path).exists()


def test_close_while_locked_leaves_the_journal_for_the_next_process(db: Path) -> None:
    Database(db).recover()
    holder = spawn("hold", db)
    assert holder.stdout.readline().strip() == "held"
    recorder = Recorder(db, SessionInfo.current("/proj", "s1"), lock_timeout=0.2)
    for event in full_operation("op1", "s1"):
        recorder(event)
    assert recorder.close(timeout=0.5) is False
    journal = Path(recorder.session.journal_path)
    assert journal.exists()
    holder.stdin.close()
    holder.wait(timeout=30)
    # another process opening the store replays the orphaned journal
    reader = spawn("write", db, "s2", 0)
    assert reader.communicate(timeout=60)[0].split()[0] == "done"
    assert not journal.exists()
    assert rows(db, "SELECT count(*) FROM operation_events WHERE operation_id = 'op1'") == [(22,)]
    assert rows(db, "SELECT status FROM operations WHERE id = 'op1'") == [("failed",)]


def test_closed_recorder_refuses_events_loudly(db: Path) -> None:
    recorder = Recorder(db, SessionInfo.current("/proj", "s1"))
    recorder.close()
    with pytest.raises(RuntimeError, match="closed"):
        recorder(TextDelta(operation_id="op1", text="late"))


def test_recorder_call_is_safe_from_many_threads(db: Path) -> None:
    import threading

    recorder = Recorder(db, SessionInfo.current("/proj", "s1"), batch_size=50)
    bus = EventBus()
    bus.subscribe(recorder)
    bus.emit(
        OperationStarted(
            operation_id="op1",
            session_id="s1",
            request="r",
            mode="simple",
            orchestrator_model="a:b",
            executor_model="c:d",
            project_root="/p",
        )
    )

    def stream(channel: str) -> None:
        for i in range(300):
            bus.emit(TextDelta(operation_id="op1", text=f"{channel}{i},", channel=channel))

    threads = [threading.Thread(target=stream, args=(c,)) for c in ("answer", "plan")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the bound only has to outlast a loaded machine: close returns once all is written
    assert recorder.close(timeout=120)
    payloads = rows(
        db, "SELECT seq, seq_end, payload FROM operation_events WHERE type = 'TextDelta'"
    )
    covered = sorted(s for lo, hi, _ in payloads for s in range(lo, hi + 1))
    assert covered == list(range(2, 602))
    text = "".join(event_from_json(p).text for *_, p in payloads)
    assert sorted(text.rstrip(",").split(",")) == sorted(
        [f"answer{i}" for i in range(300)] + [f"plan{i}" for i in range(300)]
    )


def test_an_unwritable_event_is_quarantined_without_blocking_the_rest(db: Path) -> None:
    recorder = Recorder(db, SessionInfo.current("/proj", "s1"), flush_interval=3600)
    events = numbered(full_operation("op1", "s1"))
    for event in events[:3]:
        recorder(event)
    poison = TextDelta(operation_id="op1", text="x", seq=2**31)  # overflows the INTEGER column
    recorder(poison)
    for event in events[3:]:
        recorder(event)
    assert recorder.flush(timeout=60)
    assert recorder.close()
    # written one by one after the failure, so the text deltas were not coalesced
    assert rows(db, "SELECT count(*), max(seq_end) FROM operation_events") == [(26, 26)]
    assert rows(db, "SELECT status FROM operations") == [("failed",)]
    rejected = Path(recorder.session.journal_path).with_suffix(".rejected")
    assert [event_from_json(line).seq for line in rejected.read_text().splitlines()] == [2**31]


def test_a_reused_session_id_is_taken_over_by_the_new_recorder(db: Path) -> None:
    first = Recorder(db, SessionInfo.current("/proj", "s1"))
    first(TextDelta(operation_id="op0", text="x"))
    assert first.close()
    assert rows(db, "SELECT ended_at IS NOT NULL FROM sessions") == [(True,)]
    second = Recorder(db, SessionInfo.current("/proj", "s1"))
    for event in full_operation("op1", "s1")[:3]:
        second(event)
    assert second.flush(timeout=30)
    assert rows(db, "SELECT ended_at IS NULL, journal_path FROM sessions") == [
        (True, second.session.journal_path)
    ]
    # so recovery in another process sees a live kernel and leaves its operation running
    assert Database(db).recover().interrupted_operations == []
    assert rows(db, "SELECT status FROM operations") == [("running",)]
    assert second.close()
