"""Static rendering of an operation: what a saved notebook keeps without widget state.

HTML uses inline styles only (GitHub and nbconvert drop <style> and never run scripts) and
every string from the request, the models or the tools is escaped. The live widget builds its
sections from the same fragment functions, so the live and the saved view look alike.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape

from ..core.markup import markdown_dollars, maths_free_markdown
from .colors import ACTIVE, ERROR, OK, WARNING, tone
from .fmt import (
    ROUTING_TOOLTIP,
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
from .markdown import CODE_STYLE, render_markdown
from .state import OperationState
from .text import (
    arguments_brief,
    conversation_label,
    depends_label,
    mode_label,
    render_text,
    task_line,
)
from .thinking import thinking_html

MIME_HTML = "text/html"
MIME_MARKDOWN = "text/markdown"
MIME_PLAIN = "text/plain"

FONT = "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif"
BOX_STYLE = (
    f"{FONT};font-size:13px;line-height:1.45;border:1px solid rgba(127,127,127,0.35);"
    "border-radius:6px;padding:8px 12px;margin:2px 0"
)
MUTED = "opacity:0.75;font-size:12px"
# ipywidgets gives HTML widgets a 28px line-height: blocks that wrap set their own
LINES = "line-height:1.45"
STATUS_COLORS = {
    "running": "#1f6feb",
    "pending": "#1f6feb",
    "completed": "#1a7f37",
    "planned": "#8250df",
    "failed": "#cf222e",
    "cancelled": "#9a6700",
    "budget_exceeded": "#9a6700",
    "interrupted": "#9a6700",
}
TASK_COLORS = {
    "pending": "inherit",
    "in_progress": ACTIVE,
    "completed": OK,
    "failed": ERROR,
    "stopped": WARNING,
    "not_started": "inherit",  # shown muted: nothing went wrong with it
}
TOOL_COLORS = {"running": ACTIVE, "ok": OK, "error": ERROR, "denied": WARNING}
_ROW = (
    "display:flex;flex-wrap:wrap;column-gap:10px;padding:2px 0;"
    "border-bottom:1px solid rgba(127,127,127,0.25)"
)
# the arguments and the result take the room left and break long paths inside themselves
_FLOW = "flex:1 1 14em;min-width:0;overflow-wrap:anywhere"


def status_badge(status: str) -> str:
    """A coloured pill with the operation's status."""
    color = STATUS_COLORS.get(status, "#57606a")
    label = escape(STATUS_LABELS.get(status, status))
    return (
        f'<span style="display:inline-block;padding:0 8px;border-radius:10px;font-size:11px;'
        f'color:#fff;background:{color}" data-mira-status="{escape(status)}">{label}</span>'
    )


def model_html(role: str, model: str) -> str:
    """'executor deepseek-chat', never broken inside the model's name ("deepseek-" / "chat")."""
    return f'{role} <code data-mira-model style="{CODE_STYLE};white-space:nowrap">{escape(model)}</code>'


def header_html(state: OperationState) -> str:
    """Operation id and status, the request, the models, mode and complexity."""
    request = escape(shorten(state.request, 500))
    facts = [
        f"mode <b>{escape(mode_label(state))}</b>",
        model_html("orchestrator", state.orchestrator_model),
        model_html("executor", state.executor_model),
    ]
    if state.complexity_score is not None:
        score = f"complexity {state.complexity_score:.2f}"
        if state.complexity_reasons:
            score += ": " + escape("; ".join(state.complexity_reasons))
        facts.append(score)
    if state.budget_usd is not None:
        facts.append(f"budget {fmt_usd(state.budget_usd)}")
    carried = conversation_label(state)
    if carried:
        facts.append(escape(carried))
    changes = "".join(
        f'<div style="{MUTED}">mode → {escape(mode)}: {escape(reason)}</div>'
        for mode, reason in state.mode_changes
    )
    return (
        f'<div style="{FONT}"><b>mira</b> <span style="{MUTED}">{escape(state.operation_id)}</span> '
        f"{status_badge(state.status)}</div>"
        f'<div style="margin:4px 0;white-space:pre-wrap;{LINES}">{request}</div>'
        f'<div style="{MUTED};{LINES}">{" · ".join(facts)}</div>{changes}'
    )


def plan_html(state: OperationState) -> str:
    """The plan text, rendered as Markdown."""
    return f'<div class="mira-plan">{render_markdown(state.plan)}</div>' if state.plan else ""


