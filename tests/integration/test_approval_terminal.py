"""Terminal IPython asks on the prompt: a real ``ipython`` on a pseudo-terminal (pexpect, which
IPython itself depends on), the scripted model served over HTTP, a real write and its log."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from mira_jupyter.testing.agent_demo import agent_demo_responder  # noqa: E402
from mira_jupyter.testing.script import Script  # noqa: E402
from mira_jupyter.testing.server import ScriptedServer  # noqa: E402

IPYTHON = Path(sys.executable).with_name("ipython")
PROMPT = r"In \[\d+\]: "


def _ipython(project: Path, base_url: str):
    child = pexpect.spawn(
        str(IPYTHON),
        ["--no-banner", "--colors=NoColor", "--simple-prompt", "--HistoryManager.hist_file=:memory:"],
        cwd=str(project),
        env={"PATH": str(IPYTHON.parent) + ":/usr/bin:/bin", "HOME": str(project), "TERM": "dumb"},
        encoding="utf-8",
        timeout=120,
    )
    child.expect(PROMPT)
    for line in (
        "%load_ext mira_jupyter",
        f'%config Mira.compatible_base_url = "{base_url}"',
        '%config Mira.orchestrator_model = "compatible:gpt-5"',
        '%config Mira.executor_model = "compatible:deepseek-chat"',
    ):
        child.sendline(line)
        child.expect(PROMPT)
    return child


@pytest.mark.parametrize(("answer", "applied"), [("y", True), ("n", False)])
def test_terminal_ipython_asks_with_the_diff(tmp_path, answer, applied):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "loader.py").write_text("import csv\n\n\ndef load(path):\n    return list(csv.reader(open(path)))\n")
    with ScriptedServer(Script(responder=agent_demo_responder, name="terminal")) as server:
        child = _ipython(project, server.base_url)
        try:
            child.sendline(
                'op = get_ipython().run_cell_magic("mira", "--approve writes --mode planned", '
                '"Add a module docstring to loader.py")'
            )
            child.expect(r"Apply it\? \[y/N\] ")
            asked = child.before
            assert "mira wants to change loader.py (+2 −0)" in asked
            assert "+++ b/loader.py" in asked and "Mira.approve = writes" in asked
            child.sendline(answer)
            child.expect(PROMPT)
            child.sendline("print('RESULT', op.status, op.files_changed)")
            child.expect(r"RESULT .*\r?\n")
            result = child.after
        finally:
            child.sendline("exit")
            child.expect(pexpect.EOF)
    text = (project / "loader.py").read_text()
    if applied:
        assert "['loader.py']" in result and text.startswith('"""loader.py')
    else:
        assert "[]" in result and text.startswith("import csv")
