"""The "Run plan" button of a ``--plan-only`` cell, in JupyterLab in headless Chromium.

After the plan is shown, clicking Run plan runs it in the same cell: the tasks move through
their states live, the cell ends on the operation's final rendering, and Stop cancels.
(The button's callback starts the run on the kernel's event loop and returns, so the
kernel keeps handling widget messages while the plan runs.)

With ``SCREENSHOT_DIR`` set, each state is also shot narrow and wide, light and dark, for a
person to look at.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from lab_harness import write_notebook
from test_mira_cell_browser import SETUP_CELL, _slow

from mira_jupyter.testing.agent_demo import agent_demo_responder
from mira_jupyter.testing.script import Script
from mira_jupyter.testing.server import ScriptedServer
from mira_jupyter.testing.turns import Turn

pytestmark = pytest.mark.browser

PLAN_CELL = """\
%%mira --plan-only --mode planned
Add a module docstring to loader.py
"""

TASKS = '.mira-operation-widget [data-mira-task-status]'
WIDTHS = (600, 900, 1400)


def _theme(page, name: str) -> None:
    page.keyboard.press("Control+Shift+C")
    palette = page.locator(".lm-CommandPalette-input")
    palette.wait_for()
    palette.fill(f"Use Theme: {name}")
    page.locator(".lm-CommandPalette-item", has_text=f"Use Theme: {name}").first.click()
    light = "true" if name == "JupyterLab Light" else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")


def _shoot_all(nb, locator, state: str) -> None:
    """`state` narrow and wide, light and dark, into SCREENSHOT_DIR (when it is set)."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if not folder:
        return
    page = nb.page
    try:
        for theme in ("JupyterLab Light", "JupyterLab Dark"):
            _theme(page, theme)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 2400})
                tone = "light" if theme.endswith("Light") else "dark"
                nb.screenshot(locator, Path(folder) / f"run_plan_{state}_{width}_{tone}.png")
    finally:
        _theme(page, "JupyterLab Light")
        page.set_viewport_size({"width": 1100, "height": 2400})


def _plan_shown(nb):
    nb.run_all(180_000)
    output = nb.cell_output(1)
    live = output.locator(".mira-operation-widget")
    live.wait_for(timeout=60_000)
    run = live.get_by_role("button", name="Run plan")
    run.wait_for(timeout=30_000)
    nb.page.wait_for_function(
        f"() => document.querySelectorAll('{TASKS}[data-mira-task-status=\"pending\"]').length === 3",
        timeout=30_000,
    )
    return output, live, run


def test_run_plan_streams_the_tasks_into_the_cell_and_ends_on_the_final_state(
    open_notebook, lab_root: Path, tmp_path
):
    script = Script(responder=_slow(agent_demo_responder, 0.6), name="run-plan")
    with ScriptedServer(script) as server:
        write_notebook(lab_root / "run_plan.ipynb", [SETUP_CELL.format(base_url=server.base_url), PLAN_CELL])
        nb = open_notebook("run_plan.ipynb")
        output, live, run = _plan_shown(nb)
        # the cell's value (Out[]) under the card: the plan, not run yet
        out_summary = output.locator(".jp-RenderedMarkdown", has_text="· planned · planned")
        out_summary.wait_for(timeout=30_000)
        nb.screenshot(live, tmp_path / "run_plan_planned.png")
        _shoot_all(nb, output.first, "planned")
        planning_requests = len(script.requests)
        run.click()
        # live: a task in progress, shown in the cell that showed the plan
        nb.page.wait_for_function(
            f"() => document.querySelector('{TASKS}[data-mira-task-status=\"in_progress\"]') !== null",
            timeout=60_000,
        )
        assert live.get_by_role("button", name="Stop").is_visible()
        shot = nb.screenshot(live, tmp_path / "run_plan_running.png")
        print(f"running screenshot: {shot}")
        nb.page.wait_for_function(
            f"() => document.querySelectorAll('{TASKS}[data-mira-task-status=\"completed\"]').length >= 1",
            timeout=60_000,
        )
        final = output.locator('.mira-operation [data-mira-status="completed"]')
        final.wait_for(timeout=120_000)
        rendered = output.locator(".mira-operation")
        assert rendered.locator('[data-mira-task-status="completed"]').count() == 3
        text = rendered.inner_text()
        assert "Update loader.py" in text and "$" in text  # the tasks and the cost
        # the cell's Out[] follows the run: it no longer says "planned" under a finished card
        output.locator(".jp-RenderedMarkdown", has_text="· completed · planned").wait_for(timeout=30_000)
        assert output.locator(".jp-RenderedMarkdown", has_text="· planned · planned").count() == 0
        assert output.locator(".jp-RenderedMarkdown", has_text="✓ Update loader.py").count() == 1
        shot = nb.screenshot(rendered, tmp_path / "run_plan_done.png")
        print(f"final screenshot: {shot}")
        _shoot_all(nb, output.first, "done")
    assert len(script.requests) > planning_requests  # the plan really ran, over HTTP
    assert {r.model for r in script.requests[planning_requests:]} >= {"deepseek-chat"}


def _stall_after_planning(request):
    if request.tool_choice == "submit_plan":
        return agent_demo_responder(request)
    return Turn(text="Working through the task. " * 40, fault="stall", stall_seconds=120, after_chunks=3)


def test_stop_cancels_a_plan_started_with_run_plan(open_notebook, lab_root: Path, tmp_path):
    script = Script(responder=_stall_after_planning, name="run-plan-stop")
    with ScriptedServer(script) as server:
        write_notebook(lab_root / "run_plan_stop.ipynb", [SETUP_CELL.format(base_url=server.base_url), PLAN_CELL])
        nb = open_notebook("run_plan_stop.ipynb")
        output, live, run = _plan_shown(nb)
        run.click()
        nb.page.wait_for_function(
            f"() => document.querySelector('{TASKS}[data-mira-task-status=\"in_progress\"]') !== null",
            timeout=60_000,
        )
        deadline = time.monotonic() + 30
        while len(script.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)  # the task's model call is out and stalled
        _shoot_all(nb, output.first, "running")  # it stays running while the call stalls
        started = time.monotonic()
        live.get_by_role("button", name="Stop").click()
        final = output.locator('.mira-operation [data-mira-status="cancelled"]')
        final.wait_for(timeout=30_000)
        print(f"Stop click to cancelled rendering: {time.monotonic() - started:.2f} s")
        nb.screenshot(output.locator(".mira-operation"), tmp_path / "run_plan_stopped.png")
        _shoot_all(nb, output.first, "stopped")
