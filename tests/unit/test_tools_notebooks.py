""".ipynb-aware file tools and edit_notebook, on notebooks with real rendered images."""

from __future__ import annotations

import base64
import io
import json
import os

import nbformat
import pytest

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext

TOOLS = file_tools()


def png(width_in: float, height_in: float, dpi: int = 100) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width_in, height_in), dpi=dpi)
    plt.plot([1, 3, 2])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def jpeg() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(3, 2), dpi=100)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="jpeg")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def sample_notebook() -> nbformat.NotebookNode:
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        v4.new_markdown_cell("# Analysis\n## Loading\nSome prose."),
        v4.new_code_cell(
            "import pandas as pd\nfrom pathlib import Path\n%matplotlib inline\n!ls\ndef load(p):\n    return pd.read_csv(p)\nclass Model:\n    def fit(self):\n        pass\ndf = load('x.csv')",
            execution_count=1,
            outputs=[
                v4.new_output("display_data", data={"image/png": png(6.4, 4.8), "text/plain": "<Figure size 640x480 with 1 Axes>"}),
                v4.new_output("display_data", data={"image/jpeg": jpeg()}),
                v4.new_output("stream", name="stdout", text="loaded\n" * 1000),
            ],
        ),
        v4.new_code_cell(
            "df.head()",
            execution_count=2,
            outputs=[
                v4.new_output("execute_result", execution_count=2, data={"text/plain": "   a\n0  1", "text/html": "<table>" + "<tr><td>1</td></tr>" * 500 + "</table>"}),
                v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0}, "text/plain": "IntSlider(value=3)"}),
                v4.new_output("error", ename="KeyError", evalue="'b'", traceback=["\x1b[0;31mKeyError\x1b[0m: 'b'"]),
            ],
        ),
    ]
    nb.cells[1].metadata["tags"] = ["load"]
    return nb


@pytest.fixture()
def project(tmp_path):
    nbformat.write(sample_notebook(), str(tmp_path / "analysis.ipynb"))
    return tmp_path


def run(tool: str, root, writes=None, **args):
    ctx = ToolContext(sandbox=Sandbox(root), on_write=None if writes is None else writes.append)
    return dispatch(TOOLS, tool, args, ctx)


def test_read_file_shows_cells_and_placeholders_never_json_or_base64(project):
    result = run("read_file", project, path="analysis.ipynb")
    assert result.status == "ok", result.content
    text = result.content["content"]
    assert text.startswith("notebook: 3 cells (2 code, 1 markdown), kernel python3, nbformat 4.5")
    nb = nbformat.read(str(project / "analysis.ipynb"), as_version=4)
    assert f"[cell 1 · id {nb.cells[1].id} · code · In[1]]" in text
    assert "[image/png 640×480]" in text and "[image/jpeg 300×200]" in text
    assert "[widget]" in text and "IntSlider(value=3)" in text
    assert "KeyError: 'b'" in text and "\x1b" not in text
    assert "<table>" not in text  # the HTML twin of a text/plain result is left out
    assert "iVBOR" not in text and '"cell_type"' not in text and "/9j/" not in text
    assert "more characters of output]" in text  # 1000 lines of stdout, capped per cell
    raw = (project / "analysis.ipynb").read_text()
    assert len(result.to_model_text()) < len(raw) / 10


def test_read_file_line_ranges_continue_through_the_view(project):
    from mira_jupyter.tools.policy import Limits

    small = Sandbox(project, limits=Limits(max_lines=5))
    ctx = ToolContext(sandbox=small)
    spec = TOOLS["read_file"]
    first = spec.func(spec.args_model.model_validate({"path": "analysis.ipynb"}), ctx)
    assert first.truncated and "call again with start_line=6" in first.content["notice"]
    rest = spec.func(spec.args_model.model_validate({"path": "analysis.ipynb", "start_line": 6}), ctx)
    assert rest.content["start_line"] == 6


def test_a_broken_notebook_is_read_as_the_text_it_is(tmp_path):
    (tmp_path / "broken.ipynb").write_text('{"cells": [ not json')
    result = run("read_file", tmp_path, path="broken.ipynb")
    assert result.status == "ok" and result.content["content"] == '{"cells": [ not json'


def test_summarize_file_gives_headings_imports_and_names_per_cell(project):
    result = run("summarize_file", project, path="analysis.ipynb")
    assert result.content["language"] == "notebook"
    cells = result.content["cells"]
    assert cells[0].endswith("markdown: # Analysis; ## Loading")
    assert "imports pandas, pathlib; defines load, Model, df" in cells[1]
    assert result.content["imports"] == ["pandas", "pathlib"]


def test_extract_symbols_lists_defs_and_classes_with_cell_ids(project):
    result = run("extract_symbols", project, path="analysis.ipynb")
    cell_id = nbformat.read(str(project / "analysis.ipynb"), as_version=4).cells[1].id
    assert result.content["symbols"] == [
        f"cell 1 (id {cell_id}) 5-6 function load",
        f"cell 1 (id {cell_id}) 7-9 class Model",
        f"cell 1 (id {cell_id}) 8-9 method Model.fit",
    ]


