"""edit_notebook keeps the file's own formatting (issue 11 L4): an edit of one cell changes
only that cell's lines, in the file's indent, key order, line endings, escaping and trailing
newline (a compact CRLF notebook was rewritten in nbformat's style: every line changed), and
undo gets the old bytes exactly."""

from __future__ import annotations

import difflib
import json

import nbformat
import pytest

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext

TOOLS = file_tools()


def notebook(cells: int = 6) -> dict:
    made = []
    for i in range(cells):
        if i % 3 == 2:
            made.append({"id": f"m{i}", "cell_type": "markdown", "metadata": {"tags": ["n"]}, "source": [f"# Part {i}\n", "prose ü"]})
        else:
            made.append({"execution_count": i, "outputs": [{"output_type": "stream", "name": "stdout", "text": ["a\n", "b\n"]}],
                         "source": [f"v{i} = {i}\n", f"print(v{i})"], "metadata": {}, "id": f"c{i}", "cell_type": "code"})
    return {"metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5, "cells": made}  # fmt: skip


STYLES = {
    "compact-crlf": lambda nb: json.dumps(nb, separators=(",", ":"), ensure_ascii=False) + "\r\n",
    "compact-spaced-no-newline": lambda nb: json.dumps(nb),  # ", " ": " and \u escapes
    "indent2-own-order": lambda nb: json.dumps(nb, indent=2, ensure_ascii=False) + "\n",
    "tabs-crlf": lambda nb: json.dumps(nb, indent="\t", ensure_ascii=False).replace("\n", "\r\n"),
    "nbformat": lambda nb: nbformat.writes(nbformat.from_dict(nb)) + "\n",
    "indent4-ascii-escapes": lambda nb: json.dumps(nb, indent=4, ensure_ascii=True) + "\n\n",
}
EDITS = {
    "replace": {"action": "replace", "cell_id": "c3", "source": "v3 = 30\nprint(v3 * 2)"},
    "insert_after": {"action": "insert_after", "cell_id": "c3", "source": "extra = 1"},
    "insert_top": {"action": "insert_after", "source": "first = 0"},
    "delete": {"action": "delete", "cell_id": "c3"},
    "delete_last": {"action": "delete", "cell_id": "m5"},
    "retype": {"action": "replace", "cell_id": "c4", "source": "## Now prose", "cell_type": "markdown"},
}


def edit(tmp_path, text: str, **args):
    (tmp_path / "n.ipynb").write_bytes(text.encode("utf-8"))
    writes = []
    ctx = ToolContext(sandbox=Sandbox(tmp_path), on_write=writes.append)
    result = dispatch(TOOLS, "edit_notebook", {"path": "n.ipynb", **args}, ctx)
    assert result.status == "ok", result.content
    return (tmp_path / "n.ipynb").read_bytes().decode("utf-8"), writes


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
    return [d for d in diff if d[:1] in "+-" and d[:3] not in ("+++", "---")]


@pytest.mark.parametrize("edit_name", list(EDITS))
@pytest.mark.parametrize("style", list(STYLES))
def test_one_cell_edit_changes_only_that_cell_in_the_files_style(tmp_path, style, edit_name):
    original = notebook()
    before = STYLES[style](original)
    after, writes = edit(tmp_path, before, **EDITS[edit_name])
    nbformat.validate(nbformat.reads(after, as_version=nbformat.NO_CONVERT))
    (write,) = writes
    assert write.previous == before.encode("utf-8")  # undo restores the old bytes exactly
    # line endings, the text after the last brace, and \u escaping are the file's
    assert after.count("\r\n") == (after.count("\n") if "\r\n" in before else 0)
    assert after[len(after.rstrip()) :] == before[len(before.rstrip()) :]
    assert after.isascii() == before.isascii()
    # every other cell is as it was, with its keys in the file's order
    old_cells = {c["id"]: c for c in json.loads(before)["cells"]}
    new_cells = json.loads(after)["cells"]
    edited = EDITS[edit_name].get("cell_id")
    for cell in new_cells:
        if cell["id"] in old_cells and cell["id"] != edited:
            assert list(cell.items()) == list(old_cells[cell["id"]].items())
    # and the diff is the edited cell's: a line or two in a compact file, its lines otherwise
    lines = changed_lines(before, after)
    limit = 2 if "compact" in style else 24
    assert len(lines) <= limit, "".join(lines)


def test_the_edited_cell_follows_its_neighbours_form(tmp_path):
    before = STYLES["indent2-own-order"](notebook())
    after, _ = edit(tmp_path, before, action="insert_after", cell_id="c1", source="a = 1\nb = 2")
    cells = json.loads(after)["cells"]
    new, neighbour = cells[2], cells[1]
    assert [k for k in new if k != "id"] == [k for k in neighbour if k != "id"]
    assert new["source"] == ["a = 1\n", "b = 2"]  # lists of lines, like the others
    strings = notebook()
    for cell in strings["cells"]:
        cell["source"] = "".join(cell["source"])
    after, _ = edit(tmp_path, json.dumps(strings, indent=1), action="replace", cell_id="c0", source="z = 9\nprint(z)")
    assert json.loads(after)["cells"][0]["source"] == "z = 9\nprint(z)"


@pytest.mark.parametrize("compact", [True, False])
def test_empty_and_single_cell_notebooks(tmp_path, compact):
    empty = {**notebook(0), "cells": []}
    dump = (lambda nb: json.dumps(nb, separators=(",", ":"))) if compact else (lambda nb: json.dumps(nb, indent=1) + "\n")
    after, _ = edit(tmp_path, dump(empty), action="insert_after", source="only = 1")
    assert json.loads(after)["cells"][0]["source"] == ["only = 1"]
    assert (after.count("\n") == 0) if compact else after.endswith("}\n")
    nbformat.validate(nbformat.reads(after, as_version=nbformat.NO_CONVERT))
    cell_id = json.loads(after)["cells"][0]["id"]
    again, _ = edit(tmp_path, after, action="delete", cell_id=cell_id)
    assert json.loads(again)["cells"] == [] and (again.count("\n") == 0) == compact


def test_cells_without_ids_get_them_written_in_the_files_style(tmp_path):
    # a 4.5 notebook whose cells lack ids: the ids read_file showed must be in the file after
    # an edit, so every cell changes; the style is still the file's
    nb = notebook(3)
    for cell in nb["cells"]:
        del cell["id"]
    before = json.dumps(nb, separators=(",", ":")) + "\r\n"
    after, _ = edit(tmp_path, before, action="replace", cell_index=1, source="changed = True")
    assert after.count("\r\n") == 1 and after.endswith("}\r\n")
    cells = json.loads(after)["cells"]
    assert all(c.get("id") for c in cells) and "".join(cells[1]["source"]) == "changed = True"
    assert cells[0]["source"] == nb["cells"][0]["source"]  # other cells keep their texts' form
