"""``mt.offline()``: the README's one line that runs both roles on the scripted demo agent."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

import mira_jupyter.testing as mt


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("# Tiny Stats\n")
    monkeypatch.delenv("MIRA_ORCHESTRATOR_MODEL", raising=False)
    monkeypatch.delenv("MIRA_EXECUTOR_MODEL", raising=False)
    ip = InteractiveShell.instance()
    yield ip
    if getattr(ip, "_mira_magics", None) is not None:
        ip.run_line_magic("unload_ext", "mira_jupyter")
    InteractiveShell.clear_instance()


def test_one_line_switches_both_roles_to_the_demo_agent(shell, capsys):
    with pytest.raises(RuntimeError, match="load the extension first"):
        mt.offline(shell)
    shell.run_line_magic("load_ext", "mira_jupyter")
    shell.run_line_magic("config", 'Mira.view = "text"')
    script = mt.offline(shell)
    assert "mira: offline demo agent (scripted:gpt-5 orchestrates, scripted:deepseek-chat executes)" in capsys.readouterr().out
    config = shell._mira_magics.mira_config
    assert (config.orchestrator_model, config.executor_model) == ("scripted:gpt-5", "scripted:deepseek-chat")
    op = shell.run_cell_magic("mira", "", "What is this project about?")
    assert op.status == "completed" and "Tiny Stats" in op.text
    assert script.requests and all(r.body["model"] in ("gpt-5", "deepseek-chat") for r in script.requests)
