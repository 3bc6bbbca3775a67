"""Approve and Reject on a diff, in JupyterLab in headless Chromium.

With ``%config Mira.approve = "writes"`` a real ``%%mira`` cell stops before its write: the
live widget shows the unified diff with Approve and Reject buttons while the operation waits
on the kernel. The clicks travel as widget messages to the kernel, whose event loop runs
while the cell awaits its operation (the Stop button's path). Approve applies the change and
the cell ends on a collapsed diff of it; Reject leaves the file alone and the model is told;
Stop still ends an operation that waits.

With ``SCREENSHOT_DIR`` set, the waiting and the final states are shot at 600 and 1400 px,
light and dark, for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lab_harness import write_notebook
from test_mira_cell_browser import SETUP_CELL, _slow

from mira_jupyter.testing.agent_demo import agent_demo_responder
from mira_jupyter.testing.script import Script
from mira_jupyter.testing.server import ScriptedServer

pytestmark = pytest.mark.browser

APPROVAL_SETUP = SETUP_CELL + """\
(root / "report.py").write_text("def report(rows):\\n    return len(rows)\\n")
(root / "util.py").write_text("def util():\\n    return 1\\n")
%config Mira.approve = "writes"
"""

APPROVE_CELL = """\
%%mira --mode planned -o approved
Add a module docstring to loader.py
"""

REJECT_CELL = """\
%%mira --mode planned -o rejected
Add a module docstring to report.py
"""

STOP_CELL = """\
%%mira --mode planned -o stopped
Add a module docstring to util.py
"""

CHECK_CELL = """\
import duckdb, mira_jupyter
# the log is written after a cell returns: a raw DuckDB connection in the kernel that writes
# it waits for that write first (mira_jupyter.connect() does), or DuckDB refuses a second
# connection of another configuration to the file the recorder has open
assert mira_jupyter.current_session().flush(120)
print("loader:", (root / "loader.py").read_text().splitlines()[0])
print("report:", (root / "report.py").read_text().splitlines()[0])
print("util:", (root / "util.py").read_text().splitlines()[0])
print("files:", approved.files_changed, rejected.files_changed, stopped.files_changed, stopped.status)
with duckdb.connect(str(root / ".mira" / "mira.duckdb"), read_only=True) as con:
    print("denials:", con.execute("SELECT tool, denial_reason FROM tool_calls WHERE status = 'denied' ORDER BY tool").fetchall())
%mira diff {approved.id}
"""

WIDTHS = (600, 1400)


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
                nb.screenshot(locator, Path(folder) / f"approval_{state}_{width}_{tone}.png")
    finally:
        _theme(page, "JupyterLab Light")
        page.set_viewport_size({"width": 1100, "height": 2400})


def _waiting_panel(nb, cell: int):
    live = nb.cell_output(cell).locator(".mira-operation-widget")
    live.wait_for(timeout=120_000)
    panel = live.locator(".mira-approval")
    panel.get_by_text("Waiting for your approval").wait_for(timeout=120_000)
    return live, panel


def test_approve_applies_the_diff_and_reject_leaves_the_file(open_notebook, lab_root: Path, tmp_path):
    script = Script(responder=_slow(agent_demo_responder, 0.2), name="approval")
    with ScriptedServer(script) as server:
        write_notebook(
            lab_root / "approval.ipynb",
            [APPROVAL_SETUP.format(base_url=server.base_url), APPROVE_CELL, REJECT_CELL, STOP_CELL, CHECK_CELL],
        )
        nb = open_notebook("approval.ipynb")
        page = nb.page
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

        # the first cell waits with its diff and both buttons; Stop is still there
        live, panel = _waiting_panel(nb, 1)
        diff = panel.locator(".mira-diff")
        assert "+++ b/loader.py" in diff.inner_text()
        assert '+"""loader.py: part of the sample project' in diff.inner_text()
        assert live.get_by_role("button", name="Stop").is_visible()
        nb.screenshot(live, tmp_path / "approval_waiting.png")
        _shoot_all(nb, live, "waiting")
        # a double click: the second click's message reaches the kernel after the first
        # disabled the buttons there, so it answers nothing
        panel.get_by_role("button", name="Approve").dblclick()

        final = nb.cell_output(1).locator('.mira-operation [data-mira-status="completed"]')
        final.wait_for(timeout=120_000)
        rendering = nb.cell_output(1).locator(".mira-operation")
        change = rendering.locator("details.mira-change")
        assert change.count() == 1 and "loader.py" in change.inner_text()
        assert 'data-mira-approval="approved"' in rendering.inner_html()
        change.locator("summary").click()  # unfold the collapsed diff
        assert "+++ b/loader.py" in change.locator(".mira-diff").inner_text()
        _shoot_all(nb, rendering, "approved")

        # the second cell asks too; Reject it
        live, panel = _waiting_panel(nb, 2)
        assert "+++ b/report.py" in panel.locator(".mira-diff").inner_text()
        panel.get_by_role("button", name="Reject").click()
        ended = nb.cell_output(2).locator(".mira-operation [data-mira-status]")
        ended.wait_for(timeout=120_000)
        rendering = nb.cell_output(2).locator(".mira-operation")
        assert 'data-mira-approval="rejected"' in rendering.inner_html()
        assert rendering.locator("details.mira-change").count() == 0
        _shoot_all(nb, rendering, "rejected")

        # the third asks too; Stop ends it while it waits
        live, panel = _waiting_panel(nb, 3)
        live.get_by_role("button", name="Stop").click()
        nb.cell_output(3).locator('.mira-operation [data-mira-status="cancelled"]').wait_for(timeout=60_000)
        rendering = nb.cell_output(3).locator(".mira-operation")
        assert 'data-mira-approval="stopped"' in rendering.inner_html()

        nb.wait_idle(180_000)
        # the stopped cell ended interrupted, so Run All stopped there: run the check cell
        assert not any(ch.isdigit() for ch in nb.prompt(4)), nb.prompt(4)
        nb.run_cell(4)
        checked = nb.cell_output(4).inner_text()
        assert 'loader: """loader.py: part of the sample project' in checked
        assert "report: def report(rows):" in checked
        assert "util: def util():" in checked
        assert "files: ['loader.py'] [] [] cancelled" in checked
        assert "('write_file', 'rejected_by_user')" in checked
        assert "+++ b/loader.py" in checked  # %mira diff of the approved operation
        nb.screenshot(nb.cell_output(4), tmp_path / "approval_check.png")
    # the model was told of the rejection, in the tool result of its call
    told = [
        m.get("content")
        for r in script.requests
        for m in r.messages
        if m.get("role") == "tool" and "rejected by the user" in str(m.get("content"))
    ]
    assert told
