"""read_file on notebooks (issue 11 L3): the format line names the version the FILE holds
(a v3 notebook was labelled "4.5", the version it is converted to for reading), and JSON
outputs are summarised by their real size and shape (they showed as "0 bytes")."""

from __future__ import annotations

import json

import pytest

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext

TOOLS = file_tools()


def read(root, name: str, notebook: dict, tool: str = "read_file") -> dict:
    (root / name).write_text(json.dumps(notebook))
    result = dispatch(TOOLS, tool, {"path": name}, ToolContext(sandbox=Sandbox(root)))
    assert result.status == "ok", result.content
    return result.content


def v4(minor: int, outputs: list, metadata: dict | None = None) -> dict:
    cell = {"cell_type": "code", "source": "show()", "metadata": {}, "execution_count": 3, "outputs": outputs}
    if minor >= 5:
        cell["id"] = "cell-a"
    return {"nbformat": 4, "nbformat_minor": minor, "metadata": metadata or {}, "cells": [cell]}


V3 = {
    "nbformat": 3,
    "nbformat_minor": 0,
    "metadata": {"name": "legacy"},
    "worksheets": [{"metadata": {}, "cells": [
        {"cell_type": "heading", "level": 1, "source": "Old days", "metadata": {}},
        {"cell_type": "code", "input": "print('v3')", "language": "python", "collapsed": False,
         "prompt_number": 2, "metadata": {}, "outputs": [{"output_type": "stream", "stream": "stdout", "text": "v3\n"}]},
    ]}],
}  # fmt: skip


def test_a_v3_notebook_is_labelled_with_its_own_format(tmp_path):
    text = read(tmp_path, "legacy.ipynb", V3)["content"]
    assert text.splitlines()[0].endswith("nbformat 3.0 (read as 4.5)"), text
    assert "print('v3')" in text and "v3" in text.split("[outputs]")[1]
    summary = read(tmp_path, "legacy.ipynb", V3, tool="summarize_file")
    assert "nbformat 3.0 (read as 4.5)" in json.dumps(summary)


@pytest.mark.parametrize("minor", [0, 2, 4, 5])
def test_a_v4_notebook_keeps_its_minor_version(tmp_path, minor):
    # metadata saying it was once converted from v3 changes nothing: the file is v4
    notebook = v4(minor, [], {"orig_nbformat": 3})
    first = read(tmp_path, "n.ipynb", notebook)["content"].splitlines()[0]
    assert first.endswith(f"nbformat 4.{minor}"), first


def result(data: dict) -> list:
    return [{"output_type": "execute_result", "execution_count": 3, "metadata": {}, "data": data}]


def test_json_outputs_are_summarised_by_real_size_and_shape(tmp_path):
    rows = [{"city": f"c{i}", "pop": i * 1000} for i in range(150)]
    plot = {"data": [{"x": list(range(300)), "type": "scatter"}], "layout": {"title": "t"}, "config": {}}
    outputs = [
        *result({"application/json": rows}),
        *result({"application/vnd.plotly.v1+json": plot, "text/html": "<div>plot</div>"}),
        *result({"application/json": {"ok": True, "n": 3}}),
    ]
    text = read(tmp_path, "j.ipynb", v4(5, outputs))["content"]
    assert "0 bytes" not in text
    rows_size = len(json.dumps(rows, separators=(",", ":")).encode())
    assert f"[application/json {rows_size / 1024:.1f} KB, array of 150 items (object)]" in text, text
    assert "[application/vnd.plotly.v1+json" in text and "object of 3 keys: data, layout, config]" in text
    assert '[application/json 17 bytes] {"ok":true,"n":3}' in text  # a small one is shown whole
