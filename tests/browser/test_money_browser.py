"""Costs the client cannot know exactly, as JupyterLab shows them: at most, unpriced, negative savings."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lab_harness import use_theme, write_notebook

pytestmark = pytest.mark.browser

CELL = """\
from mira_jupyter.ui import OperationWidget
from mira_jupyter.ui.demo import uncertain_cost_operation

w = OperationWidget()
for event in uncertain_cost_operation(operation_id="op_0000000000money1")[:-1]:
    w(event)
"""


def test_footer_says_at_most_unpriced_and_negative_savings_with_a_tooltip(open_notebook, lab_root: Path, tmp_path):
    write_notebook(lab_root / "money.ipynb", [CELL])
    nb = open_notebook("money.ipynb")
    nb.run_all()
    widget = nb.cell_output(0).locator(".mira-operation-widget")
    widget.wait_for()
    footer = widget.locator(".mira-footer")
    nb.page.wait_for_function(
        "() => (document.querySelector('.mira-footer') || {}).innerText?.includes('routing saved')",
        timeout=10_000,
    )
    text = footer.inner_text()
    assert "at most $0.0071" in text
    assert "executor $0.0033 + unpriced" in text
    assert "routing saved -$0.0031" in text
    assert "$0.0000" not in text
    tooltip = footer.locator("span[title]").get_attribute("title")
    assert tooltip.startswith("Routing savings = the executor's tokens priced at the orchestrator's rates")
    keep = os.environ.get("KEEP_SCREENSHOTS_DIR")
    for theme in ("JupyterLab Light", "JupyterLab Dark"):
        use_theme(nb.page, theme)
        for width in (1400, 600, 480):
            nb.page.set_viewport_size({"width": width, "height": 1200})
            # nothing of the footer is cut off or pushed out of the cell at any width
            overflow = footer.evaluate("e => e.scrollWidth - e.clientWidth")
            assert overflow <= 1, f"footer overflows by {overflow}px at {width}px ({theme})"
            color = footer.evaluate("e => getComputedStyle(e).color")
            background = nb.page.locator(".jp-Notebook").evaluate("e => getComputedStyle(e).backgroundColor")
            assert color != background, f"footer text invisible at {width}px ({theme})"
            tag = "dark" if "Dark" in theme else "light"
            shot = nb.screenshot(widget, tmp_path / f"money-{width}-{tag}.png")
            if keep:
                shutil.copyfile(shot, Path(keep) / shot.name)
    use_theme(nb.page, "JupyterLab Light")
    # the file browser takes half of a 600px window: the footer at the notebook's full width too
    nb.page.keyboard.press("Control+b")
    nb.page.set_viewport_size({"width": 600, "height": 1200})
    assert footer.evaluate("e => e.scrollWidth - e.clientWidth") <= 1
    shot = nb.screenshot(widget, tmp_path / "money-600-nosidebar.png")
    if keep:
        shutil.copyfile(shot, Path(keep) / shot.name)
