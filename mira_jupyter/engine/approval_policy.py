"""``Mira.approve``: which changes ask the user before they are applied.

- ``never`` (the default): file writes (write_file, edit_notebook) are applied, undo-backed.
- ``writes``: every file-tool write asks. A ``Mira.commands`` program (run_tests,
  run_command) and ``run_code`` still run unasked and may change files; their changes are
  recorded for undo and shown after. ``always`` asks before them too.
- ``always``: every file write asks, and so does every command, even a ``Mira.commands`` one,
  and every ``run_code`` (its code is shown).
- ``auto-under:COST,N-lines``: a file write is applied by itself while the operation has cost
  under $COST so far and the change is under N lines (added + removed); otherwise it asks.
  Either gate may be left out (``auto-under:20-lines``).

Under every setting a program outside ``Mira.commands`` asks: that list is what may run
unasked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

APPROVE_HELP = (
    "never, writes, always or auto-under:COST,N-lines (e.g. auto-under:0.02,20-lines: "
    "apply a change by itself while the operation has cost under $0.02 and the change is "
    "under 20 lines, ask otherwise)"
)
_LINES = re.compile(r"(\d+)\s*-?\s*lines?", re.IGNORECASE)
_COST = re.compile(r"\$?(\d+(?:\.\d*)?|\.\d+)")

Kind = Literal["write", "command", "code"]


@dataclass(frozen=True)
class ApprovalPolicy:
    """A parsed ``Mira.approve`` value."""

    mode: Literal["never", "writes", "always", "auto-under"] = "never"
    max_cost_usd: Decimal | None = None  # auto-under: the operation's cost must stay under this
    max_lines: int | None = None  # auto-under: the change's added + removed lines under this

    def asks(self, kind: Kind, *, listed: bool = True, lines: int = 0, cost_usd: Decimal = Decimal(0)) -> bool:
        """Whether this change must wait for the user (`listed`: the program is in Mira.commands)."""
        if kind == "command":
            return not listed or self.mode == "always"
        if kind == "code":  # python in the sandbox, as run_command python would be
            return self.mode == "always"
        if self.mode == "never":
            return False
        if self.mode in ("writes", "always"):
            return True
        over_cost = self.max_cost_usd is not None and cost_usd >= self.max_cost_usd
        over_size = self.max_lines is not None and lines >= self.max_lines
        return over_cost or over_size

    def describe(self) -> str:
        """The setting as written (``auto-under:0.02,20-lines``)."""
        if self.mode != "auto-under":
            return self.mode
        parts = [] if self.max_cost_usd is None else [f"{self.max_cost_usd}"]
        parts += [] if self.max_lines is None else [f"{self.max_lines}-lines"]
        return "auto-under:" + ",".join(parts)


def parse_approve(value: object, name: str = "Mira.approve") -> ApprovalPolicy:
    """Parse a ``Mira.approve`` value; ValueError naming `name` and the accepted forms."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be {APPROVE_HELP}; got {value!r}")
    text = value.strip().lower()
    if text in ("never", "writes", "always"):
        return ApprovalPolicy(text)  # type: ignore[arg-type]
    head, sep, rest = text.partition(":")
    if head != "auto-under" or not sep or not rest.strip():
        raise ValueError(f"{name} must be {APPROVE_HELP}; got {value!r}")
    cost: Decimal | None = None
    lines: int | None = None
    for part in (p.strip() for p in rest.split(",")):
        size = _LINES.fullmatch(part)
        if size:
            if lines is not None:
                raise ValueError(f"{name}: the line gate is given twice in {value!r}")
            lines = int(size.group(1))
            if lines < 1:
                raise ValueError(f"{name}: the line gate must be at least 1 line, got {part!r}")
            continue
        amount = _COST.fullmatch(part)
        if amount:
            if cost is not None:
                raise ValueError(f"{name}: the cost gate is given twice in {value!r}")
            try:
                cost = Decimal(amount.group(1))
            except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
                raise ValueError(f"{name}: {part!r} is not an amount in USD") from None
            if not cost.is_finite() or cost > Decimal(1_000_000):
                raise ValueError(f"{name}: the cost gate must be an amount up to $1,000,000, got {part!r}")
            continue
        raise ValueError(
            f"{name}: {part!r} is neither a cost in USD (0.02) nor a size (20-lines), "
            f"as in auto-under:0.02,20-lines"
        )
    return ApprovalPolicy("auto-under", max_cost_usd=cost, max_lines=lines)
