"""Plan parsing and present-continuous task forms."""

from __future__ import annotations

import time

import pytest

from mira_jupyter.engine.plan_parser import PlanTask, active_form, parse_plan


def descriptions(text: str) -> list[str]:
    return [task.description for task in parse_plan(text)]


# --- numbered lists -----------------------------------------------------------------


def test_twelve_step_plan_keeps_steps_ten_and_beyond() -> None:
    steps = [
        "Read the loader module",
        "List every caller of load_csv",
        "Reproduce the dropped rows with a small CSV",
        "Find where empty dates are filtered",
        "Write a failing test for empty dates",
        "Fix the date parsing",
        "Run the loader tests",
        "Update the docstring",
        "Check the notebook still runs",
        "Add a changelog entry",
        "Review the diff",
        "Summarize the change for the user",
    ]
    plan = "Here is my plan:\n\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
    plan += "\n\nLet me know if you want me to proceed."
    tasks = parse_plan(plan)
    assert [t.description for t in tasks] == steps
    assert tasks[9].active_form == "Adding a changelog entry"
    assert tasks[11].active_form == "Summarizing the change for the user"


def test_hundred_steps() -> None:
    plan = "\n".join(f"{i}. Check item {i}" for i in range(1, 101))
    tasks = parse_plan(plan)
    assert len(tasks) == 100
    assert tasks[99].description == "Check item 100"
    assert tasks[99].active_form == "Checking item 100"


@pytest.mark.parametrize(
    "marker",
    [
        "{n}.",
        "{n})",
        "{n} -",
        "{n}:",
        "({n})",
        "Step {n}:",
        "Step {n} -",
        "step {n}.",
        "**{n}.**",
        "Task {n}:",
    ],
)
def test_number_styles(marker: str) -> None:
    plan = "\n".join(
        f"{marker.format(n=n)} {text}" for n, text in [(1, "Read the code"), (2, "Fix the bug")]
    )
    assert descriptions(plan) == ["Read the code", "Fix the bug"]


def test_step_words_without_punctuation_and_numbers_in_text() -> None:
    plan = "Step 1 Read config.py\nStep 2 Bump the version to 2.0.1\n2024 was the release year."
    assert descriptions(plan) == ["Read config.py", "Bump the version to 2.0.1"]


# --- bullets, nesting, headings ----------------------------------------------------------


def test_mixed_bullets() -> None:
    plan = "- Read the loader\n* Search for parse_dates\n+ Patch the parser\n\u2022 Run the tests"
    assert descriptions(plan) == [
        "Read the loader",
        "Search for parse_dates",
        "Patch the parser",
        "Run the tests",
    ]


def test_checkboxes_bold_and_trailing_colon() -> None:
    plan = "- [ ] **Investigate** the loader:\n- [x] Write `**kwargs` handling\n- [ ] Review:"
    tasks = parse_plan(plan)
    assert [t.description for t in tasks] == [
        "Investigate the loader",
        "Write `**kwargs` handling",
        "Review",
    ]
    assert tasks[0].active_form == "Investigating the loader"


def test_nested_items_fold_into_their_parent() -> None:
    plan = """I'll approach this in three steps.

1. Understand the current loader
   - read `loader.py`
   - note how dates are parsed
2. Fix the bug
   a) keep rows with empty dates
   b) log a warning instead
3. Add a regression test
   1.1 cover an empty date
   1.2 cover a malformed date

That should do it."""
    tasks = parse_plan(plan)
    assert [t.description for t in tasks] == [
        "Understand the current loader",
        "Fix the bug",
        "Add a regression test",
    ]
    assert tasks[0].details == ("read `loader.py`", "note how dates are parsed")
    assert tasks[1].details == ("keep rows with empty dates", "log a warning instead")
    assert tasks[2].details == ("cover an empty date", "cover a malformed date")


def test_unindented_bullets_under_numbered_items_are_details() -> None:
    plan = "1. Profile the ETL\n- time each stage\n2. Vectorize the slow stage\n- replace apply"
    tasks = parse_plan(plan)
    assert [t.description for t in tasks] == ["Profile the ETL", "Vectorize the slow stage"]
    assert tasks[1].details == ("replace apply",)
    assert tasks[1].active_form == "Vectorizing the slow stage"


