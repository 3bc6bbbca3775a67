"""A ``--plan-only`` cell's ``Out[]`` follows its run, in a real kernel with the widget view.

The frontend here is jupyter_client with stdin allowed, as JupyterLab sends cells, so the
widget offers Run plan. The plan cell's value must still be ``Out[n]`` (and ``-o``), and
what it shows must be replaced by the run's result when the plan runs later, from another
cell (``%mira run``) as from the button: before, it was an ``execute_result`` that said
"planned" for ever.
"""

from __future__ import annotations

import queue
import time

import pytest

from mira_jupyter.testing.kernel import Kernel, kernel_after

SETUP = """
%load_ext mira_jupyter
import mira_jupyter.testing as mt
%config Mira.orchestrator_model = "scripted:gpt-5"
%config Mira.executor_model = "scripted:deepseek-chat"
%config Mira.view = "widget"
plan = {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [
    {"description": "One", "active_form": "Doing one"},
    {"description": "Two", "active_form": "Doing two"}]}}]}
mt.use_script(mt.Script({"gpt-5": [plan, "did one", "did two", "Both done."]}))
"""


@pytest.fixture()
def kernel(tmp_path):
    yield from kernel_after(str(tmp_path), SETUP)


def _all_iopub_until_idle(kernel: Kernel, msg_id: str, timeout: float = 120) -> list[dict]:
    """Every iopub message (any parent) until the cell `msg_id` is idle again."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kernel.client.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        seen.append(msg)
        if (
            msg["parent_header"].get("msg_id") == msg_id
            and msg["msg_type"] == "status"
            and msg["content"]["execution_state"] == "idle"
        ):
            return seen
    raise TimeoutError("the cell did not finish")


def _update_of(kernel: Kernel, display_id: str, seen: list[dict], timeout: float = 60) -> list[dict]:
    """The update_display_data messages of `display_id`, in `seen` or arriving next (it is
    made on the kernel's event loop, and may come just after the cell that ran the plan)."""
    found = [m for m in seen if m["msg_type"] == "update_display_data" and m["content"]["transient"]["display_id"] == display_id]
    deadline = time.monotonic() + timeout
    while not found and time.monotonic() < deadline:
        try:
            msg = kernel.client.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["msg_type"] == "update_display_data" and msg["content"]["transient"]["display_id"] == display_id:
            found.append(msg)
    return found


def _markdown(msg: dict) -> str:
    return "".join(msg["content"]["data"].get("text/markdown", ""))


def test_the_plan_cells_out_is_replaced_by_the_runs_result(kernel):
    msg_id = kernel.client.execute("%%mira --plan-only --mode planned -o planned\ndo two things")
    plan_messages = _all_iopub_until_idle(kernel, msg_id)
    mine = [m for m in plan_messages if m["parent_header"].get("msg_id") == msg_id]
    assert not [m for m in mine if m["msg_type"] == "error"], mine
    # the value is shown as an updatable display, not as an execute_result
    assert not [m for m in mine if m["msg_type"] == "execute_result"]
    shown = [m for m in mine if m["msg_type"] == "display_data" and "planned" in _markdown(m)]
    assert len(shown) == 1, [m["msg_type"] for m in mine]
    display_id = shown[0]["content"]["transient"]["display_id"]
    assert "○" in _markdown(shown[0])  # the tasks, not run yet
    # IPython still bound the value: Out[n] and _ are the Operation
    _, outputs = kernel.execute("print(type(_).__name__, _ is planned, Out[max(Out)] is planned)")
    assert kernel.text_of(outputs).strip() == "Operation True True"

    run_id = kernel.client.execute("done = %mira run {planned.id}")
    messages = _all_iopub_until_idle(kernel, run_id)
    updates = _update_of(kernel, display_id, messages)
    assert len(updates) == 1, [m["msg_type"] for m in messages]
    text = _markdown(updates[0])
    assert "completed" in text and "planned ·" not in text.split("\n")[0] and "✓" in text and "○" not in text
    # sent as the plan cell's message: a frontend puts it where that cell's output is
    assert updates[0]["parent_header"]["msg_id"] == msg_id
    _, outputs = kernel.execute("print(planned.status, done is planned)")
    assert kernel.text_of(outputs).strip() == "completed True"
    # shown again later, the operation is an ordinary value (the hook was used once)
    _, outputs = kernel.execute("planned")
    assert [m["msg_type"] for m in outputs if m["msg_type"] in ("execute_result", "display_data")] == ["execute_result"]


def test_a_cell_that_is_not_plan_only_keeps_its_execute_result(kernel):
    kernel.execute('mt.use_script(mt.Script({"gpt-5": ["hello"]}))')
    reply, outputs = kernel.execute("%%mira --mode simple\nsay hello")
    assert reply["status"] == "ok", reply
    assert [m for m in outputs if m["msg_type"] == "execute_result"]
