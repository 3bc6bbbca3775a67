"""What each task did, under it, in a real ``%%mira`` cell in JupyterLab (issue 14, items 3, 6).

A plan of three tasks, the last depending on the first two: task 1 writes a file, task 2's
only tool call is refused, so it fails with that reason, and task 3 is skipped; the widget
shows, under each task, the files written and the denials, and which tasks a task waits for. Screenshots wide
(~1400 px) and narrow (~600 px), in the light and the dark theme (``KEEP_SCREENSHOTS``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lab_harness import write_notebook

from mira_jupyter.testing.script import Script
from mira_jupyter.testing.server import ScriptedServer

pytestmark = pytest.mark.browser

SETUP_CELL = """\
%load_ext mira_jupyter
import pathlib
root = pathlib.Path("outcomes_project")
root.mkdir(exist_ok=True)
(root / "app.py").write_text("def load():\\n    return 1\\n")
%config Mira.project_root = "outcomes_project"
%config Mira.compatible_base_url = "{base_url}"
%config Mira.orchestrator_model = "compatible:gpt-5"
%config Mira.executor_model = "compatible:deepseek-chat"
%config Mira.view = "widget"
"""

MIRA_CELL = """\
%%mira --mode planned -o op
Add notes.md, refactor helpers.py and summarise both
"""

CHECK_CELL = "print(op.status, [t.status for t in op.tasks], op.files_changed)"


def _call(name, **arguments):
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def _script() -> Script:
    plan = _call("submit_plan", tasks=[
        {"description": "Write notes.md", "active_form": "Writing notes.md"},
        {"description": "Refactor helpers.py", "active_form": "Refactoring helpers.py"},
        {"description": "Summarise both changes", "active_form": "Summarising", "depends_on": [1, 2]},
    ])  # fmt: skip
    return Script({
        "gpt-5": [
            plan,
            _call("generate_code", path="notes.md", description="a heading"),
            "wrote notes.md",
            _call("refactor_code", path="helpers.py", changes_requested="split it"),
            "I tried.",
            "notes.md was written; helpers.py does not exist.",
        ],
        "deepseek-chat": ["```markdown\n# Notes\n```"],
    }, name="outcomes")  # fmt: skip


def _theme(page, name: str) -> None:
    page.keyboard.press("Control+Shift+C")
    palette = page.locator(".lm-CommandPalette-input")
    palette.wait_for()
    palette.fill(f"Use Theme: {name}")
    page.locator(".lm-CommandPalette-item", has_text=f"Use Theme: {name}").first.click()
    light = "true" if name == "JupyterLab Light" else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")


def test_tasks_show_their_outcomes_and_dependencies(open_notebook, lab_root: Path, tmp_path):
    with ScriptedServer(_script()) as server:
        cells = [SETUP_CELL.format(base_url=server.base_url), MIRA_CELL, CHECK_CELL]
        write_notebook(lab_root / "outcomes.ipynb", cells)
        nb = open_notebook("outcomes.ipynb")
        nb.run_all()
    page = nb.page
    printed = nb.cell_output(2).inner_text()
    assert "completed ['completed', 'failed', 'failed'] ['notes.md']" in printed

    out = nb.cell_output(1)
    rows = out.locator("li[data-mira-task-status]")
    rows.first.wait_for()
    assert rows.count() == 3
    assert "wrote notes.md" in rows.nth(0).locator("[data-mira-task-outcomes]").inner_text()
    failed = rows.nth(1)
    assert failed.get_attribute("data-mira-task-status") == "failed"
    assert "every tool call failed (refactor_code denied: helpers.py does not exist)" in failed.inner_text()
    assert "refactor_code denied (not_found)" in failed.locator("[data-mira-task-outcomes]").inner_text()
    skipped = rows.nth(2)
    assert skipped.locator("[data-mira-task-depends]").inner_text() == "(after 1, 2)"
    assert "skipped: it depends on task 2, which failed" in skipped.inner_text()

    box = out.locator(".mira-operation")
    shots = []
    for width, label in ((1400, "wide"), (600, "narrow")):
        page.set_viewport_size({"width": width, "height": 2400})
        shots.append(nb.screenshot(box, tmp_path / f"outcomes-{label}-light.png"))
        # nothing spills out of the cell at this width
        assert box.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    _theme(page, "JupyterLab Dark")
    try:
        for width, label in ((1400, "wide"), (600, "narrow")):
            page.set_viewport_size({"width": width, "height": 2400})
            shots.append(nb.screenshot(box, tmp_path / f"outcomes-{label}-dark.png"))
        outcome = rows.nth(0).locator("[data-mira-task-outcomes]")
        color = outcome.evaluate("e => getComputedStyle(e).color")
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
