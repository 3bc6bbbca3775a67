"""Read-only delegations issued in one orchestrator turn run at once (issue 14, item 5), and
task dependencies (item 6): the real engine, openai SDK, scripted model and DuckDB log.

Concurrency is shown without timing: the scripted executor answers the reads in REVERSE
order, each waiting for the next one's answer, which only works if all of them are in
flight together (one after another, the first would wait for ever; the waits time out).
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import duckdb
import pytest
from engine_helpers import EXEC, ORCH, Harness, call

import mira_jupyter.testing as mt
from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.store.recorder import Recorder
from mira_jupyter.store.session import SessionInfo

WAIT = 30  # seconds a blocked scripted answer waits before giving up (a broken test, not a timing)


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    for i in range(4):
        (root / f"m{i}.py").write_text(f"def f{i}():\n    return {i}\n")
    return root


def plan(*tasks) -> dict:
    items = [t if isinstance(t, dict) else {"description": t, "active_form": f"Doing {t}"} for t in tasks]
    return {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": items}}]}


def reads(n: int) -> dict:
    return {
        "tool_calls": [
            {"name": "read_project_file", "arguments": {"paths": [f"m{i}.py"], "purpose": "what"}}
            for i in range(n)
        ]
    }


def _file_of(request) -> int:
    return int(re.search(r"m(\d)\.py", request.messages[1]["content"]).group(1))


class Gauge:
    """How many executor requests are being answered at once, at most."""

    def __init__(self) -> None:
        self.now = self.peak = 0
        self.lock = threading.Lock()

    def __enter__(self):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc):
        with self.lock:
            self.now -= 1


def reverse_order_executor(n: int, order: list[int]):
    """Answer read i only after read i+1 has been answered."""
    answered = [threading.Event() for _ in range(n + 1)]
    answered[n].set()

    def respond(request):
        if request.model != EXEC:
            return None
        i = _file_of(request)
        if not answered[i + 1].wait(WAIT):
            return {"error_code": 500, "error_message": f"read {i} waited for read {i + 1}"}
        order.append(i)
        answered[i].set()
        return f"m{i}.py defines f{i}()."

    return respond


def test_four_reads_in_one_turn_run_at_once_and_come_back_in_call_order(project):
    answered: list[int] = []
    script = mt.Script(
        {ORCH: [plan("Read the modules"), reads(4), "read them", "They define f0..f3."]},
        responder=reverse_order_executor(4, answered),
    )
    h = Harness(project, script)
    op = h.engine.run("read every module", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert answered == [3, 2, 1, 0]  # answered last first: all four were in flight together
    after = script.requests_for(ORCH)[2].messages
    # the four results follow the turn that asked for them (the planning call's own tool
    # result comes earlier: execution goes on from the planning conversation)
    tool_messages = after[-4:]
    assert all(m["role"] == "tool" for m in tool_messages)
    sent_ids = [c["id"] for c in after[-5]["tool_calls"]]
    assert [m["tool_call_id"] for m in tool_messages] == sent_ids
    assert [re.search(r"m\d\.py", m["content"]).group(0) for m in tool_messages] == [
        "m0.py", "m1.py", "m2.py", "m3.py"
    ]  # fmt: skip
    assert op.tasks[0].status == "completed"


def test_max_parallel_bounds_how_many_run_at_once(project):
    gauge = Gauge()
    barrier = threading.Barrier(2, timeout=WAIT)

    def respond(request):
        if request.model != EXEC:
            return None
        with gauge:
            barrier.wait()  # two at a time meet here; a third never joins a pair
        return "report"

    script = mt.Script({ORCH: [plan("Read"), reads(4), "read", "Done."]}, responder=respond)
    h = Harness(project, script, max_parallel=2)
    op = h.engine.run("read every module", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert gauge.peak == 2


def test_max_parallel_1_runs_them_one_after_another(project):
    gauge = Gauge()
    script = mt.Script(
        {ORCH: [plan("Read"), reads(3), "read", "Done."], EXEC: ["a", "b", "c"]},
    )
    script.responder = lambda request: (gauge.__enter__(), gauge.__exit__(), None)[2]
    h = Harness(project, script, max_parallel=1)
    op = h.engine.run("read every module", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    executor = [_file_of(r) for r in script.requests_for(EXEC)]
    assert executor == [0, 1, 2]


def test_writes_stay_sequential_and_in_order(project):
    turn = reads(1)
    turn["tool_calls"].append(
        {"name": "generate_code", "arguments": {"path": "new.py", "description": "x = 1"}}
    )
    turn["tool_calls"].append(
        {"name": "read_project_file", "arguments": {"paths": ["new.py"], "purpose": "check"}}
    )
    script = mt.Script(
        {
            ORCH: [plan("Write and check"), turn, "done", "Done."],
            EXEC: ["m0.py defines f0().", "```python\nx = 1\n```", "new.py sets x = 1."],
        }
    )
    h = Harness(project, script)
    op = h.engine.run("write new.py", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    # the read after the write saw the written file: it ran after it
    jobs = [r.messages[1]["content"] for r in script.requests_for(EXEC)]
    assert "m0.py" in jobs[0] and "new.py" in jobs[1] and "Read these files:\n- new.py" in jobs[2]
    assert (project / "new.py").read_text() == "x = 1\n"


def test_every_parallel_call_is_logged_with_its_own_model_call(project, tmp_path):
    db = tmp_path / "log.duckdb"
    barrier = threading.Barrier(4, timeout=WAIT)

    def respond(request):
        if request.model != EXEC:
            return None
        i = _file_of(request)
        if request.messages[-1]["role"] == "user":  # the job: read the file first
            barrier.wait()
            return {"tool_calls": [{"name": "read_file", "arguments": {"path": f"m{i}.py"}}]}
        return f"m{i}.py defines f{i}()."

    script = mt.Script({ORCH: [plan("Read"), reads(4), "read", "Done."]}, responder=respond)
    h = Harness(project, script)
    recorder = Recorder(db, SessionInfo.current(str(project), "s1"))
    h.bus.subscribe(recorder)
    op = h.engine.run("read every module", RunOptions(mode="planned"))
    assert recorder.close()
    assert op.status == "completed", op.error
    with duckdb.connect(str(db), read_only=True) as con:
        meta = con.execute(
            "SELECT count(*), count(DISTINCT task_id) FROM tool_calls WHERE tool = 'read_project_file'"
        ).fetchone()
        # each executor read_file points at the executor call that asked for it
        pairs = con.execute(
            "SELECT t.arguments->>'path', c.id, c.purpose, c.status FROM tool_calls t "
            "JOIN llm_calls c ON c.id = t.llm_call_id WHERE t.tool = 'read_file' ORDER BY 1"
        ).fetchall()
        seqs = con.execute(
            "SELECT count(*), count(DISTINCT seq), max(seq) FROM operation_events WHERE operation_id = ?",
            [op.id],
        ).fetchone()
    assert meta == (4, 1)
    assert [p[0] for p in pairs] == ["m0.py", "m1.py", "m2.py", "m3.py"]
    assert len({p[1] for p in pairs}) == 4
    assert {(p[2], p[3]) for p in pairs} == {("delegate:read_project_file", "ok")}
    # events of the parallel calls were numbered without gaps or repeats
    assert seqs[0] == seqs[1]
    # and each task outcome is attributed once: the task saw four working reads
    assert op.tasks[0].status == "completed"


def test_cancel_stops_every_parallel_read(project):
    started = threading.Barrier(5, timeout=WAIT)

    def respond(request):
        if request.model != EXEC:
            return None
        started.wait()
        # a stream that stalls after its first chunk: only a cancel ends it early
        return {"text": "partial report " * 20, "fault": "stall", "after_chunks": 1, "stall_seconds": WAIT}

    script = mt.Script({ORCH: [plan("Read"), reads(4), "read", "Done."]}, responder=respond)
    h = Harness(project, script)
    cancel = CancelToken()

    def stop():
        started.wait()  # all four executor requests are in flight
        cancel.cancel("stopped by the test")

    stopper = threading.Thread(target=stop)
    stopper.start()
    op = h.engine.run("read every module", RunOptions(mode="planned"), cancel=cancel)
    stopper.join(WAIT)
    assert op.status == "cancelled"
    finished = [e for e in h.of("ToolCallFinished") if e.tool == "read_project_file"]
    assert len(finished) == 4 and all(e.status == "error" for e in finished)
    delegated = [e for e in h.of("LLMCallFinished") if e.purpose == "delegate:read_project_file"]
    assert len(delegated) == 4 and {e.status for e in delegated} == {"cancelled"}
    assert op.tasks[0].status == "failed" and op.tasks[0].error == "cancelled by user"


def test_the_budget_holds_for_parallel_reads(project):
    # the executor is a reasoning model here, so each delegation reserves about $0.095 of
    # the $0.13 budget before it is sent: only one reservation fits at a time, and the
    # others wait for it to settle instead of overspending together
    gauge = Gauge()

    def respond(request):
        if not request.messages[0]["content"].startswith("You are the executor"):
            return None
        with gauge:
            return "report"

    script = mt.Script({ORCH: [plan("Read"), reads(4), "read", "Done."]}, responder=respond)
    h = Harness(project, script)
    h.settings.executor_model = f"scripted:{ORCH}"
    budget = Decimal("0.13")
    op = h.engine.run("read every module", RunOptions(mode="planned", reasoning="low", budget_usd=budget))
    assert op.status == "completed", op.error
    assert op.cost.most_usd <= budget
    assert gauge.peak == 1
    delegated = [e for e in h.of("LLMCallFinished") if e.purpose == "delegate:read_project_file"]
    assert len(delegated) == 4


# --- task dependencies ------------------------------------------------------------------------


def test_a_task_whose_dependency_failed_is_skipped_with_the_reason(project):
    script = mt.Script(
        {
            ORCH: [
                plan(
                    "Fix helpers.py",
                    "Read m0.py",
                    {"description": "Test the fix", "active_form": "Testing the fix", "depends_on": [1]},
                ),
                call("refactor_code", path="helpers.py", changes_requested="split"),
                "I tried.",
                "read m0",
                "Summary.",
            ]
        }
    )
    h = Harness(project, script)
    op = h.engine.run("fix helpers", RunOptions(mode="planned"))
    assert [t.status for t in op.tasks] == ["failed", "completed", "failed"]
    assert op.tasks[2].error == "skipped: it depends on task 1, which failed"
    assert not any(e.task_id == op.tasks[2].id for e in h.of("TaskStarted"))
    assert op.tasks[2].depends_on == (1,)
