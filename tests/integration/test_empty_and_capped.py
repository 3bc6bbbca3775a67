"""An empty completion is flagged, and a loop that hits its cap ends failed, the cap named."""

from __future__ import annotations

import pytest
from engine_helpers import ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "README.md").write_text("# Loader\nLoads CSV files.\n")
    return tmp_path


def test_an_empty_simple_answer_fails_instead_of_completing_in_silence(project):
    script = mt.Script({ORCH: [{"text": ""}]})
    h = Harness(project, script)
    op = h.engine.run("what does this project do?", RunOptions(mode="simple"))
    assert op.status == "failed"
    assert op.error == "scripted:gpt-5 returned an empty answer (finish_reason stop)"


def test_a_simple_answer_made_of_tool_calls_says_so_not_empty(project):
    # a server that ignores tool_choice answers a call offered no tools with a tool call
    looping = {**call("read_file", path="README.md"), "repeat": True}
    h = Harness(project, mt.Script({ORCH: [looping]}))
    op = h.engine.run("what does this project do?", RunOptions(mode="simple"))
    assert op.status == "failed"
    assert "replied with tool calls where no tools are offered" in op.error, op.error
    assert "returned an empty answer (finish_reason tool_calls)" not in op.error


def test_an_empty_composed_answer_fails_too(project):
    script = mt.Script({ORCH: [plan_turn("Look"), "looked", {"text": "   "}]})
    h = Harness(project, script)
    op = h.engine.run("look at the project", RunOptions(mode="planned"))
    assert op.status == "failed" and "returned an empty answer" in op.error
    assert [t.status for t in op.tasks] == ["completed"]  # the work done is still shown


def test_an_empty_task_turn_is_flagged(project):
    script = mt.Script({ORCH: [plan_turn("Look"), "", "The project loads CSV files."]})
    h = Harness(project, script)
    op = h.engine.run("look at the project", RunOptions(mode="planned"))
    assert op.status == "completed"
    assert [n.message for n in h.of("Notice")] == ["task 1: the orchestrator's reply was empty"]


def test_an_empty_executor_report_is_an_error_for_the_orchestrator(project):
    script = mt.Script(
        {
            ORCH: [plan_turn("Summarise"), call("get_file_summary", paths=["README.md"]), "done", "Answer."],
            "deepseek-chat": [""],
        }
    )
    h = Harness(project, script)
    op = h.engine.run("summarise the readme", RunOptions(mode="planned"))
    (tool,) = h.of("ToolCallFinished")
    assert tool.status == "error" and "reply was empty" in tool.error
    # its only tool call failed and nothing changed: the task failed, and with it the
    # operation (issue 14: it used to be "completed")
    assert [t.status for t in op.tasks] == ["failed"]
    assert "get_file_summary error: the executor's reply was empty" in op.tasks[0].error
    assert op.status == "failed" and op.text == "Answer."


def test_a_tool_loop_at_the_cap_fails_with_the_cap_named_and_costs_no_more(project):
    loop = {**call("update_tasks", updates=[{"task": 1, "status": "in_progress"}]), "repeat": True}
    script = mt.Script({ORCH: [plan_turn("One", "Two", "Three"), loop]})
    h = Harness(project, script, max_orchestrator_turns=3)
    op = h.engine.run("list things three times", RunOptions(mode="planned"))
    assert op.status == "failed"
    assert "orchestrator turn cap reached: 3 turns on task 1" in op.error
    assert "Mira.max_orchestrator_turns" in op.error
    # the plan call and three turns; no second task, no composed answer
    purposes = [e.purpose for e in h.of("LLMCallFinished") if e.role == "orchestrator"]
    assert purposes == ["plan", "orchestrate", "orchestrate", "orchestrate"]
    assert [t.status for t in op.tasks] == ["failed", "failed", "failed"]


def test_a_skill_looping_at_the_cap_fails_with_the_cap_named_and_no_extra_call(project):
    (project / "README.md").write_text("# x\n")
    loop = {**call("read_file", path="README.md"), "repeat": True}
    script = mt.Script({ORCH: [loop]})
    h = Harness(project, script, max_orchestrator_turns=3)
    op = h.engine.run("find the bug", RunOptions(skill="debugging"))
    assert op.status == "failed"
    assert "orchestrator turn cap reached: skill debugging made 3 turns" in op.error
    assert "Mira.max_orchestrator_turns" in op.error
    purposes = [e.purpose for e in h.of("LLMCallFinished") if e.role == "orchestrator"]
    assert purposes == ["skill:debugging"] * 3  # no fourth call "to report"
