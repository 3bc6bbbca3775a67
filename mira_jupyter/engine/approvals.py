"""Asking the user before a change: the gate on the operation's thread, the answers from a view.

The operation runs on a worker thread. When ``Mira.approve`` says a change must ask, the gate
emits `ApprovalRequested` (the diff, or the command) and waits on `Approvals`, the session's
board of waiting questions. A view answers on the thread that runs it: the widget's Approve
and Reject buttons (their clicks reach the kernel while the cell awaits, as Stop's do), the
terminal's prompt. The wait ends with the answer, the operation's cancel (Stop, the kernel's
interrupt) or the timeout, which rejects. Where no view can answer (nbconvert, nbval, library
use) the change is refused at once, in one line. Only the first answer counts; an answer to a
question nobody waits for any more is refused and said.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from ..core.cancel import CancelToken
from ..core.diffs import code_size, file_diff
from ..core.events import ApprovalDecided, ApprovalOutcome, ApprovalRequested, Notice
from ..core.ids import new_id
from ..tools.types import ChangeProposal, ToolResult
from .approval_policy import ApprovalPolicy
from .bus import EventBus

POLL_SECONDS = 0.05  # how often a waiting change looks at its operation's cancel token
# what the model is told to do after a rejection (the user sees only the line before it)
_HINT = "do not retry the same change; continue without it, or say what you need and why"


@dataclass
class _Question:
    operation_id: str
    answered: threading.Event = field(default_factory=threading.Event)
    approved: bool | None = None


class Approvals:
    """The questions waiting for an answer in one session, and which operations can ask."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, _Question] = {}
        self._askers: dict[str, int] = {}  # operation id -> views attached that can answer

    def attach(self, operation_id: str) -> Callable[[], None]:
        """A view that can answer shows `operation_id`; returns the call that detaches it."""
        with self._lock:
            self._askers[operation_id] = self._askers.get(operation_id, 0) + 1
        done = threading.Event()

        def detach() -> None:
            if done.is_set():
                return
            done.set()
            with self._lock:
                left = self._askers.get(operation_id, 0) - 1
                if left > 0:
                    self._askers[operation_id] = left
                else:
                    self._askers.pop(operation_id, None)

        return detach

    def can_ask(self, operation_id: str) -> bool:
        """Whether a view that can answer is attached to the operation."""
        with self._lock:
            return self._askers.get(operation_id, 0) > 0

    def decide(self, approval_id: str, approved: bool) -> bool:
        """Answer a waiting question; False when nothing waits for it (already answered,
        stopped, timed out, or unknown): the answer then changes nothing."""
        with self._lock:
            question = self._waiting.get(approval_id)
            if question is None or question.answered.is_set():
                return False
            question.approved = bool(approved)
            question.answered.set()
            return True

    def waiting(self, operation_id: str | None = None) -> list[str]:
        """Ids of the questions still waiting (of one operation, or all)."""
        with self._lock:
            return [
                key
                for key, q in self._waiting.items()
                if not q.answered.is_set() and operation_id in (None, q.operation_id)
            ]

    def open(self, approval_id: str, operation_id: str) -> None:
        """Put a question on the board, before anyone is shown it (an answer may come at once)."""
        with self._lock:
            self._waiting[approval_id] = _Question(operation_id)

    def wait(self, approval_id: str, timeout: float, cancel: CancelToken) -> bool | None:
        """Block until the opened question is answered (True/False), times out (None) or
        the operation is cancelled (raises OperationCancelled); the question is then closed."""
        with self._lock:
            question = self._waiting[approval_id]
        deadline = time.monotonic() + timeout
        try:
            while not question.answered.wait(POLL_SECONDS):
                if cancel.cancelled or time.monotonic() >= deadline:
                    break
        finally:
            with self._lock:
                # answered in the same instant as the stop or the deadline: the answer counts
                self._waiting.pop(approval_id, None)
                question.answered.set()
        if question.approved is None:
            cancel.raise_if_cancelled()
        return question.approved


