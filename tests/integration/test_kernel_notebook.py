"""The notebook-native features in a real kernel (jupyter_client): conversation across cells,
{In[n]}/{Out[n]}/{Err[n]}/{Err} references, %mira fix, DataFrames as context."""

from __future__ import annotations

import json

import pytest

from mira_jupyter.testing.kernel import Kernel, kernel_after

SETUP = """
%load_ext mira_jupyter
import json
import mira_jupyter.testing as mt
%config Mira.orchestrator_model = "scripted:gpt-5"
%config Mira.executor_model = "scripted:deepseek-chat"
%config Mira.view = "text"
script = mt.use_script(mt.Script({"gpt-5": [{"text": "answer", "repeat": True}]}))
"""


@pytest.fixture()
def kernel(tmp_path):
    yield from kernel_after(str(tmp_path), SETUP)


def run(kernel: Kernel, code: str) -> str:
    # generous: the first notebook read imports nbformat and jsonschema, slow on a loaded machine
    reply, outputs = kernel.execute(code, timeout=240)
    assert reply["status"] == "ok", reply
    return kernel.text_of(outputs)


def requests(kernel: Kernel) -> list[list[dict]]:
    """The messages of every request the scripted model received so far."""
    text = run(kernel, "print(json.dumps([r.messages for r in script.requests]))")
    return json.loads(text)


def user_texts(messages: list[dict]) -> list[str]:
    """The user turns, without the mode instruction the engine adds after a request."""
    return [
        m["content"]
        for m in messages
        if m["role"] == "user" and not m["content"].startswith("Project snapshot:")
    ]


def test_the_second_cell_carries_the_first_and_new_and_reset_drop_it(kernel):
    run(kernel, "%%mira --mode simple\nremember the number 41")
    second = run(kernel, "%%mira --mode simple\nwhich number did I say?")
    first_turn, second_turn = requests(kernel)
    assert user_texts(first_turn) == ["remember the number 41"]
    assert user_texts(second_turn) == ["remember the number 41", "which number did I say?"]
    assert {"role": "assistant", "content": "answer"} in second_turn
    assert "carries 1 earlier turn" in second
    # --new: this cell starts a fresh conversation, the next cell continues that one
    run(kernel, "%%mira --mode simple --new\nstart over")
    run(kernel, "%%mira --mode simple\nand then?")
    *_, fresh, follow = requests(kernel)
    assert user_texts(fresh) == ["start over"]
    assert user_texts(follow) == ["start over", "and then?"]
    shown = run(kernel, "%mira conversation")
    assert "the next cell carries 2 earlier turns" in shown and "start over" in shown
    # %mira reset: the cells that follow start from nothing
    assert "new conversation conv_" in run(kernel, "%mira reset")
    run(kernel, "%%mira --mode simple\nhello again")
    assert user_texts(requests(kernel)[-1]) == ["hello again"]
    listing = run(
        kernel,
        "import mira_jupyter\nops = list(mira_jupyter.current_session().engine.operations.values())\n"
        "conv = ops[2].conversation_id\nh = %mira history --all --conversation {conv}\n"
        "print(sorted(h['request']), list(h['parent_operation_id']).count(ops[2].id))",
    )
    assert listing.strip() == "['and then?', 'start over'] 1"


def test_a_failed_turn_is_carried_as_failed(kernel):
    run(kernel, 'script = mt.use_script(mt.Script({"gpt-5": [{"fault": "status", "status": 400}, "ok"]}))')
    run(kernel, "%%mira --mode simple\nbreak please")
    run(kernel, "%%mira --mode simple\nwhat happened?")
    carried = requests(kernel)[-1]
    assistant = [m["content"] for m in carried if m["role"] == "assistant"]
    assert len(assistant) == 1 and assistant[0].startswith("[This turn failed")


