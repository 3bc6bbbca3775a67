"""Typed events emitted by the engine; views and the recorder subscribe to them.

Every event carries the operation id, a per-operation sequence number assigned by the
bus, and a UTC timestamp. Events are plain pydantic models so that they serialise to
JSON for the ``operation_events`` table and can be rebuilt from it (``%mira show``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

OperationStatus = Literal[
    "running", "completed", "failed", "cancelled", "budget_exceeded", "interrupted", "planned"
]
TaskStatus = Literal["pending", "in_progress", "completed", "failed"]
Mode = Literal["simple", "planned", "skill"]
Role = Literal["orchestrator", "executor"]


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Usage(BaseModel):
    """Token usage of one model call, normalised across providers.

    ``input_tokens`` includes ``cached_input_tokens``; ``output_tokens`` includes
    ``reasoning_tokens``. Subsets are never billed twice. ``output_tokens_upper`` is set
    when the client could not see everything the provider produced (a cancelled or cut
    call, or a stream without a usage report): the output may be as large as that.
    ``raw`` is the provider's usage object exactly as received (kept for repricing), and
    ``provider_cost_usd`` the cost the provider itself reported (OpenRouter ``usage.cost``).
    A retried call keeps each attempt's own usage in ``attempts`` (the fields above are
    their sums, ``provider_cost_usd`` the sum of what the attempts that reported one were
    charged): each attempt is priced, and repriced, on its own.
    """

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    source: Literal["reported", "estimated"] = "reported"
    output_tokens_upper: int | None = None
    raw: dict[str, Any] | None = None
    provider_cost_usd: Decimal | None = None
    attempts: list[Usage] | None = None
    # the provider's counts were below what the client saw, so these are the client's
    # reading: a cost the provider stated from its own counts is not the whole truth
    below_seen: bool = False

    @property
    def bounded(self) -> bool:
        """True when only a lower bound is known (see ``output_tokens_upper``)."""
        return self.output_tokens_upper is not None

    def __add__(self, other: Usage) -> Usage:
        upper = None
        if self.bounded or other.bounded:
            upper = (self.output_tokens_upper or self.output_tokens) + (
                other.output_tokens_upper or other.output_tokens
            )
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            source="estimated" if "estimated" in (self.source, other.source) else "reported",
            output_tokens_upper=upper,
        )


class Cost(BaseModel):
    """Dollar cost of one call as exact decimal components.

    The components are always priced from the table. When the provider reported what it
    charged (OpenRouter ``usage.cost``), that figure is the truth: ``source`` is
    ``"provider"`` and ``adjustment_usd`` carries the difference, so ``total_usd`` equals
    the provider's number. ``upper_usd`` is set for calls whose usage is only a lower
    bound: the call cost at least ``total_usd`` and at most ``upper_usd``.
    """

    input_usd: Decimal = Decimal(0)  # uncached input
    cached_input_usd: Decimal = Decimal(0)
    output_usd: Decimal = Decimal(0)  # includes reasoning, billed at the output rate
    price_version: str | None = None
    priced: bool = True  # False when the model has no entry in the price table
    adjustment_usd: Decimal = Decimal(0)  # provider-reported total minus the components
    source: Literal["table", "provider", "mixed"] = "table"
    upper_usd: Decimal | None = None

    @property
    def total_usd(self) -> Decimal:
        return self.input_usd + self.cached_input_usd + self.output_usd + self.adjustment_usd

    @property
    def most_usd(self) -> Decimal:
        """What the call can have cost at most (the total when nothing is uncertain)."""
        return self.upper_usd if self.upper_usd is not None else self.total_usd

    @property
    def bounded(self) -> bool:
        return self.upper_usd is not None

    def __add__(self, other: Cost) -> Cost:
        upper = None
        if self.bounded or other.bounded:
            upper = self.most_usd + other.most_usd
        return Cost(
            input_usd=self.input_usd + other.input_usd,
            cached_input_usd=self.cached_input_usd + other.cached_input_usd,
            output_usd=self.output_usd + other.output_usd,
            price_version=self.price_version or other.price_version,
            priced=self.priced and other.priced,
            adjustment_usd=self.adjustment_usd + other.adjustment_usd,
            source=_combined_source(self, other),
            upper_usd=upper,
        )

    def is_empty(self) -> bool:
        """The zero cost that sums start from (no call priced into it yet)."""
        return self.price_version is None and self.total_usd == 0 and self.upper_usd is None


def _combined_source(a: Cost, b: Cost) -> Literal["table", "provider", "mixed"]:
    if a.is_empty():
        return b.source
    if b.is_empty():
        return a.source
    return a.source if a.source == b.source else "mixed"


class _Event(BaseModel):
    operation_id: str
    seq: int = 0
    ts: datetime = Field(default_factory=utcnow)


class OperationStarted(_Event):
    type: Literal["OperationStarted"] = "OperationStarted"
    session_id: str
    request: str
    mode: Mode
    requested_mode: Literal["auto", "simple", "planned"] = "auto"
    skill: str | None = None
    reasoning: str | None = None
    orchestrator_model: str
    executor_model: str
    project_root: str
    complexity_score: float | None = None
    complexity_reasons: list[str] = Field(default_factory=list)
    budget_usd: Decimal | None = None
    plan_only: bool = False
    # the conversation across cells: which one, the operation this one follows, and how
    # much of it the orchestrator carries (older turns dropped whole to fit the budget)
    conversation_id: str | None = None
    parent_operation_id: str | None = None
    history_turns: int = 0
    history_dropped: int = 0
    history_tokens: int = 0


class OperationResumed(_Event):
    """A plan-only operation is being run: the same operation continues."""

    type: Literal["OperationResumed"] = "OperationResumed"
    budget_usd: Decimal | None = None


class ModeChanged(_Event):
    """The operation moved to another path, e.g. simple mode failed and fell back."""

    type: Literal["ModeChanged"] = "ModeChanged"
    mode: Mode
    reason: str


class PlanGenerated(_Event):
    type: Literal["PlanGenerated"] = "PlanGenerated"
    plan_text: str
    # structured: submit_plan as sent; repaired: submit_plan with tasks fixed or dropped;
    # parsed: the reply's free text; fallback: nothing usable, one generic task
    source: Literal["structured", "repaired", "parsed", "fallback"] = "structured"
    started_at: datetime
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    estimated_cost_usd: Decimal | None = None
    tasks_planned: int | None = None  # tasks in the plan as accepted (after repairs)


class TaskCreated(_Event):
    type: Literal["TaskCreated"] = "TaskCreated"
    task_id: str
    sequence: int
    description: str
    active_form: str
    depends_on: list[int] = Field(default_factory=list)  # sequences of earlier tasks
    planned: bool = True  # False: added while the plan ran
    reads_only: bool = False  # planned as changing nothing: may run alongside other such tasks


class TaskStarted(_Event):
    type: Literal["TaskStarted"] = "TaskStarted"
    task_id: str


class TaskCompleted(_Event):
    type: Literal["TaskCompleted"] = "TaskCompleted"
    task_id: str
    note: str | None = None


class TaskFailed(_Event):
    type: Literal["TaskFailed"] = "TaskFailed"
    task_id: str
    error: str


class LLMCallStarted(_Event):
    type: Literal["LLMCallStarted"] = "LLMCallStarted"
    call_id: str
    task_id: str | None = None
    role: Role
    provider: str
    model: str
    reasoning_effort: str | None = None  # the level sent to the model (None: none sent)
    reasoning_requested: str | None = None  # the word asked for (-r deep, Mira.reasoning_*)
    purpose: str = "chat"  # plan | simple | orchestrate | delegate:<tool> | skill:<name> | compose
    skill: str | None = None  # the skill this call works for, nested delegations included


class LLMCallFinished(_Event):
    type: Literal["LLMCallFinished"] = "LLMCallFinished"
    call_id: str
    task_id: str | None = None
    role: Role
    provider: str
    model: str
    reasoning_effort: str | None = None
    reasoning_requested: str | None = None
    purpose: str = "chat"
    skill: str | None = None
    stream: bool = True
    started_at: datetime
    latency_ms: float
    ttft_ms: float | None = None
    usage: Usage
    cost: Cost
    # what the same tokens would have cost at the orchestrator's prices (executor calls only)
    orchestrator_equivalent_usd: Decimal | None = None
    finish_reason: str | None = None
    status: Literal["ok", "error", "cancelled"] = "ok"
    error: str | None = None


class ReasoningSummary(_Event):
    """What a model said its hidden reasoning was, for one call (never part of the answer)."""

    type: Literal["ReasoningSummary"] = "ReasoningSummary"
    call_id: str
    task_id: str | None = None
    role: Role
    purpose: str = "chat"
    text: str


class ToolCallStarted(_Event):
    type: Literal["ToolCallStarted"] = "ToolCallStarted"
    tool_call_id: str
    llm_call_id: str | None = None
    task_id: str | None = None
    role: Role
    tool: str
    arguments: dict[str, Any] | str


class ToolCallFinished(_Event):
    type: Literal["ToolCallFinished"] = "ToolCallFinished"
    tool_call_id: str
    llm_call_id: str | None = None
    task_id: str | None = None
    role: Role
    tool: str
    status: Literal["ok", "error", "denied"]
    denial_reason: str | None = None
    error: str | None = None
    duration_ms: float
    result_bytes: int = 0
    truncated: bool = False
    summary: str = ""


class TextDelta(_Event):
    type: Literal["TextDelta"] = "TextDelta"
    text: str
    channel: Literal["answer", "plan"] = "answer"


class FileChanged(_Event):
    """A sandboxed write changed a file; carries what undo needs to restore it."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    type: Literal["FileChanged"] = "FileChanged"
    path: str  # relative to the project root, POSIX separators
    existed_before: bool
    # the file's bytes before the write (None if it did not exist); stored in
    # file_changes, left out of the operation_events payload
    previous_content: bytes | None = None
    previous_sha256: str | None = None
    new_sha256: str | None = None
    # the bytes written (None for a deletion, or a command's change too large to keep);
    # stored in file_changes for the cell's diffs and %mira diff, left out of the payload
    new_content: bytes | None = None
    tool_call_id: str | None = None
    # the sandbox root the path is relative to: undo refuses to apply it under another root
    project_root: str | None = None


