"""Pure-Python fold of engine events into the state every view renders.

The live widget, the text view, the static renderer and ``%mira show`` all use this one
fold, so a view rebuilt from stored events shows exactly what the live view showed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from ..core.events import (
    PLAN_ONLY_NOTICE,
    ApprovalDecided,
    ApprovalRequested,
    Cost,
    Event,
    FileChanged,
    LLMCallFinished,
    LLMCallStarted,
    ModeChanged,
    Notice,
    OperationFinished,
    OperationResumed,
    OperationStarted,
    PlanGenerated,
    ReasoningSummary,
    TaskCompleted,
    TaskCreated,
    TaskFailed,
    TaskStarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
    event_from_json,
    truncation_mark,
)

ROLES = ("orchestrator", "executor")
# the reasons the engine gives the tasks it closes when an operation ends early
# (engine._SETTLE_REASONS; a test keeps the two equal)
SETTLE_REASONS = frozenset(
    {
        "cancelled by user",
        "stopped: budget exceeded",
        "operation failed before this task finished",
        "not reached",
    }
)
ToolStatus = Literal["running", "ok", "error", "denied"]


@dataclass
class TaskState:
    """One task of the plan as the views show it."""

    task_id: str
    sequence: int
    description: str
    active_form: str
    status: str = "pending"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    note: str | None = None
    error: str | None = None
    depends_on: list[int] = field(default_factory=list)  # sequences of earlier tasks
    files_written: list[str] = field(default_factory=list)
    planned: bool = True  # False: added by update_tasks while the plan ran


@dataclass
class ToolCallState:
    """One tool call, from its start to its result."""

    tool_call_id: str
    tool: str
    role: str
    task_id: str | None = None
    arguments: dict[str, Any] | str = ""
    status: ToolStatus = "running"
    started_at: datetime | None = None
    duration_ms: float | None = None
    denial_reason: str | None = None
    error: str | None = None
    summary: str = ""
    truncated: bool = False
    result_bytes: int = 0


@dataclass
class ActiveCall:
    """A model call that has started and not yet finished."""

    role: str
    model: str
    purpose: str
    task_id: str | None = None


@dataclass
class Thought:
    """A model call's reasoning summary (shown collapsed as a "thinking" line)."""

    call_id: str
    role: str
    purpose: str
    text: str
    task_id: str | None = None


@dataclass
class RoleTotals:
    """Calls, tokens and dollars of one role (orchestrator or executor)."""

    calls: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: Cost = field(default_factory=Cost)
    # what the executor's tokens would have cost at the orchestrator's prices, minus their cost
    routing_savings_usd: Decimal = Decimal(0)


@dataclass
class FileChange:
    """A file written by the operation (with its bytes when the event carried them)."""

    path: str
    existed_before: bool
    tool_call_id: str | None = None
    previous: bytes | None = None
    new: bytes | None = None
    new_sha256: str | None = None

    @classmethod
    def of(cls, e: FileChanged) -> FileChange:
        """The change a FileChanged event reports."""
        return cls(e.path, e.existed_before, e.tool_call_id, e.previous_content, e.new_content, e.new_sha256)


@dataclass
class ApprovalState:
    """A change that asked the user, and how it ended (None while it waits)."""

    request: ApprovalRequested
    decision: str | None = None  # approved | rejected | timeout | stopped
    message: str = ""


