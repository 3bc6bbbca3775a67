"""The task state machine of a planned operation.

The engine, not the model, owns the states: it starts tasks one at a time (so at most
one is ever in progress), applies the orchestrator's ``update_tasks`` reports when they
are valid transitions, and when the operation ends it settles every task that is still
open with a recorded reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.events import TaskCompleted, TaskCreated, TaskFailed, TaskStarted, TaskStatus
from ..core.ids import new_id
from .bus import EventBus


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


class TaskTracker:
    """Holds the tasks of one operation and emits an event for every state change."""

    def __init__(self, operation_id: str, bus: EventBus) -> None:
        self.operation_id = operation_id
        self.bus = bus
        self.tasks: list[Task] = []

    def create(self, description: str, active_form: str, task_id: str | None = None) -> Task:
        """Add a pending task at the end of the plan."""
        task = Task(task_id or new_id("task"), len(self.tasks) + 1, description, active_form)
        self.tasks.append(task)
        self.bus.emit(
            TaskCreated(
                operation_id=self.operation_id,
                task_id=task.id,
                sequence=task.sequence,
                description=description,
                active_form=active_form,
            )
        )
        return task

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

    def start(self, task: Task) -> None:
        """Move a pending task to in_progress; refuses if another one is in progress."""
        if task.status != "pending":
            raise ValueError(f"task {task.sequence} is {task.status}, not pending")
        running = self.current
        if running is not None:
            raise ValueError(f"task {running.sequence} is still in progress")
        task.status = "in_progress"
        self.bus.emit(TaskStarted(operation_id=self.operation_id, task_id=task.id))

    def complete(self, task: Task, note: str | None = None) -> None:
        """Mark an open task completed (a pending one counts as done out of order)."""
        if task.status in ("completed", "failed"):
            return
        task.status, task.note = "completed", note
        self.bus.emit(TaskCompleted(operation_id=self.operation_id, task_id=task.id, note=note))

    def fail(self, task: Task, error: str) -> None:
        """Mark an open task failed with its reason."""
        if task.status in ("completed", "failed"):
            return
        task.status, task.error = "failed", error
        self.bus.emit(TaskFailed(operation_id=self.operation_id, task_id=task.id, error=error))

    def apply_update(self, task_ref: str | int, status: str, note: str | None) -> str:
        """Apply one ``update_tasks`` entry from the model; returns what happened."""
        task = self._find(task_ref)
        if task is None:
            return f"unknown task {task_ref!r}"
        if status == "completed":
            self.complete(task, note)
            return f"task {task.sequence} completed"
        if status == "failed":
            self.fail(task, note or "reported failed by the orchestrator")
            return f"task {task.sequence} failed"
        if status == "in_progress":
            if task.status == "in_progress":
                return f"task {task.sequence} already in progress"
            return (
                f"task {task.sequence} not started: the engine starts tasks in order; "
                "finish the current task first"
            )
        return f"status {status!r} is not one of completed, failed, in_progress"

    def settle(self, reason: str) -> None:
        """Close every open task so none is left pending or in progress."""
        for task in self.tasks:
            if task.status in ("pending", "in_progress"):
                self.fail(task, reason)

    def _find(self, ref: str | int) -> Task | None:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            index = int(ref)
            return next((task for task in self.tasks if task.sequence == index), None)
        return self.get(ref)

    def checklist(self) -> str:
        """The plan as a numbered checklist for the orchestrator's prompt."""
        marks = {"pending": " ", "in_progress": "~", "completed": "x", "failed": "!"}
        return "\n".join(
            f"{task.sequence}. [{marks[task.status]}] {task.description}" for task in self.tasks
        )
