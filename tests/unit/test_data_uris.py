"""Inline base64 (data URIs) never reaches the model (r11d F8), and an edit that copies the
placeholder back keeps the real data in the file."""

from __future__ import annotations

import base64
import json
import os

import nbformat
import pytest

from mira_jupyter.core import data_uri
from mira_jupyter.notebook.cell_errors import fix_request
from mira_jupyter.notebook.interpolate import References, interpolate
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext

TOOLS = file_tools()


def run(tool: str, root, **args):
    return dispatch(TOOLS, tool, args, ToolContext(sandbox=Sandbox(root)))


def _png(width: int, height: int) -> str:
    """A real PNG of random bytes (its base64 is one long incompressible run)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    head = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return base64.b64encode(data).decode()


def _sent(payload: str, text: str) -> bool:
    """Whether any 40-character piece of `payload` is in `text`."""
    return any(payload[i : i + 40] in text for i in range(0, max(1, len(payload) - 40), 40))


def _notebook(tmp_path, png: str):
    v4 = nbformat.v4
    nb = v4.new_notebook()
    md = v4.new_markdown_cell(f"# Chart\n![chart](data:image/png;base64,{png})\n![pasted](attachment:p.png)")
    md["attachments"] = {"p.png": {"image/png": png}}
    code = v4.new_code_cell("show()", execution_count=1)
    code.outputs = [
        v4.new_output("execute_result", execution_count=1, data={"text/markdown": f"![x](data:image/png;base64,{png})"}),
        v4.new_output("stream", name="stdout", text=f"<img src='data:image/jpeg;base64,{png}'>\n"),
    ]
    nb.cells = [md, code]
    for n, cell in enumerate(nb.cells):
        cell.id = f"cell-{n}"
    (tmp_path / "nb.ipynb").write_text(nbformat.writes(nb))
    return nb


def test_notebook_tools_show_data_uris_and_attachments_as_placeholders(tmp_path):
    png = _png(24, 16)
    _notebook(tmp_path, png)
    read = run("read_file", tmp_path, path="nb.ipynb")
    summary = run("summarize_file", tmp_path, path="nb.ipynb")
    grep = run("grep_files", tmp_path, pattern="chart|img")
    for result in (read, summary, grep):
        assert result.status == "ok", result.content
        assert not _sent(png, json.dumps(result.content)), result.content
    content = read.content["content"]
    size = data_uri.placeholder_of(f"data:image/png;base64,{png}")
    assert f"![chart]({size})" in content and "[data URI image/jpeg " in content
    assert "[attachments] p.png [image/png 24×16]" in content
    assert grep.content["matches"][0]["text"] == f"![chart]({size})"


def test_edit_notebook_puts_the_data_back_where_a_copied_placeholder_stands(tmp_path):
    png = _png(24, 16)
    _notebook(tmp_path, png)
    shown = run("read_file", tmp_path, path="nb.ipynb").content["content"]
    source = shown.split("[cell 0 · id cell-0 · markdown]\n")[1].split("\n[attachments]")[0]
    result = run("edit_notebook", tmp_path, path="nb.ipynb", action="replace", cell_id="cell-0",
                 source=source.replace("# Chart", "# Sales chart"))  # fmt: skip
    assert result.status == "ok", result.content
    cell = nbformat.read(tmp_path / "nb.ipynb", 4).cells[0]
    assert cell.source.startswith("# Sales chart\n") and f"data:image/png;base64,{png})" in cell.source
    assert "[data URI" not in cell.source and cell.attachments["p.png"]["image/png"] == png
    # a placeholder copied into another cell also gets the data (it is in the notebook)
    moved = run("edit_notebook", tmp_path, path="nb.ipynb", action="insert_after", cell_id="cell-1",
                source="html = " + repr(source.split("(")[1].split(")")[0]), cell_type="code")  # fmt: skip
    assert moved.status == "ok", moved.content
    assert f"data:image/png;base64,{png}" in nbformat.read(tmp_path / "nb.ipynb", 4).cells[2].source


def test_a_placeholder_for_data_the_notebook_lacks_is_refused_and_nothing_is_written(tmp_path):
    _notebook(tmp_path, _png(8, 8))
    before = (tmp_path / "nb.ipynb").read_bytes()
    made_up = "![x]([data URI image/png 2.1 KB #0badf00d])"
    result = run("edit_notebook", tmp_path, path="nb.ipynb", action="replace", cell_id="cell-0", source=made_up)
    assert result.status == "error"
    assert "#0badf00d" in result.content["error"] and "nothing was written" in result.content["error"]
    assert "\n" not in result.content["error"]
    assert (tmp_path / "nb.ipynb").read_bytes() == before
    new = run("edit_notebook", tmp_path, path="new.ipynb", action="insert_after", source=made_up)
    assert new.status == "error" and not (tmp_path / "new.ipynb").exists()


def test_references_and_variables_send_placeholders_not_base64():
    png = _png(20, 20)
    uri = f"data:image/png;base64,{png}"
    ns = {"In": ["", f"html = '<img src=\"{uri}\">'"], "Out": {1: f"![x]({uri})"}, "html": f"<img src='{uri}'>"}
    refs = References(ns, errors={1: f"ValueError: bad {uri}"}, last_error=1)
    for text in ("{In[1]}", "{Out[1]}", "{Err}", "{html}"):
        sent = interpolate(f"look at {text}", ns, refs=refs)
        assert not _sent(png, sent) and "[data URI image/png " in sent, (text, sent[:300])


def test_mira_fix_sends_the_cell_without_its_base64():
    png = _png(20, 20)
    request = fix_request(3, f"img = 'data:image/gif;base64,{png}'\n1/0", f"ZeroDivisionError {png[:10]}")
    assert not _sent(png, request) and "[data URI image/gif " in request


@pytest.mark.parametrize(
    "uri, mime",
    [
        ("DATA:IMAGE/PNG;BASE64,{b}", "image/png"),  # case does not matter (RFC 2397)
        ("data:image/svg+xml;charset=utf-8;base64,{b}", "image/svg+xml"),
        ("data:;base64,{b}", "text/plain"),  # no media type: RFC 2397's default
        ("data:application/octet-stream;base64,{u}", "application/octet-stream"),  # URL-safe alphabet
    ],
)
def test_data_uri_forms_are_elided_and_restored(uri, mime):
    raw = os.urandom(300)
    text = "x " + uri.format(b=base64.b64encode(raw).decode(), u=base64.urlsafe_b64encode(raw).decode()) + " y"
    shown = data_uri.elide(text)
    assert shown.startswith(f"x [data URI {mime} 300 bytes #") and shown.endswith("] y")
    assert data_uri.restore(shown, data_uri.uris_in([text])) == text


def test_short_payloads_and_plain_text_are_left_alone():
    tiny = "![dot](data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7)"
    assert data_uri.elide(tiny) == tiny  # under 64 base64 characters: cheaper than a placeholder
    prose = "the data: field is base64, see docs"
    assert data_uri.elide(prose) == prose

