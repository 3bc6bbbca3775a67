"""Dollars are never maths in JupyterLab: a planned cell's Out[], its view and %mira costs.

JupyterLab runs MathJax over Markdown and HTML outputs, so "$0.0135 · saved $0.0011" used
to be typeset. A control cell (real maths) proves MathJax is running in this page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lab_harness import write_notebook
from test_mira_cell_browser import SETUP_CELL

from mira_jupyter.testing.agent_demo import agent_demo_responder
from mira_jupyter.testing.script import Script
from mira_jupyter.testing.server import ScriptedServer

pytestmark = pytest.mark.browser

CONTROL_CELL = """\
from IPython.display import Markdown
Markdown("control: $x^2 + 1$")
"""
PLANNED_CELL = """\
%%mira --mode planned
Add a module docstring to loader.py; it costs $5 and $10 to say so
"""
TEXT_CELL = """\
%%mira --mode planned --view text
Add a module docstring to loader.py; it costs $5 and $10 to say so
"""
COSTS_CELL = "%mira costs --by operation --no-chart"
HISTORY_CELL = "%mira history"

MATHS = "mjx-container, .MathJax, .MathJax_Display, .katex, .katex-display"


def test_no_cost_in_any_output_is_typeset_as_maths(open_notebook, lab_root: Path):
    script = Script(responder=agent_demo_responder, name="dollars")
    with ScriptedServer(script) as server:
        cells = [SETUP_CELL.format(base_url=server.base_url), CONTROL_CELL, PLANNED_CELL]
        cells += [TEXT_CELL, COSTS_CELL, HISTORY_CELL]
        write_notebook(lab_root / "dollars.ipynb", cells)
        nb = open_notebook("dollars.ipynb")
        nb.run_all(240_000)
        page = nb.page
        # MathJax is live in this page: the control cell's maths is typeset
        nb.cell_output(1).locator(MATHS).first.wait_for(timeout=60_000)
        outputs = {name: nb.cell_output(i) for i, name in enumerate(
            ["setup", "control", "planned", "text", "costs", "history"]) if i >= 2}
        # the planned cell ends on its Out[]: the Operation's Markdown summary
        planned = outputs["planned"]
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-OutputArea-output')]"
            ".some(e => /saved \\$\\d|· \\$\\d/.test(e.innerText))",
            timeout=60_000,
        )
        for name, output in outputs.items():
            output.wait_for()
            text = output.inner_text()
            assert "$" in text, f"{name}: no dollar amount shown: {text[:300]!r}"
            found = output.locator(MATHS).count()
            assert found == 0, f"{name}: {found} maths elements in {text[:300]!r}"
        # the summary is still Markdown (a task list), with its dollars as written
        summary = planned.locator(".jp-RenderedMarkdown")
        assert summary.count() >= 1
        markdown = summary.last
        assert markdown.locator("li").count() >= 1
        assert "&#36;" not in planned.inner_text()
        assert "\\$" not in planned.inner_text()
