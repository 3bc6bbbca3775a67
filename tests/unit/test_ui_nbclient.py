"""In a real kernel executed by nbclient (what nbconvert --execute does), the saved cell keeps
the static rendering and no widget view; with MIRA_VIEW=text it keeps the text lines."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO_ROOT = Path(__file__).resolve().parents[2]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

DRIVE = """\
from mira_jupyter.ui import choose_view
from mira_jupyter.ui.demo import planned_operation
view = choose_view("auto")
print(type(view).__name__)
for event in planned_operation(3, operation_id="op_{suffix}"):
    view(event)
"""


@pytest.mark.slow
def test_executed_notebook_keeps_static_output_and_text_under_override(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(DRIVE.format(suffix="0000000000widget")),
        nbformat.v4.new_code_cell(
            "import os\nos.environ['MIRA_VIEW'] = 'text'\n" + DRIVE.format(suffix="00000000000text")
        ),
    ]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    widget_outputs = nb.cells[0].outputs
    assert widget_outputs[0]["text"] == "OperationWidget\n"
    displays = [o for o in widget_outputs if o["output_type"] == "display_data"]
    assert len(displays) == 1  # the live widget's output, updated in place
    data = displays[0]["data"]
    assert WIDGET_MIME not in data
    assert set(data) == {"text/html", "text/markdown", "text/plain"}
    assert data["text/html"].count('data-mira-task-status="completed"') == 3
    assert "op_0000000000widget" in data["text/plain"]

    text = "".join(o.get("text", "") for o in nb.cells[1].outputs if o["output_type"] == "stream")
    assert text.startswith("TextView\nmira op_00000000000text · planned (auto)")
    assert "[3/3] ✓ Step 3 of the fix (1.1 s)" in text
    assert not [o for o in nb.cells[1].outputs if o["output_type"] == "display_data"]
