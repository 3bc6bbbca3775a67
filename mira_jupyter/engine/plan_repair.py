"""A submitted plan, task by task: what is usable is kept, what is missing is derived.

One bad field must not cost the whole plan: a task without ``active_form`` gets one derived
from its description, a task without a description is dropped, a plan over the cap is cut
to the cap, a dependency on a later, missing or dropped task is removed. Each repair is
said in one line, so the engine can show it and the log keeps it.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from ..core.unicode import valid_unicode
from .active_form import active_form
from .list_args import TooDeep, as_list, shallow_items, too_deep

MAX_TASKS = 30  # tasks per plan: the orchestrator works through them one turn at a time
MAX_DESCRIPTION = 400
# a task number as text: ASCII digits only ("²" and "①" are digits to str.isdigit, not to int)
_NUMBER = re.compile(r"\s*([0-9]{1,6})\s*")


@dataclass(frozen=True)
class RepairedTask:
    """One usable task: description, active form and earlier tasks it depends on (1-based)."""

    description: str
    active_form: str
    depends_on: tuple[int, ...] = ()
    reads_only: bool = False  # the planner says it changes nothing: it may run alongside others


@dataclass
class Repaired:
    """The usable tasks of a submitted plan and one line per repair made."""

    tasks: list[RepairedTask] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)


def repair_plan(arguments: Any) -> Repaired:
    """Validate ``submit_plan`` arguments one task at a time; never raises."""
    out = Repaired()
    if isinstance(arguments, dict):  # what nests too deep is set aside before any walk over it (r14e F3)
        arguments = {key: shallow_items(value) if key == "tasks" and isinstance(value, list)
                     else TooDeep() if too_deep(value) else value
                     for key, value in arguments.items()}  # fmt: skip
    # a lone surrogate (JSON "\ud800") is spelled as its escape: events and the log take it
    clean = valid_unicode(arguments)
    if clean != arguments:
        out.repairs.append("submit_plan held invalid Unicode (a lone surrogate): it is shown as its escape")
        arguments = clean
    if arguments is None:
        out.repairs.append("submit_plan's arguments were not valid JSON")
        return out
    if not isinstance(arguments, dict) or "tasks" not in arguments:
        out.repairs.append("submit_plan had no list of tasks")
        return out
    raw, problem = as_list(arguments["tasks"], "tasks", "task objects")
    if raw is None:
        out.repairs.append(f"submit_plan's {problem}")
        return out
    if not isinstance(arguments["tasks"], list):
        out.repairs.append("submit_plan's tasks came as a string of JSON: read as the list it holds")
        if valid_unicode(raw) != raw:
            out.repairs.append("submit_plan held invalid Unicode (a lone surrogate): it is shown as its escape")
            raw = valid_unicode(raw)
    # invalid tasks are dropped first, then the cap applies to the usable ones (r14d F8)
    numbers: dict[int, int] = {}  # number in the submitted plan -> number in the kept plan
    dropped: list[tuple[int, str]] = []  # (number, why) of each task dropped
    lines: list[str] = []  # every other repair, in plan order
    beyond = 0  # usable tasks past the cap: counted, to say how many the plan had
    for number, item in enumerate(raw, 1):
        if len(out.tasks) == MAX_TASKS:
            with contextlib.suppress(Exception):
                beyond += _task(number, item, {}, []) is not None
            continue
        said: list[str] = []
        try:
            task = _task(number, item, numbers, said)
        except Exception as exc:  # one task nothing here foresaw must not cost the plan
            said.append(f"task {number} was dropped: it could not be read ({type(exc).__name__})")
            task = None
        if task is None:  # its last line says why
            dropped.append((number, said[-1].split(": ", 1)[1]))
        lines += said
        if task is not None:
            out.tasks.append(task)
            numbers[number] = len(out.tasks)
    if len(dropped) > 3:  # one line per reason, not one per task
        said = {f"task {number} was dropped: {why}" for number, why in dropped}
        lines = [_said_drops(dropped)] + [line for line in lines if line not in said]
    if beyond:
        usable = f"{len(raw)} tasks" if len(raw) == MAX_TASKS + beyond else f"{MAX_TASKS + beyond} usable tasks"
        out.repairs.append(f"the plan had {usable}: the first {MAX_TASKS} were kept (the cap)")
    out.repairs += lines
    return out


def _said_drops(dropped: list[tuple[int, str]]) -> str:
    """How many tasks were dropped for each reason, and which."""
    reasons: dict[str, list[int]] = {}
    for number, why in dropped:
        reasons.setdefault(why, []).append(number)
    parts = []
    for why, numbers in reasons.items():
        shown = ", ".join(str(n) for n in numbers[:8]) + (", \u2026" if len(numbers) > 8 else "")
        parts.append(f"{len(numbers)} because {why} (tasks {shown})")
    return f"{len(dropped)} tasks were dropped: " + "; ".join(parts)


def _task(number: int, item: Any, kept: dict[int, int], repairs: list[str]) -> RepairedTask | None:
    if isinstance(item, str):
        item = {"description": item}
    if isinstance(item, TooDeep):
        repairs.append(f"task {number} was dropped: it is {item!r}, not a task")
        return None
    if not isinstance(item, dict):
        repairs.append(f"task {number} was dropped: it is {type(item).__name__}, not a task")
        return None
    description = _text(item.get("description"))
    if not description:
        repairs.append(f"task {number} was dropped: it has no description")
        return None
    if len(description) > MAX_DESCRIPTION:
        description = description[: MAX_DESCRIPTION - 1].rstrip() + "\u2026"
        repairs.append(f"task {number}: its description was cut to {MAX_DESCRIPTION} characters")
    form = _text(item.get("active_form"))
    if not form:
        form = active_form(description)
        repairs.append(f"task {number} had no active_form: “{form}” was derived")
    reads_only = item.get("reads_only", False)
    if not isinstance(reads_only, bool):
        repairs.append(f"task {number}: reads_only {reads_only!r} is not true or false; taken as false")
        reads_only = False
    return RepairedTask(description, form, _depends(number, item.get("depends_on"), kept, repairs), reads_only)


def _depends(number: int, value: Any, kept: dict[int, int], repairs: list[str]) -> tuple[int, ...]:
    """Dependencies on earlier kept tasks, renumbered; anything else removed and said."""
    if value is None or value == []:
        return ()
    items = value if isinstance(value, list) else [value]
    out: list[int] = []
    for ref in items:
        index = ref if isinstance(ref, int) and not isinstance(ref, bool) else None
        digits = _NUMBER.fullmatch(ref) if isinstance(ref, str) else None
        if digits:
            index = int(digits.group(1))
        if index is None or not 1 <= index < number:
            repairs.append(f"task {number}: depends_on {ref!r} is not an earlier task; removed")
        elif index not in kept:
            repairs.append(f"task {number}: depends on task {index}, which was dropped; removed")
        elif kept[index] not in out:
            out.append(kept[index])
    return tuple(out)


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""
