"""One stable prompt prefix per role, so provider prefix caches hit (issue 11, item 6).

Every orchestrator call of every cell of a conversation sends the same system prompt and
the same tool list, steered with tool_choice; every executor call likewise. What a call
may not use is refused at dispatch, whatever it was offered.
"""

from __future__ import annotations

import pytest
from engine_helpers import EXEC, ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.testing.agent_demo import agent_demo_script


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "README.md").write_text("# Stats\nMean and median.\n")
    (tmp_path / "stats.py").write_text("def mean(xs):\n    return sum(xs) / len(xs)\n")
    return tmp_path


def _conversation(project, **settings):
    script = agent_demo_script()
    h = Harness(project, script, **settings)
    for request, mode in [
        ("what does this project do?", "simple"),
        ("add a module docstring to stats.py", "planned"),
        ("now summarise stats.py", "planned"),
    ]:
        op = h.engine.run(request, RunOptions(mode=mode))
        assert op.status == "completed", op.error
    return script


def test_every_orchestrator_call_of_a_conversation_has_one_system_prompt_and_tool_list(project):
    script = _conversation(project)
    requests = script.requests_for(ORCH)
    assert len(requests) > 8
    first = requests[0]
    for request in requests:
        assert request.body["tools"] == first.body["tools"]
        assert request.messages[0] == first.messages[0]
    choices = [(r.tool_choice, r.messages[-1]["content"][:40]) for r in requests]
    # simple mode and the final answers call no tool; planning must submit a plan
    assert choices[0][0] == "none"
    assert [c for c, _ in choices].count("submit_plan") == 2
    assert all(c == "none" for c, text in choices if text.startswith("All tasks have been"))


def test_each_request_extends_the_one_before_within_an_operation(project):
    script = _conversation(project)
    requests = script.requests_for(ORCH)
    planned = [r for r in requests if r.tool_choice != "none" or "All tasks" in str(r.messages[-1])]
    # from planning to the final answer of the second cell, each request's messages start
    # with all of the previous request's messages (the Chat API resends the whole prefix)
    start = next(i for i, r in enumerate(planned) if r.tool_choice == "submit_plan")
    end = next(i for i, r in enumerate(planned) if "All tasks" in str(r.messages[-1]))
    for before, after in zip(planned[start:end], planned[start + 1 : end + 1], strict=True):
        n = len(before.messages)
        assert after.messages[:n - 1] == before.messages[: n - 1]


def test_every_executor_call_has_one_tool_list_and_names_the_tools_of_its_job(project):
    script = _conversation(project)
    requests = script.requests_for(EXEC)
    assert len(requests) >= 4
    for request in requests:
        assert request.body["tools"] == requests[0].body["tools"]
        assert request.messages[0] == requests[0].messages[0]
        assert "write_file" in request.tool_names
    jobs = [r.messages[1]["content"] for r in requests]
    assert any("Tools for this job: " in job and "write_file" not in job.rsplit("Tools", 1)[1] for job in jobs)
    # the rewrite of a file without context files needs no tools: offered, none allowed
    assert any(r.tool_choice == "none" and "This job needs no tools." in r.messages[1]["content"] for r in requests)


def test_tools_a_call_was_offered_but_may_not_use_are_refused_at_dispatch(project):
    before = (project / "stats.py").read_bytes()
    script = mt.Script(
        {
            ORCH: [
                plan_turn("Read stats.py"),
                call("submit_plan", tasks=[{"description": "x", "active_form": "x"}]),
                call("read_project_file", paths=["stats.py"]),
                "read it",
                "Done.",
            ],
            # a read delegation is offered write_file (one list) but may not use it; it then
            # reads the file, so the task did something (a task of refusals only ends failed)
            EXEC: [
                call("write_file", path="stats.py", content="gone\n"),
                call("read_file", path="stats.py"),
                "stats.py defines mean.",
            ],
        }
    )
    h = Harness(project, script)
    op = h.engine.run("read stats.py", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    finished = [e for e in h.of("ToolCallFinished")]
    by_tool = {e.tool: e for e in finished}
    assert by_tool["submit_plan"].status == "denied"
    assert by_tool["write_file"].status == "denied" and by_tool["write_file"].denial_reason == "not_allowed"
    assert (project / "stats.py").read_bytes() == before
    assert "write_file" in script.requests_for(EXEC)[0].tool_names


def test_tool_choice_on_the_wire_for_chat_and_responses(project):
    script = mt.Script({ORCH: [plan_turn("One"), "did it", "Done."]})
    Harness(project, script).engine.run("do one thing", RunOptions(mode="planned"))
    assert script.requests[0].body["tool_choice"] == {"type": "function", "function": {"name": "submit_plan"}}
    assert script.requests[-1].body["tool_choice"] == "none"

    script = mt.Script({ORCH: [plan_turn("One"), "did it", "Done."]})
    h = Harness(project, script, provider_settings={"responses_api": [f"scripted:{ORCH}"]})
    op = h.engine.run("do one thing", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert script.requests[0].api == "responses"
    assert script.requests[0].body["tool_choice"] == {"type": "function", "name": "submit_plan"}
    assert script.requests[-1].body["tool_choice"] == "none"
