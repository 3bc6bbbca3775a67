"""Notebook tools after the second issue 11 review: merge-conflicted notebooks (M7) and
cells without ids (M8). Inputs are written as Jupyter and git would write them."""

from __future__ import annotations

import base64
import json
import zlib

import nbformat

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext

TOOLS = file_tools()


def run(tool: str, root, **args):
    return dispatch(TOOLS, tool, args, ToolContext(sandbox=Sandbox(root)))


def _png(width: int, height: int) -> str:
    """A real PNG of random-looking bytes (so its base64 is one long incompressible run)."""
    import os
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    head = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return base64.b64encode(data).decode()


def _notebook_text(source: str, png: str) -> str:
    nb = nbformat.v4.new_notebook()
    plot = nbformat.v4.new_code_cell(source)
    plot.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})]
    nb.cells = [nbformat.v4.new_markdown_cell("# Sales"), plot]
    for n, cell in enumerate(nb.cells):
        cell.id = f"cell-{n}"
    return nbformat.writes(nb) + "\n"


def _conflicted(ours: str, theirs: str) -> str:
    """What git leaves after a conflicting merge: shared lines, then both versions."""
    a, b = ours.splitlines(keepends=True), theirs.splitlines(keepends=True)
    start = next(i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y)
    end = next(i for i, (x, y) in enumerate(zip(reversed(a), reversed(b), strict=False)) if x != y)
    return "".join(
        a[:start] + ["<<<<<<< HEAD\n"] + a[start : len(a) - end] + ["=======\n"]
        + b[start : len(b) - end] + [">>>>>>> feature\n"] + a[len(a) - end :]
    )  # fmt: skip


def test_a_merge_conflicted_notebook_is_read_as_both_sides_cells_never_base64(tmp_path):
    png = _png(64, 48)
    ours = _notebook_text("plot(sales)", png)
    theirs = _notebook_text("plot(sales, log=True)", _png(80, 60))
    (tmp_path / "report.ipynb").write_text(_conflicted(ours, theirs))
    result = run("read_file", tmp_path, path="report.ipynb")
    assert result.status == "ok", result.content
    text = json.dumps(result.content)
    assert png[:40] not in text and "iVBOR" not in text  # no base64 at all
    content = result.content["content"]
    assert "ours (HEAD)" in content and "theirs (feature)" in content
    assert "plot(sales)" in content and "plot(sales, log=True)" in content
    assert "[image/png 64×48]" in content and "[image/png 80×60]" in content
    assert "merge conflict" in result.content["notice"]


def test_summary_symbols_and_grep_of_a_conflicted_notebook_name_the_sides(tmp_path):
    ours = _notebook_text("def load(p):\n    return p", _png(8, 8))
    theirs = _notebook_text("def load(p, sep=','):\n    return p", _png(8, 8))
    (tmp_path / "nb.ipynb").write_text(_conflicted(ours, theirs))
    summary = run("summarize_file", tmp_path, path="nb.ipynb")
    symbols = run("extract_symbols", tmp_path, path="nb.ipynb")
    grep = run("grep_files", tmp_path, pattern="^def load")
    for result in (summary, symbols, grep):
        assert result.status == "ok", result.content
        assert "iVBOR" not in json.dumps(result.content)
    assert any(line.startswith("ours (HEAD)") for line in summary.content["cells"])
    assert any("theirs (feature)" in line and "load" in line for line in symbols.content["symbols"])
    assert {m.get("side") for m in grep.content["matches"]} == {"ours (HEAD)", "theirs (feature)"}


def test_edit_notebook_refuses_a_conflicted_notebook_in_one_line(tmp_path):
    ours = _notebook_text("a = 1", _png(4, 4))
    path = tmp_path / "nb.ipynb"
    path.write_text(_conflicted(ours, _notebook_text("a = 2", _png(4, 4))))
    before = path.read_bytes()
    result = run("edit_notebook", tmp_path, path="nb.ipynb", action="delete", cell_id="cell-0")
    assert result.status == "error"
    assert "1 unresolved git merge conflict" in result.content["error"] and "\n" not in result.content["error"]
    assert path.read_bytes() == before


