"""The orchestrator's tools: meta-tools routed to the executor, delegations, task updates.

Each is declared with `@tool` like the file tools (its typed signature names the argument
model, its docstring is the description); the function reaches the running operation
through ``ctx.extra["run"]``.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import Field, PrivateAttr, StrictInt, StrictStr, ValidationError, model_validator

from ..tools.types import Tool, ToolArgs, ToolContext, ToolResult, tool
from .list_args import as_list, kind_of
from .plan_repair import MAX_DESCRIPTION, MAX_TASKS


class RunHandle(Protocol):
    """What these tools use of the running operation (engine.run.OperationRun provides it):
    a protocol, so that this module need not import the run that imports it."""

    tracker: Any  # engine.tasks.TaskTracker

    def delegate_read(self, job: str, tool_names: set[str], purpose: str) -> ToolResult: ...

    def delegate_write(
        self,
        path: str,
        instructions: str,
        context_paths: list[str],
        purpose: str,
        need_existing: bool = False,
    ) -> ToolResult: ...

    def run_skill_tool(self, name: str, task: str) -> ToolResult: ...

    def run_tests(self, argv: list[str], timeout: float, expect: str) -> ToolResult: ...

READ_TOOLS = frozenset({"read_file", "summarize_file", "extract_symbols", "count_lines"})


class ReadProjectFileArgs(ToolArgs):
    paths: list[str] = Field(min_length=1, max_length=20, description="Files to read, relative to the project root.")
    purpose: str = Field("", description="What you need from them; the executor condenses to that.")


class SearchCodebaseArgs(ToolArgs):
    query: str = Field(min_length=1, description="Regular expression or literal text to search for.")
    file_pattern: str | None = Field(None, description="Glob restricting the files, e.g. '*.py'.")
    case_sensitive: bool = False
    purpose: str = ""


class ListProjectFilesArgs(ToolArgs):
    directory: str = "."
    pattern: str | None = Field(None, description="Glob such as '**/*.py'.")
    recursive: bool = True


class PathsArgs(ToolArgs):
    paths: list[str] = Field(min_length=1, max_length=20)


class GenerateCodeArgs(ToolArgs):
    path: str = Field(description="File to create or overwrite, relative to the project root.")
    description: str = Field(description="What the code must do, precisely.")
    language: str | None = None
    context_paths: list[str] = Field(default_factory=list, description="Files the executor should read first.")


class RefactorCodeArgs(ToolArgs):
    path: str
    changes_requested: str = Field(description="The change to make.")
    preserve_behavior: bool = True


class DebugCodeArgs(ToolArgs):
    path: str
    error_message: str = Field(description="The error, failing test or wrong behaviour observed.")
    expected_behavior: str | None = None


class TaskUpdate(ToolArgs):
    # strict: true is not task 1
    task: StrictInt | StrictStr = Field(description="Task number (1-based) or task id.")
    status: Literal["completed", "failed", "in_progress"]
    note: str | None = None


class NewTask(ToolArgs):
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION, description="Imperative: '<verb> <what>'.")
    active_form: str | None = Field(None, max_length=MAX_DESCRIPTION, description="'<verb>ing <what>'.")
    depends_on: list[int] = Field(default_factory=list, max_length=MAX_TASKS)
    reads_only: bool = False


class UpdateTasksArgs(ToolArgs):
    updates: list[TaskUpdate] = Field(default_factory=list)
    add: list[NewTask] = Field(
        default_factory=list,
        max_length=MAX_TASKS,
        description="Tasks the plan missed (a blocker found on the way): they run after the plan's.",
    )
    # items of `updates` / `add` that did not validate, as messages for the model
    _refused: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_the_valid_items(cls, data: Any, handler: Any) -> UpdateTasksArgs:
        """Validate `updates` and `add` item by item: one bad item is refused on its own
        (with what to fix), and the valid ones still apply."""
        from ..tools.dispatch import summarise_validation_error

        if not isinstance(data, dict):
            return handler(data)
        refused: list[str] = []
        kept = dict(data)
        if "tasks" in kept:  # submit_plan's word: say which arguments this tool takes
            del kept["tasks"]
            refused.append("refused: update_tasks has no 'tasks' argument: send status changes in "
                           "updates and new tasks in add")  # fmt: skip
        for key, what, shape in (("updates", "update", "{task, status, note}"),
                                 ("add", "new task", "{description, active_form}")):  # fmt: skip
            if key not in data:
                continue
            # a list sent as a string of JSON is read as the list it holds (r14d F6)
            items, problem = as_list(data[key], key, f"{what} objects {shape}")
            if items is None:
                refused.append(f"refused: {problem}; send it again corrected")
                items = []
            good = []
            for index, item in enumerate(items, 1):
                if not isinstance(item, dict):
                    refused.append(f"refused: {key} item {index} ({what}) is invalid: it is {kind_of(item)}, "
                                   f"not an object {shape}; send it again corrected")  # fmt: skip
                    continue
                try:
                    handler({key: [item]})  # this item alone, by the model's own field rules
                except ValidationError as exc:
                    # "add.0.description: ..." -> "description: ...": the item is named already
                    reason = summarise_validation_error(exc).replace(f"{key}.0.", "").replace(f"{key}.0: ", "")
                    refused.append(f"refused: {key} item {index} ({what}) is invalid: {reason}; send it again corrected")
                else:
                    good.append(item)
            kept[key] = good
        args = handler(kept)
        args._refused = refused
        return args


class RunTestsArgs(ToolArgs):
    argv: list[str] = Field(
        default_factory=lambda: ["pytest", "-q"],
        min_length=1,
        max_length=200,
        description="Program and arguments (no shell), e.g. ['pytest', '-q', 'tests/test_x.py'].",
    )
    timeout: float = Field(300.0, gt=0, le=600, description="Wall-clock limit in seconds.")
    expect: Literal["pass", "fail"] = Field(
        "pass", description="'fail' when the tests were just written to fail before the fix."
    )


class ActivateSkillArgs(ToolArgs):
    name: str
    task: str = Field(description="The sub-task the skill should work on.")


def _run(ctx: ToolContext) -> RunHandle:
    return ctx.extra["run"]


@tool
def read_project_file(args: ReadProjectFileArgs, ctx: ToolContext) -> ToolResult:
    """Have the executor read files and return their relevant content."""
    listing = "\n".join(f"- {path}" for path in args.paths)
    job = (
        f"Read these files:\n{listing}\n\nPurpose: {args.purpose or 'the orchestrator needs their content'}\n"
        "Report, per file: files under 150 lines verbatim with line numbers; longer files: the parts "
        "relevant to the purpose verbatim with line numbers, and a two-line summary of the rest."
    )
    return _run(ctx).delegate_read(job, {"read_file", "summarize_file", "extract_symbols"}, "read_project_file")


@tool
def search_codebase(args: SearchCodebaseArgs, ctx: ToolContext) -> ToolResult:
    """Have the executor search the project (regex) and report the hits."""
    job = (
        f"Search the project for: {args.query!r}"
        + (f" in files matching {args.file_pattern!r}" if args.file_pattern else "")
        + ("" if args.case_sensitive else " (case-insensitive)")
        + f".\nPurpose: {args.purpose or 'locate the relevant code'}\n"
        "Use grep_files, then read_file around the hits if needed. Report each relevant hit as "
        "path:line with the line, grouped by file, and one sentence on what you found."
    )
    return _run(ctx).delegate_read(job, {"grep_files", "read_file", "list_files"}, "search_codebase")


@tool
def list_project_files(args: ListProjectFilesArgs, ctx: ToolContext) -> ToolResult:
    """Have the executor list project files (gitignore-aware)."""
    job = (
        f"List the files under {args.directory!r}"
        + (f" matching {args.pattern!r}" if args.pattern else "")
        + (" recursively" if args.recursive else "")
        + ". Report the tree compactly (one path per line, with line counts for source files)."
    )
    return _run(ctx).delegate_read(job, {"list_files", "count_lines"}, "list_project_files")


@tool
def get_file_summary(args: PathsArgs, ctx: ToolContext) -> ToolResult:
    """Short summaries of files (stats, imports, outline): cheap."""
    job = "Summarise these files with summarize_file and report the summaries compactly:\n" + "\n".join(
        f"- {path}" for path in args.paths
    )
    return _run(ctx).delegate_read(job, {"summarize_file"}, "get_file_summary")


@tool
def get_file_structure(args: PathsArgs, ctx: ToolContext) -> ToolResult:
    """Symbol outlines (functions, classes, ...) with line numbers: cheap."""
    job = "Extract the symbols of these files with extract_symbols and report the outlines:\n" + "\n".join(
        f"- {path}" for path in args.paths
    )
    return _run(ctx).delegate_read(job, {"extract_symbols"}, "get_file_structure")


@tool(writes=True)
def generate_code(args: GenerateCodeArgs, ctx: ToolContext) -> ToolResult:
    """Have the executor write a new file (or overwrite one); the engine saves it."""
    instructions = f"Task: {args.description}"
    if args.language:
        instructions += f"\nLanguage: {args.language}"
    return _run(ctx).delegate_write(args.path, instructions, args.context_paths, "generate_code")


@tool(writes=True)
def refactor_code(args: RefactorCodeArgs, ctx: ToolContext) -> ToolResult:
    """Have the executor refactor an existing file; the engine saves it."""
    instructions = f"Refactor: {args.changes_requested}"
    if args.preserve_behavior:
        instructions += "\nPreserve the existing behaviour exactly; change structure only."
    return _run(ctx).delegate_write(args.path, instructions, [], "refactor_code", need_existing=True)


@tool(writes=True)
def debug_code(args: DebugCodeArgs, ctx: ToolContext) -> ToolResult:
    """Have the executor fix a bug in a file; the engine saves the fix."""
    instructions = f"Fix this bug: {args.error_message}"
    if args.expected_behavior:
        instructions += f"\nExpected behaviour: {args.expected_behavior}"
    instructions += "\nFind the root cause and fix it there, not the symptom."
    return _run(ctx).delegate_write(args.path, instructions, [], "debug_code", need_existing=True)


@tool
def update_tasks(args: UpdateTasksArgs, ctx: ToolContext) -> ToolResult:
    """Report plan tasks as completed or failed, or add a task the plan missed."""
    run = _run(ctx)
    tracker = run.tracker
    own = run.current_task_id
    if not args.updates and not args.add and not args._refused:
        return ToolResult.error("nothing to do: give updates, add, or both", checklist=tracker.checklist())
    outcomes = [
        tracker.add(new.description, new.active_form, new.depends_on, new.reads_only, MAX_TASKS)
        for new in args.add
    ]
    outcomes += args._refused
    outcomes += [tracker.apply_update(item.task, item.status, item.note, own) for item in args.updates]
    if all(outcome.startswith("refused") for outcome in outcomes):
        return ToolResult.error("; ".join(outcomes), checklist=tracker.checklist())
    return ToolResult.ok(summary="; ".join(outcomes), checklist=tracker.checklist())


@tool(writes=True)
def run_tests(args: RunTestsArgs, ctx: ToolContext) -> ToolResult:
    """Run the tests (or python/ruff) in a sandbox in the project: exit code, output tail,
    files changed. The task's status follows the real exit code."""
    return _run(ctx).run_tests(args.argv, args.timeout, args.expect)


@tool
def activate_skill(args: ActivateSkillArgs, ctx: ToolContext) -> ToolResult:
    """Run a skill from the catalogue on a sub-task; returns its report."""
    return _run(ctx).run_skill_tool(args.name, args.task)


_ORCHESTRATOR_TOOLS = (
    read_project_file,
    search_codebase,
    list_project_files,
    get_file_summary,
    get_file_structure,
    generate_code,
    refactor_code,
    debug_code,
    update_tasks,
    activate_skill,
    run_tests,
)


def orchestrator_tools() -> dict[str, Tool]:
    """Every tool the orchestrator may be offered, by name."""
    return {declared.name: declared for declared in _ORCHESTRATOR_TOOLS}


META_TOOLS = frozenset(
    {"read_project_file", "search_codebase", "list_project_files", "get_file_summary", "get_file_structure"}
)
DELEGATION_TOOLS = frozenset({"generate_code", "refactor_code", "debug_code"})
