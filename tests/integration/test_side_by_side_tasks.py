"""Reads-only tasks whose dependencies are done run side by side (issue 14, item 6): the real
engine, openai SDK and scripted model.

Concurrency is shown without timing: the scripted orchestrator answers task 1 only once
task 2's turn has arrived, which works only when both are in flight at once; run one after
the other, task 1 would wait for ever (the wait times out and the test fails).
"""

from __future__ import annotations

import re
import threading
import time

import pytest
from engine_helpers import ORCH, Harness

import mira_jupyter.testing as mt
from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.engine.engine import RunOptions

WAIT = 30  # seconds a blocked scripted answer waits (a broken test, not a timing)


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.py").write_text("def load():\n    return 1\n")
    (root / "b.py").write_text("def save():\n    return 2\n")
    return root


def plan(*tasks: dict) -> dict:
    items = [{"active_form": f"Doing {t['description']}", **t} for t in tasks]
    return {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": items}}]}


def _task_of(request) -> int | None:
    last = request.messages[-1]
    text = last.get("content") if isinstance(last.get("content"), str) else ""
    found = re.search(r"Task (\d+) of \d+:", text or "")
    return int(found.group(1)) if found else None


def meeting_orchestrator(first: int, second: int, answers: dict[int, str], order: list[int]):
    """Answer task `first` only after task `second`'s turn has arrived."""
    arrived = threading.Event()

    def respond(request):
        if request.model != ORCH:
            return None
        task = _task_of(request)
        if task == second:
            arrived.set()
        elif task == first and not arrived.wait(WAIT):
            return {"error_code": 500, "error_message": f"task {first} waited for task {second}"}
        if task in answers:
            order.append(task)
            return answers[task]
        return None  # planning and the final answer come from the queue

    return respond


def test_two_reads_only_tasks_run_at_once_and_the_next_task_hears_both(project):
    order: list[int] = []
    script = mt.Script(
        {ORCH: [
            plan(
                {"description": "Survey a.py", "reads_only": True},
                {"description": "Survey b.py", "reads_only": True},
                {"description": "Write the summary", "depends_on": [1, 2]},
            ),
            "Both modules summarised.",
        ]},  # fmt: skip
        responder=meeting_orchestrator(
            1, 2, {1: "a.py defines load().", 2: "b.py defines save().", 3: "summary written"}, order
        ),
    )
    h = Harness(project, script)
    op = h.engine.run("summarise the modules", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert [t.status for t in op.tasks] == ["completed", "completed", "completed"]
    assert order[:2] == [2, 1] and order[2] == 3  # task 1 answered after task 2 arrived
    started = [e.task_id for e in h.of("TaskStarted")]
    first_end = next(i for i, e in enumerate(h.events) if e.type == "TaskCompleted")
    starts_before = [e for e in h.events[:first_end] if e.type == "TaskStarted"]
    assert len(starts_before) == 2 and len(started) == 3  # both were in progress together
    by_task = {_task_of(r): r for r in script.requests_for(ORCH) if _task_of(r)}
    # each side-by-side task has its own conversation: neither sees the other's turn
    for mine, other in ((1, 2), (2, 1)):
        sent = str(by_task[mine].messages)
        assert f"Task {other} of 3:" not in sent and "runs at the same time as task(s)" in sent
        assert "report only task" in sent
    # the task after the batch is told what each found, in plan order
    third = str(by_task[3].messages)
    assert "Tasks 1, 2 ran at the same time" in third
    assert third.index("a.py defines load().") < third.index("b.py defines save().")
    assert "runs at the same time as task(s)" not in str(by_task[3].messages[-1])


def test_a_write_in_a_reads_only_task_is_refused_and_nothing_changes(project):
    order: list[int] = []
    write = {"tool_calls": [{"name": "generate_code", "arguments": {
        "path": "a.py", "description": "rewrite it"}}]}  # fmt: skip
    answers = {1: "looked at a.py", 2: "b.py is fine"}
    arrived = threading.Event()
    tried: list[str] = []

    def respond(request):
        if request.model != ORCH:
            return None
        task = _task_of(request)
        last = request.messages[-1]
        if task == 2:
            arrived.set()
        if task == 1 and not tried:
            arrived.wait(WAIT)
            tried.append("write")
            return write
        if last.get("role") == "tool" and tried and len(tried) == 1 and "generate_code" in str(request.messages[-2]):
            tried.append(str(last.get("content")))
            return answers[1]
        if task in answers:
            order.append(task)
            return answers[task]
        return None

    script = mt.Script(
        {ORCH: [plan(
            {"description": "Look at a.py", "reads_only": True},
            {"description": "Look at b.py", "reads_only": True},
        ), "Looked at both."]},  # fmt: skip
        responder=respond,
    )
    h = Harness(project, script)
    op = h.engine.run("look at the modules", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert (project / "a.py").read_text() == "def load():\n    return 1\n"
    assert len(tried) == 2 and "generate_code" in tried[1], tried  # the model was told why
    refused = [e for e in h.of("ToolCallFinished") if e.tool == "generate_code"]
    assert refused and refused[0].status == "denied" and refused[0].denial_reason == "not_allowed"


def test_dependent_or_writing_tasks_still_run_one_after_another(project):
    order: list[int] = []
    in_flight = {"now": 0, "peak": 0}
    lock = threading.Lock()

    def respond(request):
        if request.model != ORCH or _task_of(request) is None:
            return None
        with lock:
            in_flight["now"] += 1
            in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
        task = _task_of(request)
        order.append(task)
        with lock:
            in_flight["now"] -= 1
        return f"task {task} done"

    script = mt.Script(
        {ORCH: [plan(
            {"description": "Read a.py", "reads_only": True},
            {"description": "Read what a.py imports", "reads_only": True, "depends_on": [1]},
            {"description": "Edit b.py"},
            {"description": "Read b.py again", "reads_only": True},
        ), "All done."]},  # fmt: skip
        responder=respond,
    )
    h = Harness(project, script)
    op = h.engine.run("work on it", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert order == [1, 2, 3, 4] and in_flight["peak"] == 1
    assert not any("runs at the same time" in str(r.messages) for r in script.requests_for(ORCH))


def test_cancel_stops_every_side_by_side_task(project):
    cancel = CancelToken()
    arrived = {1: threading.Event(), 2: threading.Event()}

    def respond(request):
        if request.model != ORCH or _task_of(request) is None:
            return None
        task = _task_of(request)
        arrived[task].set()
        if all(e.is_set() for e in arrived.values()):
            cancel.cancel()
        return f"task {task} done"

    script = mt.Script(
        {ORCH: [plan(
            {"description": "Read a.py", "reads_only": True},
            {"description": "Read b.py", "reads_only": True},
            {"description": "Edit b.py", "depends_on": [1, 2]},
        ), "never"]},  # fmt: skip
        responder=respond,
    )
    h = Harness(project, script)
    op = h.engine.run("work on it", RunOptions(mode="planned"), cancel=cancel)
    assert op.status == "cancelled", op.status
    assert all(t.status != "in_progress" for t in op.tasks)
    assert op.tasks[2].status != "completed"
    assert not [r for r in script.requests_for(ORCH) if _task_of(r) == 3]


def test_a_bad_reads_only_value_is_a_repair_not_a_lost_plan(project):
    script = mt.Script(
        {ORCH: [plan(
            {"description": "Read a.py", "reads_only": "yes"},
            {"description": "Read b.py", "reads_only": True},
        ), "one", "two", "Done."]}  # fmt: skip
    )
    h = Harness(project, script)
    op = h.engine.run("read", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    notices = " ".join(e.message for e in h.of("Notice"))
    assert "reads_only 'yes' is not true or false; taken as false" in notices
    assert len(op.tasks) == 2


def test_a_reads_only_task_alone_reads_only_too(project):
    write = {"tool_calls": [{"name": "generate_code", "arguments": {
        "path": "a.py", "description": "rewrite it"}}]}  # fmt: skip
    script = mt.Script({ORCH: [
        plan({"description": "Look at a.py", "reads_only": True}, {"description": "Edit b.py"}),
        write, "looked", "edited", "Done.",
    ]})  # fmt: skip
    h = Harness(project, script)
    h.engine.run("look then edit", RunOptions(mode="planned"))
    assert (project / "a.py").read_text() == "def load():\n    return 1\n"
    (refused,) = [e for e in h.of("ToolCallFinished") if e.tool == "generate_code"]
    assert refused.status == "denied" and refused.denial_reason == "not_allowed"


def test_a_task_that_ends_the_operation_stops_its_siblings(project):
    arrived = threading.Event()
    sibling_turns: list[int] = []

    def respond(request):
        if request.model != ORCH:
            return None
        task = _task_of(request)
        if task == 2 or (task is None and sibling_turns):
            arrived.set()
            sibling_turns.append(1)
            # task 2 keeps working: a read, then another, ... until it is stopped
            return {"tool_calls": [{"name": "list_project_files", "arguments": {"pattern": "*.py"}}]}
        if task == 1:
            arrived.wait(WAIT)
            return {"status": 400, "fault": "status", "error_message": "bad request: the operation is lost"}
        return None

    script = mt.Script(
        {ORCH: [plan(
            {"description": "Read a.py", "reads_only": True},
            {"description": "Read b.py", "reads_only": True},
        )], "deepseek-chat": [{"text": "a.py, b.py", "repeat": True}]},  # fmt: skip
        responder=respond,
    )
    h = Harness(project, script, max_orchestrator_turns=6)
    op = h.engine.run("read", RunOptions(mode="planned"))
    assert op.status == "failed" and "bad request" in (op.error or ""), op.error
    # task 2 had one turn in flight when task 1 failed; it made at most one more, not five
    assert len(sibling_turns) <= 2, len(sibling_turns)
    assert all(t.status != "completed" for t in op.tasks)


def test_max_parallel_bounds_reads_across_side_by_side_tasks(project):
    from test_parallel_delegations import Gauge

    gauge = Gauge()

    def respond(request):
        if request.model == ORCH:
            task = _task_of(request)
            if task is not None:  # every task issues three reads together, then is done
                calls = [{"name": "read_project_file", "arguments": {"paths": [n], "purpose": "what"}}
                         for n in ("a.py", "b.py", "a.py")]
                return {"tool_calls": calls}
            if request.messages[-1].get("role") == "tool":
                return "read"
            return None
        with gauge:
            time.sleep(0.2)  # each read stays in flight a while, so overlapping ones are seen
        return "a module"

    script = mt.Script(
        {ORCH: [plan(*({"description": f"Read part {n}", "reads_only": True} for n in (1, 2, 3))), "Done."]},
        responder=respond,
    )
    h = Harness(project, script, max_parallel=2)
    op = h.engine.run("read the parts", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert gauge.peak == 2  # three tasks x three reads, never more than Mira.max_parallel at once