def test_grep_reports_cell_id_and_line_in_the_cell_and_never_matches_base64(project):
    cell_id = nbformat.read(str(project / "analysis.ipynb"), as_version=4).cells[1].id
    result = run("grep_files", project, pattern="read_csv|iVBOR|AAAA", context_lines=1)
    assert result.status == "ok"
    (match,) = result.content["matches"]
    assert (match["cell"], match["cell_id"], match["line"]) == (1, cell_id, 6)
    assert match["text"] == "    return pd.read_csv(p)" and match["before"] == ["def load(p):"]
    assert result.content["match_count"] == 1


# -- edit_notebook -------------------------------------------------------------------------


def cells_json(path):
    cells = json.loads(path.read_text())["cells"]
    for cell in cells:  # nbformat stores multi-line sources as lists of lines
        cell["source"] = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    return cells


@pytest.mark.parametrize("action", ["replace", "insert_after", "delete"])
def test_edit_notebook_changes_one_cell_and_keeps_every_other(project, action):
    path = project / "analysis.ipynb"
    before = cells_json(path)
    target = before[1]["id"]
    writes = []
    result = run("edit_notebook", project, writes, path="analysis.ipynb", action=action, cell_id=target, source="df = load('y.csv')")
    assert result.status == "ok", result.content
    after = cells_json(path)
    nbformat.validate(nbformat.read(str(path), as_version=nbformat.NO_CONVERT))
    if action == "replace":
        assert after[0] == before[0] and after[2] == before[2]
        assert after[1]["source"] == "df = load('y.csv')" and after[1]["outputs"] == []
        assert after[1]["id"] == target and after[1]["metadata"] == {"tags": ["load"]}
    elif action == "insert_after":
        assert [after[0], after[1], after[3]] == before and after[2]["source"] == "df = load('y.csv')"
        assert result.content["cell_index"] == 2
    else:
        assert after == [before[0], before[2]]
    # the previous bytes were handed over for undo before the write
    (write,) = writes
    assert write.path == "analysis.ipynb" and write.previous is not None
    previous = json.loads(write.previous)["cells"]
    assert [c["id"] for c in previous] == [c["id"] for c in before]


def test_edit_notebook_refuses_what_it_cannot_do_and_writes_nothing(project, tmp_path_factory):
    path = project / "analysis.ipynb"
    original = path.read_bytes()
    unknown = run("edit_notebook", project, path="analysis.ipynb", action="delete", cell_id="nope")
    assert unknown.status == "denied" and "no cell with id 'nope'" in unknown.content["error"]
    missing = run("edit_notebook", project, path="analysis.ipynb", action="replace", source="x")
    assert missing.status == "denied" and "needs cell_id" in missing.content["error"]
    not_nb = run("edit_notebook", project, path="a.py", action="delete", cell_index=0)
    assert not_nb.status == "denied"
    outside = tmp_path_factory.mktemp("outside")
    nbformat.write(sample_notebook(), str(outside / "x.ipynb"))
    os.symlink(outside / "x.ipynb", project / "link.ipynb")
    escaped = run("edit_notebook", project, path="link.ipynb", action="delete", cell_index=0)
    assert escaped.status == "denied" and escaped.denial_reason in ("symlink_escape", "outside_root")
    rewrite = run("write_file", project, path="analysis.ipynb", content="{}")
    assert rewrite.status == "denied" and "edit_notebook" in rewrite.content["error"]
    assert path.read_bytes() == original
    assert len(cells_json(outside / "x.ipynb")) == 3


def test_edit_notebook_creates_a_notebook_and_keeps_old_versions_valid(tmp_path):
    created = run("edit_notebook", tmp_path, path="new.ipynb", action="insert_after", source="# Hello", cell_type="markdown")
    assert created.status == "ok" and created.content["created"] is True
    nbformat.validate(nbformat.read(str(tmp_path / "new.ipynb"), as_version=nbformat.NO_CONVERT))
    # a 4.4 notebook has no cell ids: an inserted cell must not add one
    old = nbformat.v4.new_notebook()
    old.nbformat_minor = 4
    old.cells = [nbformat.v4.new_code_cell("x = 1")]
    for cell in old.cells:
        del cell["id"]
    (tmp_path / "old.ipynb").write_text(json.dumps(old))
    inserted = run("edit_notebook", tmp_path, path="old.ipynb", action="insert_after", cell_index=0, source="y = 2")
    assert inserted.status == "ok", inserted.content
    nb = nbformat.read(str(tmp_path / "old.ipynb"), as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert [c.source for c in nb.cells] == ["x = 1", "y = 2"] and "id" not in nb.cells[1]


def test_edit_notebook_refuses_an_old_format(tmp_path):
    (tmp_path / "v3.ipynb").write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}))
    result = run("edit_notebook", tmp_path, path="v3.ipynb", action="insert_after", cell_index=0, source="x")
    assert result.status == "denied" and "only version 4" in result.content["error"]
