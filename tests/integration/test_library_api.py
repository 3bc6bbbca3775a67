"""The library works without IPython: mira_jupyter.run() and mira_jupyter.connect()."""

from __future__ import annotations

import mira_jupyter
import mira_jupyter.testing as mt


def test_run_and_connect_without_ipython(tmp_path, monkeypatch, capsys):
    (tmp_path / "README.md").write_text("# Tiny\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MIRA_ORCHESTRATOR_MODEL", "scripted:gpt-5")
    monkeypatch.setenv("MIRA_EXECUTOR_MODEL", "scripted:deepseek-chat")
    monkeypatch.setattr(mira_jupyter, "_session", None)
    mt.use_script(mt.Script({"gpt-5": ["A tiny project."]}))
    op = mira_jupyter.run("what is this project?")
    assert op.status == "completed" and op.text == "A tiny project."
    assert "A tiny project." in capsys.readouterr().out
    con = mira_jupyter.connect()
    rows = con.execute("SELECT status, mode FROM operations").fetchall()
    assert rows == [("completed", "simple")]
    calls = con.execute("SELECT role, reasoning_effort, cost_total_usd > 0 FROM llm_calls").fetchall()
    assert calls == [("orchestrator", "low", True)]
    mira_jupyter.current_session().close()
