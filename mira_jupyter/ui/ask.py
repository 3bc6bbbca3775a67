"""Asking on the prompt: the text view's answer to a change that waits for approval.

Terminal IPython (and a kernel whose frontend allows stdin, such as JupyterLab with the text
view) asks with ``input()`` on the thread that shows the operation; the operation's thread
waits meanwhile. Only ``y`` or ``yes`` approves; anything else, an empty line or the end of
input rejects. Ctrl-C goes on up and stops the operation, as it does anywhere in a cell.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Callable
from typing import TextIO

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


class PromptAsker:
    """Answers approvals with ``input()``; `decide` is the session's `Approvals.decide`."""

    def __init__(self, decide: Decide, read: Callable[[str], str] = builtins.input) -> None:
        self.decide = decide
        self.read = read

    def __call__(self, event: ApprovalRequested, out: TextIO | None = None) -> bool:
        """Ask about `event`; returns whether the answer reached the waiting operation."""
        stream = out or sys.stdout
        stream.write(question_text(event) + "\n")
        stream.flush()
        try:
            answer = self.read("Apply it? [y/N] ")
        except EOFError:
            answer = ""
        approved = answer.strip().lower() in ("y", "yes")
        reached = self.decide(event.approval_id, approved)
        if not reached:
            stream.write("mira: this change no longer waits (stopped or timed out); nothing was done\n")
        return reached
