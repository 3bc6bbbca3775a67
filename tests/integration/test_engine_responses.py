"""A planned operation over the Responses API: real openai SDK, scripted /v1/responses.

The orchestrator (scripted:gpt-5 with responses_api on) plans with high-effort reasoning;
execution must continue from that reasoning, and every tool turn must hand the previous
turn's reasoning back: encrypted items by default, previous_response_id with store.
"""

from __future__ import annotations

import pytest
from engine_helpers import EXEC, ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.store.recorder import Recorder
from mira_jupyter.store.replay import load_events
from mira_jupyter.store.session import SessionInfo
from mira_jupyter.ui.state import OperationState
from mira_jupyter.ui.static import render_static

# the orchestrator marked for the Responses API; the executor stays on Chat Completions
ONLY_ORCH = {"responses_api": [f"scripted:{ORCH}"]}


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "app.py").write_text("def load():\n    return 1\n")
    return tmp_path


def _script() -> mt.Script:
    plan = plan_turn("Inspect the loader", "Report")
    plan["reasoning_summary"] = "**Planning the fix**\n\nThe loader is in app.py; inspect it first."
    plan["reasoning_tokens"] = 300
    inspect = call("get_file_summary", paths=["app.py"])
    inspect["reasoning_summary"] = "**Choosing a tool**\n\nA summary of app.py is enough."
    inspect["reasoning_tokens"] = 80
    return mt.Script(
        {
            ORCH: [
                plan,
                inspect,
                {"text": "The loader returns a constant.", "reasoning_tokens": 20},
                "Reported.",
                {"text": "The loader returns **1**.", "reasoning_summary": "**Writing the answer**"},
            ],
            EXEC: [call("summarize_file", path="app.py"), "app.py: one function load()."],
        }
    )


def _responses_requests(script: mt.Script) -> list:
    return [r for r in script.requests_for(ORCH) if r.api == "responses"]


def test_planned_operation_carries_encrypted_reasoning_by_default(project):
    script = _script()
    h = Harness(project, script, provider_settings=ONLY_ORCH)
    op = h.engine.run("Explain what the loader returns", RunOptions(mode="planned"))

    assert op.status == "completed", op.error
    assert op.text == "The loader returns **1**."
    requests = _responses_requests(script)
    assert len(requests) == 5 and all(r.body["store"] is False for r in requests)
    assert all(r.body["include"] == ["reasoning.encrypted_content"] for r in requests)
    assert requests[0].body["reasoning"] == {"effort": "high", "summary": "auto"}
    # execution starts from the plan: its encrypted reasoning is in the first execution request
    plan_reasoning = _served_reasoning_ids(script, 0)
    sent = _reasoning_items(script, 1)
    assert plan_reasoning and {i["id"] for i in sent} == plan_reasoning
    assert all(i["encrypted_content"] for i in sent)
    assert not script.responses.stored  # store=False: the server kept nothing
    # no user message comes between the plan's reasoning and the first task (a reasoning
    # model drops reasoning from before the latest user message): the task rides on the
    # plan's tool result, and the plan's 300 reasoning tokens are read, and billed
    first_task = requests[1].body["input"]
    at = next(n for n, i in enumerate(first_task) if i.get("type") == "reasoning")
    assert all(i.get("role") != "user" for i in first_task[at:])
    assert "Task 1 of 2: Inspect the loader" in first_task[-1]["output"]
    calls = h.of("LLMCallFinished")
    plan_call, first_exec = calls[0], next(c for c in calls if c.purpose == "orchestrate")
    assert first_exec.usage.input_tokens > plan_call.usage.input_tokens + 300
    # every later request hands back every earlier reasoning item
    for n in range(2, 5):
        assert len(_reasoning_items(script, n)) == n
    assert not any("previous_response_id" in r.body for r in requests)
    # the executor (deepseek) stays on Chat Completions and never sees the orchestrator's state
    executor = script.requests_for(EXEC)
    assert executor and all(r.api == "chat" for r in executor)
    assert all("provider_state" not in m for r in executor for m in r.body["messages"])
    script.assert_clean()


def _reasoning_items(script: mt.Script, n: int) -> list[dict]:
    request = _responses_requests(script)[n]
    return [i for i in request.body["input"] if i.get("type") == "reasoning"]


