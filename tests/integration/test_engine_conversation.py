"""The conversation across operations, in the engine: what is carried, what is dropped."""

from __future__ import annotations

import pytest
from engine_helpers import EXEC, ORCH, Harness, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.ui.state import OperationState
from mira_jupyter.ui.text import header_line


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "README.md").write_text("# Loader\n")
    return tmp_path


def users(request) -> list[str]:
    """The user turns, without the mode instructions the engine adds after a request."""
    return [
        m["content"]
        for m in request.messages
        if m["role"] == "user" and not m["content"].startswith("Project snapshot:")
    ]


def assistants(request) -> list[str]:
    return [m["content"] for m in request.messages if m["role"] == "assistant"]


def test_newest_turns_are_kept_first_and_older_ones_dropped_whole(project):
    script = mt.Script({ORCH: [{"text": "ok", "repeat": True}]})
    h = Harness(project, script, history_tokens=260)
    simple = RunOptions(mode="simple")
    first = h.engine.run("one " * 100, simple)  # ~100 tokens each
    h.engine.run("two " * 100, simple)
    third = h.engine.run("three " * 100, simple)
    h.engine.run("four", simple)
    last = script.requests[-1]
    # the budget fits two turns: three and two are carried, one is dropped, oldest first
    assert users(last) == ["two " * 100, "three " * 100, "four"]
    started = h.of("OperationStarted")[-1]
    assert (started.history_turns, started.history_dropped) == (2, 1)
    assert started.parent_operation_id == third.id and started.conversation_id == first.conversation_id
    assert 0 < started.history_tokens <= 260
    state = OperationState()
    state.apply(started)
    assert "carries 2 earlier turns" in header_line(state) and "1 older turn dropped" in header_line(state)


def test_a_newest_turn_too_big_for_the_budget_is_carried_cut_then_dropped_whole(project):
    script = mt.Script({ORCH: [{"text": "ok", "repeat": True}]})
    h = Harness(project, script, history_tokens=120)
    h.engine.run("big " * 500, RunOptions(mode="simple"))
    h.engine.run("small", RunOptions(mode="simple"))
    # the follow-up knows what came before: the big turn, cut with a marker, within budget
    (carried, asked) = users(script.requests[-1])
    assert carried.startswith("big big") and "left out to fit Mira.history_tokens" in carried
    assert asked == "small" and h.of("OperationStarted")[-1].history_dropped == 0
    # once the newer turn is carried, the big one is dropped whole, never cut again
    h.engine.run("and again", RunOptions(mode="simple"))
    assert users(script.requests[-1]) == ["small", "and again"]
    assert h.of("OperationStarted")[-1].history_dropped == 1


def test_cancelled_turns_are_carried_as_cancelled(project):
    script = mt.Script({ORCH: [{"text": "ok", "repeat": True}]})
    h = Harness(project, script)
    cancel = CancelToken()
    cancel.cancel("stopped with the Stop button")
    h.engine.run("do a thing", RunOptions(mode="simple"), cancel)
    h.engine.run("what happened?", RunOptions(mode="simple"))
    (carried,) = assistants(script.requests[-1])
    assert carried.startswith("[This turn was cancelled by the user before it finished")


def test_plan_only_skills_and_resumed_plans_take_part(project):
    script = mt.Script(
        {
            ORCH: [
                plan_turn("Look around"),  # plan-only operation
                "not yet",  # the simple question after it
                "looked",  # the task turn of the resumed plan
                "Resumed and done.",  # its answer
                "The skill said hi.",  # the skill's compose
                {"text": "ok", "repeat": True},
            ],
            EXEC: ["Refactoring report: hi."],
        }
    )
    h = Harness(project, script)
    planned = h.engine.run("survey the project", RunOptions(plan_only=True))
    h.engine.run("and now?", RunOptions(mode="simple"))
    carried = assistants(script.requests[-1])[0]
    assert carried.startswith("[This turn made a plan and stopped") and "1. Look around" in carried
    resumed = h.engine.resume(planned.id)
    assert resumed.status == "completed", resumed.error
    # the resumed plan sees the turns before it, not itself
    resume_request = [r for r in script.requests if "Task 1 of 1" in str(r.messages)][0]
    assert users(resume_request)[0] == "and now?"
    h.engine.run("tidy it", RunOptions(skill="refactoring"))
    h.engine.run("summary?", RunOptions(mode="simple"))
    final = script.requests[-1]
    # the plan-only turn was replaced by its finished run, in place; the skill turn follows
    assert users(final) == ["survey the project", "and now?", "tidy it", "summary?"]
    assert assistants(final)[0] == "Resumed and done." and assistants(final)[2] == "The skill said hi."


def test_files_changed_are_carried_and_tool_transcripts_are_not(project):
    script = mt.Script(
        {
            ORCH: [
                plan_turn("Write notes"),
                {"tool_calls": [{"name": "generate_code", "arguments": {"path": "notes.md", "description": "notes"}}]},
                "written",
                "Wrote notes.md.",
                {"text": "ok", "repeat": True},
            ],
            EXEC: ["```\n# notes\n```"],
        }
    )
    h = Harness(project, script)
    op = h.engine.run("write notes.md", RunOptions(mode="planned"))
    assert op.files_changed == ["notes.md"], op.error
    h.engine.run("next", RunOptions(mode="simple"))
    last = script.requests[-1]
    assert assistants(last) == ["Wrote notes.md.\n\n[Files changed: notes.md]"]
    assert not [m for m in last.messages if m["role"] == "tool"]


def test_reset_starts_a_new_conversation(project):
    script = mt.Script({ORCH: [{"text": "ok", "repeat": True}]})
    h = Harness(project, script)
    a = h.engine.run("first", RunOptions(mode="simple"))
    old = h.engine.conversation.id
    assert h.engine.reset_conversation() != old
    b = h.engine.run("second", RunOptions(mode="simple"))
    assert users(script.requests[-1]) == ["second"]
    assert b.conversation_id != a.conversation_id and b.parent_operation_id is None
    c = h.engine.run("third", RunOptions(mode="simple", new_conversation=True))
    assert users(script.requests[-1]) == ["third"] and c.conversation_id not in (a.conversation_id, b.conversation_id)
