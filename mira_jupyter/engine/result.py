"""The `Operation` object a ``%%mira`` cell returns."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from decimal import Decimal

from ..core.events import Cost, FileChanged, Usage
from .tasks import Task


def format_usd(value: Decimal) -> str:
    """Dollars with enough decimals to show small costs (two significant digits)."""
    if value == 0:
        return "$0.00"
    sign, value = ("-" if value < 0 else ""), abs(value)
    if value >= Decimal("0.01"):
        return f"{sign}${value:.2f}" if value >= 1 else f"{sign}${value:.4f}"
    digits = max(2, -value.adjusted() + 1)
    return f"{sign}${value:.{digits}f}"


def format_cost(cost: Cost) -> str:
    """A cost: "unpriced" (never $0.00) without a price, "at most $X" when only bounded."""
    if not cost.priced and cost.total_usd == 0 and not cost.bounded:
        return "unpriced"
    text = format_usd(cost.total_usd)
    if cost.bounded and cost.most_usd != cost.total_usd:
        text += f" (at most {format_usd(cost.most_usd)})"
    return text if cost.priced else text + " + unpriced"


@dataclass
class Operation:
    """The outcome of one operation: text, plan, tasks, files changed, usage and cost."""

    id: str
    request: str
    mode: str
    status: str
    text: str = ""
    error: str | None = None
    truncated: bool = False  # the answer stopped at its output cap (finish_reason "length")
    partial: bool = False  # the operation ended before the answer was finished
    plan: list[str] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    cost: Cost = field(default_factory=Cost)
    usage_by_role: dict[str, Usage] = field(default_factory=dict)
    cost_by_role: dict[str, Cost] = field(default_factory=dict)
    routing_savings_usd: Decimal = Decimal(0)
    file_changes: list[FileChanged] = field(default_factory=list)
    complexity_score: float | None = None
    complexity_reasons: list[str] = field(default_factory=list)
    skill: str | None = None
    estimated_cost_usd: Decimal | None = None
    models: dict[str, str] = field(default_factory=dict)

    @property
    def cost_usd(self) -> Decimal:
        """What the calls cost (a lower bound when `cost_upper_usd` is set)."""
        return self.cost.total_usd

    @property
    def cost_upper_usd(self) -> Decimal | None:
        """At most this much, when a call was cancelled or cut (None when exact)."""
        return self.cost.upper_usd

    @property
    def priced(self) -> bool:
        """False when some call ran on a model without a price (its cost is unknown)."""
        return self.cost.priced

    @property
    def files_changed(self) -> list[str]:
        """Paths written by this operation, in first-write order, without repeats."""
        return list(dict.fromkeys(change.path for change in self.file_changes))

    def summary_line(self) -> str:
        """``op_… completed · planned · 1,234 in / 56 out tokens · $0.0123``."""
        u = self.usage
        parts = [f"{self.id} {self.status}"]
        if self.truncated or self.partial:
            parts[0] += " (answer truncated at the output cap)" if self.truncated else " (partial answer)"
        parts += [
            self.mode,
            f"{u.input_tokens:,} in ({u.cached_input_tokens:,} cached) / {u.output_tokens:,} out "
            f"({u.reasoning_tokens:,} reasoning) tokens",
            format_cost(self.cost),
        ]
        if self.routing_savings_usd:  # negative savings are shown as they are
            parts.append(f"saved {format_usd(self.routing_savings_usd)} by routing")
        return " · ".join(parts)

    def __repr__(self) -> str:
        lines = [f"<Operation {self.summary_line()}>"]
        if self.error:
            lines.append(f"  error: {self.error}")
        if self.tasks:
            marks = {"pending": "○", "in_progress": "◐", "completed": "✓", "failed": "✗"}
            lines += [f"  {marks[t.status]} {t.sequence}. {t.description}" for t in self.tasks]
        if self.files_changed:
            lines.append("  files changed: " + ", ".join(self.files_changed))
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        lines = [f"**{self.id}** · {self.status} · {self.mode}"]
        if self.error:
            lines.append(f"\n> {self.error}")
        if self.tasks:
            marks = {"pending": "○", "in_progress": "◐", "completed": "✓", "failed": "✗"}
            lines.append("")
            lines += [f"- {marks[t.status]} {t.description}" for t in self.tasks]
        if self.files_changed:
            lines.append("\nFiles changed: " + ", ".join(f"`{p}`" for p in self.files_changed))
        lines.append(f"\n<small>{html.escape(self.summary_line()).replace('$', '&#36;')}</small>")  # $…$ is maths in Jupyter
        return "\n".join(lines)
