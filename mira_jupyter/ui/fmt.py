"""Formatting shared by every view, so that live, static and text output agree.

Durations always read ``(12 ms)`` or ``(1.2 s)`` and dollars ``$0.0123`` (``$0.00015`` below a tenth of a cent, see core.money): fixed shapes that a
notebook output sanitizer can normalise with one regular expression each.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ..core.events import Usage
from ..core.money import cost_text, usd

TASK_ICONS = {"pending": "○", "in_progress": "◐", "completed": "✓", "failed": "✗", "stopped": "■", "not_started": "–"}
TOOL_ICONS = {"running": "…", "ok": "✓", "error": "✗", "denied": "⊘"}
STATUS_LABELS = {
    "pending": "starting",
    "running": "running",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
    "budget_exceeded": "budget exceeded",
    "interrupted": "interrupted",
    "planned": "plan ready",
}


def fmt_ms(ms: float | None) -> str:
    """A duration as '12 ms', '1.2 s' or '2 m 05 s'."""
    if ms is None:
        return ""
    if ms < 1000:
        return f"{round(ms)} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} m {rest:02d} s"


def fmt_span(start: datetime | None, end: datetime | None) -> str:
    """The duration between two timestamps, or '' if either is missing."""
    if start is None or end is None:
        return ""
    return fmt_ms(max(0.0, (end - start).total_seconds() * 1000))


# one formatter for every view (core.money): tiny and huge amounts are shown honestly
fmt_usd = usd
fmt_cost = cost_text


ROUTING_TOOLTIP = (
    "Routing savings = the executor's tokens priced at the orchestrator's rates, minus what "
    "they cost. Not modelled: the orchestrator might have used fewer or more tokens, turns or "
    "cache hits for the same work, and calls on unpriced models are left out. Negative means "
    "the executor cost more."
)


def fmt_savings(value: Decimal) -> str:
    """Routing savings with their sign: a negative figure is shown, not hidden."""
    return f"routing saved {fmt_usd(value)}"


def fmt_int(value: int) -> str:
    """An integer with thousands separators."""
    return f"{value:,}"


def fmt_usage(usage: Usage) -> str:
    """Tokens as 'in 1,200 (cached 300) · out 450 (reasoning 200)'."""
    text = f"in {fmt_int(usage.input_tokens)}"
    if usage.cached_input_tokens:
        text += f" (cached {fmt_int(usage.cached_input_tokens)})"
    text += f" · out {fmt_int(usage.output_tokens)}"
    if usage.reasoning_tokens:
        text += f" (reasoning {fmt_int(usage.reasoning_tokens)})"
    if usage.source == "estimated":
        text += " · estimated"
    return text


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters, with an ellipsis when cut."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