def test_every_kind_of_reference_and_a_missing_one(kernel):
    run(kernel, "x = {'a': 1}")  # In[2]: braces in the source arrive as written
    run(kernel, "[n * 21 for n in range(3)]")  # Out[3]
    reply, _ = kernel.execute("1/0")  # Err[4]
    assert reply["status"] == "error"
    run(kernel, "%%mira --mode simple\nsource: {In[2]}\nvalue: {Out[3]}\nerror: {Err[4]}\nlast: {Err}")
    (request,) = user_texts(requests(kernel)[-1])
    source, value, error, last = request.split("\n", 3)
    assert source == "source: x = {'a': 1}"
    assert value == "value: [0, 21, 42]"
    assert error.startswith("error: ") and "ZeroDivisionError" in request
    assert "\x1b[" not in request and last.count("ZeroDivisionError") >= 1
    before = len(requests(kernel))
    reply, outputs = kernel.execute("%%mira --mode simple\nwhat is {Out[99]}?", timeout=240)
    shown = kernel.text_of(outputs).strip()
    assert reply["status"] == "error"  # the cell fails (Run All stops) with one line
    assert shown.startswith("UsageError: {Out[99]}: cell 99 has no output (cells with output: 3")
    assert shown.endswith("nothing was sent") and len(shown.splitlines()) == 1
    assert len(requests(kernel)) == before
    # the refused cell is not an error of the user's code: {Err} still means cell 4
    run(kernel, "%%mira --mode simple\n{Err}")
    assert "ZeroDivisionError" in user_texts(requests(kernel)[-1])[-1]


def test_mira_fix_sends_the_last_error_with_its_source(kernel):
    reply, outputs = kernel.execute("%mira fix", timeout=240)
    assert reply["status"] == "error" and "no cell has raised an error" in kernel.text_of(outputs)
    kernel.execute("def ratio(a, b):\n    return a / b\nratio(1, 0)")
    run(kernel, "%mira fix")
    request = user_texts(requests(kernel)[0])[0]  # the fix's first call (the plan)
    assert "Fix the error raised by notebook cell In[3]" in request
    assert "```python\ndef ratio(a, b):\n    return a / b\nratio(1, 0)\n```" in request
    assert "ZeroDivisionError: division by zero" in request and "\x1b" not in request


def test_a_dataframe_is_sent_as_shape_dtypes_and_head(kernel):
    run(kernel, "import pandas as pd\ndf = pd.DataFrame({'n': range(100_000), 's': ['x'] * 100_000})")
    run(kernel, "%config Mira.max_interpolated_tokens = 120")
    run(kernel, "%%mira --mode simple\nlook at {df}")
    (request,) = user_texts(requests(kernel)[-1])
    assert request.startswith("look at pandas DataFrame `df`: 100,000 rows × 2 columns")
    assert "99999" not in request and len(request) < 1_000


