"""The planned path end to end: real openai SDK, scripted model, real sandboxed tools."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_helpers import EXEC, ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "app.py").write_text("def load():\n    return 1\n")
    return tmp_path


def test_plan_tasks_tools_and_answer(project):
    script = mt.Script(
        {
            ORCH: [
                plan_turn("Inspect the loader", "Write the fix"),
                call("get_file_summary", paths=["app.py"]),
                "The loader returns a constant.",
                call("generate_code", path="fix.py", description="print fixed"),
                call("update_tasks", updates=[{"task": 2, "status": "completed", "note": "wrote fix.py"}]),
                "Done: wrote **fix.py**.",
            ],
            EXEC: [
                call("summarize_file", path="app.py"),
                "app.py: 2 lines, one function load().",
                "```python\nprint('fixed')\n```\nWrote it.",
            ],
        }
    )
    h = Harness(project, script)
    op = h.engine.run("Fix the loader and add fix.py", RunOptions(mode="planned"))

    assert op.status == "completed", op.error
    assert op.text == "Done: wrote **fix.py**."
    assert (project / "fix.py").read_text() == "print('fixed')\n"
    assert [t.status for t in op.tasks] == ["completed", "completed"]
    assert op.files_changed == ["fix.py"]
    # the executor did the file work; the orchestrator never saw a file tool
    orch_tools = {name for r in script.requests_for(ORCH) for name in r.tool_names}
    assert not orch_tools & {"read_file", "write_file", "summarize_file"}
    # every model and tool call inside a task carries that task's id
    task_ids = {t.id for t in op.tasks}
    for event in h.of("LLMCallFinished") + h.of("ToolCallFinished"):
        if getattr(event, "purpose", "orchestrate") in ("plan", "compose"):
            assert event.task_id is None
        else:
            assert event.task_id in task_ids
    # effort recorded per call: high for planning, medium while executing, none for deepseek
    efforts = [(e.purpose, e.reasoning_effort) for e in h.of("LLMCallFinished")]
    assert efforts[0] == ("plan", "high")
    assert ("orchestrate", "medium") in efforts
    assert all(effort is None for purpose, effort in efforts if purpose.startswith("delegate"))
    sent = [(r.model, r.reasoning_effort) for r in script.requests]
    assert (EXEC, None) in sent and (ORCH, "high") in sent
    # routing savings: executor tokens priced at the orchestrator's rates cost more
    assert op.routing_savings_usd > 0
    script.assert_clean()


def test_free_text_plan_is_parsed_including_steps_past_nine(project):
    plan = "Here is the plan:\n" + "\n".join(f"{i}. Check item {i}" for i in range(1, 12))
    answers = [f"checked {i}" for i in range(1, 12)]
    script = mt.Script({ORCH: [plan, *answers, "All checked."]})
    h = Harness(project, script)
    op = h.engine.run("check everything", RunOptions(mode="planned"))
    assert op.status == "completed"
    assert len(op.tasks) == 11
    assert op.tasks[10].description == "Check item 11"
    assert op.tasks[10].active_form == "Checking item 11"
    assert h.of("PlanGenerated")[0].source == "parsed"


def test_orchestrator_cannot_escape_the_sandbox_through_a_meta_tool(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("TOP SECRET")
    script = mt.Script(
        {
            ORCH: [
                plan_turn("Read the secret"),
                call("read_project_file", paths=[str(outside)]),
                "Could not read it.",
                "Refused.",
            ],
            EXEC: [call("read_file", path=str(outside)), call("read_file", path="../" + outside.parent.name + "/secret.txt"), "Access denied."],
        }
    )
    h = Harness(project, script)
    op = h.engine.run("read the secret", RunOptions(mode="planned"))
    # every read was refused: the task (and so the operation) failed, saying why (issue 14)
    assert op.status == "failed" and op.text == "Refused."
    assert "read_project_file: every executor tool call failed" in op.tasks[0].error
    denied = [e for e in h.of("ToolCallFinished") if e.tool == "read_file"]
    assert [e.status for e in denied] == ["denied", "denied"]
    assert {e.denial_reason for e in denied} == {"outside_root"}
    assert all("TOP SECRET" not in str(r.messages) for r in script.requests)


def test_bad_tool_calls_become_results_not_crashes(project):
    script = mt.Script(
        {
            ORCH: [
                plan_turn("Try odd tools"),
                call("rm_rf", path="/"),
                {"tool_calls": [{"name": "get_file_summary", "arguments": {"paths": ["app.py"]}}], "fault": "malformed_tool_json"},
                call("get_file_summary", paths=[]),
                "Gave up on odd tools.",
                "Summary.",
            ]
        }
    )
    h = Harness(project, script)
    op = h.engine.run("odd", RunOptions(mode="planned"))
    # no crash: each bad call became a result; as none worked, the task failed (issue 14)
    assert op.status == "failed" and op.text == "Summary."
    assert op.tasks[0].error.startswith("every tool call failed (rm_rf denied")
    reasons = [e.denial_reason for e in h.of("ToolCallFinished")]
    assert reasons == ["unknown_tool", "invalid_arguments", "invalid_arguments"]


def test_endless_tool_loop_hits_the_turn_cap_and_says_so(project):
    script = mt.Script(
        {
            ORCH: [plan_turn("Loop"), {**call("update_tasks", updates=[{"task": 1, "status": "in_progress"}]), "repeat": 4}],
        }
    )
    script.add(ORCH, "Stopped looping.")
    h = Harness(project, script, max_orchestrator_turns=4)
    op = h.engine.run("loop", RunOptions(mode="planned"))
    # a loop stopped by its cap is a failure, not an answer composed at extra cost
    assert op.status == "failed"
    assert op.error.startswith("orchestrator turn cap reached: 4 turns on task 1")
    assert op.tasks[0].status == "failed" and "turn cap" in op.tasks[0].error
    assert script.remaining(ORCH) == 1, "no answer was composed after the cap"


def test_plan_only_then_run_continues_the_same_operation(project):
    script = mt.Script({ORCH: [plan_turn("One", "Two"), "did one", "did two", "Both done."]})
    h = Harness(project, script)
    planned = h.engine.run("do two things", RunOptions(mode="planned", plan_only=True))
    assert planned.status == "planned"
    assert planned.estimated_cost_usd and planned.estimated_cost_usd > 0
    assert [t.status for t in planned.tasks] == ["pending", "pending"]
    assert h.engine.planned_operations() == [planned.id]
    done = h.engine.resume(planned.id)
    assert done.id == planned.id and done.status == "completed"
    assert [t.status for t in done.tasks] == ["completed", "completed"]
    assert h.types().count("OperationResumed") == 1
    seqs = [e.seq for e in h.events if e.operation_id == planned.id]
    assert seqs == sorted(set(seqs)), "event numbers stay unique across plan and run"


def test_refactor_of_a_long_file_sends_the_whole_file_not_a_truncated_read(project):
    big = "".join(f"value_{i} = {i}\n" for i in range(3000))
    (project / "big.py").write_text(big)
    script = mt.Script(
        {
            ORCH: [plan_turn("Refactor big.py"), call("refactor_code", path="big.py", changes_requested="sort"), "ok", "done"],
            EXEC: ["```python\n" + big + "```"],
        }
    )
    h = Harness(project, script)
    op = h.engine.run("refactor big.py", RunOptions(mode="planned"))
    assert op.status == "completed"
    job = script.requests_for(EXEC)[0].messages[-1]["content"]
    assert "value_2999 = 2999" in job
    assert (project / "big.py").read_text() == big


def test_a_delegation_summary_never_shows_a_fence_marker(project):
    report = '```json\n{\n  "files": ["app.py"],\n  "note": "one module"\n}\n```'
    script = mt.Script(
        {
            ORCH: [plan_turn("List the files"), call("list_project_files", pattern="**/*"), "Listed.", "One module."],
            EXEC: [report],
        }
    )
    h = Harness(project, script)
    h.engine.run("list the files", RunOptions(mode="planned"))
    finished = [e for e in h.of("ToolCallFinished") if e.tool == "list_project_files"]
    assert finished and finished[0].status == "ok"
    assert "```" not in finished[0].summary
    assert finished[0].summary == '"files": ["app.py"],'


def test_a_bad_budget_for_a_resumed_plan_keeps_the_plan(tmp_path) -> None:
    script = mt.Script({ORCH: [plan_turn("Read it"), "read", "Done."]})
    h = Harness(tmp_path, script)
    op = h.engine.run("read it", RunOptions(mode="planned", plan_only=True))
    assert op.status == "planned"
    with pytest.raises(ValueError, match="budget_usd must be positive"):
        h.engine.resume(op.id, budget_usd=Decimal("-1"))
    assert op.status == "planned"
    assert h.engine.resume(op.id).status == "completed"  # the plan was kept
