"""The notebook-native features in a real kernel (jupyter_client): conversation across cells,
{In[n]}/{Out[n]}/{Err[n]}/{Err} references, %mira fix, DataFrames as context."""

from __future__ import annotations

import json

import pytest

from mira_jupyter.testing.kernel import Kernel

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
    k = Kernel(str(tmp_path))
    reply, _ = k.execute(SETUP)
    assert reply["status"] == "ok", reply
    yield k
    k.shutdown()


def run(kernel: Kernel, code: str) -> str:
    reply, outputs = kernel.execute(code)
    assert reply["status"] == "ok", reply
    return kernel.text_of(outputs)


def requests(kernel: Kernel) -> list[list[dict]]:
    """The messages of every request the scripted model received so far."""
    text = run(kernel, "print(json.dumps([r.messages for r in script.requests]))")
    return json.loads(text)


def user_texts(messages: list[dict]) -> list[str]:
    return [m["content"] for m in messages if m["role"] == "user"]


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
        "conv = ops[2].conversation_id\nh = %mira history --conversation {conv}\n"
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
    shown = run(kernel, "%%mira --mode simple\nwhat is {Out[99]}?")
    assert shown.strip().startswith("mira: {Out[99]}: cell 99 has no output (cells with output: 3")
    assert shown.strip().endswith("nothing was sent") and len(shown.strip().splitlines()) == 1
    assert len(requests(kernel)) == before


def test_mira_fix_sends_the_last_error_with_its_source(kernel):
    assert "no cell has raised an error" in run(kernel, "%mira fix")
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
