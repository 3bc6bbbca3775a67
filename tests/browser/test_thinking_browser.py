"""Reasoning summaries as collapsed "thinking" lines, in a real %%mira cell in JupyterLab.

The orchestrator is called over the Responses API (the scripted /v1/responses on
127.0.0.1, through the openai SDK in the notebook's kernel); each call that summarised
its reasoning gets one folded line. Screenshots in the light and the dark theme.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lab_harness import REPO_ROOT, use_theme, write_notebook

from mira_jupyter.testing.script import Script
from mira_jupyter.testing.server import ScriptedServer

pytestmark = pytest.mark.browser

SETUP_CELL = """\
%load_ext mira_jupyter
import pathlib
root = pathlib.Path("thinking_project")
root.mkdir(exist_ok=True)
(root / "app.py").write_text("def load():\\n    return 1\\n")
%config Mira.project_root = "thinking_project"
%config Mira.compatible_base_url = "{base_url}"
%config Mira.orchestrator_model = "compatible:gpt-5"
%config Mira.executor_model = "compatible:deepseek-chat"
%config Mira.responses_api = ["compatible:gpt-5"]
%config Mira.view = "widget"
"""

MIRA_CELL = """\
%%mira --mode planned -o op
Explain what the loader returns
"""

CHECK_CELL = "print(op.status, op.text)"


def _script() -> Script:
    def call(name, **arguments):
        return {"tool_calls": [{"name": name, "arguments": arguments}]}

    plan = call("submit_plan", tasks=[
        {"description": "Inspect the loader", "active_form": "Inspecting the loader"},
    ])
    plan["reasoning_summary"] = (
        "**Planning the inspection**\n\nThe loader lives in app.py; one look at it answers this."
    )
    inspect = call("get_file_summary", paths=["app.py"])
    inspect["reasoning_summary"] = "**Choosing a tool**\n\nA file summary is enough; no edits."
    return Script({
        "gpt-5": [
            plan,
            inspect,
            "The loader returns a constant.",
            {"text": "`load()` returns **1**.", "reasoning_summary": "**Writing the answer**"},
        ],
        "deepseek-chat": [call("summarize_file", path="app.py"), "app.py: load() returns 1."],
    }, name="thinking")


def test_thinking_lines_are_folded_and_open_on_click(open_notebook, lab_root: Path, tmp_path):
    script = _script()
    with ScriptedServer(script) as server:
        cells = [SETUP_CELL.format(base_url=server.base_url), MIRA_CELL, CHECK_CELL]
        write_notebook(lab_root / "thinking.ipynb", cells)
        nb = open_notebook("thinking.ipynb")
        nb.run_all()
    page = nb.page
    assert "completed `load()` returns **1**." in nb.cell_output(2).inner_text()
    assert [r.api for r in script.requests_for("gpt-5")] == ["responses"] * 4

    out = nb.cell_output(1)
    lines = out.locator("details.mira-thinking")
    lines.first.wait_for()
    assert lines.count() == 3
    titles = [lines.nth(i).locator("summary").inner_text() for i in range(3)]
    assert titles == [
        "∴ thinking (orchestrator · plan) Planning the inspection",
        "∴ thinking (orchestrator · orchestrate) Choosing a tool",
        "∴ thinking (orchestrator · compose) Writing the answer",
    ]
    body = lines.first.locator(".mira-thinking-text")
    assert not body.is_visible()  # folded until asked for
    # the summary is never part of the answer
    assert "Planning" not in out.locator(".mira-answer").inner_text()

    lines.first.locator("summary").click()
    body.wait_for(state="visible")
    assert "one look at it answers this" in body.inner_text()

    box = out.locator(".mira-operation")
    light = nb.screenshot(box, tmp_path / "thinking-light.png")
    use_theme(page, "JupyterLab Dark")
    try:
        dark = nb.screenshot(box, tmp_path / "thinking-dark.png")
        color = body.evaluate("e => getComputedStyle(e).color")
        background = page.locator(".jp-Notebook").evaluate("e => getComputedStyle(e).backgroundColor")
        assert color != background
    finally:
        use_theme(page, "JupyterLab Light")
    page.set_viewport_size({"width": 560, "height": 2400})
    narrow_shot = nb.screenshot(box, tmp_path / "thinking-narrow.png")
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        shutil.copyfile(light, REPO_ROOT / "docs" / "thinking.png")
    for shot in (light, dark, narrow_shot):
        assert shot.stat().st_size > 1000
    keep = os.environ.get("KEEP_SCREENSHOTS")
    if keep:
        for shot in (light, dark, narrow_shot):
            shutil.copyfile(shot, Path(keep) / shot.name)
