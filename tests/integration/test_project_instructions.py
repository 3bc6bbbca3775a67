"""AGENTS.md (or .mira/instructions.md) reaches every orchestrator and executor system prompt,
capped, in the stable part; unusable files are never put in a prompt and say why."""

from __future__ import annotations

import os

import pytest
from engine_helpers import EXEC, ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.config import Mira
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.engine.instructions import load_instructions
from mira_jupyter.llm.tokens import count_tokens
from mira_jupyter.tools.sandbox import Sandbox

SIMPLE = RunOptions(mode="simple")
RULE = "Indent with four spaces; run pytest with -q; keep {project_root} and {braces} literal."


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "README.md").write_text("# Demo\n")
    (root / "app.py").write_text("def f():\n    return 1\n")
    return root


def _systems(script: mt.Script, model: str) -> list[str]:
    return [r.messages[0]["content"] for r in script.requests if r.model == model]


def test_agents_md_reaches_every_system_prompt_of_a_planned_operation(project):
    (project / "AGENTS.md").write_text(f"# Rules\n{RULE}\n")
    script = mt.Script(
        {
            ORCH: [plan_turn("Read app.py"), call("read_project_file", paths=["app.py"]), "read", "Done."],
            EXEC: ["1 def f():"],
        }
    )
    op = Harness(project, script).engine.run("read app.py and tell me about it", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    orch, execs = _systems(script, ORCH), _systems(script, EXEC)
    assert orch and execs
    for system in orch + execs:
        assert RULE in system and "from AGENTS.md" in system
    # the same text every call: the prefix cache keeps hitting
    assert len(set(orch)) == 1


def test_simple_mode_gets_the_instructions_before_the_snapshot(project):
    (project / "AGENTS.md").write_text(RULE)
    script = mt.Script({ORCH: ["It returns 1."]})
    op = Harness(project, script).engine.run("what does f in app.py return?", SIMPLE)
    assert op.mode == "simple"
    messages = script.requests[0].messages
    # in the orchestrator's stable system prompt; the snapshot ranked for the request comes
    # in a later message, after the request
    assert RULE in messages[0]["content"] and "Project snapshot:" not in messages[0]["content"]
    assert "Project snapshot:" in messages[-1]["content"]


def test_mira_instructions_md_is_the_fallback(project):
    (project / ".mira").mkdir()
    (project / ".mira" / "instructions.md").write_text(RULE)
    got = load_instructions(Sandbox(project), 2000)
    assert got.path == ".mira/instructions.md" and got.text == RULE and not got.truncated


def test_without_a_file_the_prompts_are_as_before(project):
    script = mt.Script({ORCH: ["ok"]})
    Harness(project, script).engine.run("what does f in app.py return?", SIMPLE)
    assert "Project instructions" not in script.requests[0].messages[0]["content"]


def test_a_long_file_is_capped_at_the_token_budget_with_a_marker(project):
    (project / "AGENTS.md").write_text("Use descriptive names for everything. " * 3000)
    got = load_instructions(Sandbox(project), 300)
    assert got.truncated and "truncated" in got.text
    body = got.text.split("\n[project instructions truncated")[0]
    assert count_tokens(body) <= 300
    assert "300 tokens, truncated" in got.status_line()
    script = mt.Script({ORCH: ["ok"]})
    Harness(project, script, instructions_tokens=300).engine.run("what does f in app.py return?", SIMPLE)
    system = script.requests[0].messages[0]["content"]
    assert "[project instructions truncated:" in system


def test_a_symlink_out_of_the_project_is_not_read(project, tmp_path):
    secret = tmp_path / "outside.md"
    secret.write_text("TOP SECRET outside the project")
    os.symlink(secret, project / "AGENTS.md")
    got = load_instructions(Sandbox(project), 2000)
    assert got.path is None and "outside" not in got.text
    assert "AGENTS.md" in (got.problem or "")
    script = mt.Script({ORCH: ["ok"]})
    Harness(project, script).engine.run("what does f in app.py return?", SIMPLE)
    assert "TOP SECRET" not in script.requests[0].messages[0]["content"]


def test_binary_and_empty_files_are_skipped_with_a_reason(project):
    (project / "AGENTS.md").write_bytes(b"\x00\x01binary")
    got = load_instructions(Sandbox(project), 2000)
    assert got.path is None and "binary" in got.problem
    (project / "AGENTS.md").write_text("   \n")
    (project / ".mira").mkdir()
    (project / ".mira" / "instructions.md").write_text(RULE)
    got = load_instructions(Sandbox(project), 2000)
    assert got.path == ".mira/instructions.md"  # the empty AGENTS.md does not block it


def test_zero_tokens_turns_them_off(project):
    (project / "AGENTS.md").write_text(RULE)
    got = load_instructions(Sandbox(project), 0)
    assert got.path is None and "turned off" in got.status_line()


def test_the_trait_default_env_and_bounds(monkeypatch):
    assert Mira().instructions_tokens == 2000
    monkeypatch.setenv("MIRA_INSTRUCTIONS_TOKENS", "500")
    assert Mira().engine_settings().instructions_tokens == 500
    with pytest.raises(Exception, match="instructions_tokens must be between 0 and 50000"):
        Mira(instructions_tokens=-1)
    monkeypatch.setenv("MIRA_INSTRUCTIONS_TOKENS", "lots")
    with pytest.raises(ValueError, match="MIRA_INSTRUCTIONS_TOKENS must be a whole number"):
        Mira().instructions_tokens  # noqa: B018
