"""edit_notebook on notebooks that were already invalid before the edit (r11c M3).

Jupyter and nbformat.read accept such files (an output without metadata, a stream without
name, a key another editor added): the edit must be judged by what it changes, not refused
for what the file already had."""

from __future__ import annotations

import json

import nbformat
import pytest

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext

TOOLS = file_tools()


def run(tool: str, root, **args):
    return dispatch(TOOLS, tool, args, ToolContext(sandbox=Sandbox(root)))


def _notebook(**markdown_metadata) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title", metadata=markdown_metadata),
        nbformat.v4.new_code_cell("print(1)"),
    ]
    for n, cell in enumerate(nb.cells):
        cell.id = f"c{n}"
    return json.loads(nbformat.writes(nb))


def _output_without_metadata(d: dict) -> None:
    d["cells"][1]["outputs"] = [{"output_type": "display_data", "data": {"text/plain": "1"}}]


def _stream_without_name(d: dict) -> None:
    d["cells"][1]["outputs"] = [{"output_type": "stream", "text": "1\n"}]


def _extra_cell_key(d: dict) -> None:
    d["cells"][1]["vscode"] = {"languageId": "python"}


def _joined(d: dict) -> dict:
    """A notebook with its multi-line strings joined, as nbformat reads them."""
    return json.loads(json.dumps(nbformat.v4.rwbase.rejoin_lines(nbformat.from_dict(d))))


@pytest.mark.parametrize("slip", [_output_without_metadata, _stream_without_name, _extra_cell_key])
@pytest.mark.parametrize(
    "edit",
    [
        {"action": "replace", "cell_id": "c0", "source": "# New title"},
        {"action": "insert_after", "cell_id": "c0", "source": "x = 2"},
        {"action": "delete", "cell_id": "c0"},
    ],
)
def test_an_edit_of_an_already_invalid_notebook_is_made_and_the_old_slip_is_reported(tmp_path, slip, edit):
    d = _notebook()
    slip(d)
    (tmp_path / "nb.ipynb").write_text(json.dumps(d, indent=1))
    nbformat.read(tmp_path / "nb.ipynb", as_version=4)  # Jupyter opens it

    result = run("edit_notebook", tmp_path, path="nb.ipynb", **edit)

    assert result.status == "ok", result.content
    assert "already invalid before this edit" in result.content["note"]
    after = _joined(json.loads((tmp_path / "nb.ipynb").read_text()))
    untouched = next(c for c in after["cells"] if c.get("id") == "c1")
    # the slip is left as it was and nothing else is lost (nbformat splits text into lines)
    assert untouched == _joined(d)["cells"][1]
    if edit["action"] == "replace":
        assert after["cells"][0]["source"] == "# New title"
    elif edit["action"] == "delete":
        assert [c["id"] for c in after["cells"]] == ["c1"]
    else:
        assert after["cells"][1]["source"] == "x = 2"


def test_an_edit_that_adds_an_error_is_still_refused_even_in_an_already_invalid_notebook(tmp_path):
    # markdown allows any metadata; a code cell's "collapsed" must be a boolean
    d = _notebook(collapsed="yes")
    _stream_without_name(d)
    text = json.dumps(d, indent=1)
    (tmp_path / "nb.ipynb").write_text(text)

    result = run("edit_notebook", tmp_path, path="nb.ipynb", action="replace", cell_id="c0",
                 source="x = 1", cell_type="code")  # fmt: skip

    assert result.status == "error"
    assert "'yes' is not of type 'boolean'" in result.content["error"]
    assert "nothing was written" in result.content["error"]
    assert (tmp_path / "nb.ipynb").read_text() == text


def test_a_valid_notebook_gets_no_note(tmp_path):
    (tmp_path / "nb.ipynb").write_text(json.dumps(_notebook(), indent=1))
    result = run("edit_notebook", tmp_path, path="nb.ipynb", action="replace", cell_id="c0", source="# T2")
    assert result.status == "ok" and "note" not in result.content
    nbformat.validate(nbformat.read(tmp_path / "nb.ipynb", as_version=4))
