"""Notebook tools after the issue 11 review: grep by cell whatever the JSON holds, notebooks
nbformat cannot read, and cells without ids."""

from __future__ import annotations

import nbformat
import pytest

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext

TOOLS = file_tools()
SOURCE = 'import pandas as pd\ndef load(p):\n\treturn pd.read_csv(p, sep="\\t")\nmsg = "hello world"'


def run(tool: str, root, **args):
    return dispatch(TOOLS, tool, args, ToolContext(sandbox=Sandbox(root)))


def write_notebook(path, *cells, outputs=()):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    if outputs:
        nb.cells[0].outputs = [nbformat.v4.new_output("stream", text=t) for t in outputs]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


@pytest.mark.parametrize("pattern", ["^def load", "^import pandas", 'world"$', 'sep="', "\\treturn", "^\\s+return pd"])
def test_grep_finds_notebook_cells_for_patterns_the_json_escapes(tmp_path, pattern):
    write_notebook(tmp_path / "nb" / "analysis.ipynb", SOURCE)
    (tmp_path / "same.py").write_text(SOURCE + "\n")
    result = run("grep_files", tmp_path, pattern=pattern)
    files = sorted({m["file"] for m in result.content["matches"]})
    assert files == ["nb/analysis.ipynb", "same.py"], result.content
    (cell_hit,) = [m for m in result.content["matches"] if m["file"].endswith(".ipynb")]
    assert cell_hit["cell"] == 0 and "cell_id" in cell_hit
    assert result.content["match_count"] == 2 and result.content["file_count"] == 2


def test_grep_by_cell_keeps_the_path_glob_and_ignore_rules(tmp_path):
    write_notebook(tmp_path / "a" / "one.ipynb", "def load(): pass")
    write_notebook(tmp_path / "b" / "two.ipynb", "def load(): pass")
    write_notebook(tmp_path / "skip" / "three.ipynb", "def load(): pass")
    (tmp_path / ".gitignore").write_text("skip/\n")
    (tmp_path / ".git").mkdir()
    assert {m["file"] for m in run("grep_files", tmp_path, pattern="^def load")
            .content["matches"]} == {"a/one.ipynb", "b/two.ipynb"}
    assert {m["file"] for m in run("grep_files", tmp_path, pattern="^def load", path="a")
            .content["matches"]} == {"a/one.ipynb"}
    assert {m["file"] for m in run("grep_files", tmp_path, pattern="^def load", file_pattern="b/*")
            .content["matches"]} == {"b/two.ipynb"}
    assert run("grep_files", tmp_path, pattern="^def load", file_pattern="*.py").content["matches"] == []


def test_a_match_only_in_an_output_is_said_not_dropped_in_silence(tmp_path):
    write_notebook(tmp_path / "out.ipynb", "print(secret_word())", outputs=["zebra crossing\n"])
    result = run("grep_files", tmp_path, pattern="zebra")
    assert result.content["match_count"] == 0
    assert any("out.ipynb" in w and "outputs" in w for w in result.content["warnings"])
