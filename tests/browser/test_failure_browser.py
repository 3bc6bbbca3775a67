"""A failed ``%%mira`` cell in JupyterLab: the error is shown once, the partial answer kept.

Screenshots (wide and narrow, light and dark) go to ``SCREENSHOT_DIR`` when it is set,
for a person to look at; the assertions read the rendered DOM.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mira_jupyter.testing.script import Script
from mira_jupyter.testing.server import ScriptedServer

pytestmark = pytest.mark.browser

SETUP_CELL = """\
%load_ext mira_jupyter
%config Mira.compatible_base_url = "{base_url}"
%config Mira.orchestrator_model = "compatible:gpt-5"
%config Mira.view = "widget"
"""

FAILING_CELL = """\
%%mira --mode simple
What does this project do?
"""

CUT_TEXT = "This project loads the monthly sales CSV and then"


def _shoot(nb, locator, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        nb.screenshot(locator, Path(folder) / name)


def test_a_cut_stream_is_said_once_and_the_partial_answer_is_marked(open_notebook, lab_root: Path):
    from lab_harness import write_notebook

    script = Script({"gpt-5": [{"text": CUT_TEXT + " more", "fault": "cut", "after_chunks": 6}]})
    with ScriptedServer(script) as server:
        write_notebook(lab_root / "failure_cell.ipynb", [SETUP_CELL.format(base_url=server.base_url), FAILING_CELL])
        nb = open_notebook("failure_cell.ipynb")
        nb.run_all(180_000)
        output = nb.cell_output(1)
        final = output.locator('.mira-operation [data-mira-status="failed"]')
        final.wait_for(timeout=60_000)
        cell_text = output.inner_text()
        # the view's red line and the Operation's own line in Out[]: nothing else
        assert cell_text.count("was cut off before it finished") == 2, cell_text
        assert "[partial answer]" in cell_text and CUT_TEXT[:30] in cell_text
        assert "⚠" not in cell_text and "mode →" not in cell_text
        view = output.locator(".mira-operation")
        _shoot(nb, output, "failure_wide_light.png")
        nb.page.set_viewport_size({"width": 520, "height": 2400})
        _shoot(nb, output, "failure_narrow_light.png")
        assert view.count() == 1
    assert len(script.requests) == 1  # --mode simple: no fallback, no retry after output
