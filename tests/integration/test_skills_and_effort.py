"""Skills run as their model expects, effort words are sent as the model takes them, and
the log attributes and records both (issue 14, items 1 and 4): through the real openai SDK,
the scripted model and a real DuckDB log, checked against the recorded requests."""

from __future__ import annotations

import duckdb
import pytest
from engine_helpers import EXEC, ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.engine import prompts
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.engine.settings import EngineSettings
from mira_jupyter.store.recorder import Recorder
from mira_jupyter.store.session import SessionInfo


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "loader.py").write_text("def load(path):\n    return open(path).read()\n")
    return root


def _logged(h: Harness, db):
    recorder = Recorder(db, SessionInfo.current(str(h.root), "s1"))
    h.bus.subscribe(recorder)
    return recorder


def _rows(db, sql: str, *params):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_an_orchestrator_skill_gets_the_effort_and_its_body_as_system_prompt(project):
    # debugging prefers the orchestrator: its call is the orchestrator model's, at -r high,
    # with the skill's guide in the system prompt (it used to get no effort and the
    # executor's prompt)
    script = mt.Script(
        {
            ORCH: ["Root cause: load() never closes the file.", "The file handle leaks."],
        }
    )
    h = Harness(project, script)
    op = h.engine.run("why does load leak?", RunOptions(skill="debugging", reasoning="high"))
    assert op.status == "completed", op.error
    skill_call, compose = script.requests_for(ORCH)
    assert skill_call.reasoning_effort == "high" and compose.reasoning_effort == "high"
    system = skill_call.messages[0]
    assert system["role"] == "system"
    assert system["content"].startswith(prompts.SKILL_ORCHESTRATOR.format(project_root="proj"))
    assert "# Debugging" in system["content"] and "why does load leak?" in system["content"]
    assert "You are the executor" not in system["content"]
    # the task, then the tools the skill may use (every skill is offered the same list)
    assert skill_call.messages[1]["role"] == "user"
    assert skill_call.messages[1]["content"].startswith("why does load leak?\n\nTools for this skill: ")
    assert script.requests_for(EXEC) == []


def test_an_orchestrator_skill_without_r_gets_the_execution_effort(project):
    script = mt.Script({ORCH: ["report", "answer"]})
    h = Harness(project, script, reasoning_execution="low")
    h.engine.run("fix it", RunOptions(skill="debugging"))
    assert [r.reasoning_effort for r in script.requests_for(ORCH)] == ["low", "low"]


def test_an_executor_skill_keeps_the_executor_prompt_with_the_body_after_it(project):
    script = mt.Script({EXEC: ["Nothing to split."], ORCH: ["Nothing to split."]})
    h = Harness(project, script)
    op = h.engine.run("tidy loader.py", RunOptions(skill="refactoring", reasoning="high"))
    assert op.status == "completed", op.error
    (skill_call,) = script.requests_for(EXEC)
    system = skill_call.messages[0]["content"]
    executor = prompts.EXECUTOR.format(project_root="proj", instructions="")
    assert system.startswith(executor + "\n\n# Refactoring")
    assert skill_call.reasoning_effort is None  # deepseek-chat takes none


def test_activate_skill_on_the_orchestrator_gets_the_execution_effort(project):
    script = mt.Script(
        {
            ORCH: [
                plan_turn("Debug the loader"),
                {"tool_calls": [{"name": "activate_skill", "arguments": {"name": "debugging", "task": "find the leak in load()"}}]},
                "Skill report: the handle leaks.",  # the skill's own reply
                "The skill found the leak.",  # the task turn after the skill
                "Answer: the handle leaks.",
            ]
        }
    )
    h = Harness(project, script, reasoning_execution="medium")
    op = h.engine.run("debug the loader", RunOptions(mode="planned", reasoning="deep"))
    assert op.status == "completed", op.error
    skill_request = script.requests_for(ORCH)[2]
    assert skill_request.messages[0]["content"].count("# Debugging") == 1
    assert skill_request.messages[1]["content"].startswith("find the leak in load()\n\nTools for this skill: ")
    # -r deep is sent as high (the word typed is kept in the log, see below)
    assert skill_request.reasoning_effort == "high"


