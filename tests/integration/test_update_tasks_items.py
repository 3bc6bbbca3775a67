"""`update_tasks` validates its items one by one (r14c L3): one bad item in `add` (or in
`updates`) is refused on its own, with what to fix, and the valid ones still apply. Before,
the whole call was denied as invalid arguments and the valid task was lost."""

from __future__ import annotations

import pytest
from engine_helpers import ORCH, Harness, call

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text("x = 1\n")
    return root


def _plan() -> dict:
    task = {"description": "Read app.py", "active_form": "Reading app.py"}
    return {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [task]}}]}


def test_one_bad_item_is_refused_and_the_valid_ones_apply(project):
    update = call(
        "update_tasks",
        add=[
            {"description": "Add a test for empty dates"},
            {"description": ""},
            {"description": "Fix the parser", "depends_on": "task 1"},
            "Write the docs",
        ],
        updates=[{"task": 1, "status": "done"}, {"task": 1, "status": "completed", "note": "read it"}],
    )
    script = mt.Script({ORCH: [_plan(), update, "noted", "test added", "Done."]})
    h = Harness(project, script)
    op = h.engine.run("fix the loader", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert [(t.description, t.status) for t in op.tasks] == [
        ("Read app.py", "completed"),
        ("Add a test for empty dates", "completed"),
    ]
    finished = [e for e in h.of("ToolCallFinished") if e.tool == "update_tasks"]
    assert [e.status for e in finished] == ["ok"]
    said = next(
        str(m["content"])
        for r in script.requests_for(ORCH)
        for m in r.messages
        if m.get("role") == "tool" and "task 2 added" in str(m.get("content"))
    )
    assert "task 2 added: Add a test for empty dates" in said
    assert "refused: add item 2 (new task) is invalid: description: String should have at least 1 character" in said
    assert "refused: add item 3 (new task) is invalid: depends_on: Input should be a valid list" in said
    assert "refused: add item 4 (new task) is invalid" in said
    assert "refused: updates item 1 (update) is invalid: status:" in said
    assert said.count("send it again corrected") == 4


def test_a_call_whose_every_item_is_bad_is_an_error_that_says_why(project):
    update = call("update_tasks", add=[{"description": ""}])
    script = mt.Script({ORCH: [_plan(), update, "I see", "Done."]})
    h = Harness(project, script)
    op = h.engine.run("fix the loader", RunOptions(mode="planned"))
    assert [t.description for t in op.tasks] == ["Read app.py"]
    finished = [e for e in h.of("ToolCallFinished") if e.tool == "update_tasks"]
    assert [e.status for e in finished] == ["error"]
    assert "refused: add item 1 (new task) is invalid: description" in (finished[0].error or "")


def test_lists_sent_as_json_text_work_and_a_non_list_is_a_tool_error_saying_what_was_sent(project):
    # r14d F4, F6: a plan's tasks as a string of JSON became one generic task; updates as
    # a string were denied with "Input should be a valid list"
    import json

    tasks = [{"description": "Read app.py", "active_form": "Reading app.py"},
             {"description": "Check app.py", "active_form": "Checking app.py"}]  # fmt: skip
    plan = {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": json.dumps(tasks)}}]}
    bad = call("update_tasks", updates="task 1 is done")
    good = call("update_tasks", updates=json.dumps([{"task": 1, "status": "completed", "note": "read"}]))
    script = mt.Script({ORCH: [plan, bad, good, "read", "checked", "Done."]})
    h = Harness(project, script)
    op = h.engine.run("look at the app", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert [t.description for t in op.tasks] == ["Read app.py", "Check app.py"]
    finished = [e for e in h.of("ToolCallFinished") if e.tool == "update_tasks"]
    assert [e.status for e in finished] == ["error", "ok"]
    said = [str(m["content"]) for r in script.requests_for(ORCH) for m in r.messages if m.get("role") == "tool"]
    assert any(
        "refused: updates must be a list of update objects {task, status, note}, got a string ('task 1 is done')" in s
        for s in said
    ), said
    assert op.tasks[0].status == "completed"
