"""The task state machine of a planned operation.

The engine, not the model, owns the states: it starts tasks one at a time (so at most
one is in progress, except for a batch of tasks planned as reads-only, which may run
together once their dependencies are completed), applies the orchestrator's ``update_tasks`` reports when they
are valid transitions, and when the operation ends it settles every task that is still
open with a recorded reason. The orchestrator may add a task the plan missed while it runs
(``update_tasks`` with ``add``): it goes at the end of the plan, marked as not planned, and
runs in its turn.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..core.events import TaskCompleted, TaskCreated, TaskFailed, TaskStarted, TaskStatus
from ..core.ids import new_id
from .bus import EventBus
from .task_outcomes import ToolOutcome, every_call_failed, failure_reason


@dataclass
class Task:
    """One task of the plan."""

    id: str
    sequence: int
    description: str
    active_form: str
    status: TaskStatus = "pending"
    note: str | None = None
    error: str | None = None
    depends_on: tuple[int, ...] = ()  # sequences of earlier tasks this one waits for
    planned: bool = True
    reads_only: bool = False  # planned as changing nothing: may run alongside other such tasks
    outcomes: list[ToolOutcome] = field(default_factory=list)  # its tool calls, as they ended
    changes: int = 0  # files written while it ran

    @property
    def achieved_nothing(self) -> bool:
        """Every tool call it made failed and it changed no file."""
        return self.changes == 0 and every_call_failed(self.outcomes)


class TaskTracker:
    """Holds the tasks of one operation and emits an event for every state change."""

    def __init__(self, operation_id: str, bus: EventBus) -> None:
        self.operation_id = operation_id
        self.bus = bus
        self.tasks: list[Task] = []
        # task id -> why its last run_tests did not meet what was expected: such a task
        # cannot be completed, whatever the model reports
        self.failed_checks: dict[str, str] = {}
        # tasks running side by side may each add a task: sequence numbers stay unique
        self._lock = threading.RLock()

    def create(
        self,
        description: str,
        active_form: str,
        task_id: str | None = None,
        depends_on: Iterable[int] = (),
        planned: bool = True,
        reads_only: bool = False,
    ) -> Task:
        """Add a pending task at the end of the plan."""
        with self._lock:
            sequence = len(self.tasks) + 1
            depends = tuple(n for n in dict.fromkeys(depends_on) if 1 <= n < sequence)
            task = Task(
                task_id or new_id("task"), sequence, description, active_form,
                depends_on=depends, planned=planned, reads_only=reads_only,
            )  # fmt: skip
            self.tasks.append(task)
            self._announce(task)
        return task

    def add(
        self, description: str, active_form: str | None, depends_on: Iterable[int], reads_only: bool, limit: int
    ) -> str:
        """Add a task the plan missed, while it runs (``update_tasks`` ``add``); returns what
        happened, for the model. Refused over `limit` tasks, for an empty description, or
        for one already open in the plan."""
        from .active_form import active_form as derive

        text = " ".join(description.split())
        if not text:
            return "refused: a new task needs a description"
        with self._lock:
            if len(self.tasks) >= limit:
                return f"refused: the plan already has {len(self.tasks)} tasks, the most it may have"
            same = next(
                (t for t in self.tasks if t.status in ("pending", "in_progress") and t.description.lower() == text.lower()),
                None,
            )
            if same is not None:
                return f"refused: task {same.sequence} is already {text!r}"
            wanted = list(dict.fromkeys(depends_on))
            task = self.create(
                text, (active_form or "").strip() or derive(text), depends_on=wanted, planned=False,
                reads_only=reads_only,
            )  # fmt: skip
        dropped = [n for n in wanted if n not in task.depends_on]
        note = f" (depends_on {dropped} removed: not an earlier task)" if dropped else ""
        return f"task {task.sequence} added: {text}{note}"

    def _announce(self, task: Task) -> None:
        self.bus.emit(
            TaskCreated(
                operation_id=self.operation_id,
                task_id=task.id,
                sequence=task.sequence,
                description=task.description,
                active_form=task.active_form,
                depends_on=list(task.depends_on),
                planned=task.planned,
                reads_only=task.reads_only,
            )
        )

    def get(self, task_id: str) -> Task | None:
        """The task with this id, or None."""
        return next((task for task in self.tasks if task.id == task_id), None)

    @property
    def current(self) -> Task | None:
        """The task in progress, if any."""
        return next((task for task in self.tasks if task.status == "in_progress"), None)

    def next_pending(self) -> Task | None:
        """The first pending task in plan order."""
        return next((task for task in self.tasks if task.status == "pending"), None)

    def failed_dependency(self, task: Task) -> Task | None:
        """The first task `task` depends on that failed, if any."""
        return next(
            (t for t in self.tasks if t.sequence in task.depends_on and t.status == "failed"), None
        )

    def ready_batch(self, first: Task, limit: int) -> list[Task]:
        """`first` and the pending tasks right after it that may run at the same time: all
        planned as reads-only, each one's dependencies completed (none inside the batch)."""
        if limit < 2 or not self._ready_to_run_alongside(first):
            return [first]
        batch = [first]
        for task in self.tasks[first.sequence :]:
            if len(batch) >= limit or task.status != "pending" or not self._ready_to_run_alongside(task):
                break
            batch.append(task)
        return batch

    def _ready_to_run_alongside(self, task: Task) -> bool:
        done = {t.sequence for t in self.tasks if t.status == "completed"}
        return task.reads_only and task.status == "pending" and set(task.depends_on) <= done

    def start(self, task: Task, alongside: bool = False) -> None:
        """Move a pending task to in_progress; refuses if another one is in progress, unless
        both are reads-only tasks of one batch (`alongside`)."""
        if task.status != "pending":
            raise ValueError(f"task {task.sequence} is {task.status}, not pending")
        running = self.current
        if running is not None and not (alongside and task.reads_only and running.reads_only):
            raise ValueError(f"task {running.sequence} is still in progress")
        task.status = "in_progress"
        self.bus.emit(TaskStarted(operation_id=self.operation_id, task_id=task.id))

    def complete(self, task: Task, note: str | None = None) -> None:
        """Mark an open task completed."""
        if task.status in ("completed", "failed"):
            return
        if task.id in self.failed_checks:
            self.fail(task, self.failed_checks[task.id])
            return
        task.status, task.note = "completed", note
        self.bus.emit(TaskCompleted(operation_id=self.operation_id, task_id=task.id, note=note))

    def record_check(self, task_id: str | None, met: bool, summary: str) -> None:
        """Remember whether a task's latest test run gave the exit status it expected."""
        if task_id is None:
            return
        if met:
            self.failed_checks.pop(task_id, None)
        else:
            self.failed_checks[task_id] = f"its last test run did not give the expected result: {summary}"

    def fail(self, task: Task, error: str) -> None:
        """Mark an open task failed with its reason."""
        if task.status in ("completed", "failed"):
            return
        task.status, task.error = "failed", error
        self.bus.emit(TaskFailed(operation_id=self.operation_id, task_id=task.id, error=error))

    def finish(self, task: Task, note: str | None = None) -> None:
        """The orchestrator is done with `task`: completed, unless every tool call it made
        failed and nothing changed, in which case it failed with the tool errors."""
        if task.achieved_nothing:
            self.fail(task, failure_reason(task.outcomes))
        else:
            self.complete(task, note)

    def apply_update(self, task_ref: str | int, status: str, note: str | None, own: str | None = None) -> str:
        """Apply one ``update_tasks`` entry from the model; returns what happened.

        Only the task in progress can be completed or failed: a report on a task that has
        not started, or has already ended, is refused with the reason, for the model. `own`
        is the task the reporting conversation works on: of tasks running side by side, each
        reports only its own.
        """
        task = self._find(task_ref)
        if task is None:
            return f"refused: unknown task {task_ref!r}"
        mine = self.get(own) if own else None
        if mine is not None and task is not mine and task.status == "in_progress":
            return (
                f"refused: task {task.sequence} runs alongside this one; report only task "
                f"{mine.sequence}, the one you are working on"
            )
        if status not in ("completed", "failed", "in_progress"):
            return f"refused: status {status!r} is not one of completed, failed, in_progress"
        if task.status in ("completed", "failed"):
            return f"refused: task {task.sequence} is already {task.status}"
        if task.status == "pending":
            running = self.current
            now = f"task {running.sequence} is in progress" if running else "no task is in progress"
            return (
                f"refused: task {task.sequence} has not started ({now}); the engine starts "
                "tasks in order, so report only the task in progress"
            )
        if status == "in_progress":
            return f"task {task.sequence} already in progress"
        if status == "failed":
            self.fail(task, note or "reported failed by the orchestrator")
            return f"task {task.sequence} failed"
        if task.achieved_nothing and not (note and note.strip()):
            return (
                f"refused: task {task.sequence} cannot be completed without a note: "
                f"{failure_reason(task.outcomes)}. Report it failed, or completed with a note "
                "saying why nothing needed to change"
            )
        self.complete(task, note)
        if task.status == "failed":
            return f"task {task.sequence} failed: {task.error}"
        return f"task {task.sequence} completed"

    def settle(self, reason: str) -> None:
        """Close every open task so none is left pending or in progress."""
        for task in self.tasks:
            if task.status in ("pending", "in_progress"):
                self.fail(task, reason)

    def _find(self, ref: str | int) -> Task | None:
        if isinstance(ref, bool):
            return None  # true is not task 1
        if isinstance(ref, int):
            return next((task for task in self.tasks if task.sequence == ref), None)
        number = ref.strip()
        # ASCII digits only: "²" is a digit to str.isdigit, not a number to int
        if number.isascii() and number.isdigit() and len(number) <= 6:
            return next((task for task in self.tasks if task.sequence == int(number)), None)
        return self.get(ref)

    def checklist(self) -> str:
        """The plan as a numbered checklist for the orchestrator's prompt."""
        marks = {"pending": " ", "in_progress": "~", "completed": "x", "failed": "!"}
        return "\n".join(
            f"{task.sequence}. [{marks[task.status]}] {task.description}" for task in self.tasks
        )
