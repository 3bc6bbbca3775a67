"""The terminal prompt that asks for approval ends on an interrupt and when its question stops
waiting (r11d F12): before, an interrupt in a kernel was never seen and the timeout left
``input()`` blocking."""

from __future__ import annotations

import io
import os
import select
import signal
import threading

import pytest

from mira_jupyter.core.events import ApprovalRequested
from mira_jupyter.ui.ask import PromptAsker, question_text

HANG_BOUND_SECONDS = 60  # only a bound: a prompt that never ends fails here instead of hanging


def _event() -> ApprovalRequested:
    return ApprovalRequested(
        operation_id="op_1", approval_id="ap_1", tool="write_file", kind="write", path="calc.py",
        diff="--- a/calc.py\n+++ b/calc.py\n", added=1, removed=0, why="Mira.approve = writes",
        timeout_seconds=10,
    )  # fmt: skip


def _blocking_read(on_start=lambda: None):
    """A read that blocks like input() on a terminal nobody types into (bounded)."""
    r, w = os.pipe()

    def read(prompt: str) -> str:
        on_start()
        try:
            ready, _, _ = select.select([r], [], [], HANG_BOUND_SECONDS)
            if not ready:
                raise AssertionError("the prompt did not end")
            return os.read(r, 10).decode()
        finally:
            os.close(r)
            os.close(w)

    return read


@pytest.fixture()
def ipykernel_like_sigint():
    """SIGINT as an awaiting cell in ipykernel has it: a handler that only takes note."""
    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda *_: seen.append(1))
    yield seen
    signal.signal(signal.SIGINT, previous)


def test_a_question_that_stops_waiting_ends_the_prompt_in_one_line(ipykernel_like_sigint):
    decided: list[bool] = []
    open_questions = ["ap_1"]
    timer = threading.Timer(0.3, open_questions.clear)  # the operation's timeout closes it
    ask = PromptAsker(lambda a, ok: decided.append(ok) or True, read=_blocking_read(timer.start),
                      waiting=lambda: list(open_questions))  # fmt: skip
    out = io.StringIO()
    handler = signal.getsignal(signal.SIGINT)
    assert ask(_event(), out) is False
    assert decided == []  # nothing answered: the operation's own line says it was rejected
    assert out.getvalue() == question_text(_event()) + "\n\n"  # only the prompt's line is ended
    assert ipykernel_like_sigint == []  # the signal that ended it was the prompt's own
    assert signal.getsignal(signal.SIGINT) is handler


def test_an_interrupt_during_the_prompt_raises_keyboardinterrupt(ipykernel_like_sigint):
    main = threading.main_thread().ident
    interrupt = lambda: threading.Thread(target=signal.pthread_kill, args=(main, signal.SIGINT)).start()  # noqa: E731
    decided: list[bool] = []
    ask = PromptAsker(lambda a, ok: decided.append(ok) or True, read=_blocking_read(interrupt),
                      waiting=lambda: ["ap_1"])  # fmt: skip
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        ask(_event(), io.StringIO())
    assert decided == [] and ipykernel_like_sigint == []
    assert signal.getsignal(signal.SIGINT) is handler  # the cell's own handler is back


def test_an_answer_still_counts_and_the_handler_is_restored(ipykernel_like_sigint):
    decided: list[bool] = []
    handler = signal.getsignal(signal.SIGINT)
    ask = PromptAsker(lambda a, ok: decided.append(ok) or True, read=lambda p: "yes", waiting=lambda: ["ap_1"])
    assert ask(_event(), io.StringIO()) is True and decided == [True]
    assert signal.getsignal(signal.SIGINT) is handler
