"""What a task's tool calls achieved, so its final state comes from what happened.

A task is not "completed" because the orchestrator stopped calling tools: when every
tool call it made failed and it changed no file, it failed, with the tool errors as its
reason. A delegation (``read_project_file`` and the like) succeeded only if it did not
fail itself and, when the executor called tools for it, at least one of those worked: a
report about files the executor was denied is not a read.
"""

from __future__ import annotations

from dataclasses import dataclass

# the orchestrator's bookkeeping: not work done on the project
BOOKKEEPING = frozenset({"update_tasks"})
MAX_REASON = 600


@dataclass
class ToolOutcome:
    """One tool call made for a task: what it was and how it ended."""

    tool: str
    role: str
    status: str  # ok, error, denied
    detail: str = ""  # the error or denial, or the result's summary
    nested: int = 0  # executor tool calls made for it (delegations)
    nested_ok: int = 0  # of which succeeded

    @property
    def worked(self) -> bool:
        """Whether the call achieved something (a delegation: through its executor calls)."""
        if self.status != "ok":
            return False
        return self.nested == 0 or self.nested_ok > 0


def every_call_failed(outcomes: list[ToolOutcome]) -> bool:
    """True when the task made tool calls and none of them worked."""
    work = [o for o in outcomes if o.role == "orchestrator" and o.tool not in BOOKKEEPING]
    return bool(work) and not any(o.worked for o in work)


def failure_reason(outcomes: list[ToolOutcome]) -> str:
    """The tool errors of a task, one clause per failed call (the executor's too)."""
    parts: list[str] = []
    for o in outcomes:
        if o.tool in BOOKKEEPING or o.worked:
            continue
        if o.status == "ok":  # a delegation whose executor calls all failed
            parts.append(f"{o.tool}: every executor tool call failed")
        else:
            parts.append(f"{o.tool} {o.status}: {o.detail}" if o.detail else f"{o.tool} {o.status}")
    reason = "every tool call failed (" + "; ".join(dict.fromkeys(parts)) + ")"
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 2] + "…)"
