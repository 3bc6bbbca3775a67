"""Commands outside ``Mira.commands`` ask before they run (really run in bubblewrap)."""

from __future__ import annotations

import pytest
from engine_helpers import ORCH, call, plan_turn
from test_approvals import Answering, logged_tool_calls, orchestrator_was_told

import mira_jupyter.testing as mt
from mira_jupyter.config import Mira
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.session import Session
from mira_jupyter.testing.sandbox_required import require_bwrap

require_bwrap()

PLANNED = RunOptions(mode="planned")


@pytest.fixture()
def session(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    config = Mira()
    config.project_root = str(project)
    config.database = str(tmp_path / "log.duckdb")
    config.orchestrator_model = f"scripted:{ORCH}"
    config.executor_model = "scripted:deepseek-chat"
    s = Session(config)
    yield s
    s.close()


def command_script(*argv: str) -> mt.Script:
    return mt.use_script(
        mt.Script({ORCH: [plan_turn("Run it"), call("run_tests", argv=list(argv)), "Ran.", "Done."]})
    )


def test_a_program_outside_mira_commands_runs_once_approved(session):
    command_script("touch", "made.txt")
    view = Answering(session, True)
    op = session.run("make a file", PLANNED, view=view)
    (asked,) = view.of("ApprovalRequested")
    assert asked.kind == "command" and asked.argv == ["touch", "made.txt"] and asked.tool == "run_tests"
    assert asked.why == "'touch' is not in Mira.commands"
    root = session.config.resolved_root()
    assert (root / "made.txt").exists()
    assert [c.path for c in op.file_changes] == ["made.txt"] and op.file_changes[0].new_content == b""


def test_a_rejected_command_does_not_run_and_the_model_is_told(session):
    script = command_script("touch", "made.txt")
    session.run("make a file", PLANNED, view=Answering(session, False))
    assert not (session.config.resolved_root() / "made.txt").exists()
    assert orchestrator_was_told(script, "rejected by the user: the command touch made.txt was not done")
    assert ("run_tests", "denied", "rejected_by_user") in [r[:3] for r in logged_tool_calls(session)]


def test_without_a_front_end_a_program_outside_mira_commands_is_refused(session):
    script = command_script("touch", "made.txt")
    session.run("make a file", PLANNED)
    assert not (session.config.resolved_root() / "made.txt").exists()
    assert orchestrator_was_told(script, "add 'touch' to Mira.commands")
    assert ("run_tests", "denied", "approval_unavailable") in [r[:3] for r in logged_tool_calls(session)]


def test_a_listed_program_runs_unasked_unless_approve_is_always(session):
    command_script("pytest", "-q", "test_ok.py")
    view = Answering(session)
    session.run("run the tests", PLANNED, view=view)
    assert not view.of("ApprovalRequested")
    command_script("pytest", "-q", "test_ok.py")
    view = Answering(session, False)
    session.run("run the tests", RunOptions(mode="planned", approve="always"), view=view)
    (asked,) = view.of("ApprovalRequested")
    assert asked.argv == ["pytest", "-q", "test_ok.py"] and asked.why == "Mira.approve = always"


def code_script(code: str) -> mt.Script:
    return mt.use_script(mt.Script({ORCH: [plan_turn("Check it"), call("run_code", code=code), "Ran.", "Done."]}))


MAKES_A_FILE = "open('made.txt', 'w').write('x')\nprint('wrote it')"


def test_under_approve_always_run_code_shows_its_code_and_runs_once_approved(session):
    code_script(MAKES_A_FILE)
    view = Answering(session, True)
    op = session.run("make a file", RunOptions(mode="planned", approve="always"), view=view)
    (asked,) = view.of("ApprovalRequested")
    assert (asked.kind, asked.tool, asked.code, asked.why) == ("code", "run_code", MAKES_A_FILE, "Mira.approve = always")
    assert (session.config.resolved_root() / "made.txt").read_text() == "x"
    assert [c.path for c in op.file_changes] == ["made.txt"]


def test_under_approve_always_rejected_code_never_runs_and_the_model_is_told(session):
    script = code_script(MAKES_A_FILE)
    session.run("make a file", RunOptions(mode="planned", approve="always"), view=Answering(session, False))
    assert not (session.config.resolved_root() / "made.txt").exists()
    assert orchestrator_was_told(script, "rejected by the user: the run_code call (2 lines of Python) was not done")
    assert ("run_code", "denied", "rejected_by_user") in [r[:3] for r in logged_tool_calls(session)]


def test_under_approve_always_without_a_front_end_code_is_refused(session):
    script = code_script(MAKES_A_FILE)
    session.run("make a file", RunOptions(mode="planned", approve="always"))
    assert not (session.config.resolved_root() / "made.txt").exists()
    assert orchestrator_was_told(script, "needs approval (Mira.approve = always)")
    assert ("run_code", "denied", "approval_unavailable") in [r[:3] for r in logged_tool_calls(session)]


def test_run_code_runs_unasked_under_approve_writes(session):
    code_script(MAKES_A_FILE)
    view = Answering(session)
    session.run("make a file", RunOptions(mode="planned", approve="writes"), view=view)
    assert not view.of("ApprovalRequested")
    assert (session.config.resolved_root() / "made.txt").exists()