def test_headings_are_sections_not_tasks() -> None:
    plan = """# Plan

## Investigation
- Read `etl/load.py`
- Search for `dropna` calls

## Fix
- Keep rows whose date is empty
- Add a test in tests/test_load.py

## Notes
Nothing else should change."""
    tasks = parse_plan(plan)
    assert [t.description for t in tasks] == [
        "Read `etl/load.py`",
        "Search for `dropna` calls",
        "Keep rows whose date is empty",
        "Add a test in tests/test_load.py",
    ]
    assert [t.section for t in tasks] == ["Investigation", "Investigation", "Fix", "Fix"]


def test_step_headings_are_tasks() -> None:
    plan = """## Step 1: Read the loader
Look at how `parse_dates` is called.

## Step 2: Patch the parser
- keep empty dates as NaT
- warn once

## Step 3: Test it"""
    tasks = parse_plan(plan)
    assert [t.description for t in tasks] == ["Read the loader", "Patch the parser", "Test it"]
    assert tasks[1].details == ("keep empty dates as NaT", "warn once")
    assert tasks[2].active_form == "Testing it"


def test_bold_lines_act_as_headings() -> None:
    plan = "**Plan**\n\n**Phase 1: Explore**\n1. **Locate the loader** - search for `read_csv`\n"
    plan += "**Phase 2: Fix**\n2. Patch `load()`"
    tasks = parse_plan(plan)
    assert [t.description for t in tasks] == [
        "Locate the loader - search for `read_csv`",
        "Patch `load()`",
    ]
    assert [t.section for t in tasks] == ["Phase 1: Explore", "Phase 2: Fix"]
    bold_steps = "**Step 1: Read the loader**\nprose\n**Step 2: Fix it**\n- keep NaT"
    assert [t.description for t in parse_plan(bold_steps)] == ["Read the loader", "Fix it"]


def test_numbers_restart_per_section() -> None:
    plan = "### Phase 1\n1. Set up the env\n2. Load the data\n### Phase 2\n1. Train the model\n2. Plot the curves"
    tasks = parse_plan(plan)
    assert [t.active_form for t in tasks] == [
        "Setting up the env",
        "Loading the data",
        "Training the model",
        "Plotting the curves",
    ]
    assert tasks[2].section == "Phase 2"


def test_wrapped_lines_continue_the_item() -> None:
    plan = "1. Update the loader so that\n   empty dates are kept as NaT\n2. Run the tests"
    assert descriptions(plan) == [
        "Update the loader so that empty dates are kept as NaT",
        "Run the tests",
    ]


def test_paragraph_under_an_item_is_a_detail() -> None:
    plan = "1. Read the loader\n\n   Focus on the date handling.\n\n2. Fix it"
    tasks = parse_plan(plan)
    assert tasks[0].details == ("Focus on the date handling.",)


def test_preamble_list_and_epilogue_list_are_not_tasks() -> None:
    plan = """Assumptions:
- the data fits in memory
- pandas 2.x

1. Load the CSV
2. Drop duplicate rows

Risks:
- a schema change upstream"""
    tasks = parse_plan(plan)
    assert [t.description for t in tasks] == ["Load the CSV", "Drop duplicate rows"]
    assert tasks[1].details == ()


def test_code_blocks_and_rules_are_ignored() -> None:
    plan = "1. Replace the loop\n```python\n1. not a step\n- nor this\n```\n---\n2. Benchmark it\n* * *"
    assert descriptions(plan) == ["Replace the loop", "Benchmark it"]


def test_single_wrapper_item_is_promoted() -> None:
    plan = "- Plan:\n  - Read the config\n  - Validate the schema\n  - Write the report"
    tasks = parse_plan(plan)
    assert [t.description for t in tasks] == [
        "Read the config",
        "Validate the schema",
        "Write the report",
    ]
    assert {t.section for t in tasks} == {"Plan"}


def test_windows_newlines_and_tabs() -> None:
    plan = "1.\tRead the file\r\n2.\tFix the bug\r\n\t- keep it small\r\n"
    tasks = parse_plan(plan)
    assert [t.description for t in tasks] == ["Read the file", "Fix the bug"]
    assert tasks[1].details == ("keep it small",)


def test_long_description_is_capped() -> None:
    task = parse_plan("1. Write " + "x" * 1000)[0]
    assert len(task.description) == 400 and task.description.endswith("\u2026")


# --- fallbacks -----------------------------------------------------------------------------


