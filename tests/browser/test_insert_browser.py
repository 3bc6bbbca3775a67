"""Answers into cells in JupyterLab: ``%%mira --insert`` and the widget's "Insert as cell".

A real JupyterLab in headless Chromium, the scripted model over HTTP. Both paths must make a
new cell appear below the ``%%mira`` cell holding the answer's code, and neither may run it.
Screenshots are taken in the light and dark themes, narrow and wide, for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lab_harness import write_notebook

from mira_jupyter.testing.script import Script
from mira_jupyter.testing.server import ScriptedServer

pytestmark = pytest.mark.browser

ANSWER = (
    "The loader divides by the row count; guard the empty case:\n\n"
    "```python\ndef mean(values):\n    return sum(values) / len(values) if values else 0.0\n```\n\n"
    "Check it:\n\n```python\nassert mean([]) == 0.0\n```\n"
)

SETUP = """\
%load_ext mira_jupyter
%config Mira.compatible_base_url = "{base_url}"
%config Mira.orchestrator_model = "compatible:gpt-5"
%config Mira.view = "widget"
"""

INSERT_CELL = "%%mira --mode simple --insert\nfix mean() for empty lists"
BUTTON_CELL = "%%mira --mode simple\nfix mean() for empty lists"


def cell_sources(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(
            c => [...c.querySelectorAll('.cm-line')].map(l => l.textContent).join('\\n'))"""
    )


def prompts(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell .jp-InputPrompt')]
            .map(p => p.textContent.trim())"""
    )


def set_theme(page, name: str) -> None:
    # the command palette, as a user would: "Use Theme: JupyterLab Dark"
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Shift+C")
    palette = page.locator(".lm-CommandPalette-input")
    palette.wait_for(timeout=30_000)
    palette.fill(f"Use Theme: {name}")
    page.locator(".lm-CommandPalette-item", has_text=name).first.click()
    page.wait_for_function(
        "(dark) => document.body.dataset.jpThemeLight === (dark ? 'false' : 'true')",
        arg=name.endswith("Dark"),
        timeout=30_000,
    )


def test_insert_and_the_button_put_the_code_in_a_new_cell_and_run_nothing(open_notebook, lab_root: Path, tmp_path):
    script = Script({"gpt-5": [{"text": ANSWER, "repeat": True}]})
    code = "def mean(values):\n    return sum(values) / len(values) if values else 0.0\n\nassert mean([]) == 0.0"
    with ScriptedServer(script) as server:
        write_notebook(lab_root / "insert_cells.ipynb", [SETUP.format(base_url=server.base_url), INSERT_CELL, BUTTON_CELL])
        nb = open_notebook("insert_cells.ipynb")
        page = nb.page
        # Run All (not nb.run_all: an inserted cell never gets a prompt number, by design)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        # --insert: set_next_input put the answer's code blocks in a new cell below the %%mira cell
        page.wait_for_function("() => document.querySelectorAll('.jp-Notebook .jp-Cell').length === 4", timeout=60_000)
        sources = cell_sources(page)
        assert sources[2] == code, sources
        assert sources[3] == BUTTON_CELL
        # the third %%mira cell (now the fourth cell) shows a button per code block
        widget = nb.cell_output(3).locator(".mira-operation-widget")
        widget.wait_for(timeout=60_000)
        buttons = widget.get_by_role("button", name="Insert as cell")
        buttons.first.wait_for(timeout=120_000)
        nb.wait_idle(120_000)
        assert buttons.count() == 2
        shots = tmp_path / "screens"
        for width, theme in ((1400, "JupyterLab Light"), (560, "JupyterLab Dark"), (1400, "JupyterLab Dark"), (560, "JupyterLab Light")):
            page.set_viewport_size({"width": width, "height": 1600})
            set_theme(page, theme)
            nb.screenshot(widget, shots / f"insert_buttons_{theme.split()[-1].lower()}_{width}.png")
        buttons.nth(1).click()
        page.wait_for_function("() => document.querySelectorAll('.jp-Notebook .jp-Cell').length === 5", timeout=30_000)
        widget.get_by_role("button", name="Inserted below").wait_for(timeout=30_000)
        sources = cell_sources(page)
        assert sources[4] == "assert mean([]) == 0.0", sources
        nb.screenshot(page.locator(".jp-Notebook"), shots / "after_insert.png")
        # nothing was executed: the inserted cells have empty prompts, the kernel defined nothing
        marks = prompts(page)
        assert marks[2] in ("[ ]:", "[ ]") and marks[4] in ("[ ]:", "[ ]"), marks
        if os.environ.get("MIRA_KEEP_SCREENSHOTS"):
            print(f"screenshots in {shots}")
