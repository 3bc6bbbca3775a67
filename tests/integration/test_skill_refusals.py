"""A skill file the engine refuses (an unknown tool in `allowed_tools`) is said, not silently
dropped (r14c L4): one warning per session naming the tool and the file, and running the
skill by name says why it did not load instead of "unknown skill"."""

from __future__ import annotations

import pytest
from engine_helpers import ORCH, Harness, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions

SKILL = """---
description: Review code for bugs
allowed_tools: [read_project_file, search_codbase]
---
Review {task}.
"""


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "proj"
    folder = root / ".mira" / "skills" / "review"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL)
    (root / "app.py").write_text("x = 1\n")
    return root


def _harness(project, tmp_path, turns) -> Harness:
    user = tmp_path / "user-skills"
    user.mkdir(exist_ok=True)
    return Harness(project, mt.Script({ORCH: turns}), user_skills_dir=user)


def test_a_skill_with_an_unknown_tool_is_warned_once_naming_the_tool_and_the_file(project, tmp_path):
    h = _harness(project, tmp_path, ["One.", "Two."])
    for _ in range(2):
        op = h.engine.run("what is x?", RunOptions(mode="simple"))
        assert op.status == "completed", op.error
    warned = [e.message for e in h.of("Notice") if "skill not loaded" in e.message]
    assert len(warned) == 1  # once per session, not once per operation
    assert "search_codbase" in warned[0] and str(project / ".mira" / "skills" / "review" / "SKILL.md") in warned[0]
    assert "read_project_file" in warned[0]  # the known names, to pick the right one


def test_running_a_refused_skill_by_name_says_why_it_did_not_load(project, tmp_path):
    h = _harness(project, tmp_path, ["unused"])
    op = h.engine.run("review app.py", RunOptions(skill="review"))
    assert op.status == "failed"
    assert "skill 'review' did not load" in op.error and "search_codbase" in op.error
    assert "unknown skill" not in op.error


def test_the_orchestrator_activating_a_refused_skill_is_told_why(project, tmp_path):
    activate = {"tool_calls": [{"name": "activate_skill", "arguments": {"name": "review", "task": "review app.py"}}]}
    turns = [plan_turn("Review app.py"), activate, "ok", "Done."]
    h = _harness(project, tmp_path, turns)
    op = h.engine.run("review app.py", RunOptions(mode="planned"))
    denied = [e for e in h.of("ToolCallFinished") if e.tool == "activate_skill"]
    assert [e.status for e in denied] == ["denied"], op.error
    assert "did not load" in (denied[0].error or "") and "search_codbase" in (denied[0].error or "")


def test_a_refused_override_of_a_built_in_skill_is_said_each_time_the_built_in_runs(tmp_path):
    # r14d F5: a user's debugging.md with bad frontmatter was refused and the built-in
    # 'debugging' ran in its place, said only once per session as "skill not loaded"
    project = tmp_path / "proj"
    project.mkdir()
    user = tmp_path / "user-skills"
    user.mkdir()
    (user / "debugging.md").write_text("---\ndescription: [unclosed\n---\nMy way of debugging {task}\n")
    activate = {"tool_calls": [{"name": "activate_skill", "arguments": {"name": "debugging", "task": "fix x"}}]}
    # the built-in debugging runs on the orchestrator: its report, then the composed answer
    turns = ["report", "fixed", plan_turn("Fix x"), activate, "report", "ok", "Done."]
    h = Harness(project, mt.Script({ORCH: turns}), user_skills_dir=user)
    first = h.engine.run("fix x", RunOptions(skill="debugging"))
    second = h.engine.run("fix x", RunOptions(mode="planned"))
    assert first.status == second.status == "completed", (first.error, second.error)
    said = [e.message for e in h.of("Notice") if "runs instead" in e.message]
    line = (f"skill 'debugging': the override {user / 'debugging.md'} was refused (invalid YAML in the "
            "frontmatter at line 3")  # fmt: skip
    assert len(said) == 2 and all(s.startswith(line) for s in said), said
    assert all(s.endswith("; the built-in 'debugging' runs instead") and "\n" not in s for s in said)
    assert {e.operation_id for e in h.of("Notice") if "runs instead" in e.message} == {first.id, second.id}


def test_a_refused_file_that_overrides_nothing_says_no_override(tmp_path):
    from mira_jupyter.skills import SkillRegistry

    project, user, builtin = (tmp_path / n for n in ("proj", "user", "builtin"))
    for folder in (project / ".mira" / "skills", user, builtin):
        folder.mkdir(parents=True)
    (user / "review.md").write_text("---\ndescription: Review\n---\nReview {task}\n")
    (builtin / "review.md").write_text("---\ndescription: [bad\n---\nx\n")  # refused, but below the user's
    (project / ".mira" / "skills" / "lonely.md").write_text("---\ndescription: [bad\n---\nx\n")
    registry = SkillRegistry.discover(project, user_dir=user, builtin_dir=builtin)
    assert registry.get("review").source == "user"
    assert registry.refused_override("review") is None  # the refused file is below the one that runs
    assert registry.refused_override("lonely") is None  # nothing runs in its place
    (project / ".mira" / "skills" / "review.md").write_text("---\nallowed_tools: [nope]\n---\nx\n")
    registry.reload()
    assert registry.refused_override("review").endswith("; the user 'review' runs instead")
