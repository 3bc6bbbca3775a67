"""update_tasks' list arguments as models send them (r14d F4, F6): a list sent as a string of
JSON is read as that list; anything else that is not a list, and items that are not objects,
are refused with what was sent instead, not pydantic's "Input should be a valid list"."""

from __future__ import annotations

import json

import pytest

from mira_jupyter.engine.metatools import UpdateTasksArgs


def test_lists_sent_as_strings_of_json_are_read():
    args = UpdateTasksArgs.model_validate({
        "updates": json.dumps([{"task": 1, "status": "completed", "note": "read it"}]),
        "add": json.dumps([{"description": "Add a test", "active_form": "Adding a test"}]),
    })  # fmt: skip
    assert [(u.task, u.status, u.note) for u in args.updates] == [(1, "completed", "read it")]
    assert [n.description for n in args.add] == ["Add a test"] and args._refused == []


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"updates": "done"}, "refused: updates must be a list of update objects {task, status, note}, got a string ('done')"),
        ({"updates": {"task": 1, "status": "completed"}}, "refused: updates must be a list of update objects {task, status, note}, got one object, not a list of them"),
        ({"updates": None}, "refused: updates must be a list of update objects {task, status, note}, got null"),
        ({"updates": 1}, "refused: updates must be a list of update objects {task, status, note}, got a number (1)"),
        ({"updates": "[{\"task\": 1"}, "refused: updates must be a JSON list of update objects {task, status, note}; the string sent is not valid JSON"),
        ({"add": "Write the docs"}, "refused: add must be a list of new task objects {description, active_form}, got a string ('Write the docs')"),
        ({"updates": [1]}, "refused: updates item 1 (update) is invalid: it is a number (1), not an object {task, status, note}"),
        ({"add": ["Write the docs"]}, "refused: add item 1 (new task) is invalid: it is a string ('Write the docs'), not an object {description, active_form}"),
        ({"add": [[]]}, "refused: add item 1 (new task) is invalid: it is list, not an object {description, active_form}"),
        ({"tasks": [{"task": 1, "status": "completed"}]}, "refused: update_tasks has no 'tasks' argument: send status changes in updates and new tasks in add"),
    ],
)
def test_what_is_not_a_list_of_objects_is_said_exactly(data, said):
    args = UpdateTasksArgs.model_validate(data)
    assert args.updates == [] and args.add == []
    assert len(args._refused) == 1 and args._refused[0].startswith(said), args._refused
    assert "valid list" not in args._refused[0] and "instance of" not in args._refused[0]


def test_a_bad_list_does_not_cost_the_good_one():
    args = UpdateTasksArgs.model_validate({"updates": "junk", "add": [{"description": "Add a test"}]})
    assert [n.description for n in args.add] == ["Add a test"] and len(args._refused) == 1


@pytest.mark.parametrize("updates", ["[" * 1200 + "]" * 1200, "[" * 500 + "]" * 500])
def test_brackets_nested_too_deep_are_refused_and_the_valid_items_kept(updates):
    # r14e F3: this ended the operation as "internal error: RecursionError"
    args = UpdateTasksArgs.model_validate({
        "updates": updates,
        "add": [{"description": "Add a test", "active_form": "Adding a test"}, json.loads("[" * 600 + "]" * 600)],
    })  # fmt: skip
    assert args.updates == [] and [n.description for n in args.add] == ["Add a test"]
    assert args._refused[0].startswith("refused: updates ")
    assert "nest" in args._refused[0] and "deep" in args._refused[0]
    assert args._refused[1] == ("refused: add item 2 (new task) is invalid: it is an item nested more than 32 "
                                "levels deep, not an object {description, active_form}; send it again corrected")
