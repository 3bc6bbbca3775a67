"""The text view in a real Jupyter kernel asks through the frontend's stdin (input_request), as
JupyterLab shows it; a frontend that allows no stdin (nbconvert, nbval) gets the refusal."""

from __future__ import annotations

import queue
import time

import pytest

from mira_jupyter.testing.kernel import Kernel, kernel_after

SETUP = """
%load_ext mira_jupyter
import pathlib
import mira_jupyter.testing as mt
pathlib.Path("calc.py").write_text("def total(rows):\\n    return sum(rows)\\n")
%config Mira.orchestrator_model = "scripted:gpt-5"
%config Mira.executor_model = "scripted:deepseek-chat"
%config Mira.view = "text"
%config Mira.approve = "writes"
"""

SCRIPT = """
mt.use_script(mt.Script({
    "gpt-5": [
        {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [{"description": "Document total", "active_form": "Documenting"}]}}]},
        {"tool_calls": [{"name": "refactor_code", "arguments": {"path": "calc.py", "changes_requested": "docstring"}}]},
        "Done.", "Answered.",
    ],
    "deepseek-chat": ['```python\\ndef total(rows):\\n    \\"\\"\\"Sum.\\"\\"\\"\\n    return sum(rows)\\n```'],
}))
"""

CELL = "%%mira --mode planned -o op\nDocument total in calc.py"


@pytest.fixture()
def kernel(tmp_path):
    yield from kernel_after(str(tmp_path), SETUP)


def _input_request(kernel: Kernel, timeout: float = 120.0) -> str:
    """Wait for the kernel's input_request (the prompt asks); returns the prompt."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kernel.client.get_stdin_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["msg_type"] == "input_request":
            return msg["content"]["prompt"]
    raise TimeoutError("no input_request")


def _answer_stdin(kernel: Kernel, answer: str, timeout: float = 120.0) -> str:
    """Wait for the kernel's input_request, reply `answer`; returns the prompt asked."""
    prompt = _input_request(kernel, timeout)
    kernel.client.input(answer)
    return prompt


@pytest.mark.parametrize(("answer", "first_line"), [("y", '    """Sum."""'), ("n", "    return sum(rows)")])
def test_the_text_view_in_a_kernel_asks_on_the_frontends_stdin(kernel, tmp_path, answer, first_line):
    kernel.execute(SCRIPT)
    msg_id = kernel.client.execute(CELL, allow_stdin=True)
    assert _answer_stdin(kernel, answer) == "Apply it? [y/N] "
    reply, outputs = kernel.wait(msg_id, timeout=120)
    assert reply["status"] == "ok", reply
    text = kernel.text_of(outputs)
    assert "mira wants to change calc.py (+1 −0)" in text and "+++ b/calc.py" in text
    assert (tmp_path / "calc.py").read_text().splitlines()[1] == first_line


def test_a_frontend_without_stdin_gets_one_refusal_line(kernel, tmp_path):
    kernel.execute(SCRIPT)
    msg_id = kernel.client.execute(CELL, allow_stdin=False)  # as nbclient and nbconvert send it
    reply, outputs = kernel.wait(msg_id, timeout=120)
    text = kernel.text_of(outputs)
    assert "nothing here can ask (no interactive front end): refused" in text
    assert (tmp_path / "calc.py").read_text().splitlines()[1] == "    return sum(rows)"


UNCHANGED = "    return sum(rows)"


def test_an_interrupt_while_the_prompt_asks_stops_the_operation_and_writes_nothing(kernel, tmp_path):
    # r11d F12: an awaiting cell's SIGINT handler only schedules a callback on the event loop,
    # which input() blocks: the interrupt was never seen and the cell waited on the prompt
    kernel.execute(SCRIPT)
    msg_id = kernel.client.execute(CELL, allow_stdin=True)
    _input_request(kernel)
    kernel.manager.interrupt_kernel()
    reply, outputs = kernel.wait(msg_id, timeout=120)  # a bound on a hang, not a timing
    text = kernel.text_of(outputs)
    assert reply["status"] == "error", text  # ends interrupted, so Run All stops there
    assert text.count("✗ the operation was stopped while this waited") == 1, text
    assert "cancelled by user (kernel interrupt)" in text
    assert (tmp_path / "calc.py").read_text().splitlines()[1] == UNCHANGED
    reply, outputs = kernel.execute("print('next cell', 6 * 7)")
    assert reply["status"] == "ok" and "next cell 42" in kernel.text_of(outputs)


def test_the_approval_timeout_ends_the_prompt_with_one_rejection_line(kernel, tmp_path):
    kernel.execute("%config Mira.approve_timeout = 10")  # the shortest allowed
    kernel.execute(SCRIPT)
    msg_id = kernel.client.execute(CELL, allow_stdin=True)
    _input_request(kernel)  # asked; nobody answers
    reply, outputs = kernel.wait(msg_id, timeout=150)
    text = kernel.text_of(outputs)
    assert reply["status"] == "ok", text
    assert text.count("✗ rejected: no answer within 10 s; the change to calc.py was not done") == 1, text
    assert "no longer waits" not in text
    assert (tmp_path / "calc.py").read_text().splitlines()[1] == UNCHANGED
