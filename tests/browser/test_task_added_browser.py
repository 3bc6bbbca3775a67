"""A task the orchestrator added while the plan ran is marked "(added)" in a real ``%%mira``
cell in JupyterLab. Screenshots wide (~1400 px) and narrow (~600 px), light and dark
(``KEEP_SCREENSHOTS``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lab_harness import write_notebook
from test_task_outcomes_browser import _theme

from mira_jupyter.testing.script import Script
from mira_jupyter.testing.server import ScriptedServer

pytestmark = pytest.mark.browser

SETUP_CELL = """\
%load_ext mira_jupyter
import pathlib
root = pathlib.Path("added_project")
root.mkdir(exist_ok=True)
(root / "app.py").write_text("def load():\\n    return 1\\n")
%config Mira.project_root = "added_project"
%config Mira.compatible_base_url = "{base_url}"
%config Mira.orchestrator_model = "compatible:gpt-5"
%config Mira.executor_model = "compatible:deepseek-chat"
%config Mira.view = "widget"
"""

MIRA_CELL = """\
%%mira --mode planned -o op
Read app.py and check what it loads
"""

CHECK_CELL = "print(op.status, [(t.description, t.status) for t in op.tasks])"


def _call(name, **arguments):
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def _script() -> Script:
    plan = _call("submit_plan", tasks=[{"description": "Read app.py", "active_form": "Reading app.py"}])
    added = _call(
        "update_tasks",
        add=[{"description": "Check the loader's callers", "reads_only": True}],
        updates=[{"task": 1, "status": "completed", "note": "read it"}],
    )
    return Script({"gpt-5": [plan, added, "added a task", "no callers", "load() returns 1."]}, name="added")


def test_an_added_task_is_marked_added(open_notebook, lab_root: Path, tmp_path):
    with ScriptedServer(_script()) as server:
        cells = [SETUP_CELL.format(base_url=server.base_url), MIRA_CELL, CHECK_CELL]
        write_notebook(lab_root / "added.ipynb", cells)
        nb = open_notebook("added.ipynb")
        nb.run_all()
    page = nb.page
    printed = nb.cell_output(2).inner_text()
    assert "[('Read app.py', 'completed'), (\"Check the loader's callers\", 'completed')]" in printed
    out = nb.cell_output(1)
    rows = out.locator("li[data-mira-task-status]")
    rows.first.wait_for()
    assert rows.count() == 2
    assert rows.nth(0).locator("[data-mira-task-added]").count() == 0
    mark = rows.nth(1).locator("[data-mira-task-added]")
    assert mark.inner_text() == "(added)"
    box = out.locator(".mira-operation")
    shots = []
    for width, label in ((1400, "wide"), (600, "narrow")):
        page.set_viewport_size({"width": width, "height": 1600})
        shots.append(nb.screenshot(box, tmp_path / f"added-{label}-light.png"))
        assert box.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    _theme(page, "JupyterLab Dark")
    try:
        for width, label in ((1400, "wide"), (600, "narrow")):
            page.set_viewport_size({"width": width, "height": 1600})
            shots.append(nb.screenshot(box, tmp_path / f"added-{label}-dark.png"))
        color = mark.evaluate("e => getComputedStyle(e).color")
        background = page.locator(".jp-Notebook").evaluate("e => getComputedStyle(e).backgroundColor")
        assert color != background
    finally:
        _theme(page, "JupyterLab Light")
    for shot in shots:
        assert shot.stat().st_size > 1000
    keep = os.environ.get("KEEP_SCREENSHOTS")
    if keep:
        for shot in shots:
            shutil.copyfile(shot, Path(keep) / shot.name)
