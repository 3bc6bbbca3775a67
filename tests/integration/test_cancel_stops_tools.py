"""A stopped operation runs no more tools: the real engine, openai SDK, scripted model and sandbox."""

from __future__ import annotations

from engine_helpers import EXEC, ORCH, Harness, call, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.engine.engine import RunOptions


def test_a_cancel_when_the_executor_has_answered_writes_no_file(tmp_path):
    # the executor's answer is in; the user stops the run before the engine saves it: the run
    # ended "cancelled" yet the new file existed, with FileChanged recorded
    script = mt.Script(
        {
            ORCH: [plan_turn("Write it"), call("generate_code", path="new.py", description="a hello"), "ok", "Done."],
            EXEC: ["```python\nprint('hello')\n```"],
        }
    )
    h = Harness(tmp_path, script)
    cancel = CancelToken()

    def stop_on_executor_answer(event):
        if event.type == "LLMCallFinished" and event.purpose == "delegate:generate_code":
            cancel.cancel("stopped by the test")

    h.bus.subscribe(stop_on_executor_answer)
    op = h.engine.run("write new.py", RunOptions(mode="planned"), cancel=cancel)
    assert op.status == "cancelled", (op.status, op.error)
    assert not (tmp_path / "new.py").exists()
    assert not h.of("FileChanged")
    started = [e.tool for e in h.of("ToolCallStarted")]
    finished = [(e.tool, e.status) for e in h.of("ToolCallFinished")]
    assert len(started) == len(finished) and ("write_file", "ok") not in finished