class ApprovalRequested(_Event):
    """A change waits for the user: the diff (or the command, or the code) and why it asks."""

    type: Literal["ApprovalRequested"] = "ApprovalRequested"
    approval_id: str
    tool_call_id: str | None = None
    tool: str
    kind: Literal["write", "command", "code"]
    path: str | None = None
    argv: list[str] | None = None
    code: str = ""  # run_code: the Python it would run in the scratch kernel, whole
    diff: str = ""  # the unified diff, capped (empty for a command or a binary file)
    added: int = 0
    removed: int = 0
    note: str = ""  # what the diff left out, or why there is none
    why: str = ""  # "Mira.approve = writes", "'curl' is not in Mira.commands"
    timeout_seconds: float = 0


ApprovalOutcome = Literal["approved", "rejected", "timeout", "stopped"]


class ApprovalDecided(_Event):
    """How a waiting change ended: approved, rejected, timed out or stopped with the operation."""

    type: Literal["ApprovalDecided"] = "ApprovalDecided"
    approval_id: str
    decision: ApprovalOutcome
    message: str = ""


# the notice a plan-only operation ends with; a view drops it once the plan is run
PLAN_ONLY_NOTICE = "plan only: "


class Notice(_Event):
    """A user-facing line that is neither answer text nor an error (caps reached, fallbacks)."""

    type: Literal["Notice"] = "Notice"
    level: Literal["info", "warning"] = "info"
    message: str


