"""The `Operation` object a ``%%mira`` cell returns."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from decimal import Decimal

from ..core.events import Cost, FileChanged, Usage, truncation_mark
from ..core.markup import maths_free_markdown
from ..core.money import cost_text, usd
from .tasks import Task

# the one dollar formatter of every view (core.money)
format_usd = usd
format_cost = cost_text


@dataclass
class Operation:
    """The outcome of one operation: text, plan, tasks, files changed, usage and cost."""

    id: str
    request: str
    mode: str
    status: str
    text: str = ""
    error: str | None = None
    truncated: bool = False  # the answer stopped before its end (output cap, content filter)
    truncated_by: str = ""  # the finish reason that cut it: "length" or "content_filter"
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
    conversation_id: str | None = None
    parent_operation_id: str | None = None  # the operation this one follows in its conversation
    history_turns: int = 0  # earlier turns the orchestrator carried
    history_dropped: int = 0  # older turns left out to fit Mira.history_tokens
    code: list[str] = field(default_factory=list)  # the answer's fenced code blocks

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
            mark = truncation_mark(self.truncated_by) if self.truncated else "partial answer"
            parts[0] += f" ({mark})"
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
        lines.append(f"\n<small>{html.escape(self.summary_line())}</small>")
        # costs are dollars: "$0.0135 · saved $0.0011" must not be typeset as maths
        return maths_free_markdown("\n".join(lines))