def _served_reasoning_ids(script: mt.Script, n: int) -> set[str]:
    """Ids of the reasoning items in the n-th response the scripted server sent."""
    items = list(script.responses.served.values())[n]
    return {i["id"] for i in items if i["type"] == "reasoning"}


def test_store_mode_chains_with_previous_response_id(project):
    script = _script()
    h = Harness(project, script, provider_settings={**ONLY_ORCH, "responses_store": True})
    op = h.engine.run("Explain what the loader returns", RunOptions(mode="planned"))

    assert op.status == "completed", op.error
    requests = _responses_requests(script)
    assert requests[0].body.get("previous_response_id") is None
    assert "include" not in requests[0].body
    chained = [r.body.get("previous_response_id") for r in requests[1:]]
    assert all(chained), chained
    # each request names the response before it and sends only what is new
    stored = list(script.responses.stored)
    assert chained == stored[: len(chained)]
    assert all(i.get("type") != "reasoning" for r in requests[1:] for i in r.body["input"])
    script.assert_clean()


def test_reasoning_summaries_are_events_never_answer_text(project):
    script = _script()
    h = Harness(project, script, provider_settings=ONLY_ORCH)
    op = h.engine.run("Explain what the loader returns", RunOptions(mode="planned"))

    assert op.status == "completed", op.error
    thoughts = h.of("ReasoningSummary")
    assert [(t.purpose, t.text.splitlines()[0]) for t in thoughts] == [
        ("plan", "**Planning the fix**"),
        ("orchestrate", "**Choosing a tool**"),
        ("compose", "**Writing the answer**"),
    ]
    finished = {e.call_id for e in h.of("LLMCallFinished")}
    assert {t.call_id for t in thoughts} <= finished
    assert "Planning" not in op.text and "Choosing" not in op.text
    answer = "".join(e.text for e in h.of("TextDelta") if e.channel == "answer")
    assert "thinking" not in answer.lower() and "Planning the fix" not in answer
    # the summary is not sent back as assistant text either
    later = _responses_requests(script)[1]
    texts = [i.get("content") for i in later.body["input"] if i.get("role") == "assistant"]
    assert not any("Planning the fix" in str(t) for t in texts)
    state = OperationState.from_events(h.events)
    html = render_static(state)["text/html"]
    assert html.count('class="mira-thinking"') == 3 and "<details open" not in html.split("mira-thinking")[1]
    assert "∴ thinking (orchestrator · plan)" in render_static(state)["text/plain"]


def test_the_event_log_keeps_the_summaries(project, tmp_path):
    db = tmp_path / "log.duckdb"
    script = _script()
    h = Harness(project, script, provider_settings=ONLY_ORCH)
    recorder = Recorder(db, SessionInfo.current(str(project), "s1"))
    h.bus.subscribe(recorder)
    op = h.engine.run("Explain what the loader returns", RunOptions(mode="planned"))
    assert recorder.close()
    stored = [e for e in load_events(db, op.id) if e.type == "ReasoningSummary"]
    assert [e.text.splitlines()[0] for e in stored] == [
        "**Planning the fix**", "**Choosing a tool**", "**Writing the answer**"
    ]
    # rebuilt from the log, the operation shows the same thinking lines
    html = render_static(OperationState.from_events(load_events(db, op.id)))["text/html"]
    assert html.count('class="mira-thinking"') == 3


def test_a_call_other_than_submit_plan_in_the_planning_reply_is_answered_as_not_run(project):
    # every call of the planning reply used to be answered "Plan recorded:", unlogged: a
    # read_file there told the model the file read was a plan
    plan = plan_turn("Report")
    plan["tool_calls"].append({"name": "read_file", "arguments": {"path": "app.py"}})
    script = mt.Script({ORCH: [plan, "Reported.", "Done."]})
    h = Harness(project, script, provider_settings=ONLY_ORCH)
    op = h.engine.run("Explain the loader", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    outputs = [i["output"] for i in _responses_requests(script)[1].body["input"] if i.get("type") == "function_call_output"]
    assert len(outputs) == 2 and outputs[0].startswith("Plan recorded:")
    assert "there is no tool named 'read_file'" in outputs[1] and "Plan recorded" not in outputs[1]
    finished = [(e.tool, e.status, e.denial_reason) for e in h.of("ToolCallFinished")]
    assert ("read_file", "denied", "unknown_tool") in finished