# the finish reasons that cut an answer short, and how the answer's mark says it
ANSWER_CUTS = {"length": "at the output cap", "content_filter": "by the provider's content filter"}


def truncation_mark(cut_by: str) -> str:
    """'answer truncated at the output cap' (or by the content filter) for a finish reason."""
    return f"answer truncated {ANSWER_CUTS.get(cut_by, ANSWER_CUTS['length'])}"


class OperationFinished(_Event):
    type: Literal["OperationFinished"] = "OperationFinished"
    status: OperationStatus
    result_text: str = ""
    # the answer stopped before its end: at the answering call's output cap (finish_reason
    # "length") or by the provider's content filter ("content_filter"); result_cut_by says which
    result_truncated: bool = False
    result_cut_by: str = ""
    # the operation ended before its answer was finished: result_text is what had streamed
    result_partial: bool = False
    error: str | None = None
    usage: Usage = Field(default_factory=Usage)
    cost: Cost = Field(default_factory=Cost)
    routing_savings_usd: Decimal = Decimal(0)
    skills: list[str] = Field(default_factory=list)  # every skill the operation used


Event = Annotated[
    OperationStarted
    | OperationResumed
    | ModeChanged
    | PlanGenerated
    | TaskCreated
    | TaskStarted
    | TaskCompleted
    | TaskFailed
    | LLMCallStarted
    | LLMCallFinished
    | ReasoningSummary
    | ToolCallStarted
    | ToolCallFinished
    | TextDelta
    | FileChanged
    | ApprovalRequested
    | ApprovalDecided
    | Notice
    | OperationFinished,
    Field(discriminator="type"),
]

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_from_json(payload: str | bytes) -> Event:
    """Rebuild an event from its JSON form (as stored in ``operation_events``)."""
    return _EVENT_ADAPTER.validate_json(payload)
