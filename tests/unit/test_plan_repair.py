"""submit_plan arguments repaired task by task (issue 14, item 2)."""

from __future__ import annotations

import pytest

from mira_jupyter.engine.plan_repair import MAX_TASKS, RepairedTask, repair_plan


def test_valid_plans_need_no_repair():
    got = repair_plan({"tasks": [{"description": "Read it", "active_form": "Reading it"}]})
    assert got.tasks == [RepairedTask("Read it", "Reading it")] and got.repairs == []


@pytest.mark.parametrize(
    ("arguments", "repair"),
    [
        (None, "submit_plan's arguments were not valid JSON"),
        ({}, "submit_plan had no list of tasks"),
        # r14d F6: a string that is not a JSON list is said as what it is
        ({"tasks": "Read it"}, "submit_plan's tasks must be a list of task objects, got a string ('Read it')"),
        ({"tasks": "[{"}, "submit_plan's tasks must be a JSON list of task objects; the string sent is not valid JSON"),
        ({"tasks": {"description": "x"}}, "submit_plan's tasks must be a list of task objects, got one object, not a list of them"),
        ({"tasks": 3}, "submit_plan's tasks must be a list of task objects, got a number (3)"),
        ({"tasks": '{"description": "x"}'}, "submit_plan's tasks must be a list of task objects, got a string"),
        ({"tasks": [None]}, "task 1 was dropped: it is NoneType, not a task"),
        ({"tasks": [{"description": "   "}]}, "task 1 was dropped: it has no description"),
        ({"tasks": [{"description": 5}]}, "task 1 was dropped: it has no description"),
    ],
)
def test_nothing_usable(arguments, repair):
    got = repair_plan(arguments)
    assert got.tasks == [] and len(got.repairs) == 1 and got.repairs[0].startswith(repair)


def test_tasks_sent_as_a_string_of_json_are_read_as_the_list_it_holds():
    # r14d F6: models send list arguments as JSON text; the plan became one generic task
    import json

    tasks = [{"description": "Read it", "active_form": "Reading it"}, {"description": "Fix it", "depends_on": [1]}]
    got = repair_plan({"tasks": json.dumps(tasks)})
    assert got.tasks == [RepairedTask("Read it", "Reading it"), RepairedTask("Fix it", "Fixing it", (1,))]
    assert got.repairs == [
        "submit_plan's tasks came as a string of JSON: read as the list it holds",
        "task 2 had no active_form: “Fixing it” was derived",
    ]
    got = repair_plan({"tasks": json.dumps(["Read a\ud800"])})  # an escaped lone surrogate inside it
    assert got.tasks[0].description == "Read a\\ud800"
    assert "submit_plan held invalid Unicode (a lone surrogate): it is shown as its escape" in got.repairs


def test_invalid_tasks_are_dropped_before_the_cap_so_no_valid_task_is_lost():
    # r14d F8: the cap cut the submitted list to 30 first, so valid tasks 31+ were lost
    # behind invalid ones, each drop said on its own line
    tasks = [None if i % 4 == 0 else {"description": "", "active_form": "x"} if i % 4 == 1
             else {"description": f"Check {i}", "active_form": f"Checking {i}"} for i in range(60)]  # fmt: skip
    got = repair_plan({"tasks": tasks})
    valid = [t["description"] for t in tasks if isinstance(t, dict) and t["description"]]
    assert len(valid) == MAX_TASKS
    assert [t.description for t in got.tasks] == valid  # all 30, the last one submitted 60th
    assert got.repairs == [
        "30 tasks were dropped: 15 because it is NoneType, not a task (tasks 1, 5, 9, 13, 17, 21, 25, 29, …); "
        "15 because it has no description (tasks 2, 6, 10, 14, 18, 22, 26, 30, …)"
    ]
    more = repair_plan({"tasks": [*tasks, {"description": "Extra", "active_form": "Extra"}, None]})
    assert [t.description for t in more.tasks] == valid
    assert more.repairs[0] == f"the plan had {MAX_TASKS + 1} usable tasks: the first {MAX_TASKS} were kept (the cap)"
    # up to three drops are still said one by one, in plan order
    few = repair_plan({"tasks": [None, {"description": "A", "active_form": "a"}, 7]})
    assert few.repairs == ["task 1 was dropped: it is NoneType, not a task", "task 3 was dropped: it is int, not a task"]


def test_strings_become_tasks_and_whitespace_is_folded():
    got = repair_plan({"tasks": ["Fix  the\nloader", {"description": "x", "active_form": 3}]})
    assert got.tasks[0] == RepairedTask("Fix the loader", "Fixing the loader")
    assert got.tasks[1].active_form == "Working on: x"
    assert got.repairs == [
        "task 1 had no active_form: “Fixing the loader” was derived",
        "task 2 had no active_form: “Working on: x” was derived",
    ]


def test_long_descriptions_are_cut():
    got = repair_plan({"tasks": [{"description": "Check " + "x" * 500, "active_form": "Checking"}]})
    assert len(got.tasks[0].description) == 400 and got.tasks[0].description.endswith("…")


