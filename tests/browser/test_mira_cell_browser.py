"""A real ``%%mira`` cell in JupyterLab, against the scripted model served on 127.0.0.1.

The whole product runs: the extension in the notebook's kernel, the engine, the openai SDK
talking HTTP to the scripted model server started by this test, the sandboxed file tools
on a sample project, the DuckDB log and the live widget rendered by JupyterLab in Chromium.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from lab_harness import REPO_ROOT, write_notebook

from mira_jupyter.testing.agent_demo import agent_demo_responder
from mira_jupyter.testing.script import Script
from mira_jupyter.testing.server import ScriptedServer

pytestmark = pytest.mark.browser

SETUP_CELL = """\
%load_ext mira_jupyter
import pathlib
root = pathlib.Path("sample_project")
root.mkdir(exist_ok=True)
(root / "README.md").write_text("# Sales loader\\nLoads the monthly sales CSV.\\n")
(root / "loader.py").write_text("import csv\\n\\n\\ndef load_sales(path):\\n    with open(path) as f:\\n        return list(csv.DictReader(f))\\n")
%config Mira.project_root = "sample_project"
%config Mira.compatible_base_url = "{base_url}"
%config Mira.orchestrator_model = "compatible:gpt-5"
%config Mira.executor_model = "compatible:deepseek-chat"
%config Mira.view = "widget"
"""

MIRA_CELL = """\
%%mira --mode planned -o op
Add a module docstring to loader.py
"""

CHECK_CELL = """\
print(op.status, [t.status for t in op.tasks], op.files_changed)
print((root / "loader.py").read_text().splitlines()[0])
"""


def _slow(responder, seconds: float):
    # a visible pace, so the live widget can be seen mid-operation
    def respond(request):
        time.sleep(seconds)
        return responder(request)

    return respond


def test_mira_cell_shows_plan_and_tasks_live_and_all_complete(open_notebook, lab_root: Path, tmp_path):
    script = Script(responder=_slow(agent_demo_responder, 0.4), name="browser")
    with ScriptedServer(script) as server:
        write_notebook(
            lab_root / "mira_cell.ipynb",
            [SETUP_CELL.format(base_url=server.base_url), MIRA_CELL, CHECK_CELL],
        )
        nb = open_notebook("mira_cell.ipynb")
        page = nb.page
        # as a user would: Run All, then watch the cell while the operation runs
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        output = nb.cell_output(1)
        live = output.locator(".mira-operation-widget")
        live.wait_for(timeout=60_000)
        page.wait_for_function(
            """() => document.querySelectorAll(
                '.mira-operation-widget [data-mira-task-status]').length === 3""",
            timeout=60_000,
        )
        page.wait_for_function(
            """() => document.querySelector(
                '.mira-operation-widget [data-mira-task-status="in_progress"]') !== null""",
            timeout=60_000,
        )
        live_text = live.inner_text()
        shot = nb.screenshot(live, tmp_path / "mira_cell_live.png")
        assert "Surveying the project files" in live_text  # the active task's active form
        if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
            shutil.copyfile(shot, REPO_ROOT / "docs" / "mira_cell_live.png")
        nb.wait_idle(180_000)
        final = output.locator(".mira-operation")
        final.wait_for(timeout=60_000)
        tasks = final.locator("[data-mira-task-status]")
        assert tasks.count() == 3
        assert final.locator('[data-mira-task-status="completed"]').count() == 3
        text = final.inner_text()
        for task in ("Survey the project files", "Inspect the structure of loader.py", "Update loader.py"):
            assert task in text
        assert final.locator('[data-mira-status="completed"]').count() == 1
        checked = nb.cell_output(2).inner_text()
        assert "completed ['completed', 'completed', 'completed'] ['loader.py']" in checked
        assert '"""loader.py: part of the sample project' in checked

        shot = nb.screenshot(final, tmp_path / "mira_cell.png")
        if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
            shutil.copyfile(shot, REPO_ROOT / "docs" / "mira_cell.png")
        assert page is not None
    # every model request went over HTTP to the server, through the real SDK
    assert {r.model for r in script.requests} == {"gpt-5", "deepseek-chat"}
    assert not script.mismatches


STOP_SETUP_CELL = """\
%load_ext mira_jupyter
%config Mira.compatible_base_url = "{base_url}"
%config Mira.orchestrator_model = "compatible:gpt-5"
%config Mira.view = "widget"
"""

STOP_CELL = """\
%%mira --mode simple -o stopped
Explain this project in great detail.
"""

STOP_CHECK_CELL = """\
history = %mira history -n 1
print(stopped.status, history.iloc[0]["status"], stopped.cost_usd > 0)
"""


def test_stop_button_cancels_a_running_cell_like_an_interrupt(open_notebook, lab_root: Path):
    stall = {"text": "A long answer. " * 40, "fault": "stall", "stall_seconds": 120, "after_chunks": 3}
    script = Script({"gpt-5": [stall]})
    with ScriptedServer(script) as server:
        write_notebook(
            lab_root / "stop_cell.ipynb",
            [STOP_SETUP_CELL.format(base_url=server.base_url), STOP_CELL, STOP_CHECK_CELL],
        )
        nb = open_notebook("stop_cell.ipynb")
        page = nb.page
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        live = nb.cell_output(1).locator(".mira-operation-widget")
        live.wait_for(timeout=60_000)
        live.get_by_text("A long answer.").first.wait_for(timeout=30_000)  # streaming, then stalled
        started = time.monotonic()
        live.get_by_role("button", name="Stop").click()
        final = nb.cell_output(1).locator('.mira-operation [data-mira-status="cancelled"]')
        final.wait_for(timeout=30_000)
        print(f"Stop click to cancelled rendering: {time.monotonic() - started:.2f} s")
        nb.wait_idle(60_000)
        # the stopped cell ends interrupted, as one stopped with the kernel's interrupt: Run
        # All stops there, and the cell's output says so under the cancelled rendering
        nb.page.get_by_text("Interrupted: op_").first.wait_for(timeout=30_000)
        assert "stopped with the Stop button" in nb.cell_output(1).inner_text()
        assert not any(ch.isdigit() for ch in nb.prompt(2)), nb.prompt(2)
        nb.run_cell(2)
        assert "cancelled cancelled True" in nb.cell_output(2).inner_text()