def tasks_html(state: OperationState, now: datetime | None = None) -> str:
    """The task checklist with one state icon per task."""
    if not state.tasks:
        return ""
    counts = state.task_counts()
    done = counts["completed"]
    rows = []
    for task in state.ordered_tasks():
        color = TASK_COLORS.get(task.status, "inherit")
        label = escape(task.active_form if task.status == "in_progress" else task.description)
        extra = ""
        span = fmt_span(task.started_at, task.finished_at or now)
        if span and task.status != "pending":
            extra += f' <span style="{MUTED}">({span})</span>'
        if not task.planned:  # the plan did not have it: update_tasks added it on the way
            extra += f' <span data-mira-task-added style="{MUTED}">(added)</span>'
        if task.depends_on:
            extra += f' <span data-mira-task-depends style="{MUTED}">({escape(depends_label(task))})</span>'
        why = state.task_reason(task)
        if task.status == "failed" and why:
            extra += f'<div style="{tone(ERROR)};margin-left:1.6em">{escape(why)}</div>'
        elif why:
            extra += f'<div style="{MUTED};margin-left:1.6em">{escape(why)}</div>'
        outcomes = state.task_outcomes(task.task_id)
        if outcomes:
            items = " · ".join(escape(o) for o in outcomes[:8])
            more = f" · +{len(outcomes) - 8} more" if len(outcomes) > 8 else ""
            extra += (
                f'<div data-mira-task-outcomes style="{MUTED};margin-left:1.6em;'
                f'overflow-wrap:anywhere">{items}{more}</div>'
            )
        if task.status in ("not_started", "stopped"):
            label += f' <span style="{MUTED}">({task.status.replace("_", " ")})</span>'
        rows.append(
            f'<li data-mira-task-status="{task.status}" style="margin:1px 0">'
            f'<span style="{tone(color)};display:inline-block;width:1.4em">'
            f"{TASK_ICONS.get(task.status, '?')}</span>{task.sequence}. {label}{extra}</li>"
        )
    return (
        f'<div style="margin-top:6px"><b>Tasks</b> <span style="{MUTED}">{done}/{len(state.tasks)}'
        f' done</span><ul style="list-style:none;padding-left:0.4em;margin:2px 0">{"".join(rows)}</ul></div>'
    )


def tool_summary(state: OperationState) -> str:
    """'Tool calls (7: 6 ok, 1 denied)'."""
    counts = state.tool_counts()
    detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"Tool calls ({len(state.tool_calls)}" + (f": {detail})" if detail else ")")


def tools_table_html(state: OperationState) -> str:
    """The tool-call log, one wrapping row per call: status, tool and arguments, role,
    duration, result. Rows of flowing parts (not table columns) cannot overlap at any width:
    what does not fit moves to the next line, and long words break inside their own part."""
    rows = []
    for call in state.tool_calls.values():
        color = TOOL_COLORS.get(call.status, "inherit")
        if call.status == "denied":
            result = f"denied: {call.denial_reason or 'not allowed'}"
        elif call.status == "error":
            result = f"error: {call.error or 'failed'}"
        else:
            result = call.summary + (" [truncated]" if call.truncated else "")
        rows.append(
            f'<div data-mira-tool-status="{call.status}" style="{_ROW}">'
            f'<span style="white-space:nowrap;{tone(color)}">'
            f"{TOOL_ICONS.get(call.status, '?')} {escape(call.status)}</span>"
            f'<span style="{_FLOW}"><code style="{CODE_STYLE}">{escape(call.tool)}</code> '
            f'<span style="{MUTED}">{escape(arguments_brief(call, 100))}</span></span>'
            f'<span style="{MUTED};white-space:nowrap">{escape(call.role)}</span>'
            f'<span style="white-space:nowrap">{fmt_ms(call.duration_ms)}</span>'
            f'<span style="{_FLOW}">{escape(shorten(result, 300))}</span></div>'
        )
    return f'<div data-mira-tools style="font-size:12px;{LINES}">{"".join(rows)}</div>'


def notices_html(state: OperationState) -> str:
    """Notices, the approvals' outcomes and the changed files (each a collapsed diff)."""
    from .diff_view import approvals_html, changes_html

    lines = [
        f'<div style="{tone(WARNING if level == "warning" else "inherit")}">'
        f"{'⚠' if level == 'warning' else 'ℹ'} {escape(message)}</div>"
        for level, message in state.notices
    ]
    lines += [approvals_html(state), changes_html(state)]
    return "".join(lines)


def answer_html(state: OperationState) -> str:
    """The answer rendered as Markdown, plus the error if the operation failed."""
    html = render_markdown(state.answer) if state.answer.strip() else ""
    if html and state.answer_mark:
        html += f'<div style="{tone(WARNING)}">[{escape(state.answer_mark)}]</div>'
    if state.error and state.finished:
        # a stop the user asked for (or a budget) is not an error: amber, not red
        color = ERROR if state.status == "failed" else WARNING
        html += (
            f'<div data-mira-stop-reason style="{tone(color)};white-space:pre-wrap">'
            f"{escape(state.error)}</div>"
        )
    return f'<div class="mira-answer">{html}</div>' if html else ""


def activity_html(state: OperationState) -> str:
    """Which model is working right now (empty once finished)."""
    if state.finished or not state.active_calls:
        return ""
    calls = ", ".join(
        f"{model_html(escape(c.role), c.model)} ({escape(c.purpose)})"
        for c in state.active_calls.values()
    )
    return f'<div style="{MUTED}">⋯ waiting for {calls}</div>'


