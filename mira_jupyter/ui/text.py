"""Plain-text rendering: a streaming line view for terminals, and a summary for text/plain.

Durations read ``(12 ms)``, costs ``$0.0123`` and operation ids ``op_…`` exactly as the engine
made them, so a notebook sanitizer can normalise all three with one pattern each.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any, TextIO

from ..core.events import Event
from ..core.visible import visible, visible_command
from .fmt import (
    STATUS_LABELS,
    TASK_ICONS,
    TOOL_ICONS,
    fmt_cost,
    fmt_ms,
    fmt_savings,
    fmt_span,
    fmt_usage,
    fmt_usd,
    shorten,
)
from .state import FileChange, OperationState, TaskState, ToolCallState
from .thinking import thinking_lines


def header_line(state: OperationState) -> str:
    """'mira op_… · planned (auto) · complexity 0.42 · orchestrator X · executor Y'."""
    parts = [f"mira {state.operation_id}", mode_label(state)]
    if state.complexity_score is not None:
        score = f"complexity {state.complexity_score:.2f}"
        if state.complexity_reasons:
            score += f" ({', '.join(state.complexity_reasons)})"
        parts.append(score)
    parts.append(f"orchestrator {state.orchestrator_model}")
    parts.append(f"executor {state.executor_model}")
    if state.budget_usd is not None:
        parts.append(f"budget {fmt_usd(state.budget_usd)}")
    carried = conversation_label(state)
    if carried:
        parts.append(carried)
    return " · ".join(parts)


def conversation_label(state: OperationState) -> str:
    """'carries 2 earlier turns (1,234 tokens), 1 older turn dropped', or '' for a first turn."""
    turns, dropped = state.history_turns, state.history_dropped
    if not turns and not dropped:
        return ""
    label = f"carries {turns} earlier turn{'s' if turns != 1 else ''} ({state.history_tokens:,} tokens)"
    if dropped:
        label += f", {dropped} older turn{'s' if dropped != 1 else ''} dropped"
    return label


def mode_label(state: OperationState) -> str:
    """The mode, how it was chosen, and the skill if any."""
    label = state.mode or "?"
    if state.skill:
        label += f" ({state.skill})"
    elif state.requested_mode != "auto":
        label += " (requested)"
    else:
        label += " (auto)"
    if state.plan_only:
        label += ", plan only"
    return label


def task_line(state: OperationState, task: TaskState, now: datetime | None = None) -> str:
    """'[2/5] ◐ Running tests (1.2 s)' and the like."""
    position, total = state.task_position(task.task_id)
    icon = TASK_ICONS.get(task.status, "?")
    label = task.active_form if task.status == "in_progress" else task.description
    line = f"[{position}/{total}] {icon} {label}"
    span = fmt_span(task.started_at, task.finished_at or now)
    if span and task.status != "pending":
        line += f" ({span})"
    if task.status in ("not_started", "stopped"):
        line += f" ({task.status.replace('_', ' ')})"
    why = state.task_reason(task)
    if why:
        line += f" — {shorten(why, 200)}"
    if task.depends_on:
        line += f" [{depends_label(task)}]"
    return line


def depends_label(task: TaskState) -> str:
    """'after 1, 2': the tasks this one waits for."""
    return "after " + ", ".join(str(n) for n in task.depends_on)


def arguments_brief(call: ToolCallState, limit: int = 80) -> str:
    """The tool's arguments on one short line."""
    if isinstance(call.arguments, str):
        return shorten(call.arguments, limit)
    text = " ".join(f"{key}={value!r}" for key, value in call.arguments.items())
    return shorten(text, limit)


def tool_line(call: ToolCallState) -> str:
    """'✓ read_file path='a.py' (12 ms) — 120 lines' and the like."""
    icon = TOOL_ICONS.get(call.status, "?")
    args = arguments_brief(call)
    line = f"{icon} {call.tool}" + (f" {args}" if args else "")
    if call.status == "denied":
        line += f" — denied: {call.denial_reason or 'not allowed'}"
    elif call.status == "error":
        line += f" — error: {shorten(call.error or 'failed', 200)}"
    if call.duration_ms is not None:
        line += f" ({fmt_ms(call.duration_ms)})"
    if call.status == "ok" and call.summary:
        line += f" — {shorten(call.summary, 120)}"
    if call.truncated:
        line += " [truncated]"
    return line


def footer_lines(state: OperationState) -> list[str]:
    """Status, tokens, cost by role and routing savings."""
    status = STATUS_LABELS.get(state.status, state.status)
    duration = fmt_span(state.started_at, state.finished_at)
    lines = [f"{status}" + (f" ({duration})" if duration else "")]
    if state.answer_mark:
        lines[0] += f" · {state.answer_mark}"
    if state.error:
        lines[0] += f": {state.error}"
    lines.append(f"tokens: {fmt_usage(state.usage)}")
    by_role = ", ".join(
        f"{role} {fmt_cost(totals.cost)}"
        for role, totals in state.roles.items()
        if totals.calls
    )
    lines.append(f"cost: {fmt_cost(state.cost)}" + (f" ({by_role})" if by_role else ""))
    if state.routing_savings_usd:
        lines.append(f"{fmt_savings(state.routing_savings_usd)} vs orchestrator only")
    return lines


