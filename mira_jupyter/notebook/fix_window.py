"""What ``%mira fix`` sends of a cell and a traceback too big for the token cap.

Capping from the top cuts away the very line that failed when a long cell fails near its
end. So a long cell is cut to a window around the line the traceback names (``Cell In[7],
line 19501``), with a marker for each cut saying which lines were left out, and a long
traceback keeps its start (the cell's frame) and its end (the exception itself).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .frames import cap_tokens

# IPython 8+: "Cell In[7], line 12"; IPython 7: "<ipython-input-7-…> in <module>" then "----> 12"
_CELL_LINE = "Cell In\\[{cell}\\], line (\\d+)"
_OLD_FRAME = "<ipython-input-{cell}-[0-9a-f]+>[^\\n]*\\n(?:(?!<ipython-input-)[\\s\\S])*?^-+> ?(\\d+)"
ABOVE_SHARE = 2 / 3  # of the window: what leads to a failing line is mostly above it


def failing_line(traceback_text: str, cell: int) -> int | None:
    """The line of cell `cell` the traceback stopped at (its innermost frame in that cell)."""
    found = re.findall(_CELL_LINE.format(cell=cell), traceback_text)
    if not found:
        found = re.findall(_OLD_FRAME.format(cell=cell), traceback_text, flags=re.MULTILINE)
    return int(found[-1]) if found else None


@dataclass
class CellWindow:
    """The part of a cell that is sent; `shown` is its first and last line when lines were
    left out around the failing one."""

    text: str
    partial: bool
    shown: tuple[int, int] | None = None

    def label(self, line: int | None, total: int) -> str | None:
        """``lines 9,501-19,600 of 20,000, around line 19,501 where it failed`` (None if whole)."""
        if self.shown is None:
            return None
        first, last = self.shown
        return f"lines {first:,}-{last:,} of {total:,}, around line {line:,} where it failed"


def _tokens(text: str) -> int:
    from ..llm.tokens import count_tokens

    return count_tokens(text)


def _take(lines: list[str], order: range, budget: int) -> tuple[int, int]:
    """How many of `lines`, in `order`, fit `budget` tokens one after the other, and their tokens."""
    taken = used = 0
    for index in order:
        cost = _tokens(lines[index]) + 1  # the newline
        if used + cost > budget:
            break
        taken, used = taken + 1, used + cost
    return taken, used


def cell_window(source: str, line: int | None, max_tokens: int) -> CellWindow:
    """`source` whole if it fits `max_tokens`; else the lines around `line` (1-based) that
    fit, with ``[… lines 1-9,800 of 20,000 left out]`` markers. Without a line (the traceback
    names none) the top is kept, as before."""
    capped = cap_tokens(source, max_tokens)
    if capped == source:
        return CellWindow(source, False)
    lines = source.split("\n")
    if line is None or not 1 <= line <= len(lines):
        return CellWindow(capped, True)
    at = line - 1
    # the failing line itself may be huge (a pasted blob): it alone is capped then
    first = cap_tokens(lines[at], max(max_tokens // 2, 1))
    budget = max(max_tokens - _tokens(first), 0)
    # above first, up to its share; below gets the rest; above then takes what below left
    above, used = _take(lines, range(at - 1, -1, -1), int(budget * ABOVE_SHARE))
    below, more = _take(lines, range(at + 1, len(lines)), budget - used)
    extra, _ = _take(lines, range(at - 1 - above, -1, -1), budget - used - more)
    start, end = at - above - extra, at + 1 + below
    total = len(lines)
    kept = [*lines[start:at], first, *lines[at + 1 : end]]
    if start > 0:
        kept.insert(0, f"[… lines 1-{start:,} of {total:,} left out]")
    if end < total:
        kept.append(f"[… lines {end + 1:,}-{total:,} of {total:,} left out]")
    return CellWindow("\n".join(kept), True, (start + 1, end))


def cap_both_ends(text: str, max_tokens: int) -> str:
    """`text` within about `max_tokens`: its first lines and its last lines, with a marker
    for the middle left out (a traceback's end is the exception, its start the cell's frame)."""
    if cap_tokens(text, max_tokens) == text:
        return text
    lines = text.split("\n")
    head_count, used = _take(lines, range(len(lines)), max_tokens // 3)
    tail_count, _ = _take(lines, range(len(lines) - 1, head_count - 1, -1), max_tokens - used)
    head = lines[:head_count]
    tail = lines[len(lines) - tail_count :]
    if not tail:  # the last line alone is over the cap (a huge message): its start
        tail = [cap_tokens(lines[-1], max(max_tokens - used, 1))]
    if not head and len(lines) > 1:
        head = [cap_tokens(lines[0], max(max_tokens // 3, 1))]
    left_out = len(lines) - len(head) - len(tail)
    middle = [f"[… {left_out:,} lines left out]"] if left_out > 0 else []
    return "\n".join([*head, *middle, *tail])