def footer_html(state: OperationState) -> str:
    """Tokens, dollars by role and routing savings."""
    usage = state.usage
    roles = " · ".join(
        f"{escape(role)} {escape(fmt_cost(totals.cost))} ({totals.calls} call"
        f"{'s' if totals.calls != 1 else ''})"
        for role, totals in state.roles.items()
        if totals.calls
    )
    parts = [
        f"tokens in {usage.input_tokens:,} (cached {usage.cached_input_tokens:,}) · "
        f"out {usage.output_tokens:,} (reasoning {usage.reasoning_tokens:,})"
        + (" · estimated" if usage.source == "estimated" else ""),
        f"<b>{escape(fmt_cost(state.cost))}</b>" + (f" — {roles}" if roles else ""),
    ]
    if state.routing_savings_usd:
        parts.append(
            f'<span title="{escape(ROUTING_TOOLTIP)}" style="cursor:help;border-bottom:1px dotted">'
            f"{escape(fmt_savings(state.routing_savings_usd))}</span>"
        )
    duration = fmt_span(state.started_at, state.finished_at)
    if duration:
        parts.append(duration)
    return f'<div class="mira-footer" style="{MUTED};{LINES};margin-top:6px">{" | ".join(parts)}</div>'


def render_html(state: OperationState) -> str:
    """The whole operation as one self-contained HTML fragment."""
    sections = [header_html(state)]
    if state.plan:
        is_open = "" if state.tasks else " open"
        sections.append(
            f'<details{is_open} style="margin-top:6px"><summary><b>Plan</b></summary>'
            f"{plan_html(state)}</details>"
        )
    sections.append(tasks_html(state, state.finished_at or state.last_ts))
    if state.tool_calls:
        sections.append(
            f'<details style="margin-top:6px"><summary>{escape(tool_summary(state))}</summary>'
            f"{tools_table_html(state)}</details>"
        )
    sections += [thinking_html(state), notices_html(state), answer_html(state), footer_html(state)]
    # each part is its own formatting context, as each is its own flex item in the live
    # widget: margins inside a part then add up the same way in both (no jump at the end)
    body = "".join(f'<div style="display:flow-root">{s}</div>' for s in sections if s)
    # tex2jax_ignore (MathJax 2) and mathjax_ignore (MathJax 3): JupyterLab typesets $…$ in HTML outputs, and costs are dollars, not maths
    return f'<div class="mira-operation tex2jax_ignore mathjax_ignore" style="{BOX_STYLE}">{body}</div>'


_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")


def _inline_safe(text: str) -> str:
    # raw HTML stays text; "$" becomes an entity because Jupyter and GitHub typeset $…$ as
    # maths ("\\$" is not enough in JupyterLab, see core.markup)
    return markdown_dollars(_HTML_START.sub("&lt;", text))


def neutralise_html(markdown: str) -> str:
    """Stop raw HTML in untrusted Markdown from rendering, leaving code blocks and spans as they are."""
    out: list[str] = []
    in_fence = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            out.append(line)
        elif in_fence:
            out.append(line)
        else:
            parts = re.split(r"(`+[^`]*`+)", line)
            out.append("".join(p if p.startswith("`") else _inline_safe(p) for p in parts))
    return "\n".join(out)


def render_markdown_summary(state: OperationState) -> str:
    """The operation as Markdown, for frontends that prefer it over HTML."""
    lines = [
        f"**mira** `{state.operation_id}` — {STATUS_LABELS.get(state.status, state.status)}",
        "",
    ]
    lines += ["> " + neutralise_html(line) for line in shorten(state.request, 500).splitlines()]
    lines += [
        "",
        f"*{neutralise_html(mode_label(state))}* · orchestrator `{state.orchestrator_model}`"
        f" · executor `{state.executor_model}`",
        "",
    ]
    if state.tasks:
        for task in state.ordered_tasks():
            lines.append("- " + neutralise_html(task_line(state, task, state.finished_at)))
        lines.append("")
    elif state.plan:
        lines += [neutralise_html(state.plan.strip()), ""]
    if state.tool_calls:
        lines.append(f"*{tool_summary(state)}*")
        lines.append("")
    if state.answer.strip():
        lines += [neutralise_html(state.answer.strip()), ""]
        if state.answer_mark:
            lines += [f"*[{state.answer_mark}]*", ""]
    if state.error:
        lines += [f"**error:** {neutralise_html(state.error)}", ""]
    footer = f"tokens {fmt_usage(state.usage)} · {fmt_cost(state.cost)}" + (
        f" · {fmt_savings(state.routing_savings_usd)}" if state.routing_savings_usd else ""
    )
    lines.append(f"*{_inline_safe(footer)}*")
    return maths_free_markdown("\n".join(lines))


def render_static(state: OperationState) -> dict[str, str]:
    """A display mimebundle (text/html, text/markdown, text/plain) of the operation."""
    return {
        MIME_HTML: render_html(state),
        MIME_MARKDOWN: render_markdown_summary(state),
        MIME_PLAIN: render_text(state),
    }
