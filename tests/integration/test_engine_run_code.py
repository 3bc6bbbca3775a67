"""run_code and inspect_variable through the engine: offered to the orchestrator only where
they can work, called through the one dispatcher, results the model reads (real scratch
kernel in bubblewrap, scripted model over the real openai SDK)."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
from engine_helpers import ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.tools import bwrap
from mira_jupyter.tools.inspect_variable import UserNamespace
from mira_jupyter.tools.scratch_host import ScratchHost


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


@pytest.mark.skipif(not bwrap.check_available().ok and not os.environ.get("MIRA_REQUIRE_BWRAP"), reason="no bubblewrap")
def test_the_orchestrator_runs_code_and_changes_are_recorded(tmp_path):
    (tmp_path / "stats.py").write_text("def mean(v):\n    return sum(v) / len(v)\n")
    script = mt.Script(
        {ORCH: [
            plan_turn("Check mean"),
            call("run_code", code="from stats import mean\nopen('out.txt', 'w').write('x')\nmean([1, 2, 3, 4])"),
            "mean works.",
            "mean([1,2,3,4]) is 2.5.",
        ]}
    )
    h = Harness(tmp_path, script)
    h.engine.scratch = host = ScratchHost()
    try:
        op = h.engine.run("check mean", RunOptions(mode="planned"))
    finally:
        host.close()
    assert op.status == "completed", op.error
    (result,) = _results(script, "run_code")
    assert result["result"] == "2.5" and result["succeeded"] is True
    assert "run_code" in _offered(script) and "inspect_variable" not in _offered(script)
    assert [c.path for c in op.file_changes] == ["out.txt"]


def test_run_code_is_not_offered_without_python_in_mira_commands(tmp_path):
    script = mt.Script({ORCH: [plan_turn("Look"), "ok", "Done."]})
    h = Harness(tmp_path, script, commands=("pytest",))
    h.engine.scratch = host = ScratchHost()
    try:
        h.engine.run("look", RunOptions(mode="planned"))
    finally:
        host.close()
    assert "run_code" not in _offered(script)


def test_the_orchestrator_inspects_a_notebook_variable(tmp_path):
    df = pd.DataFrame({"a": [1, None, 3]})
    script = mt.Script({ORCH: [plan_turn("Look at df"), {"tool_calls": [{"name": "inspect_variable", "arguments": {"name": "df"}}]}, "seen", "df has 3 rows."]})
    h = Harness(tmp_path, script)
    h.engine.user_namespace = UserNamespace({"df": df})
    op = h.engine.run("describe df", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    (result,) = _results(script, "inspect_variable")
    assert result["shape"] == [3, 1] and result["null_counts"] == {"'a'": 1}
    assert "inspect_variable" in _offered(script)
