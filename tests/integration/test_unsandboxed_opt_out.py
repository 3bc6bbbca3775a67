"""Mira.allow_unsandboxed_commands: the explicit opt-out for machines where bubblewrap
cannot run. Off by default (nothing is offered); on, the command tools run as plain
processes, and every operation says so in a warning the log keeps. Never silent."""

from __future__ import annotations

import json
import os

import duckdb
import pytest
from engine_helpers import EXEC, ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.config import Mira
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.tools import bwrap, commands, run_code
from mira_jupyter.tools.scratch_host import ScratchHost

KEY = "sk-proj-UNSANDBOXED-NEVER-SEE-0123456789"
NO_BWRAP = bwrap.Availability(False, "bubblewrap (bwrap) is not installed: install it")


@pytest.fixture()
def no_bwrap(monkeypatch):
    monkeypatch.setattr(bwrap, "unavailable_reason", lambda: NO_BWRAP.reason)
    monkeypatch.setattr(commands, "check_available", lambda: NO_BWRAP)
    monkeypatch.setattr(run_code, "check_available", lambda: NO_BWRAP)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def _results(script: mt.Script, name: str) -> list[dict]:
    out = []
    for request in script.requests_for(ORCH):
        calls = {}
        for message in request.messages:
            for tc in message.get("tool_calls") or ():
                calls[tc["id"]] = tc["function"]["name"]
            if message.get("role") == "tool" and calls.get(message["tool_call_id"]) == name:
                out.append(message["content"])
    return [json.loads(text) for text in dict.fromkeys(out)]


def _offered(script: mt.Script) -> set[str]:
    return {name for r in script.requests_for(ORCH) for name in r.tool_names}


def test_it_is_off_by_default_and_read_from_the_environment(monkeypatch):
    assert Mira().allow_unsandboxed_commands is False
    assert Mira().engine_settings().allow_unsandboxed_commands is False
    monkeypatch.setenv("MIRA_ALLOW_UNSANDBOXED_COMMANDS", "1")
    assert Mira().engine_settings().allow_unsandboxed_commands is True


def test_off_nothing_runs_without_the_sandbox(tmp_path, no_bwrap):
    script = mt.Script({ORCH: [plan_turn("Run the tests"), "cannot", "No tests were run."]})
    h = Harness(tmp_path, script)
    h.engine.scratch = host = ScratchHost()
    try:
        h.engine.run("run the tests", RunOptions(mode="planned"))
    finally:
        host.close()
    assert not {"run_tests", "run_code"} & _offered(script)
    assert any("are not offered: bubblewrap" in n.message for n in h.of("Notice"))


def test_on_every_operation_is_warned_and_commands_run_without_keys(tmp_path, no_bwrap):
    code = "import os; print(sorted(k for k in os.environ if 'KEY' in k)); open('made.txt', 'w').write('x')"
    turns = [plan_turn("Run it"), call("run_tests", argv=["python", "-c", code]), "ran", "Ran it."]
    script = mt.Script({ORCH: turns + [plan_turn("Again"), "nothing", "Nothing to do."]})
    h = Harness(tmp_path, script, allow_unsandboxed_commands=True)
    first = h.engine.run("run it", RunOptions(mode="planned"))
    second = h.engine.run("again", RunOptions(mode="planned"))
    warned = [n for n in h.of("Notice") if "WITHOUT a sandbox" in n.message]
    assert [n.operation_id for n in warned] == [first.id, second.id]
    assert all(n.level == "warning" and "allow_unsandboxed_commands" in n.message for n in warned)
    finished = [e for e in h.of("ToolCallFinished") if e.tool == "run_tests"]
    assert finished and finished[0].status == "ok"
    (result,) = _results(script, "run_tests")
    assert "[]" in result["output"] and result["notes"][0].startswith("ran WITHOUT a sandbox")
    assert [c.path for c in first.file_changes] == ["made.txt"]


def test_on_run_code_runs_in_an_unsandboxed_scratch_kernel_and_says_so(tmp_path, no_bwrap):
    script = mt.Script(
        {ORCH: [plan_turn("Compute"), call("run_code", code="import os\n'OPENAI_API_KEY' in os.environ"), "done", "Done."]}
    )
    h = Harness(tmp_path, script, allow_unsandboxed_commands=True)
    h.engine.scratch = host = ScratchHost()
    try:
        h.engine.run("compute", RunOptions(mode="planned"))
    finally:
        host.close()
    (result,) = _results(script, "run_code")
    assert result["result"] == "False" and result["notes"][0].startswith("ran WITHOUT a sandbox")


def test_the_warning_is_kept_in_the_log(tmp_path, no_bwrap, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.chdir(tmp_path)
    ip = InteractiveShell.instance()
    try:
        ip.run_line_magic("load_ext", "mira_jupyter")
        for line in (f'Mira.orchestrator_model = "scripted:{ORCH}"', f'Mira.executor_model = "scripted:{EXEC}"',
                     'Mira.view = "text"', "Mira.allow_unsandboxed_commands = True"):
            ip.run_line_magic("config", line)
        mt.use_script(mt.Script({ORCH: [plan_turn("Look"), "ok", "Done."]}))
        op = ip.run_cell_magic("mira", "--mode planned", "look around")
        ip.run_line_magic("mira", "history")  # flushes the log
        database = ip._mira_magics.session.database
    finally:
        ip.run_line_magic("unload_ext", "mira_jupyter")
        InteractiveShell.clear_instance()
    con = duckdb.connect(database, read_only=True)
    rows = con.execute(
        "SELECT payload FROM operation_events WHERE operation_id = ? AND type = 'Notice'", [op.id]
    ).fetchall()
    assert any("WITHOUT a sandbox" in json.loads(p)["message"] for (p,) in rows)
    assert os.environ.get("OPENAI_API_KEY") == KEY  # the user's own environment is untouched
