"""run_tests in a planned operation: the agent writes a failing test, runs it, fixes the code
and runs it green, and each task's status follows the real exit codes (real pytest, really
run inside bubblewrap, the scripted model over the real openai SDK)."""

from __future__ import annotations

import json

import pytest
from engine_helpers import EXEC, ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.testing.sandbox_required import require_bwrap
from mira_jupyter.tools import bwrap

require_bwrap()

BUGGY = (
    "def mean(values):\n    return sum(values) / len(values)\n\n\n"
    "def median(values):\n    ordered = sorted(values)\n    return ordered[len(ordered) // 2]\n"
)
FIXED = (
    "def mean(values):\n    return sum(values) / len(values)\n\n\n"
    "def median(values):\n    ordered = sorted(values)\n    mid = len(ordered) // 2\n"
    "    if len(ordered) % 2:\n        return ordered[mid]\n"
    "    return (ordered[mid - 1] + ordered[mid]) / 2\n"
)
TEST = "from stats import median\n\n\ndef test_even_median():\n    assert median([1, 2, 3, 4]) == 2.5\n"


@pytest.fixture()
def project(tmp_path):
    """The quickstart notebook's tiny_stats project."""
    root = tmp_path / "tiny_stats"
    root.mkdir()
    (root / ".gitignore").write_text(".mira/\n__pycache__/\n")
    (root / "README.md").write_text("# Tiny Stats\n\nSmall statistics helpers.\n")
    (root / "stats.py").write_text(BUGGY)
    return root


def _tool_results(script: mt.Script, name: str) -> list[dict]:
    """What the orchestrator was told by each `name` call, in order."""
    out = []
    for request in script.requests_for(ORCH):
        calls = {}
        for message in request.messages:
            for tc in message.get("tool_calls") or ():
                calls[tc["id"]] = tc["function"]["name"]
            if message.get("role") == "tool" and calls.get(message["tool_call_id"]) == name:
                out.append(message["content"])
    return [json.loads(text) for text in dict.fromkeys(out)]


def test_failing_test_then_fix_then_green(project):
    script = mt.Script(
        {
            ORCH: [
                plan_turn("Add a failing test for the median of an even-length list", "Fix median"),
                call("generate_code", path="test_stats.py", description="test median([1,2,3,4]) == 2.5"),
                call("run_tests", argv=["pytest", "-q", "test_stats.py"], expect="fail"),
                "The new test fails as expected.",
                call("debug_code", path="stats.py", error_message="median of an even-length list is wrong"),
                call("run_tests", argv=["pytest", "-q", "test_stats.py"]),
                "The test passes now.",
                "Fixed **median** in stats.py; test_stats.py covers it.",
            ],
            EXEC: [
                f"```python\n{TEST}```\nAdded the test.",
                f"```python\n{FIXED}```\nAveraged the middle pair.",
            ],
        }
    )
    h = Harness(project, script)
    op = h.engine.run("Add a test for median on even lists, then fix median", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    first, second = _tool_results(script, "run_tests")
    assert first["exit_code"] == 1 and "1 failed" in first["output"] and first["as_expected"] is True
    assert second["exit_code"] == 0 and "1 passed" in second["output"] and second["as_expected"] is True
    assert [t.status for t in op.tasks] == ["completed", "completed"]
    assert (project / "stats.py").read_text() == FIXED
    finished = [e for e in h.of("ToolCallFinished") if e.tool == "run_tests"]
    assert [e.status for e in finished] == ["ok", "ok"]


def test_a_task_claimed_done_while_its_tests_fail_is_failed(project):
    (project / "test_stats.py").write_text(TEST)
    script = mt.Script(
        {
            ORCH: [
                plan_turn("Make the median test pass"),
                call("run_tests", argv=["pytest", "-q"]),
                call("update_tasks", updates=[{"task": 1, "status": "completed", "note": "all good"}]),
                "All good.",
            ],
        }
    )
    op = Harness(project, script).engine.run("make the median test pass", RunOptions(mode="planned"))
    (task,) = op.tasks
    assert task.status == "failed" and "exit 1" in task.error and "expected passing" in task.error
    # the orchestrator is told that its report did not stand
    update = _tool_results(script, "update_tasks")[0]
    assert "task 1 failed" in update["summary"]


def test_run_tests_is_not_offered_without_a_sandbox(project, monkeypatch):
    monkeypatch.setattr(bwrap, "unavailable_reason", lambda: "bubblewrap (bwrap) is not installed: install it")
    script = mt.Script({ORCH: [plan_turn("Run the tests"), "cannot", "No tests were run."]})
    h = Harness(project, script)
    op = h.engine.run("run the tests", RunOptions(mode="planned"))
    assert op.status == "completed"
    offered = {name for r in script.requests_for(ORCH) for name in r.tool_names}
    assert "run_tests" not in offered and "generate_code" in offered
    notices = [n.message for n in h.of("Notice")]
    assert any("run_tests and run_code are not offered: bubblewrap (bwrap) is not installed" in m for m in notices)


def test_mira_commands_empty_offers_no_commands(project):
    script = mt.Script({ORCH: [plan_turn("Look"), "ok", "Done."]})
    Harness(project, script, commands=()).engine.run("look around", RunOptions(mode="planned"))
    offered = {name for r in script.requests_for(ORCH) for name in r.tool_names}
    assert "run_tests" not in offered


def test_files_a_command_changed_are_undone_by_mira_undo(tmp_path, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    project = tmp_path / "proj"
    project.mkdir()
    (project / "data.py").write_text("rows = [1, 2, 3]\n")
    (project / "old.txt").write_text("keep me\n")
    monkeypatch.chdir(project)
    ip = InteractiveShell.instance()
    try:
        ip.run_line_magic("load_ext", "mira_jupyter")
        ip.run_line_magic("config", f'Mira.orchestrator_model = "scripted:{ORCH}"')
        ip.run_line_magic("config", f'Mira.executor_model = "scripted:{EXEC}"')
        ip.run_line_magic("config", 'Mira.view = "text"')
        code = (
            "import os; open('data.py', 'w').write('rows = ()\\n'); "
            "open('made.txt', 'w').write('new'); os.remove('old.txt')"
        )
        mt.use_script(
            mt.Script({ORCH: [plan_turn("Run a script"), call("run_tests", argv=["python", "-c", code]), "ran", "Ran it."]})
        )
        op = ip.run_cell_magic("mira", "--mode planned", "run the script")
        assert sorted(op.files_changed) == ["data.py", "made.txt", "old.txt"]
        assert not (project / "old.txt").exists()
        report = ip.run_line_magic("mira", f"undo {op.id}")
        assert (project / "data.py").read_text() == "rows = [1, 2, 3]\n"
        assert (project / "old.txt").read_text() == "keep me\n"
        assert not (project / "made.txt").exists()
        assert sorted(report.restored) == ["data.py", "old.txt"] and report.removed == ["made.txt"]
    finally:
        ip.run_line_magic("unload_ext", "mira_jupyter")
        InteractiveShell.clear_instance()