def executed_notebook(path):
    """A real notebook: a markdown cell and a matplotlib plot, executed by nbclient."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Plots"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, str(path))
    assert "image/png" in path.read_text()
    return nb


def planned_script(orchestrator_tool_call: dict, executor_turns: list) -> str:
    plan = {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [{"description": "Do it", "active_form": "Doing it"}]}}]}
    turns = {"gpt-5": [plan, {"tool_calls": [orchestrator_tool_call]}, "done", "Finished."], "deepseek-chat": executor_turns}
    return f"script = mt.use_script(mt.Script(json.loads({json.dumps(turns)!r})))"


def test_reading_a_notebook_with_image_outputs(kernel, tmp_path):
    executed_notebook(tmp_path / "plots.ipynb")
    run(kernel, planned_script(
        {"name": "read_project_file", "arguments": {"paths": ["plots.ipynb"]}},
        [{"tool_calls": [{"name": "read_file", "arguments": {"path": "plots.ipynb"}}]}, "It plots a line."],
    ))
    run(kernel, "%%mira --mode planned\nwhat does plots.ipynb show?")
    tool_results = run(kernel, "print(json.dumps([m['content'] for r in script.requests for m in r.messages if m['role'] == 'tool']))")
    (read,) = [t for t in json.loads(tool_results) if '"path": "plots.ipynb"' in t and "content" in t][:1]
    content = json.loads(read)["content"]
    import re

    assert re.search(r"\[image/png \d+×\d+\]", content), content
    assert "iVBOR" not in read and "[cell 0 · id " in content and "plt.plot([1, 3, 2])" in content


def test_edit_notebook_validates_and_undo_restores_it_byte_for_byte(kernel, tmp_path):
    import nbformat

    path = tmp_path / "plots.ipynb"
    nb = executed_notebook(path)
    original = path.read_bytes()
    heading = nb.cells[0].id
    run(kernel, planned_script(
        {"name": "refactor_code", "arguments": {"path": "plots.ipynb", "changes_requested": "a better title"}},
        [
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "plots.ipynb"}}]},
            {"tool_calls": [{"name": "edit_notebook", "arguments": {"path": "plots.ipynb", "action": "replace", "cell_id": heading, "source": "# A line plot"}}]},
            "Replaced the heading.",
        ],
    ))
    shown = run(kernel, "%%mira --mode planned\ngive plots.ipynb a better title")
    assert "plots.ipynb" in shown
    edited = nbformat.read(str(path), as_version=nbformat.NO_CONVERT)
    nbformat.validate(edited)
    assert edited.cells[0].source == "# A line plot"
    assert edited.cells[1] == nb.cells[1]  # the plot cell: source, outputs, metadata, id kept
    run(kernel, "%mira undo")
    assert path.read_bytes() == original


ANSWER_WITH_CODE = "Use this:\n\n```python\ndef ratio(a, b):\n    return a / b if b else 0.0\n```\n\nand run\n\n```\nratio(1, 0)\n```\n\n```text\n0.0\n```"


def test_insert_puts_the_code_blocks_in_a_new_cell_below_and_runs_nothing(kernel):
    run(kernel, f"script = mt.use_script(mt.Script({{'gpt-5': [{{'text': {ANSWER_WITH_CODE!r}, 'repeat': True}}]}}))")
    reply, outputs = kernel.execute("%%mira --mode simple --insert -o op\nfix ratio", timeout=240)
    (payload,) = [p for p in reply["payload"] if p["source"] == "set_next_input"]
    assert payload["replace"] is False
    assert payload["text"] == "def ratio(a, b):\n    return a / b if b else 0.0\n\nratio(1, 0)"
    assert "2 code blocks put in a new cell below (not run)" in kernel.text_of(outputs)
    assert run(kernel, "print(op.code)").strip() == repr(["def ratio(a, b):\n    return a / b if b else 0.0", "ratio(1, 0)"])
    assert "ratio" not in run(kernel, "print(sorted(k for k in globals() if not k.startswith('_')))")
    # without --insert nothing is inserted; Mira.insert_code makes it the default
    reply, _ = kernel.execute("%%mira --mode simple\nagain", timeout=240)
    assert not [p for p in reply.get("payload", []) if p["source"] == "set_next_input"]
    run(kernel, "%config Mira.insert_code = True")
    reply, _ = kernel.execute("%%mira --mode simple\nonce more", timeout=240)
    assert [p["text"] for p in reply["payload"] if p["source"] == "set_next_input"] == [payload["text"]]


def test_log_queries_draw_no_progress_widget_in_a_kernel(kernel, tmp_path):
    # in a kernel DuckDB draws a progress widget for a slow query: on a busy machine it would
    # appear in %mira history's output (and break the notebooks' compared outputs)
    code = (
        "import duckdb\n"
        "from mira_jupyter.store.db import Database\n"
        f"db = Database({str(tmp_path / 'log.duckdb')!r})\n"
        "q = \"SELECT current_setting('enable_progress_bar')\"\n"
        "with db.connect() as con: ours = con.execute(q).fetchone()[0]\n"
        "snap = db.snapshot(); copy = snap.execute(q).fetchone()[0]; snap.close()\n"
        "plain = duckdb.connect(':memory:').execute(q).fetchone()[0]\n"
        "print(ours, copy, plain)"
    )
    assert run(kernel, code).split() == ["False", "False", "True"]
