"""Reads-only tasks side by side: a batch of planned tasks that change nothing, each with its
dependencies completed, runs at once, one orchestrator conversation per task.

Each task works on its own copy of the conversation so far and may use only the reading
tools (a write or a command is refused at dispatch, so writes stay one task at a time). When
all of them have ended, the main conversation is told what each found, in plan order, and
the plan goes on from there. A cancel reaches every one through the run's shared token.
"""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from ..llm.types import Message
from .metatools import META_TOOLS
from .tasks import Task

if TYPE_CHECKING:
    from .run import OperationRun

# the delegated reads, a look at a notebook variable (read-only), and the task's own report
READING_TOOLS = META_TOOLS | {"inspect_variable", "update_tasks"}


class BatchAborted(Exception):
    """A side-by-side task stops because another task of its batch ended the operation."""


ALONGSIDE = """
This task runs at the same time as task(s) {others}, which you will not see. It was planned as
reading only: use only {tools}, and report only task {sequence}."""

REPORT = """Tasks {numbers} ran at the same time. What each of them found:

{reports}"""


def run_side_by_side(
    run: OperationRun,
    batch: list[Task],
    messages: list[Message],
    schemas: list[dict[str, Any]],
    allowed: set[str],
    first: bool,
) -> None:
    """Run `batch` at once (all started first), then tell `messages` what each task found."""
    for task in batch:
        run.tracker.start(task, alongside=True)
    reading = allowed & READING_TOOLS
    tools = ", ".join(sorted(reading - {"update_tasks"})) or "no tools"

    def work(task: Task) -> str:
        others = ", ".join(str(t.sequence) for t in batch if t is not task)
        note = ALONGSIDE.format(others=others, tools=tools, sequence=task.sequence)
        fork = list(messages)  # its own copy: the other tasks' turns never reach it
        return run.in_task(task.id, run.work_on_task, task, fork, schemas, reading, first, note, abort=abort)

    abort = threading.Event()
    with ThreadPoolExecutor(max_workers=len(batch), thread_name_prefix="mira-task") as pool:
        futures = [pool.submit(work, task) for task in batch]
        wait(futures, return_when=FIRST_EXCEPTION)
        # one task's error ends the operation: the others make no further call (a call in
        # flight finishes), rather than spending on an operation already lost
        abort.set()
        wait(futures)
    errors = [f.exception() for f in futures if f.exception() is not None]
    real = [e for e in errors if not isinstance(e, BatchAborted)]
    if real or errors:  # the first real error in plan order, once every task has stopped
        raise (real or errors)[0]
    reports = "\n\n".join(
        f"Task {task.sequence} ({task.status}): {future.result() or task.error or '(no note)'}"
        for task, future in zip(batch, futures, strict=True)
    )
    numbers = ", ".join(str(task.sequence) for task in batch)
    run.hand_over(messages, REPORT.format(numbers=numbers, reports=reports), first)