def test_dependencies_only_on_earlier_kept_tasks():
    tasks = [
        {"description": "A", "active_form": "a"},
        {"description": "", "active_form": "b"},
        {"description": "C", "active_form": "c", "depends_on": [1, 2, 3, 4, True, "1", "x", 0]},
        {"description": "D", "active_form": "d", "depends_on": 3},
    ]
    got = repair_plan({"tasks": tasks})
    assert [t.depends_on for t in got.tasks] == [(), (1,), (2,)]
    assert got.repairs == [
        "task 2 was dropped: it has no description",
        "task 3: depends on task 2, which was dropped; removed",
        "task 3: depends_on 3 is not an earlier task; removed",
        "task 3: depends_on 4 is not an earlier task; removed",
        "task 3: depends_on True is not an earlier task; removed",
        "task 3: depends_on 'x' is not an earlier task; removed",
        "task 3: depends_on 0 is not an earlier task; removed",
    ]


def test_the_cap_keeps_the_first_tasks():
    got = repair_plan({"tasks": [f"Check {i}" for i in range(MAX_TASKS + 5)]})
    assert len(got.tasks) == MAX_TASKS and got.tasks[-1].description == f"Check {MAX_TASKS - 1}"
    assert got.repairs[0] == f"the plan had {MAX_TASKS + 5} tasks: the first {MAX_TASKS} were kept (the cap)"


def test_an_unknown_top_level_key_is_said_and_costs_nothing():
    # the schema now refuses unknown keys (additionalProperties: false); a model that sends
    # one anyway keeps its plan, and the repair says what was ignored
    from mira_jupyter.engine.planner import plan_from_response
    from mira_jupyter.llm.types import ChatResponse, ToolCall, Usage

    arguments = {"tasks": [{"description": "Read it", "active_form": "Reading it"}], "title": "x" * 500}
    call = ToolCall(id="c", name="submit_plan", arguments_json="", arguments=arguments)
    tasks, source, repairs = plan_from_response(ChatResponse("", [call], Usage(), "tool_calls", "m", 1.0))
    assert [t.description for t in tasks] == ["Read it"] and source == "repaired"
    assert repairs == ["submit_plan's unknown keys were ignored: " + "title"]


@pytest.mark.parametrize("ref", ["\u00b2", "\u2460", "\u0663", "9" * 5000])
def test_a_dependency_that_only_looks_like_a_number_is_removed_not_fatal(ref):
    # "²" and "①" are digits to str.isdigit, not numbers to int(); 5,000 digits exceed int()'s limit
    got = repair_plan({"tasks": [{"description": "Read a", "active_form": "Reading a"},
                                 {"description": "Read b", "active_form": "Reading b", "depends_on": [ref]}]})  # fmt: skip
    assert [t.description for t in got.tasks] == ["Read a", "Read b"] and got.tasks[1].depends_on == ()
    assert got.repairs == [f"task 2: depends_on {ref!r} is not an earlier task; removed"]


def test_a_plain_number_in_a_string_is_still_a_dependency():
    got = repair_plan({"tasks": [{"description": "Read a"}, {"description": "Read b", "depends_on": [" 1 "]}]})
    assert got.tasks[1].depends_on == (1,)


def test_a_lone_surrogate_is_spelled_as_its_escape_and_said():
    got = repair_plan({"tasks": [{"description": "Read a\ud800.py", "active_form": "Reading \udfff"}]})
    assert got.tasks == [RepairedTask("Read a\\ud800.py", "Reading \\udfff")]
    assert got.repairs == ["submit_plan held invalid Unicode (a lone surrogate): it is shown as its escape"]
    "".join(t.description + t.active_form for t in got.tasks).encode("utf-8")  # valid now


def test_a_task_nothing_foresaw_is_dropped_and_the_rest_kept():
    class Weird(dict):
        def get(self, key, default=None):
            raise RuntimeError("boom")

    got = repair_plan({"tasks": [Weird(description="x"), {"description": "Read b"}]})
    assert [t.description for t in got.tasks] == ["Read b"]
    assert got.repairs[0] == "task 1 was dropped: it could not be read (RuntimeError)"


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_brackets_nested_too_deep_are_a_line_not_a_recursion_error():
    # r14e F3: 500 '[' then 500 ']' as the tasks string ended the operation as RecursionError
    repaired = repair_plan({"tasks": "[" * 500 + "]" * 500})
    assert repaired.tasks == []
    assert "task 1 was dropped: it is an item nested more than 32 levels deep, not a task" in repaired.repairs
    # deeper than the decoder goes: the string itself is refused in one line
    repaired = repair_plan({"tasks": "[" * 5000 + "]" * 5000})
    assert repaired.tasks == [] and repaired.repairs == [
        "submit_plan's tasks must be a JSON list of task objects; the string sent nests brackets deeper than 32 levels"
    ]


def test_a_nested_task_after_a_valid_one_keeps_the_valid_one():
    valid = {"description": "Read module 1", "active_form": "Reading module 1"}
    for tasks in ([valid, _nested(600)], [valid, {"description": "x", "depends_on": _nested(600)}]):
        repaired = repair_plan({"tasks": tasks, "note": _nested(600)})
        assert [t.description for t in repaired.tasks] == ["Read module 1"]
        assert "task 2 was dropped: it is an item nested more than 32 levels deep, not a task" in repaired.repairs
