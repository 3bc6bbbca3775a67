"""Asking on the prompt: the text view's answer to a change that waits for approval.

Terminal IPython (and a kernel whose frontend allows stdin, such as JupyterLab with the text
view) asks with ``input()`` on the thread that shows the operation; the operation's thread
waits meanwhile. Only ``y`` or ``yes`` approves; anything else, an empty line or the end of
input rejects. Ctrl-C (the kernel's interrupt) goes on up and stops the operation, as it does
anywhere in a cell. When the question stops waiting without an answer (``Mira.approve_timeout``
ran out, the operation was stopped) the prompt ends too: nothing else would end ``input()``.

Both need the prompt's own SIGINT handler. In a kernel, a cell that awaits (the run path does)
has ipykernel's handler, which only schedules a callback on the event loop: the loop is blocked
in ``input()``, so the interrupt was never seen. While the prompt asks, SIGINT raises here, and
a watcher thread ends the prompt with SIGINT once its question is closed.
"""

from __future__ import annotations

import builtins
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from ..core.events import ApprovalRequested
from ..core.visible import visible, visible_command

Decide = Callable[[str, bool], bool]


def question_text(event: ApprovalRequested) -> str:
    """The diff (or the command) and why it asks, as plain lines: control and invisible
    characters escaped (a terminal would obey them), arguments quoted as a shell would."""
    if event.kind == "command":
        head = f"mira wants to run: {visible_command(event.argv or [])}"
        body = ""
    elif event.kind == "code":
        head = "mira wants to run this Python in the scratch kernel:"
        body = event.code
    else:
        head = f"mira wants to {'change' if event.diff else 'write'} {event.path} (+{event.added} −{event.removed})"
        body = event.diff or event.note
        if event.diff and event.note:
            body += f"\n[{event.note}]"
    why = f"({event.why}; rejected after {event.timeout_seconds:g} s without an answer)"
    return visible("\n".join(part for part in (head, why, body) if part))


class _QuestionClosed(BaseException):  # noqa: N818 - not an error: raised to end input()
    """The question stopped waiting while the prompt asked (not an Exception: ipykernel's
    input loop logs and swallows those and asks on)."""


POLL_SECONDS = 0.1  # how often the watcher looks whether the question still waits


class PromptAsker:
    """Answers approvals with ``input()``; `decide` is the session's `Approvals.decide`,
    `waiting` its `Approvals.waiting` (the open questions' ids)."""

    def __init__(
        self,
        decide: Decide,
        read: Callable[[str], str] = builtins.input,
        waiting: Callable[[], list[str]] | None = None,
    ) -> None:
        self.decide = decide
        self.read = read
        self.waiting = waiting

    def __call__(self, event: ApprovalRequested, out: TextIO | None = None) -> bool:
        """Ask about `event`; returns whether the answer reached the waiting operation."""
        stream = out or sys.stdout
        stream.write(question_text(event) + "\n")
        stream.flush()
        try:
            with self._ends_when_closed(event.approval_id):
                answer = self.read("Apply it? [y/N] ")
        except EOFError:
            answer = ""
        except _QuestionClosed:
            # the operation says why in its own line (rejected after the timeout, stopped)
            stream.write("\n")
            return False
        approved = answer.strip().lower() in ("y", "yes")
        reached = self.decide(event.approval_id, approved)
        if not reached:
            stream.write("mira: this change no longer waits (stopped or timed out); nothing was done\n")
        return reached

    @contextlib.contextmanager
    def _ends_when_closed(self, approval_id: str) -> Iterator[None]:
        """While the prompt asks: SIGINT raises KeyboardInterrupt, and a closed question ends it."""
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach only the main thread: ask as before
            return
        closed = threading.Event()
        asking = threading.Event()  # set once the prompt is over: the watcher then never signals
        lock = threading.Lock()

        def on_sigint(signum: int, frame: Any) -> None:
            if closed.is_set():
                raise _QuestionClosed()
            raise KeyboardInterrupt()

        def watch() -> None:
            while not asking.wait(POLL_SECONDS):
                if self.waiting is not None and approval_id not in self.waiting():
                    with lock:
                        if not asking.is_set():
                            closed.set()
                            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                    return

        previous = signal.signal(signal.SIGINT, on_sigint)
        watcher = threading.Thread(target=watch, name="mira-prompt-watch", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            try:
                with lock:
                    asking.set()
                watcher.join()  # (a signal the watcher sent is handled here, by on_sigint)
            finally:
                signal.signal(signal.SIGINT, previous)