@dataclass
class ApprovalGate:
    """The approval check of one operation (``ToolContext.approve``)."""

    operation_id: str
    policy: ApprovalPolicy
    approvals: Approvals
    bus: EventBus
    cancel: CancelToken
    cost_so_far: Callable[[], Decimal]
    timeout: float = 600.0
    # one question at a time per operation: a second change waits behind the first
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _said_unavailable: bool = field(default=False, repr=False)

    def __call__(self, proposal: ChangeProposal, tool_call_id: str | None = None) -> ToolResult | None:
        """None to go ahead; else the rejection to return to the model (may block)."""
        diff = None
        if proposal.kind == "write":
            if self.policy.mode == "never":
                return None  # nothing to show or measure: the file is not even read
            if proposal.old() == proposal.new:
                return None  # the same bytes again: nothing changes, nothing to ask about
            diff = file_diff(proposal.path or "", proposal.old(), proposal.new)
            asks = self.policy.asks("write", lines=diff.lines_changed, cost_usd=self.cost_so_far())
        elif proposal.kind == "code":
            asks = self.policy.asks("code")
        else:
            asks = self.policy.asks("command", listed=proposal.listed)
        if not asks:
            return None
        what = self._what(proposal)
        why = self._why(proposal)
        if not self.approvals.can_ask(self.operation_id):
            return self._unavailable(proposal, what, why)
        with self._lock:
            approval_id = new_id("ap")
            self.approvals.open(approval_id, self.operation_id)
            self.bus.emit(
                ApprovalRequested(
                    operation_id=self.operation_id,
                    approval_id=approval_id,
                    tool_call_id=tool_call_id,
                    tool=proposal.tool,
                    kind=proposal.kind,
                    path=proposal.path,
                    argv=proposal.argv,
                    code=proposal.code or "",
                    diff=diff.text if diff else "",
                    added=diff.added if diff and diff.text else 0,
                    removed=diff.removed if diff and diff.text else 0,
                    note=diff.note if diff else "",
                    why=why,
                    timeout_seconds=self.timeout,
                )
            )
            try:
                approved = self.approvals.wait(approval_id, self.timeout, self.cancel)
            except BaseException:
                self._decided(approval_id, "stopped", "the operation was stopped while this waited")
                raise
        if approved:
            proposal.asked = True  # the write then checks the file still holds what was shown
            self._decided(approval_id, "approved", f"approved: {what}")
            return None
        if approved is None:
            message = f"rejected: no answer within {self.timeout:g} s; {what} was not done"
            self._decided(approval_id, "timeout", message)
            return ToolResult.denied("approval_timeout", message, hint=_HINT)
        message = f"rejected by the user: {what} was not done"
        self._decided(approval_id, "rejected", message)
        return ToolResult.denied("rejected_by_user", message, hint=_HINT)

    def _what(self, proposal: ChangeProposal) -> str:
        if proposal.kind == "command":
            return "the command " + " ".join(proposal.argv or [])[:200]
        if proposal.kind == "code":
            return f"the run_code call ({code_size(proposal.code or '')} of Python)"
        return f"the change to {proposal.path}"

    def _why(self, proposal: ChangeProposal) -> str:
        if proposal.kind == "command" and not proposal.listed:
            program = (proposal.argv or ["?"])[0]
            return f"{program!r} is not in Mira.commands"
        return f"Mira.approve = {self.policy.describe()}"

    def _unavailable(self, proposal: ChangeProposal, what: str, why: str) -> ToolResult:
        if proposal.kind == "command" and not proposal.listed:
            fix = f"add {(proposal.argv or ['?'])[0]!r} to Mira.commands"
        else:
            fix = "set Mira.approve = 'never'"
        message = (
            f"{what} needs approval ({why}) and nothing here can ask (no interactive front end): "
            f"refused. Run the cell in JupyterLab or terminal IPython, or {fix}"
        )
        if not self._said_unavailable:  # once per operation: the model may try several
            self._said_unavailable = True
            self.bus.emit(Notice(operation_id=self.operation_id, level="warning", message=message))
        return ToolResult.denied("approval_unavailable", message)

    def _decided(self, approval_id: str, decision: ApprovalOutcome, message: str) -> None:
        self.bus.emit(
            ApprovalDecided(
                operation_id=self.operation_id, approval_id=approval_id, decision=decision, message=message
            )
        )
