"""Plan quality you can see (issue 14, item 7): per operation, tasks planned, completed,
failed, added and dropped, and the tokens per task, from a real log of real operations."""

from __future__ import annotations

import pytest
from engine_helpers import ORCH, Harness, call

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.store import analytics
from mira_jupyter.store.recorder import Recorder
from mira_jupyter.store.session import SessionInfo


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text("x = 1\n")
    return root


def plan(*tasks) -> dict:
    return {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": list(tasks)}}]}


def test_plan_quality_counts_what_each_plan_became(project, tmp_path):
    db = tmp_path / "log.duckdb"
    script = mt.Script(
        {
            ORCH: [
                # operation 1: three tasks, the second fails, the third depended on it
                plan(
                    {"description": "Read app.py", "active_form": "Reading app.py"},
                    {"description": "Fix helpers.py", "active_form": "Fixing helpers.py"},
                    {"description": "Test the fix", "active_form": "Testing", "depends_on": [2]},
                ),
                "read it",
                call("refactor_code", path="helpers.py", changes_requested="split"),
                "I tried.",
                "Partly done.",
                # operation 2: a simple question, no plan
                "x is 1.",
            ]
        }
    )
    h = Harness(project, script)
    recorder = Recorder(db, SessionInfo.current(str(project), "s1"))
    h.bus.subscribe(recorder)
    planned = h.engine.run("fix the helpers", RunOptions(mode="planned"))
    h.engine.run("what is x?", RunOptions(mode="simple"))
    assert recorder.close()
    frame = analytics.plan_quality(db)
    assert list(frame["operation_id"]) == [planned.id]  # simple mode has no plan
    row = frame.iloc[0]
    assert (row.tasks_planned, row.tasks_completed, row.tasks_failed) == (3, 1, 1)
    assert (row.tasks_added, row.tasks_dropped) == (0, 1)  # the skipped task never started
    assert row.plan_source == "structured"
    task_tokens = sum(
        e.usage.input_tokens + e.usage.output_tokens
        for e in h.of("LLMCallFinished")
        if e.task_id is not None
    )
    assert row.task_tokens == task_tokens > 0
    assert row.tokens_per_task == pytest.approx(task_tokens / 3)
    assert row.completion_ratio == pytest.approx(1 / 3)


def test_a_task_added_while_the_plan_runs_runs_and_is_counted_as_added(project, tmp_path):
    db = tmp_path / "log.duckdb"
    blocker = {"description": "Read the test fixture", "reads_only": True}
    script = mt.Script(
        {
            ORCH: [
                plan({"description": "Read app.py", "active_form": "Reading app.py"}),
                # task 1 finds a blocker: it adds a task for it and completes its own
                call("update_tasks", add=[blocker], updates=[{"task": 1, "status": "completed", "note": "read"}]),
                "added the fixture task",  # the orchestrator's reply after the update
                "fixture read",  # task 2, the added one
                "Done.",
            ]
        }
    )
    h = Harness(project, script)
    recorder = Recorder(db, SessionInfo.current(str(project), "s1"))
    h.bus.subscribe(recorder)
    op = h.engine.run("read the app", RunOptions(mode="planned"))
    assert recorder.close()
    assert op.status == "completed", op.error
    assert [(t.sequence, t.description, t.status) for t in op.tasks] == [
        (1, "Read app.py", "completed"),
        (2, "Read the test fixture", "completed"),
    ]
    added = [e for e in h.of("TaskCreated") if not e.planned]
    assert [(e.sequence, e.active_form, e.reads_only) for e in added] == [
        (2, "Reading the test fixture", True)
    ]
    # the added task got its own turn, after task 1
    turns = [m["content"] for r in script.requests_for(ORCH) for m in r.messages[-1:] if m["role"] == "user"]
    assert any("Task 2 of 2: Read the test fixture" in t for t in turns)
    row = analytics.plan_quality(db).iloc[0]
    assert (row.tasks_planned, row.tasks_added, row.tasks_completed) == (1, 1, 2)


def test_adding_tasks_is_refused_past_the_cap_and_for_an_open_duplicate(project):
    from mira_jupyter.engine.bus import EventBus
    from mira_jupyter.engine.plan_repair import MAX_TASKS
    from mira_jupyter.engine.tasks import TaskTracker

    tracker = TaskTracker("op", EventBus())
    tracker.create("Read app.py", "Reading app.py")
    assert tracker.add("read  APP.py", None, [], False, MAX_TASKS).startswith("refused: task 1 is already")
    assert tracker.add("   ", None, [], False, MAX_TASKS) == "refused: a new task needs a description"
    assert tracker.add("Fix it", None, [1, 7], False, MAX_TASKS) == (
        "task 2 added: Fix it (depends_on [7] removed: not an earlier task)"
    )
    for n in range(3, MAX_TASKS + 1):
        assert tracker.add(f"Step {n}", None, [], False, MAX_TASKS).startswith(f"task {n} added")
    assert tracker.add("One more", None, [], False, MAX_TASKS) == (
        f"refused: the plan already has {MAX_TASKS} tasks, the most it may have"
    )
    assert all(not t.planned for t in tracker.tasks[1:]) and tracker.tasks[0].planned
