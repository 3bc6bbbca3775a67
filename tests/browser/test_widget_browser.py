"""The live OperationWidget and its static rendering, rendered by JupyterLab in Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lab_harness import REPO_ROOT, write_notebook

pytestmark = pytest.mark.browser

LIVE_CELL = """\
import time
from mira_jupyter.ui import OperationWidget
from mira_jupyter.ui.demo import planned_operation

stopped = []
events = planned_operation(6)
live = OperationWidget(on_stop=stopped.append)
for event in events[:-1]:  # left running: the widget stays live
    live(event)
    time.sleep(0.005)
"""

STATIC_CELL = """\
done = OperationWidget()
for event in planned_operation(4, operation_id="op_0000000000demo02"):
    done(event)
"""

PLAN_ONLY_CELL = """\
from IPython.display import Markdown, display
from mira_jupyter.ui.demo import plan_only_operation

def run_plan(operation_id):
    display(Markdown(f"**resumed** `{operation_id}`"))

planned = OperationWidget(on_run=run_plan)
for event in plan_only_operation(3, operation_id="op_0000000000demo03"):
    planned(event)
"""


def test_widget_renders_plan_tasks_tools_and_goes_static(open_notebook, lab_root: Path, tmp_path):
    write_notebook(lab_root / "widget.ipynb", [LIVE_CELL, STATIC_CELL, PLAN_ONLY_CELL])
    nb = open_notebook("widget.ipynb")
    nb.run_all()
    page = nb.page

    live = nb.cell_output(0).locator(".mira-operation-widget")
    live.wait_for()
    # the last events arrive within one 100 ms window: the timer thread renders them
    page.wait_for_function(
        """() => document.querySelectorAll(
            '.mira-operation-widget [data-mira-task-status="completed"]').length === 6""",
        timeout=10_000,
    )
    assert live.locator("[data-mira-task-status]").count() == 6
    # the plan prose is folded under the checklist, one click away
    plan = live.locator(".mira-plan")
    assert plan.text_content().count("Step") == 6
    assert not plan.is_visible()
    live.get_by_text("Plan", exact=True).click()
    plan.wait_for(state="visible")
    assert "6/6 done" in live.inner_text()
    assert "Fixed the CSV loader" in live.locator(".mira-answer h2").inner_text()
    assert "executor $0.0070 (6 calls)" in live.locator(".mira-footer").inner_text()

    # the tool log is collapsed until opened
    denial = live.get_by_text("denied: path escapes the project root")
    assert not denial.is_visible()
    live.get_by_text("Tool calls (7: 1 denied, 6 ok)").click()
    denial.wait_for(state="visible")

    shot = nb.screenshot(live, tmp_path / "widget.png")
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        shutil.copyfile(shot, REPO_ROOT / "docs" / "widget.png")

    # Stop travels to the kernel and back: the handler there relabels the button
    stop = live.get_by_role("button", name="Stop")
    stop.click()
    live.get_by_role("button", name="Stopping…").wait_for()
    assert live.get_by_role("button", name="Stopping…").is_disabled()

    # a finished operation leaves static HTML in its cell, no widget
    static = nb.cell_output(1)
    static.locator(".mira-operation").wait_for()
    assert static.locator(".jupyter-widgets").count() == 0
    assert static.locator('[data-mira-task-status="completed"]').count() == 4
    assert static.locator('[data-mira-status="completed"]').count() == 1
    assert "op_0000000000demo02" in static.inner_text()

    # a plan-only operation stays live; Run calls back in the kernel, and what the
    # callback displays lands inside the widget (a button callback has no cell of its own)
    planned = nb.cell_output(2).locator(".mira-operation-widget")
    planned.wait_for()
    assert planned.locator('[data-mira-status="planned"]').count() == 1
    assert planned.locator("[data-mira-task-status]").count() == 3
    run = planned.get_by_role("button", name="Run plan")
    assert run.is_enabled()
    run.click()
    planned.get_by_text("resumed").wait_for()
    assert "op_0000000000demo03" in planned.locator(".jp-OutputArea").inner_text()
    assert planned.get_by_role("button", name="Running…").is_disabled()
