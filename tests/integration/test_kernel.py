"""%%mira in a real Jupyter kernel: interrupt cancels, the log records it, keys stay out."""

from __future__ import annotations

import time

import pytest

from mira_jupyter.testing.kernel import kernel_after

SETUP = """
%load_ext mira_jupyter
import mira_jupyter.testing as mt
%config Mira.orchestrator_model = "scripted:gpt-5"
%config Mira.executor_model = "scripted:deepseek-chat"
%config Mira.view = "text"
"""


@pytest.fixture()
def kernel(tmp_path):
    yield from kernel_after(str(tmp_path), SETUP)


def test_kernel_interrupt_cancels_and_records_cancelled(kernel):
    kernel.execute(
        'script = mt.use_script(mt.Script({"gpt-5": [{"text": "slow answer " * 40, '
        '"chunk_chars": 12, "fault": "stall", "stall_seconds": 60, "after_chunks": 3}]}))'
    )
    msg_id = kernel.client.execute("%%mira --mode simple\nwhat is this project?")
    # interrupt only once the request has reached the scripted model and its first chunks
    # (a role chunk, then "slow answer " twice) are on screen: a loaded machine may take seconds to get there, and an interrupt
    # before the request is sent has nothing to cancel (and no cost to record)
    early = kernel.wait_for_output(msg_id, "slow answer", timeout=120)
    interrupted = time.monotonic()
    kernel.manager.interrupt_kernel()
    reply, outputs = kernel.wait(msg_id, timeout=30)
    elapsed = time.monotonic() - interrupted
    print(f"cell ended {elapsed:.2f} s after the interrupt")
    text = kernel.text_of(early + outputs)
    assert "cancelled" in text
    reply, outputs = kernel.execute(
        "h = %mira history -n 1 --all\nprint(h.iloc[0]['status'], h.iloc[0]['cost_usd'] > 0)"
    )
    assert kernel.text_of(outputs).strip() == "cancelled True"


def test_api_key_never_reaches_outputs_or_the_log(kernel, tmp_path):
    secret = "sk-proj-NEVER-SHOW-THIS-0123456789"
    kernel.execute(f'import os; os.environ["OPENAI_API_KEY"] = "{secret}"')
    kernel.execute('mt.use_script(mt.Script({"gpt-5": [{"fault": "status", "status": 401}]}))')
    kernel.execute('%config Mira.orchestrator_model = "scripted:gpt-5"')
    _, outputs = kernel.execute("%%mira --mode simple\nwhat is this?")
    _, more = kernel.execute("%mira status")
    text = kernel.text_of(outputs + more)
    assert secret not in text and "OPENAI_API_KEY set" in text
    kernel.execute("import mira_jupyter; mira_jupyter.current_session().flush()")
    for path in (tmp_path / ".mira").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_a_bad_option_fails_the_cell_in_one_line_so_run_all_stops(kernel):
    # the cell is rewritten to an awaited coroutine in a kernel; the error must still be short
    reply, outputs = kernel.execute("%%mira --budget abc\nwhat is this?")
    assert reply["status"] == "error" and reply["ename"] == "MiraUsageError"
    text = kernel.text_of(outputs)
    assert text.strip() == "UsageError: --budget must be an amount in USD such as 0.50, got 'abc'"
    assert "Traceback" not in text and not [m for m in outputs if m["msg_type"] == "error"]
    reply, outputs = kernel.execute("%mira frobnicate")
    assert reply["status"] == "error" and "unknown subcommand" in kernel.text_of(outputs)


@pytest.mark.parametrize("line", ['%mira run "unterminated', '%mira status "unterminated'])
def test_bad_quoting_in_a_mira_line_fails_the_cell_in_one_line(kernel, line):
    # %mira run is rewritten to an awaited coroutine: its words were split outside the
    # usage-error path, so the cell showed a ValueError traceback ("No closing quotation")
    reply, outputs = kernel.execute(line)
    assert reply["status"] == "error" and reply["ename"] == "MiraUsageError", reply
    text = kernel.text_of(outputs)
    assert text.strip() == "UsageError: No closing quotation", text
    assert "Traceback" not in text and not [m for m in outputs if m["msg_type"] == "error"]


def test_mira_run_in_a_kernel_is_awaited_and_runs_the_plan(kernel):
    plan = {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [
        {"description": "One", "active_form": "Doing one"},
        {"description": "Two", "active_form": "Doing two"}]}}]}
    kernel.execute(f"mt.use_script(mt.Script({{'gpt-5': [{plan!r}, 'did one', 'did two', 'Both done.']}}))")
    reply, _ = kernel.execute("%%mira --plan-only --mode planned -o planned\ndo two things")
    assert reply["status"] == "ok", reply
    # {planned.id} is expanded as IPython expands line magics; the cell awaits the run
    reply, outputs = kernel.execute("done = %mira run {planned.id}\nprint(done.status)")
    assert reply["status"] == "ok", reply
    reply, outputs = kernel.execute("%mira run {planned.id}")
    assert reply["status"] == "error" and "is not a plan-only operation" in kernel.text_of(outputs)
    reply, outputs = kernel.execute("print(done.status, done.id == planned.id)")
    assert kernel.text_of(outputs).strip() == "completed True"


def test_an_interrupted_mira_cell_ends_interrupted_so_run_all_stops(kernel):
    # Run All queues every cell with stop_on_error; a cell that ends in error aborts the rest
    kernel.execute(
        'mt.use_script(mt.Script({"gpt-5": [{"text": "partial words " * 40, '
        '"chunk_chars": 10, "fault": "stall", "stall_seconds": 60, "after_chunks": 3}]}))'
    )
    cell = kernel.client.execute("%%mira --mode simple -o stopped\nsummarise the project")
    below = kernel.client.execute("ran_below = True")
    early = kernel.wait_for_output(cell, "partial words", timeout=120)
    kernel.manager.interrupt_kernel()
    reply, outputs = kernel.wait(cell, timeout=60)
    assert reply["status"] == "error" and reply["ename"] == "OperationInterrupted", reply
    below_reply, _ = kernel.wait(below, timeout=60)
    assert below_reply["status"] == "aborted", below_reply
    text = kernel.text_of(early + outputs)
    assert "cancelled" in text and "partial words" in text  # the output stays readable
    assert "Interrupted: op_" in text and "cancelled by user (kernel interrupt)" in text
    assert "Traceback" not in text and not [m for m in outputs if m["msg_type"] == "error"]
    _, outputs = kernel.execute(
        "h = %mira history -n 1 --all\n"
        "print(h.iloc[0]['status'], stopped.status, 'ran_below' in globals())"
    )
    assert kernel.text_of(outputs).strip() == "cancelled cancelled False"
    # an interrupted cell is not an error to fix, as for a Python cell stopped with the button
    reply, outputs = kernel.execute("%mira fix")
    assert reply["status"] == "error" and "was interrupted" in kernel.text_of(outputs)
