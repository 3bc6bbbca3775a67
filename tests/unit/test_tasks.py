import pytest

from mira_jupyter.engine.bus import EventBus
from mira_jupyter.engine.tasks import TaskTracker


def _tracker():
    bus = EventBus()
    seen = []
    bus.subscribe(seen.append)
    tracker = TaskTracker("op_1", bus)
    for i in range(3):
        tracker.create(f"Do {i}", f"Doing {i}")
    return tracker, seen


def test_at_most_one_task_in_progress():
    tracker, _ = _tracker()
    first, second = tracker.tasks[0], tracker.tasks[1]
    tracker.start(first)
    with pytest.raises(ValueError, match="still in progress"):
        tracker.start(second)


def test_model_cannot_start_tasks_out_of_order():
    tracker, _ = _tracker()
    tracker.start(tracker.tasks[0])
    message = tracker.apply_update(3, "in_progress", None)
    assert "not started" in message
    assert tracker.tasks[2].status == "pending"


def test_updates_by_number_or_id_and_settle_leaves_nothing_open():
    tracker, seen = _tracker()
    tracker.start(tracker.tasks[0])
    assert tracker.apply_update("1", "completed", "done") == "task 1 completed"
    tracker.start(tracker.tasks[1])
    assert tracker.apply_update(tracker.tasks[1].id, "failed", "no file") == "task 2 failed"
    assert tracker.apply_update(9, "completed", None) == "refused: unknown task 9"
    tracker.settle("cancelled by user")
    assert [t.status for t in tracker.tasks] == ["completed", "failed", "failed"]
    assert tracker.tasks[2].error == "cancelled by user"
    assert [e.type for e in seen] == [
        "TaskCreated",
        "TaskCreated",
        "TaskCreated",
        "TaskStarted",
        "TaskCompleted",
        "TaskStarted",
        "TaskFailed",
        "TaskFailed",
    ]


def test_finished_tasks_do_not_change_again():
    tracker, seen = _tracker()
    task = tracker.tasks[0]
    tracker.complete(task)
    tracker.fail(task, "late failure")
    assert task.status == "completed"
    assert sum(e.type == "TaskFailed" for e in seen) == 0


@pytest.mark.parametrize("ref", ["\u00b2", "\u2460", "9" * 5000, True, False])
def test_a_report_on_what_only_looks_like_a_task_number_is_refused_as_unknown(ref):
    tracker, _ = _tracker()
    tracker.start(tracker.tasks[0])
    assert tracker.apply_update(ref, "completed", "done") == f"refused: unknown task {ref!r}"
    assert tracker.tasks[0].status == "in_progress"


def test_update_tasks_refuses_a_boolean_task_at_validation():
    from pydantic import ValidationError

    from mira_jupyter.engine.metatools import UpdateTasksArgs

    # refused as an item of its own (r14c L3: the valid items of the call still apply)
    args = UpdateTasksArgs.model_validate({"updates": [{"task": True, "status": "completed"}]})
    assert args.updates == [] and "updates item 1 (update) is invalid: task.int: Input should be a valid integer" in args._refused[0]
    with pytest.raises(ValidationError):
        UpdateTasksArgs.model_validate({"updates": [], "bogus": 1})
    # r14d F4: a list argument that is not a list is a refusal saying what was sent
    refused = UpdateTasksArgs.model_validate({"updates": "all of them"})._refused
    assert refused == ["refused: updates must be a list of update objects {task, status, note}, got a string "
                       "('all of them'); send it again corrected"]  # fmt: skip
    assert UpdateTasksArgs.model_validate({"updates": [{"task": "2", "status": "completed"}]}).updates[0].task == "2"