def render_text(state: OperationState) -> str:
    """The whole operation as plain text (the text/plain part of the static output)."""
    out = [header_line(state), "> " + shorten(state.request, 300)]
    out += [f"mode → {mode}: {reason}" for mode, reason in state.mode_changes]
    if state.tasks:
        out.append("Tasks:")
        out += ["  " + task_line(state, t, state.finished_at) for t in state.ordered_tasks()]
    elif state.plan:
        out.append("Plan:")
        out += ["  " + line for line in state.plan.strip().splitlines()]
    if state.tool_calls:
        out.append(f"Tool calls ({len(state.tool_calls)}):")
        out += ["  " + tool_line(call) for call in state.tool_calls.values()]
    out += thinking_lines(state)
    out += [f"{'!' if level == 'warning' else 'i'} {message}" for level, message in state.notices]
    out += [f"✎ {line}" for line in changes_lines(state)]
    if state.answer.strip():
        out += ["", state.answer.strip(), ""]
    out += ["— " + line for line in footer_lines(state)]
    return "\n".join(out)


def write_line(event: Event) -> str:
    """'modified src/a.py (+3 −1)', 'deleted old.py (−12 lines)': one write, as text."""
    from .diff_view import change_line, path_changes

    ((first, last, diff),) = path_changes([FileChange.of(event)])
    return change_line(first, last, diff)


def changes_lines(state: OperationState) -> list[str]:
    """The operation's changed files, one line per path (first write to last)."""
    from .diff_view import change_line, path_changes

    return [change_line(*change) for change in path_changes(state.files_changed)]


class TextView:
    """Writes an operation's events to a stream as readable lines, streaming answer text."""

    # folded into the state (the footer shows their totals) but given no line of their own
    SILENT = frozenset({"OperationResumed", "LLMCallStarted", "LLMCallFinished", "ToolCallStarted"})

    def __init__(self, stream: TextIO | None = None, ask: Any = None) -> None:
        """`ask(event, stream)` answers a change that waits for approval (ui.ask.PromptAsker)."""
        self.stream = stream
        self.ask = ask
        self.state = OperationState()
        self._mid_line = False  # the last write was streamed text not ending in a newline
        self._streamed_plan = False

    def __call__(self, event: Event) -> None:
        """Fold the event and write what it adds."""
        self.state.apply(event)
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event)
        self._out().flush()

    @property
    def can_ask(self) -> bool:
        """Whether this view answers approvals (on the prompt)."""
        return self.ask is not None

    def _out(self) -> TextIO:
        # resolved per write: IPython and pytest swap sys.stdout after the view is made
        return self.stream or sys.stdout

    def _line(self, text: str) -> None:
        if self._mid_line:
            self._out().write("\n")
            self._mid_line = False
        # a tool line or notice can carry model-given argv or paths: no raw ESC or CR
        self._out().write(visible(text) + "\n")

    def _on_OperationStarted(self, event: Event) -> None:
        self._line(header_line(self.state))
        self._line("> " + shorten(self.state.request, 300))

    def _on_ModeChanged(self, event: Event) -> None:
        mode, reason = self.state.mode_changes[-1]
        self._line(f"mode → {mode}: {reason}")

    def _on_PlanGenerated(self, event: Event) -> None:
        if self._streamed_plan:
            self._line("")
            return
        self._line("Plan:")
        for line in self.state.plan_text.strip().splitlines():
            self._line("  " + line)

    def _on_TaskCreated(self, event: Event) -> None:
        task = self.state.tasks[event.task_id]
        if len(self.state.tasks) == 1:
            self._line("Tasks:")
        self._line(f"  {TASK_ICONS['pending']} {task.sequence}. {task.description}")

    def _task_event(self, event: Event) -> None:
        task = self.state.tasks[event.task_id]
        self._line(task_line(self.state, task))

    _on_TaskStarted = _on_TaskCompleted = _on_TaskFailed = _task_event

    def _on_ToolCallFinished(self, event: Event) -> None:
        self._line("    " + tool_line(self.state.tool_calls[event.tool_call_id]))

    def _on_TextDelta(self, event: Event) -> None:
        if event.channel == "plan" and not self._streamed_plan:
            self._line("Plan:")
            self._streamed_plan = True
        if event.text:
            self._out().write(event.text)
            self._mid_line = not event.text.endswith("\n")

    def _on_ReasoningSummary(self, event: Event) -> None:
        self._line(thinking_lines(self.state)[-1])

    def _on_FileChanged(self, event: Event) -> None:
        self._line(f"    ✎ {write_line(event)}")

    def _on_ApprovalRequested(self, event: Event) -> None:
        if self.ask is None:  # another view answers it; say that it waits
            what = event.path or visible_command(event.argv or []) or ("run_code" if event.kind == "code" else "")
            self._line(f"    ? waiting for approval: {what}")
            return
        self._line("")
        self.ask(event, self._out())

    def _on_ApprovalDecided(self, event: Event) -> None:
        self._line(f"    {'✓' if event.decision == 'approved' else '✗'} {event.message}")

    def _on_Notice(self, event: Event) -> None:
        self._line(f"{'!' if event.level == 'warning' else 'i'} {event.message}")

    def _on_OperationFinished(self, event: Event) -> None:
        # an answer that was not streamed (e.g. composed at once) is printed at the end
        if event.result_text.strip() and not self.state.text.strip():
            self._line(event.result_text.strip())
        for line in footer_lines(self.state):
            self._line("— " + line)
