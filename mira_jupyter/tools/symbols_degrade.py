"""Fit an outline under the result cap on purpose, instead of letting the engine cut it.

The steps, each taken only when the previous result is still too long, and each stated:
collapse members into a count per type, then drop nested definitions, then keep the first
top-level symbols and say how many were left out. The JSON is always whole.
"""

from __future__ import annotations

import collections
import json
from typing import Any

from .symbols_model import Symbol

# below the engine's per-result cap (16,000 characters), leaving room for the other fields
OUTLINE_BUDGET = 12_000
_CONTAINERS = {"namespace", "module"}


def _size(lines: list[str]) -> int:
    return len(json.dumps(lines, ensure_ascii=False))


def fit_outline(symbols: list[Symbol], signatures: bool, budget: int = OUTLINE_BUDGET) -> dict[str, Any]:
    """`symbols` and `degraded` (what was left out, or absent) for an extract_symbols result."""
    lines = [s.compact(signatures) for s in symbols]
    if _size(lines) <= budget:
        return {"symbols": lines}
    containers = {s.qualname for s in symbols if s.kind in _CONTAINERS}
    members = collections.Counter(
        s.parent for s in symbols if s.parent is not None and s.parent not in containers
    )
    kept = [s for s in symbols if s.parent is None or s.parent in containers]
    # then give back whole member lists, outermost types first, while the result still fits
    by_parent: dict[str, list[Symbol]] = collections.defaultdict(list)
    for s in symbols:
        if s.parent is not None and s.parent not in containers:
            by_parent[s.parent].append(s)
    order = {id(s): i for i, s in enumerate(symbols)}

    def render(items: list[Symbol], counts: collections.Counter[str]) -> list[str]:
        out = []
        for s in sorted(items, key=lambda s: order[id(s)]):
            n = counts.get(s.qualname, 0)
            out.append(s.compact(signatures) + (f" ({n} members)" if n else ""))
        return out

    queue = [s.qualname for s in kept if s.qualname in by_parent]
    while queue:
        owner = queue.pop(0)
        extra = by_parent[owner]
        counts = members.copy()
        counts.pop(owner, None)
        if _size(render([*kept, *extra], counts)) > budget:
            continue
        members = counts
        kept.extend(extra)
        queue.extend(m.qualname for m in extra if m.qualname in by_parent)
    kept.sort(key=lambda s: order[id(s)])
    notes = []
    if members:
        notes.append(
            f"members of {len(members)} types collapsed into counts ({sum(members.values())} not listed)"
        )

    lines = render(kept, members)
    if _size(lines) > budget:
        nested = sum(s.nested for s in kept)
        kept = [s for s in kept if not s.nested]
        if nested:
            notes.append(f"{nested} nested definitions dropped")
        lines = render(kept, members)
    if _size(lines) > budget:
        total = len(lines)
        while lines and _size(lines) > budget:
            lines = lines[: max(1, int(len(lines) * 0.9))] if len(lines) > 1 else []
        notes.append(f"only the first {len(lines)} of {total} top-level symbols shown")
    hint = "call again with `kinds` or include_private=false to see fewer, fuller entries"
    return {"symbols": lines, "degraded": "; ".join(notes) + f"; {hint}"}
