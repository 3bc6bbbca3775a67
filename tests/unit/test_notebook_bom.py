"""A notebook file that starts with a UTF-8 byte-order mark (r11d F5) is read as cells, and an
edit keeps the mark."""

from __future__ import annotations

import nbformat

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext

TOOLS = file_tools()


def run(tool: str, root, **args):
    return dispatch(TOOLS, tool, args, ToolContext(sandbox=Sandbox(root)))


def test_a_notebook_with_a_byte_order_mark_is_read_as_cells_and_keeps_it_when_edited(tmp_path):
    # r11d F5: a UTF-8 BOM made nbformat's reader fail, so the file was read as raw JSON
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1")]
    for n, cell in enumerate(nb.cells):
        cell.id = f"cell-{n}"
    data = b"\xef\xbb\xbf" + nbformat.writes(nb).encode("utf-8") + b"\n"
    (tmp_path / "bom.ipynb").write_bytes(data)
    read = run("read_file", tmp_path, path="bom.ipynb")
    assert read.content["format"].startswith("notebook"), read.content
    assert "[cell 1 · id cell-1 · code]\nx = 1" in read.content["content"] and "notice" not in read.content
    edit = run("edit_notebook", tmp_path, path="bom.ipynb", action="replace", cell_id="cell-1", source="x = 2")
    assert edit.status == "ok", edit.content
    after = (tmp_path / "bom.ipynb").read_bytes()
    assert after.startswith(b"\xef\xbb\xbf{") and after.count(b"\xef\xbb\xbf") == 1
    assert after.replace(b'"x = 2"', b'"x = 1"') == data  # only the edited source changed
