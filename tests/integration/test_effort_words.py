"""Effort words in any case and the models that take none (r14c L5), checked against the
requests the scripted model received through the real openai SDK."""

from __future__ import annotations

import pytest

import mira_jupyter.testing as mt
from mira_jupyter.engine.bus import EventBus
from mira_jupyter.engine.engine import Engine, RunOptions
from mira_jupyter.engine.settings import EngineSettings
from mira_jupyter.llm.capabilities import normalize_effort


def _plan() -> dict:
    task = {"description": "Read app.py", "active_form": "Reading app.py"}
    return {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [task]}}]}


def _engine(tmp_path, orchestrator: str = "gpt-5") -> tuple[Engine, list, mt.Script]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    events: list = []
    bus = EventBus()
    bus.subscribe(events.append)
    script = mt.Script({orchestrator: [_plan(), "Done.", "Done.", "Done."]})
    mt.use_script(script)
    settings = EngineSettings(
        project_root=tmp_path, orchestrator_model=f"scripted:{orchestrator}", executor_model="scripted:deepseek-chat"
    )
    return Engine(settings, bus), events, script


def _estimate(tmp_path, word: str):
    engine, events, script = _engine(tmp_path)
    op = engine.run("read app.py", RunOptions(mode="planned", plan_only=True, reasoning=word))
    assert op.status == "planned", op.error
    # -r sets the plan's effort too, sent as the level it names
    assert script.requests[0].reasoning_effort == normalize_effort(word)
    return next(e.estimated_cost_usd for e in events if e.type == "PlanGenerated")


@pytest.mark.parametrize(("typed", "word"), [("Low", "low"), ("QUICK", "low"), ("High", "high"), ("Medium ", "medium")])
def test_a_plan_estimate_reads_the_effort_word_in_any_case(tmp_path, typed, word):
    # the estimate's reasoning allowance looked the word up as typed: "Low" was priced as high
    # the same project name in both: the prompt, and so the estimate, differs only by the word
    assert _estimate(tmp_path / "typed" / "proj", typed) == _estimate(tmp_path / "word" / "proj", word)


def test_the_effort_words_differ_in_the_estimate(tmp_path):
    assert _estimate(tmp_path / "low" / "proj", "low") < _estimate(tmp_path / "high" / "proj", "high")


@pytest.mark.parametrize("model", ["o1-mini", "o1-preview", "o1-mini-2024-09-12"])
def test_o1_mini_and_preview_are_sent_no_reasoning_effort(tmp_path, model):
    # they accept no reasoning_effort (the API answers one with HTTP 400); they still think,
    # so their hidden reasoning gets an output allowance
    engine, _, script = _engine(tmp_path, model)
    op = engine.run("read app.py", RunOptions(mode="planned", plan_only=True, reasoning="High"))
    assert op.status == "planned", op.error
    assert [r.reasoning_effort for r in script.requests] == [None]
    assert (script.requests[0].body.get("max_completion_tokens") or script.requests[0].body.get("max_tokens")) > 2_048


def test_o1_still_gets_its_effort(tmp_path):
    engine, _, script = _engine(tmp_path, "o1")
    op = engine.run("read app.py", RunOptions(mode="planned", plan_only=True))
    assert op.status == "planned", op.error
    assert [r.reasoning_effort for r in script.requests] == ["high"]  # Mira.reasoning_planning