def test_skill_costs_include_nested_delegations_and_operations_skill(project, tmp_path):
    db = tmp_path / "log.duckdb"
    script = mt.Script(
        {
            ORCH: [
                plan_turn("Debug the loader"),
                {"tool_calls": [{"name": "activate_skill", "arguments": {"name": "debugging", "task": "find the leak"}}]},
                # inside the skill: a delegation whose executor calls belong to the skill too
                call("get_file_structure", paths=["loader.py"]),
                "Skill report: load() leaks its handle.",
                "Done with the task.",
                "Answer.",
            ],
            EXEC: [call("extract_symbols", path="loader.py"), "loader.py: load(path)"],
        }
    )
    h = Harness(project, script)
    recorder = _logged(h, db)
    op = h.engine.run("debug the loader", RunOptions(mode="planned"))
    assert recorder.close()
    assert op.status == "completed", op.error
    calls = _rows(db, "SELECT purpose, skill FROM llm_calls ORDER BY started_at")
    assert calls == [
        ("plan", None),
        ("orchestrate", None),
        ("skill:debugging", "debugging"),
        ("delegate:get_file_structure", "debugging"),
        ("delegate:get_file_structure", "debugging"),
        ("skill:debugging", "debugging"),
        ("orchestrate", None),
        ("compose", None),
    ]
    by_skill = dict(_rows(db, "SELECT skill, calls FROM v_cost_by_skill"))
    assert by_skill == {"debugging": 4, None: 4}
    assert _rows(db, "SELECT skill FROM operations") == [("debugging",)]


def test_a_skill_mode_operation_attributes_every_call_to_its_skill(project, tmp_path):
    db = tmp_path / "log.duckdb"
    script = mt.Script({EXEC: ["report"], ORCH: ["answer"]})
    h = Harness(project, script)
    recorder = _logged(h, db)
    h.engine.run("tidy", RunOptions(skill="refactoring"))
    assert recorder.close()
    assert _rows(db, "SELECT purpose, skill FROM llm_calls ORDER BY started_at") == [
        ("skill:refactoring", "refactoring"),
        ("compose", "refactoring"),
    ]
    assert _rows(db, "SELECT skill, mode FROM operations") == [("refactoring", "skill")]


def test_minimal_goes_to_gpt5_as_minimal(project, tmp_path):
    # reasoning_simple="minimal" used to fail every operation with "internal error: ValueError"
    db = tmp_path / "log.duckdb"
    script = mt.Script({ORCH: ["Two."]})
    h = Harness(project, script, reasoning_simple="minimal")
    recorder = _logged(h, db)
    op = h.engine.run("what is 1+1?", RunOptions(mode="simple"))
    assert recorder.close()
    assert op.status == "completed", op.error
    assert script.requests_for(ORCH)[0].reasoning_effort == "minimal"
    assert _rows(db, "SELECT reasoning_effort, reasoning_requested FROM llm_calls") == [
        ("minimal", "minimal")
    ]


def test_minimal_becomes_low_on_a_model_without_it(project):
    script = mt.Script({"o3": ["Two."]})
    mt.use_script(script)
    h = Harness(project, script, reasoning_simple="minimal")
    h.settings.orchestrator_model = "scripted:o3"
    op = h.engine.run("what is 1+1?", RunOptions(mode="simple"))
    assert op.status == "completed", op.error
    assert script.requests_for("o3")[0].reasoning_effort == "low"


def test_the_log_stores_the_level_sent_and_the_word_asked(project, tmp_path):
    db = tmp_path / "log.duckdb"
    script = mt.Script({ORCH: [plan_turn("One"), "done", "answer"]})
    h = Harness(project, script, reasoning_planning="thorough")
    recorder = _logged(h, db)
    h.engine.run("do one thing", RunOptions(mode="planned"))
    assert recorder.close()
    rows = _rows(db, "SELECT purpose, reasoning_effort, reasoning_requested FROM llm_calls ORDER BY started_at")
    assert rows == [("plan", "high", "thorough"), ("orchestrate", "medium", "medium"), ("compose", "medium", "medium")]
    assert [r.reasoning_effort for r in script.requests_for(ORCH)] == ["high", "medium", "medium"]


def test_the_executor_is_logged_with_no_effort_sent(project, tmp_path):
    db = tmp_path / "log.duckdb"
    script = mt.Script({EXEC: ["report"], ORCH: ["answer"]})
    h = Harness(project, script)
    recorder = _logged(h, db)
    h.engine.run("tidy", RunOptions(skill="refactoring", reasoning="high"))
    assert recorder.close()
    assert _rows(db, "SELECT role, reasoning_effort FROM llm_calls ORDER BY started_at") == [
        ("executor", None),
        ("orchestrator", "high"),
    ]


@pytest.mark.parametrize("field", ["reasoning_planning", "reasoning_simple", "reasoning_execution"])
def test_a_bad_effort_in_the_settings_is_refused_when_set(tmp_path, field):
    with pytest.raises(ValueError, match=f"^{field}: unknown reasoning effort 'turbo'"):
        EngineSettings(project_root=tmp_path, **{field: "turbo"})
