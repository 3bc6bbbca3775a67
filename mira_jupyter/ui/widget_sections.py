"""Which parts of the live widget each event can change, so a render touches only those.

A model streaming thousands of deltas re-renders the answer (or the plan), not the task
list; an event this table does not know re-renders everything.
"""

from __future__ import annotations

from ..core.events import Event

# every part of the widget
ALL = frozenset(
    {"header", "plan", "tasks", "tools", "thinking", "notices", "answer", "activity", "footer"}
    | {"buttons", "approval"}
)

SECTIONS: dict[str, frozenset[str]] = {
    "OperationStarted": frozenset({"header", "buttons", "footer"}),
    "ModeChanged": frozenset({"header"}),
    "PlanGenerated": frozenset({"plan", "tasks"}),
    "TaskCreated": frozenset({"tasks", "plan"}),
    "TaskStarted": frozenset({"tasks"}),
    "TaskCompleted": frozenset({"tasks"}),
    "TaskFailed": frozenset({"tasks"}),
    "LLMCallStarted": frozenset({"activity"}),
    "LLMCallFinished": frozenset({"activity", "footer"}),
    "ToolCallStarted": frozenset({"tools"}),
    "ToolCallFinished": frozenset({"tools", "tasks"}),  # denials show under their task
    "ReasoningSummary": frozenset({"thinking"}),
    "FileChanged": frozenset({"notices", "tasks"}),  # so do files written
    "Notice": frozenset({"notices"}),
    "ApprovalRequested": frozenset({"approval"}),
    "ApprovalDecided": frozenset({"approval", "notices"}),
    "OperationResumed": ALL,  # status, buttons and totals all change
    "OperationFinished": ALL,
}
# events whose part depends on their channel: a TextDelta changes the plan or the answer
BY_CHANNEL: frozenset[str] = frozenset({"TextDelta"})


def sections_for(event: Event) -> frozenset[str]:
    """The parts `event` can change (a BY_CHANNEL event: its channel's part)."""
    if event.type in BY_CHANNEL:
        return frozenset({"plan" if event.channel == "plan" else "answer"})
    return SECTIONS.get(event.type, ALL)
