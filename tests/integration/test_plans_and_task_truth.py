"""Plans that survive a bad field and tasks whose state says what happened (issue 14, items 2
and 3), end to end: the real openai SDK, the scripted model, real sandboxed tools, a real log."""

from __future__ import annotations

import duckdb
import pytest
from engine_helpers import EXEC, ORCH, Harness, call

import mira_jupyter.testing as mt
from mira_jupyter.engine import prompts
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.store.recorder import Recorder
from mira_jupyter.store.session import SessionInfo


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text("def load():\n    return 1\n")
    return root


def submit(*tasks) -> dict:
    return {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": list(tasks)}}]}


def task(description: str, active: str | None = None, **extra) -> dict:
    item = {"description": description, **extra}
    if active is not None:
        item["active_form"] = active
    return item


def update(*updates) -> dict:
    return {"tool_calls": [{"name": "update_tasks", "arguments": {"updates": list(updates)}}]}


def notices(h: Harness) -> list[str]:
    return [e.message for e in h.of("Notice")]


def logged(h: Harness, db):
    recorder = Recorder(db, SessionInfo.current(str(h.root), "s1"))
    h.bus.subscribe(recorder)
    return recorder


def rows(db, sql: str):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


# --- plans that survive -----------------------------------------------------------------


def test_a_task_without_active_form_is_repaired_not_the_whole_plan(project, tmp_path):
    # issue 14: this plan became the single task "Carry out the request", silently
    db = tmp_path / "log.duckdb"
    script = mt.Script(
        {
            ORCH: [
                submit(
                    task("Read the loader", "Reading the loader"),
                    task("Add a test for load"),
                    task("Run the checks", "Running the checks"),
                ),
                "read it",
                "added it",
                "ran them",
                "All done.",
            ]
        }
    )
    h = Harness(project, script)
    recorder = logged(h, db)
    op = h.engine.run("test the loader", RunOptions(mode="planned"))
    assert recorder.close()
    assert op.status == "completed", op.error
    assert [t.description for t in op.tasks] == ["Read the loader", "Add a test for load", "Run the checks"]
    assert op.tasks[1].active_form == "Adding a test for load"
    assert h.of("PlanGenerated")[0].source == "repaired"
    assert notices(h) == ["plan repaired: task 2 had no active_form: “Adding a test for load” was derived"]
    # the repair is stored: the notice in the event log, the source on the operation
    assert rows(db, "SELECT plan_source, tasks_planned FROM operations") == [("repaired", 3)]
    stored = rows(db, "SELECT payload->>'message' FROM operation_events WHERE type = 'Notice'")
    assert stored == [(notices(h)[0],)]


def test_a_plan_over_the_cap_is_cut_to_the_cap(project):
    tasks = [task(f"Check item {i}", f"Checking item {i}") for i in range(1, 32)]
    script = mt.Script({ORCH: [submit(*tasks), *[f"checked {i}" for i in range(1, 31)], "All checked."]})
    h = Harness(project, script)
    op = h.engine.run("check every item", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert len(op.tasks) == 30 and op.tasks[-1].description == "Check item 30"
    assert notices(h) == ["plan repaired: the plan had 31 tasks: the first 30 were kept (the cap)"]
    assert h.of("PlanGenerated")[0].source == "repaired"


def test_a_task_without_description_is_dropped_and_dependencies_renumbered(project):
    script = mt.Script(
        {
            ORCH: [
                submit(
                    task("Read the loader", "Reading the loader"),
                    task("", "Doing nothing"),
                    task("Fix the loader", "Fixing the loader", depends_on=[1, 2]),
                ),
                "read",
                "fixed",
                "Done.",
            ]
        }
    )
    h = Harness(project, script)
    op = h.engine.run("fix the loader", RunOptions(mode="planned"))
    assert [t.description for t in op.tasks] == ["Read the loader", "Fix the loader"]
    assert op.tasks[1].depends_on == (1,)
    assert notices(h) == [
        "plan repaired: task 2 was dropped: it has no description",
        "plan repaired: task 3: depends on task 2, which was dropped; removed",
    ]
    assert [e.depends_on for e in h.of("TaskCreated")] == [[], [1]]


def test_nothing_usable_falls_back_to_one_generic_task_and_says_so(project):
    script = mt.Script({ORCH: [submit({"title": "no description"}, 7), "did it", "Done."]})
    h = Harness(project, script)
    op = h.engine.run("do the thing", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert [t.description for t in op.tasks] == ["Carry out the request"]
    assert h.of("PlanGenerated")[0].source == "fallback"
    assert notices(h) == [
        "plan repaired: task 1 was dropped: it has no description",
        "plan repaired: task 2 was dropped: it is int, not a task",
        "plan repaired: no task of submit_plan was usable: the plan was read from the reply's text",
        "no usable plan came back: the request runs as one generic task",
    ]


def test_an_unusable_submit_plan_falls_back_to_the_replys_text(project):
    turn = submit()
    turn["text"] = "1. Read the loader\n2. Fix the loader"
    script = mt.Script({ORCH: [turn, "read", "fixed", "Done."]})
    h = Harness(project, script)
    op = h.engine.run("fix the loader", RunOptions(mode="planned"))
    assert [t.description for t in op.tasks] == ["Read the loader", "Fix the loader"]
    assert h.of("PlanGenerated")[0].source == "parsed"
    assert notices(h)[-1].endswith("the plan was read from the reply's text")


def test_the_planner_example_is_a_neutral_placeholder():
    # a small real model copied "Add a test for the loader" as every task
    assert "loader" not in prompts.PLANNER and "<verb>" in prompts.PLANNER


# --- task status from what happened ----------------------------------------------------------


def test_a_task_whose_every_tool_call_failed_is_failed_not_completed(project):
    # issue 14: read_file denied, refactor_code not_found, "I tried." -> completed, twice
    script = mt.Script(
        {
            ORCH: [
                submit(task("Refactor the helpers", "Refactoring the helpers")),
                call("read_project_file", paths=[".mira/secret.txt"]),
                call("refactor_code", path="helpers.py", changes_requested="split it"),
                "I tried.",
                "I could not do it.",
            ],
            EXEC: [call("read_file", path=".mira/secret.txt"), "I could not read it."],
        }
    )
    h = Harness(project, script)
    op = h.engine.run("refactor the helpers", RunOptions(mode="planned"))
    (only,) = op.tasks
    assert only.status == "failed"
    assert only.error.startswith("every tool call failed (")
    assert "read_project_file: every executor tool call failed" in only.error
    assert "refactor_code denied: helpers.py does not exist" in only.error
    assert op.status == "failed" and op.error.startswith("no task succeeded (task 1: every tool call failed")
    assert op.text == "I could not do it."  # the answer is still written and kept


def test_a_note_explains_a_legitimate_completion(project):
    script = mt.Script(
        {
            ORCH: [
                submit(task("Fix the helpers", "Fixing the helpers")),
                call("refactor_code", path="helpers.py", changes_requested="split it"),
                update({"task": 1, "status": "completed"}),  # no note: refused
                update({"task": 1, "status": "completed", "note": "nothing to change: there is no helpers.py"}),
                "Nothing to change.",
            ]
        }
    )
    h = Harness(project, script)
    op = h.engine.run("fix the helpers", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert op.tasks[0].status == "completed"
    assert op.tasks[0].note == "nothing to change: there is no helpers.py"
    refused = script.requests_for(ORCH)[3].messages[-1]["content"]
    assert "refused: task 1 cannot be completed without a note" in refused
    assert "refactor_code denied" in refused


def test_a_task_that_wrote_a_file_completes_even_if_a_read_failed(project):
    script = mt.Script(
        {
            ORCH: [
                submit(task("Write the fix", "Writing the fix")),
                call("read_project_file", paths=["missing.py"]),
                call("generate_code", path="fix.py", description="print fixed"),
                "wrote fix.py",
                "Done.",
            ],
            EXEC: [call("read_file", path="missing.py"), "not there", "```python\nprint('fixed')\n```"],
        }
    )
    h = Harness(project, script)
    op = h.engine.run("write the fix", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert op.tasks[0].status == "completed"


def test_out_of_order_updates_are_refused_with_the_reason(project):
    # against a real local model, update_tasks completed tasks 2 and 3 while task 1 ran
    script = mt.Script(
        {
            ORCH: [
                submit(*(task(f"Step {i}", f"Doing step {i}") for i in (1, 2, 3))),
                update({"task": 2, "status": "completed"}, {"task": 3, "status": "completed"}),
                "step 1 done",
                "step 2 done",
                "step 3 done",
                "Done.",
            ]
        }
    )
    h = Harness(project, script)
    op = h.engine.run("do the steps", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert [t.status for t in op.tasks] == ["completed"] * 3
    # every task ran, in order, each started before it completed
    started = [e.task_id for e in h.of("TaskStarted")]
    assert started == [t.id for t in op.tasks]
    refusal = script.requests_for(ORCH)[2].messages[-1]["content"]
    assert "refused: task 2 has not started (task 1 is in progress)" in refusal
    assert "refused: task 3 has not started" in refusal
    result = next(e for e in h.of("ToolCallFinished") if e.tool == "update_tasks")
    assert result.status == "error"