@dataclass
class OperationState:
    """Everything the views know about one operation, folded from its events."""

    operation_id: str = ""
    status: str = "pending"
    request: str = ""
    mode: str = ""
    requested_mode: str = "auto"
    skill: str | None = None
    reasoning: str | None = None
    orchestrator_model: str = ""
    executor_model: str = ""
    complexity_score: float | None = None
    complexity_reasons: list[str] = field(default_factory=list)
    budget_usd: Decimal | None = None
    plan_only: bool = False
    conversation_id: str | None = None
    history_turns: int = 0
    history_dropped: int = 0
    history_tokens: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    mode_changes: list[tuple[str, str]] = field(default_factory=list)
    plan_text: str = ""
    plan_stream: str = ""
    tasks: dict[str, TaskState] = field(default_factory=dict)
    tool_calls: dict[str, ToolCallState] = field(default_factory=dict)
    thoughts: list[Thought] = field(default_factory=list)
    active_calls: dict[str, ActiveCall] = field(default_factory=dict)
    roles: dict[str, RoleTotals] = field(default_factory=lambda: {r: RoleTotals() for r in ROLES})
    text: str = ""
    result_text: str = ""
    result_truncated: bool = False
    result_cut_by: str = ""
    result_partial: bool = False
    error: str | None = None
    notices: list[tuple[str, str]] = field(default_factory=list)
    files_changed: list[FileChange] = field(default_factory=list)
    approvals: dict[str, ApprovalState] = field(default_factory=dict)
    final_usage: Usage | None = None
    final_cost: Cost | None = None
    final_savings_usd: Decimal | None = None
    last_seq: int = 0
    last_ts: datetime | None = None
    # the changed files' diffs as last rendered, keyed by how many changes they cover: every
    # notice re-renders that part of the view, and files_changed is only ever appended to
    rendered_changes: dict[tuple[int, bool], str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_events(cls, events: Iterable[Event | str | bytes]) -> OperationState:
        """Fold a recorded event list (objects or their JSON) into a state."""
        parsed = [e if not isinstance(e, str | bytes) else event_from_json(e) for e in events]
        state = cls()
        # stored rows may come back unordered; seq is the bus's order (stable for seq=0)
        for event in sorted(parsed, key=lambda e: e.seq):
            state.apply(event)
        return state

    # -- folding ---------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one event into the state."""
        self.operation_id = self.operation_id or event.operation_id
        self.last_seq = max(self.last_seq, event.seq)
        self.last_ts = event.ts
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event)

    def _on_OperationStarted(self, e: OperationStarted) -> None:
        self.status = "running"
        self.request = e.request
        self.mode = e.mode
        self.requested_mode = e.requested_mode
        self.skill = e.skill
        self.reasoning = e.reasoning
        self.orchestrator_model = e.orchestrator_model
        self.executor_model = e.executor_model
        self.complexity_score = e.complexity_score
        self.complexity_reasons = list(e.complexity_reasons)
        self.budget_usd = e.budget_usd
        self.plan_only = e.plan_only
        self.conversation_id = e.conversation_id
        self.history_turns = e.history_turns
        self.history_dropped = e.history_dropped
        self.history_tokens = e.history_tokens
        self.started_at = e.ts

    def _on_OperationResumed(self, e: OperationResumed) -> None:
        # the plan of a plan-only operation runs: the same operation is live again
        self.status = "running"
        self.finished_at = None
        self.result_text = ""
        self.error = None
        self.final_usage = None
        self.final_cost = None
        self.final_savings_usd = None
        if e.budget_usd is not None:
            self.budget_usd = e.budget_usd
        # "plan only: running it is estimated at ..." is no longer true once it runs
        self.notices = [n for n in self.notices if not n[1].startswith(PLAN_ONLY_NOTICE)]

    def _on_ModeChanged(self, e: ModeChanged) -> None:
        self.mode_changes.append((e.mode, e.reason))
        self.mode = e.mode

    def _on_PlanGenerated(self, e: PlanGenerated) -> None:
        self.plan_text = e.plan_text
        self.plan_stream = ""

    def _on_TaskCreated(self, e: TaskCreated) -> None:
        self.tasks[e.task_id] = TaskState(
            e.task_id, e.sequence, e.description, e.active_form, depends_on=list(e.depends_on),
            planned=e.planned,
        )

    def _task(self, task_id: str) -> TaskState:
        # an event for an unknown task still shows up rather than vanishing
        if task_id not in self.tasks:
            self.tasks[task_id] = TaskState(task_id, len(self.tasks) + 1, task_id, task_id)
        return self.tasks[task_id]

    def _on_TaskStarted(self, e: TaskStarted) -> None:
        task = self._task(e.task_id)
        task.status = "in_progress"
        task.started_at = e.ts

    def _on_TaskCompleted(self, e: TaskCompleted) -> None:
        task = self._task(e.task_id)
        task.status = "completed"
        task.finished_at = e.ts
        task.note = e.note

    def _on_TaskFailed(self, e: TaskFailed) -> None:
        task = self._task(e.task_id)
        # a task closed before it began did not fail: the operation stopped (or a task it
        # depends on failed) first
        task.status = "failed" if task.started_at is not None else "not_started"
        task.finished_at = e.ts
        task.error = e.error

    def _on_LLMCallStarted(self, e: LLMCallStarted) -> None:
        self.active_calls[e.call_id] = ActiveCall(e.role, e.model, e.purpose, e.task_id)

    def _on_LLMCallFinished(self, e: LLMCallFinished) -> None:
        self.active_calls.pop(e.call_id, None)
        totals = self.roles.setdefault(e.role, RoleTotals())
        totals.calls += 1
        totals.usage = totals.usage + e.usage
        totals.cost = totals.cost + e.cost
        if e.orchestrator_equivalent_usd is not None:  # as the engine's ledger counts it
            totals.routing_savings_usd += e.orchestrator_equivalent_usd - e.cost.total_usd

    def _on_ReasoningSummary(self, e: ReasoningSummary) -> None:
        self.thoughts.append(Thought(e.call_id, e.role, e.purpose, e.text, e.task_id))

    def _on_ToolCallStarted(self, e: ToolCallStarted) -> None:
        self.tool_calls[e.tool_call_id] = ToolCallState(
            e.tool_call_id, e.tool, e.role, e.task_id, e.arguments, started_at=e.ts
        )

    def _on_ToolCallFinished(self, e: ToolCallFinished) -> None:
        call = self.tool_calls.get(e.tool_call_id)
        if call is None:  # a call refused before it started still belongs in the log
            call = ToolCallState(e.tool_call_id, e.tool, e.role, e.task_id)
            self.tool_calls[e.tool_call_id] = call
        call.status = e.status
        call.duration_ms = e.duration_ms
        call.denial_reason = e.denial_reason
        call.error = e.error
        call.summary = e.summary
        call.truncated = e.truncated
        call.result_bytes = e.result_bytes

    def _on_TextDelta(self, e: TextDelta) -> None:
        if e.channel == "plan":
            self.plan_stream += e.text
        else:
            self.text += e.text

    def _on_FileChanged(self, e: FileChanged) -> None:
        self.files_changed.append(FileChange.of(e))
        running = next((t for t in self.tasks.values() if t.status == "in_progress"), None)
        if running is not None and e.path not in running.files_written:
            running.files_written.append(e.path)

    def _on_ApprovalRequested(self, e: ApprovalRequested) -> None:
        self.approvals[e.approval_id] = ApprovalState(e)

    def _on_ApprovalDecided(self, e: ApprovalDecided) -> None:
        approval = self.approvals.get(e.approval_id)
        if approval is not None:
            approval.decision, approval.message = e.decision, e.message

    @property
    def waiting_approval(self) -> ApprovalState | None:
        """The change waiting for the user now, if any."""
        return next((a for a in self.approvals.values() if a.decision is None), None)

    def _on_Notice(self, e: Notice) -> None:
        self.notices.append((e.level, e.message))

    def _on_OperationFinished(self, e: OperationFinished) -> None:
        self.status = e.status
        self.result_text = e.result_text
        self.result_truncated = e.result_truncated
        self.result_cut_by = e.result_cut_by
        self.result_partial = e.result_partial
        self.error = e.error
        self.finished_at = e.ts
        self.final_usage = e.usage
        self.final_cost = e.cost
        self.final_savings_usd = e.routing_savings_usd
        self.active_calls.clear()
        for task in self.tasks.values():
            if task.status == "failed" and task.error in SETTLE_REASONS:
                task.status = "stopped"  # it was running when the operation stopped

    # -- derived values --------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once OperationFinished was seen."""
        return self.finished_at is not None

    @property
    def answer_mark(self) -> str:
        """'answer truncated at the output cap', 'partial answer', or '' for a whole answer."""
        if self.result_truncated:
            return truncation_mark(self.result_cut_by)
        return "partial answer" if self.result_partial else ""

    @property
    def answer(self) -> str:
        """The answer to show: the final result text once known, else the streamed text."""
        return self.result_text if self.finished and self.result_text else self.text

    @property
    def plan(self) -> str:
        """The plan text, or what has streamed of it so far."""
        return self.plan_text or self.plan_stream

    def ordered_tasks(self) -> list[TaskState]:
        """Tasks in plan order."""
        return sorted(self.tasks.values(), key=lambda t: t.sequence)

    def task_position(self, task_id: str) -> tuple[int, int]:
        """1-based position of a task in the plan, and the number of tasks."""
        ordered = [t.task_id for t in self.ordered_tasks()]
        return ordered.index(task_id) + 1, len(ordered)

    def task_outcomes(self, task_id: str) -> list[str]:
        """What a task's tools did that the user should see: files written, denials, errors."""
        task = self.tasks.get(task_id)
        out = [f"wrote {path}" for path in (task.files_written if task else [])]
        for call in self.tool_calls.values():
            if call.task_id != task_id or call.status not in ("denied", "error"):
                continue
            why = call.denial_reason or " ".join((call.error or "").split())[:80]
            out.append(f"{call.tool} {call.status}" + (f" ({why})" if why else ""))
        return out

    def task_counts(self) -> dict[str, int]:
        """How many tasks are in each status."""
        counts = {"pending": 0, "in_progress": 0, "completed": 0, "failed": 0, "stopped": 0, "not_started": 0}
        for task in self.tasks.values():
            counts[task.status] = counts.get(task.status, 0) + 1
        return counts

    def task_reason(self, task: TaskState) -> str | None:
        """What to say under a task: its error, or its note; None for the operation's own
        stop reason, which the card says once rather than under every task it closed."""
        if task.status in ("failed", "stopped", "not_started"):
            return None if task.error in SETTLE_REASONS else task.error
        return task.note

    def tool_counts(self) -> dict[str, int]:
        """How many tool calls ended in each status (running ones included)."""
        counts: dict[str, int] = {}
        for call in self.tool_calls.values():
            counts[call.status] = counts.get(call.status, 0) + 1
        return counts

    @property
    def usage(self) -> Usage:
        """Total tokens: the final figure when the engine reported one, else the live sum."""
        if self.final_usage is not None and self.final_usage != Usage():
            return self.final_usage
        total = Usage()
        for totals in self.roles.values():
            total = total + totals.usage
        return total

    @property
    def cost(self) -> Cost:
        """Total dollars: the final figure when the engine reported one, else the live sum."""
        if self.final_cost is not None and self.final_cost.total_usd != 0:
            return self.final_cost
        total = Cost()
        for totals in self.roles.values():
            total = total + totals.cost
        return total

    @property
    def routing_savings_usd(self) -> Decimal:
        """Dollars saved by sending work to the executor instead of the orchestrator."""
        if self.final_savings_usd is not None and self.finished:
            return self.final_savings_usd
        return sum((totals.routing_savings_usd for totals in self.roles.values()), Decimal(0))