def test_a_notebook_nbformat_cannot_read_is_plain_text_without_its_base64(tmp_path):
    png = _png(32, 32)
    text = _notebook_text("plot()", png)
    (tmp_path / "cut.ipynb").write_text(text[: len(text) - 40])  # a save cut short: broken JSON
    for tool, args in [("read_file", {}), ("summarize_file", {}), ("grep_files", {"pattern": "image"})]:
        result = run(tool, tmp_path, path="cut.ipynb", **args)
        dumped = json.dumps(result.content)
        assert png[:40] not in dumped and png[1000:1040] not in dumped, (tool, dumped[:500])
    read = run("read_file", tmp_path, path="cut.ipynb")
    assert "[base64 data" in read.content["content"] and "nbformat" in read.content["notice"]


def _idless(tmp_path, *sources: str) -> None:
    """A v4.5 notebook whose cells have no ids (as some tools and hand edits leave them)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    raw = json.loads(nbformat.writes(nb))
    for cell in raw["cells"]:
        del cell["id"]
    (tmp_path / "nb.ipynb").write_text(json.dumps(raw, indent=1) + "\n")


def _ids(result) -> list[str]:
    return [line.split(" · ")[1] for line in result.content["content"].splitlines() if line.startswith("[cell ")]


def test_cells_without_ids_get_the_same_ids_on_every_read(tmp_path):
    _idless(tmp_path, "a = 1", "b = 2", "a = 1")
    first, second = (run("read_file", tmp_path, path="nb.ipynb") for _ in range(2))
    assert _ids(first) == _ids(second)
    assert len(set(_ids(first))) == 3  # the two identical cells are told apart
    grep = [m["cell_id"] for m in run("grep_files", tmp_path, pattern="= 1").content["matches"]]
    assert grep == [_ids(first)[0].removeprefix("id "), _ids(first)[2].removeprefix("id ")]


def test_an_id_read_from_an_idless_notebook_is_the_one_edit_notebook_finds(tmp_path):
    _idless(tmp_path, "a = 1", "b = 2", "c = 3")
    second = _ids(run("read_file", tmp_path, path="nb.ipynb"))[1].removeprefix("id ")
    result = run("edit_notebook", tmp_path, path="nb.ipynb", action="replace", cell_id=second, source="b = 20")
    assert result.status == "ok", result.content
    nb = nbformat.read(str(tmp_path / "nb.ipynb"), as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert [c.source for c in nb.cells] == ["a = 1", "b = 20", "c = 3"]
    # the ids the model saw are now written down: a later read shows the same ones
    assert [c.id for c in nb.cells] == [i.removeprefix("id ") for i in _ids(run("read_file", tmp_path, path="nb.ipynb"))]


def test_duplicate_ids_are_told_apart_the_same_way_on_every_read(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x"), nbformat.v4.new_code_cell("y")]
    raw = json.loads(nbformat.writes(nb))
    raw["cells"][0]["id"] = raw["cells"][1]["id"] = "same"
    (tmp_path / "nb.ipynb").write_text(json.dumps(raw))
    first, second = (_ids(run("read_file", tmp_path, path="nb.ipynb")) for _ in range(2))
    assert first == second and first[0] == "id same" and first[1] != "id same"


def test_a_long_line_in_a_cell_is_cut_and_the_cells_after_it_are_reachable(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import json"),
        nbformat.v4.new_code_cell("DATA = [" + ", ".join(str(n) for n in range(60_000)) + "]"),
        nbformat.v4.new_code_cell("def load(path):\n    return json.load(open(path))"),
    ]
    nbformat.write(nb, str(tmp_path / "data.ipynb"))
    seen, start, cut = "", 1, False
    for _ in range(5):  # a reader that follows the notices gets through the notebook
        result = run("read_file", tmp_path, path="data.ipynb", start_line=start)
        seen += result.content["content"]
        cut = cut or "long_lines_cut" in result.content
        if not result.truncated or "end_line" not in result.content:
            break
        start = result.content["end_line"] + 1
    assert "def load(path):" in seen
    assert cut and "…[+" in seen
    assert max(len(line) for line in seen.splitlines()) < 2_100


def test_terminal_escapes_in_stream_and_text_outputs_never_reach_the_model(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("run()")
    link = "\x1b]8;;http://x\x07link\x1b]8;;\x07 and \x1b[31mred\x1b[0m"
    cell.outputs = [
        nbformat.v4.new_output("stream", text=link + "\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "\x1b[1mbold\x1b[0m"}, execution_count=1),
    ]
    nb.cells = [cell]
    nbformat.write(nb, str(tmp_path / "esc.ipynb"))
    content = run("read_file", tmp_path, path="esc.ipynb").content["content"]
    assert "\x1b" not in content and "\x07" not in content
    assert "link and red" in content and "bold" in content