def test_prose_plan_falls_back_to_verb_led_sentences() -> None:
    plan = (
        "I looked at the request. First, read the loader. Then fix the parser. Finally add a test."
    )
    assert descriptions(plan) == ["Read the loader", "Fix the parser", "Add a test"]


def test_verb_led_headings_without_lists() -> None:
    plan = "## Read the loader\nsome prose\n## Fix the bug\nmore prose"
    assert descriptions(plan) == ["Read the loader", "Fix the bug"]


def test_prose_without_verbs_becomes_one_task() -> None:
    tasks = parse_plan("The loader looks fine to me.\nNo change needed.")
    assert tasks == [
        PlanTask("The loader looks fine to me.", "Working on: The loader looks fine to me.")
    ]


def test_blank_plan_gives_no_tasks() -> None:
    assert parse_plan("") == []
    assert parse_plan(" \n\n\t") == []


# --- active forms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Analyze code", "Analyzing code"),
        ("Run tests", "Running tests"),
        ("Write docs", "Writing docs"),
        ("Fix the bug", "Fixing the bug"),
        ("Add logging", "Adding logging"),
        ("Update X", "Updating X"),
        ("Create the module", "Creating the module"),
        ("Refactor the loader", "Refactoring the loader"),
        ("Debug the failing test", "Debugging the failing test"),
        ("Set up the environment", "Setting up the environment"),
        ("Review the diff", "Reviewing the diff"),
        ("Check the output", "Checking the output"),
        ("Use polars", "Using polars"),
        ("Make it faster", "Making it faster"),
        ("Plan the migration", "Planning the migration"),
        ("Implement retries", "Implementing retries"),
        ("Summarize findings", "Summarizing findings"),
        ("Read main.py", "Reading main.py"),
        ("List the notebooks", "Listing the notebooks"),
        ("Search for TODOs", "Searching for TODOs"),
        ("Commit the change", "Committing the change"),
        ("Edit the config", "Editing the config"),
        ("Format the code", "Formatting the code"),
        ("Split the file", "Splitting the file"),
        ("Open the notebook", "Opening the notebook"),
        ("Visit each module", "Visiting each module"),
        ("Tie up loose ends", "Tying up loose ends"),
        ("See what breaks", "Seeing what breaks"),
        ("Free the memory", "Freeing the memory"),
        ("Copy the fixtures", "Copying the fixtures"),
        ("Panic", "Panicking"),
        ("Swap the axes", "Swapping the axes"),
        ("Wait for the job", "Waiting for the job"),
        ("Re-run the notebook", "Re-running the notebook"),
        ("Fine-tune the model", "Fine-tuning the model"),
        ("Double-check the totals", "Double-checking the totals"),
        ("Setup the venv", "Setting up the venv"),
        ("Deduplicate rows", "Deduplicating rows"),
        ("Parallelize the loop", "Parallelizing the loop"),
        ("Simplify the API", "Simplifying the API"),
        ("Quit early on errors", "Quitting early on errors"),
        ("Queue the jobs", "Queuing the jobs"),
        ("Finally, write docs", "Writing docs"),
        ("run tests", "running tests"),
        ("RUN the suite", "RUNNING the suite"),
    ],
)
def test_active_form(description: str, expected: str) -> None:
    assert active_form(description) == expected


@pytest.mark.parametrize(
    "description",
    [
        "The loader",
        "Loader tests",
        "README updates",
        "`main.py`",
        "Otherwise nothing",
        "Template cleanup",
    ],
)
def test_non_verb_led_text(description: str) -> None:
    assert active_form(description) == f"Working on: {description}"


def test_active_form_keeps_the_rest_verbatim() -> None:
    assert (
        active_form("Add `CamelCase` support to API.parse()")
        == "Adding `CamelCase` support to API.parse()"
    )
    assert active_form("  Run   tests  ") == "Running tests"
    assert active_form("") == "Working"


@pytest.mark.parametrize(
    "text",
    [
        "**a " * 20_000,
        "1. " + "**a** " * 20_000,
        "(" * 50_000,
        "1.1." * 20_000 + " x",
        "- " * 20_000 + "x",
    ],
)
def test_pathological_plans_stay_fast(text: str) -> None:
    start = time.perf_counter()
    parse_plan(text)
    assert time.perf_counter() - start < 15.0  # only a hang; benchmarks/cancel_latency.py has the figure
