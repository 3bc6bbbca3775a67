"""``%mira fix`` and ``%mira_skill NAME request`` run on the awaited run path in a real kernel
(r11d F6): the live widget's Stop button stops them and its Approve button answers their
approvals, as for a ``%%mira`` cell. Before, they ran blocking: the kernel handled the clicks
only after the operation had ended (a stalled model call ran on; an approval timed out).

The clicks are sent as JupyterLab sends them: a ``comm_msg`` to the button's widget model.
The waits are bounds on a hang (a busy machine), never timings."""

from __future__ import annotations

import queue
import time
from typing import Any

import pytest

from mira_jupyter.testing.kernel import Kernel, kernel_after

SETUP = """
%load_ext mira_jupyter
import pathlib
import mira_jupyter.testing as mt
pathlib.Path("calc.py").write_text("def total(rows):\\n    return sum(rows)\\n")
%config Mira.orchestrator_model = "scripted:gpt-5"
%config Mira.executor_model = "scripted:deepseek-chat"
%config Mira.view = "widget"
"""

STALL = '{"text": "slow " * 40, "fault": "stall", "stall_seconds": 90, "after_chunks": 2}'
STALLING = f'mt.use_script(mt.Script({{"gpt-5": [{STALL}] * 4, "deepseek-chat": [{STALL}] * 4}}))'

APPROVING = """
mt.use_script(mt.Script({
    "gpt-5": [
        {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [{"description": "Document total", "active_form": "Documenting"}]}}]},
        {"tool_calls": [{"name": "refactor_code", "arguments": {"path": "calc.py", "changes_requested": "docstring"}}]},
        "Done.", "Answered.",
    ],
    "deepseek-chat": ['```python\\ndef total(rows):\\n    \\"\\"\\"Sum.\\"\\"\\"\\n    return sum(rows)\\n```'],
}))
"""

# a skill runs on the executor: it delegates the change, and the executor writes the code
APPROVING_SKILL = """
mt.use_script(mt.Script({
    "deepseek-chat": [
        {"tool_calls": [{"name": "refactor_code", "arguments": {"path": "calc.py", "changes_requested": "docstring"}}]},
        '```python\\ndef total(rows):\\n    \\"\\"\\"Sum.\\"\\"\\"\\n    return sum(rows)\\n```',
        "Done.", "Answered.",
    ],
}))
"""

LINES = {
    "fix": "%mira fix keep the API",
    "skill": "%mira_skill refactoring tidy total in calc.py",
}


@pytest.fixture()
def kernel(tmp_path):
    yield from kernel_after(str(tmp_path), SETUP)


def _failed_cell(kernel: Kernel) -> None:
    reply, _ = kernel.execute("rows = None\nsum(rows)")  # the error %mira fix sends
    assert reply["status"] == "error"


def _button(kernel: Kernel, msg_id: str, description: str, shown: str = "", timeout: float = 300.0) -> str:
    """The comm id of the cell's button labelled `description`, once the kernel opened it and
    (if given) a widget of the cell shows the text `shown`: a person sees the question before
    clicking, while a click sent the instant the button opens may come before the question
    is on it (ipykernel handles comm messages while the view is still building the panel)."""
    deadline = time.monotonic() + timeout
    button = None
    while time.monotonic() < deadline:
        try:
            msg = kernel.client.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id or msg["msg_type"] not in ("comm_open", "comm_msg"):
            continue
        content: dict[str, Any] = msg["content"]
        state = (content.get("data") or {}).get("state") or {}
        if state.get("_model_name") == "ButtonModel" and state.get("description") == description:
            button = button or content["comm_id"]
        if shown and shown in str(state.get("value", "")):
            shown = ""
        if button is not None and not shown:
            return button
    raise TimeoutError(f"no {description!r} button appeared")


def _click(kernel: Kernel, comm_id: str) -> None:
    """What the browser sends when the button is clicked."""
    data = {"method": "custom", "content": {"event": "click"}}
    msg = kernel.client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
    kernel.client.shell_channel.send(msg)


def _reply(kernel: Kernel, msg_id: str, timeout: float = 300.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kernel.client.get_shell_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_reply":
            return msg["content"]
    raise TimeoutError("the cell did not end")


@pytest.mark.parametrize("which", ["fix", "skill"])
def test_the_stop_button_stops_a_line_that_runs_an_operation(kernel, which):
    if which == "fix":
        _failed_cell(kernel)
    kernel.execute(STALLING)
    msg_id = kernel.client.execute(LINES[which], allow_stdin=True)  # as JupyterLab sends a cell
    _click(kernel, _button(kernel, msg_id, "Stop"))
    reply = _reply(kernel, msg_id)
    # stopped: the cell ends interrupted (before, the click waited for the 90 s stall to end)
    assert reply["status"] == "error" and reply["ename"] == "OperationInterrupted", reply
    assert "stopped with the Stop button" in reply["evalue"]


@pytest.mark.parametrize("which", ["fix", "skill"])
def test_the_widget_approves_a_change_a_line_asks_for(kernel, tmp_path, which):
    if which == "fix":
        _failed_cell(kernel)
    kernel.execute('%config Mira.approve = "writes"')
    reply, _ = kernel.execute(APPROVING if which == "fix" else APPROVING_SKILL)
    assert reply["status"] == "ok", reply
    msg_id = kernel.client.execute(LINES[which], allow_stdin=True)
    _click(kernel, _button(kernel, msg_id, "Approve", shown="Waiting for your approval"))
    reply = _reply(kernel, msg_id)
    assert reply["status"] == "ok", reply
    assert (tmp_path / "calc.py").read_text().splitlines()[1] == '    """Sum."""'  # approved and written
