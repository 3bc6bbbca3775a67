"""One tool dispatcher: `@tool` declares a tool once from its typed signature and docstring;
`tools.dispatch.dispatch` is the one path every call takes; the engine's ToolDispatcher
wraps it only with events and the result cap. These tests attack that path as a model
would (odd names, wrong types, extra keys, bad JSON) and check nothing bypasses it."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

import mira_jupyter
from mira_jupyter.core.arguments import parse_arguments
from mira_jupyter.core.cancel import CancelToken, OperationCancelled
from mira_jupyter.engine.bus import EventBus
from mira_jupyter.engine.calls import BudgetExceeded, CapReached, UnpricedModel
from mira_jupyter.engine.dispatch import ToolDispatcher
from mira_jupyter.engine.metatools import orchestrator_tools
from mira_jupyter.llm.types import AuthError, ServerError, ToolCall
from mira_jupyter.tools.dispatch import dispatch, tool_schemas
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox, SandboxDenied
from mira_jupyter.tools.types import Tool, ToolArgs, ToolContext, ToolResult, signature_model, tool

PACKAGE = Path(mira_jupyter.__file__).parent


class SixArgs(ToolArgs):
    a: int
    b: int
    c: int
    d: int
    e: int
    f: int = Field(ge=0)
    note: str | None = None


@tool
def six(args: SixArgs, ctx: ToolContext) -> ToolResult:
    """Add six
    numbers.

    Developer notes after the first paragraph are not sent to the model.
    """
    return ToolResult.ok(sum=args.a + args.b + args.c + args.d + args.e + args.f, note=args.note)


@tool(name="raiser", writes=True)
def _raiser(args: SixArgs, ctx: ToolContext) -> ToolResult:
    """Raises what the context holds."""
    raise ctx.extra["raise"]


TOOLS = {"six": six, "raiser": _raiser}
FULL = {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}


def engine_run(arguments_json: str, name: str = "six", ctx: ToolContext | None = None, allowed=None, tools=None):
    """One call the way production runs it: parsed by the client, run by the engine."""
    bus = EventBus()
    events: list = []
    bus.subscribe(events.append)
    arguments, error = parse_arguments(arguments_json)
    call = ToolCall(id="c1", name=name, arguments_json=arguments_json, arguments=arguments, parse_error=error)
    result, text = ToolDispatcher("op_1", bus, max_result_chars=80).run(
        call, tools or TOOLS, ctx or ToolContext(sandbox=None), role="executor", allowed=allowed
    )
    return result, text, events


# -- the declaration ------------------------------------------------------------------------


def test_the_decorator_declares_the_tool_from_the_typed_function():
    assert isinstance(six, Tool) and six.name == "six" and not six.writes
    assert six.args_model is SixArgs and six.description == "Add six numbers."
    assert _raiser.name == "raiser" and _raiser.writes
    assert six.func(SixArgs(**FULL), ToolContext(sandbox=None)).content["sum"] == 21


def _bad_model(args: BaseModel, ctx: ToolContext) -> ToolResult:
    """A plain BaseModel."""
    return ToolResult.ok()


class LaxArgs(BaseModel):  # ignores unknown keys: a typo would be dropped silently
    x: int


def _lax(args: LaxArgs, ctx: ToolContext) -> ToolResult:
    """Lax."""
    return ToolResult.ok()


def _no_doc(args: SixArgs, ctx: ToolContext) -> ToolResult:
    return ToolResult.ok()


def _one_param(args: SixArgs) -> ToolResult:
    """One parameter."""
    return ToolResult.ok()


def _three_params(args: SixArgs, ctx: ToolContext, extra: int) -> ToolResult:
    """Three parameters."""
    return ToolResult.ok()


def _star(*args) -> ToolResult:
    """Star args."""
    return ToolResult.ok()


def _default_ctx(args: SixArgs, ctx: ToolContext = None) -> ToolResult:  # type: ignore[assignment]
    """A default."""
    return ToolResult.ok()


def _unannotated(args, ctx):
    """No annotations."""
    return ToolResult.ok()


def _unresolved(args: NoSuchModel, ctx: ToolContext) -> ToolResult:  # type: ignore[name-defined]  # noqa: F821
    """An annotation that names nothing."""
    return ToolResult.ok()


def _no_return(args: SixArgs, ctx: ToolContext):
    """No return annotation."""
    return ToolResult.ok()


@pytest.mark.parametrize(
    ("func", "message"),
    [
        (_no_doc, "docstring"),
        (_one_param, "exactly"),
        (_three_params, "exactly"),
        (_star, "exactly"),
        (_default_ctx, "exactly"),
        (_unannotated, "pydantic argument model"),
        (_bad_model, "forbid unknown keys"),
        (_lax, "forbid unknown keys"),
        (_unresolved, "do not resolve"),
        (_no_return, "ToolResult"),
    ],
)
def test_a_function_whose_signature_cannot_be_a_tool_is_refused(func, message):
    with pytest.raises(TypeError, match=message):
        tool(func)


@pytest.mark.parametrize("name", ["", "has space", "a" * 65, "näme", "../read_file"])
def test_a_name_the_apis_refuse_is_refused(name):
    with pytest.raises(TypeError, match="tool name"):
        tool(name=name)(six.func)


def test_the_decorator_takes_a_function_not_a_name_or_a_tool():
    for wrong in ("six", six):
        with pytest.raises(TypeError, match="declares a function"):
            tool(wrong)


# -- schemas and signatures agree -------------------------------------------------------------


def _every_tool():
    from mira_jupyter.engine.planner import PLANNING_TOOLS

    return [*file_tools().values(), *orchestrator_tools().values(), *PLANNING_TOOLS.values()]


@pytest.mark.parametrize("declared", _every_tool(), ids=lambda t: t.name)
def test_every_tools_schema_agrees_with_its_function_signature(declared: Tool):
    assert signature_model(declared.func) is declared.args_model, "schema model != signature"
    schema = declared.json_schema()
    fields = declared.args_model.model_fields
    assert set(schema.get("properties", {})) == set(fields)
    assert set(schema.get("required", [])) == {n for n, f in fields.items() if f.is_required()}
    assert schema.get("additionalProperties") is False
    for name, nested in schema.get("$defs", {}).items():  # nested models refuse unknown keys too
        assert nested.get("additionalProperties") is False, name
    doc = inspect.getdoc(declared.func) or ""
    assert declared.description == " ".join(doc.split("\n\n")[0].split()) != ""


def test_tool_names_are_unique_and_match_their_keys():
    for tools in (file_tools(), orchestrator_tools()):
        assert all(name == t.name for name, t in tools.items())
    assert not file_tools().keys() & orchestrator_tools().keys()


# -- no second dispatcher ---------------------------------------------------------------------

# only tools/dispatch.py validates arguments and runs a tool's function, and builds the
# schemas; tools/types.py defines the Tool. Anything else doing so is a second dispatcher.
_DISPATCH = "tools/dispatch.py"
_TYPES = "tools/types.py"
# the recorder re-validates an event it had to clean, not a tool's arguments
_VALIDATES = {_DISPATCH, "store/recorder.py"}
# the transport reshapes definitions it is given (llm.types.ToolSchema, the Responses input)
_CONVERTS = {_DISPATCH, "llm/responses_input.py", "llm/types.py"}


def _package_trees():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def test_no_second_dispatcher_runs_validates_or_describes_tools():
    found = []
    for rel, tree in _package_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "args_model" and rel not in (_DISPATCH, _TYPES):
                found.append(f"{rel}:{node.lineno} reads a tool's args_model")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "func"
                and rel != _DISPATCH
            ):
                found.append(f"{rel}:{node.lineno} calls a tool's func")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "json_schema"
                and rel != _DISPATCH
            ):
                found.append(f"{rel}:{node.lineno} builds a tool schema")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Tool" and rel != _TYPES:
                found.append(f"{rel}:{node.lineno} builds a Tool by hand instead of @tool")
            called = node.func.attr if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else None
            if called == "model_json_schema" and rel != _TYPES:
                found.append(f"{rel}:{node.lineno} builds a schema from a model by hand")
            if called == "model_validate" and rel not in _VALIDATES:
                found.append(f"{rel}:{node.lineno} validates arguments outside the dispatcher")
            if isinstance(node, ast.Dict) and rel not in _CONVERTS:
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if {"name", "parameters"} <= keys:
                    found.append(f"{rel}:{node.lineno} writes a tool definition by hand")
    assert not found, "a second tool dispatcher:\n" + "\n".join(found)


def test_the_engine_runs_calls_through_the_one_dispatcher(monkeypatch):
    import mira_jupyter.engine.dispatch as engine_dispatch

    seen = []

    def spy(*args, **kwargs):
        seen.append(args[1])
        return dispatch(*args, **kwargs)

    monkeypatch.setattr(engine_dispatch, "dispatch", spy)
    engine_run(json.dumps(FULL))
    assert seen == ["six"]


# -- the engine and the tool tests see the same results ---------------------------------------

CALLS = [
    ("six", json.dumps(FULL)),
    ("six", '{"a": "1", "b": 2, "c": 3, "d": 4, "e": 5}'),  # lax coercion of a numeric string
    ("six", '{"a": "x", "b": 2, "c": 3, "d": 4, "e": 5}'),  # wrong type
    ("six", '{"a": 1.5, "b": 2, "c": 3, "d": 4, "e": 5}'),  # a float that is not an int
    ("six", '{"a": [1], "b": {}, "c": null, "d": true, "e": 5}'),
    ("six", json.dumps({**FULL, "unrestricted": True})),  # an extra key
    ("six", json.dumps({**FULL, "f": -1})),  # out of range
    ("six", "{}"),  # every field missing: five listed, "(+N more)"
    ("six", ""),
    ("six", "   "),
    ("six", '{"a": 1,'),  # cut JSON
    ("six", "[1, 2]"),
    ("six", '"text"'),
    ("six", "null"),
    ("six", "NaN"),
    ("six", '{"a": 1, "a": 2}'),  # a duplicate key: JSON's last wins, fields still missing
    ("nope", "{}"),
    ("", "{}"),
    ("SIX", json.dumps(FULL)),
    ("six\x00", json.dumps(FULL)),
    ("x" * 10_000, "{}"),
    ("six", "[" * 100_000),  # deeper than the JSON decoder goes
    ("six", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"),
]


@pytest.mark.parametrize(("name", "arguments"), CALLS)
def test_the_engine_and_the_tool_tests_get_the_same_result(name, arguments):
    direct = dispatch(TOOLS, name, arguments, ToolContext(sandbox=None))
    result, text, events = engine_run(arguments, name=name)
    assert (result.status, result.denial_reason, result.content) == (
        direct.status,
        direct.denial_reason,
        direct.content,
    )
    assert [type(e).__name__ for e in events] == ["ToolCallStarted", "ToolCallFinished"]
    assert len(result.to_model_text()) < 2_000  # a hostile name is not echoed in full


def test_bad_arguments_are_denied_with_what_to_fix():
    cases = {
        "{}": "(+1 more)",
        '{"a": 1,': "not valid JSON",
        "[1, 2]": "must be a JSON object, got array",
        json.dumps({**FULL, "extra": 1}): "extra: Extra inputs are not permitted",
        '{"a": "x", "b": 2, "c": 3, "d": 4, "e": 5}': "a: Input should be a valid integer",
    }
    for arguments, message in cases.items():
        for result in (dispatch(TOOLS, "six", arguments, ToolContext(sandbox=None)), engine_run(arguments)[0]):
            assert result.status == "denied" and result.denial_reason == "invalid_arguments"
            assert message in result.content["error"], (arguments, result.content)


def test_empty_arguments_mean_no_arguments():
    class NoArgs(ToolArgs):
        pass

    def ping(args: NoArgs, ctx: ToolContext) -> ToolResult:
        """Ping."""
        return ToolResult.ok(pong=True)

    ping.__annotations__["args"] = NoArgs  # a model local to this test
    tools = {"ping": tool(ping)}
    for arguments in (None, "", " \n", "{}", {}):
        assert dispatch(tools, "ping", arguments, ToolContext(sandbox=None)).content == {"pong": True}


def test_unknown_and_disallowed_tools_name_what_is_available():
    unknown = dispatch(TOOLS, "nope", {}, ToolContext(sandbox=None), allowed={"six", "ghost"})
    assert unknown.denial_reason == "unknown_tool"
    assert unknown.content["error"].endswith("available: six")  # not a name that does not exist
    refused, _, _ = engine_run(json.dumps(FULL), name="raiser", allowed={"six"})
    assert refused.denial_reason == "not_allowed" and "allowed: six" in refused.content["error"]


def test_the_engine_adds_only_the_cap():
    result, text, events = engine_run(json.dumps({**FULL, "note": "n" * 500}))
    assert result.status == "ok" and result.content["note"] == "n" * 500
    assert text.startswith(result.to_model_text()[:80]) and "[truncated by the engine" in text
    assert events[-1].truncated


# -- errors are wrapped once, and what ends the operation passes -------------------------------


@pytest.mark.parametrize(
    "ending",
    [OperationCancelled("stop"), BudgetExceeded("over"), CapReached("cap"), UnpricedModel("no price")],
)
def test_what_ends_the_operation_passes_through_both_paths(ending):
    ctx = ToolContext(sandbox=None, extra={"raise": ending})
    with pytest.raises(type(ending)):
        dispatch(TOOLS, "raiser", FULL, ctx)
    with pytest.raises(type(ending)):
        engine_run(json.dumps(FULL), name="raiser", ctx=ctx)


@pytest.mark.parametrize("raised", [KeyboardInterrupt(), OperationCancelled("stop"), AuthError("bad key")])
def test_a_call_that_ends_the_operation_is_still_logged_as_finished(raised):
    events = []
    bus = EventBus()
    bus.subscribe(events.append)
    call = ToolCall(id="c1", name="raiser", arguments_json=json.dumps(FULL), arguments=dict(FULL))
    ctx = ToolContext(sandbox=None, extra={"raise": raised})
    with pytest.raises(type(raised)):
        ToolDispatcher("op_1", bus).run(call, TOOLS, ctx, role="executor", allowed=None)
    assert [type(e).__name__ for e in events] == ["ToolCallStarted", "ToolCallFinished"]
    assert events[-1].status == "error" and events[-1].error.startswith("stopped: ")


def test_a_model_no_call_can_reach_ends_the_operation_only_on_the_engine_path():
    ctx = ToolContext(sandbox=None, extra={"raise": AuthError("bad key")})
    assert dispatch(TOOLS, "raiser", FULL, ctx).status == "error"
    with pytest.raises(AuthError):
        engine_run(json.dumps(FULL), name="raiser", ctx=ctx)
    # a transient model failure is the tool's failure: the orchestrator may try again
    ctx = ToolContext(sandbox=None, extra={"raise": ServerError("503")})
    result, _, _ = engine_run(json.dumps(FULL), name="raiser", ctx=ctx)
    assert result.status == "error" and "ServerError: 503" in result.content["error"]


@pytest.mark.parametrize(
    ("raised", "status", "text"),
    [
        (SandboxDenied("outside_root", "'../x' is outside the project root"), "denied", "outside the project root"),
        (PermissionError(13, "Permission denied"), "error", "PermissionError: Permission denied"),
        (RuntimeError("a bug"), "error", "raiser failed: RuntimeError: a bug"),
        (KeyError("k"), "error", "raiser failed: KeyError"),
    ],
)
def test_a_failing_tool_becomes_one_result(raised, status, text):
    ctx = ToolContext(sandbox=None, extra={"raise": raised})
    for result in (dispatch(TOOLS, "raiser", FULL, ctx), engine_run(json.dumps(FULL), "raiser", ctx)[0]):
        assert result.status == status and text in result.content["error"]


def test_a_tool_that_returns_something_else_is_a_tool_error_not_a_crash():
    @tool
    def sloppy(args: SixArgs, ctx: ToolContext) -> ToolResult:
        """Returns a dict by mistake."""
        return {"sum": 1}  # type: ignore[return-value]

    direct = dispatch({"sloppy": sloppy}, "sloppy", FULL, ToolContext(sandbox=None))
    engine, _, _ = engine_run(json.dumps(FULL), "sloppy", tools={"sloppy": sloppy})
    for result in (direct, engine):
        assert result.status == "error" and "returned dict, not a ToolResult" in result.content["error"]


def test_the_file_tools_leave_error_wrapping_to_the_dispatcher(tmp_path: Path):
    read = file_tools()["read_file"]
    ctx = ToolContext(sandbox=Sandbox(tmp_path))
    with pytest.raises(SandboxDenied):  # no second wrapper inside the tool
        read.func(read.args_model(path="missing.txt"), ctx)
    assert dispatch(file_tools(), "read_file", {"path": "missing.txt"}, ctx).denial_reason == "not_found"


# -- the file tools and the orchestrator's tools ----------------------------------------------


def test_file_tools_are_the_eight() -> None:
    tools = file_tools()
    assert sorted(tools) == sorted(
        ["read_file", "write_file", "list_files", "grep_files", "summarize_file", "extract_symbols", "count_lines", "edit_notebook"]
    )
    assert [name for name, t in tools.items() if t.writes] == ["write_file", "edit_notebook"]
    assert [name for name, t in orchestrator_tools().items() if t.writes] == [
        "generate_code",
        "refactor_code",
        "debug_code",
        "run_tests",  # a command may change files (recorded for undo like a write)
    ]


def test_openai_schemas_are_lean_and_strict() -> None:
    specs = tool_schemas(file_tools(), {"read_file", "grep_files", "no_such_tool"})
    assert [s["function"]["name"] for s in specs] == ["grep_files", "read_file"]
    params = specs[1]["function"]["parameters"]
    assert params["required"] == ["path"] and params["additionalProperties"] is False
    assert "title" not in json.dumps(params) and "description" not in {k for k in params if k != "properties"}
    assert len(tool_schemas(file_tools())) == 8
    assert "title" not in json.dumps(tool_schemas(orchestrator_tools()))


def test_dispatch_accepts_json_text(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n")
    ctx = ToolContext(sandbox=Sandbox(tmp_path))
    result = dispatch(file_tools(), "read_file", json.dumps({"path": "a.txt"}), ctx)
    assert result.status == "ok" and result.content["content"] == "x\n"
    empty = dispatch(file_tools(), "list_files", "", ctx)
    assert empty.status == "ok" and empty.content["files"] == ["a.txt"]


def test_validation_errors_are_summarised(tmp_path: Path) -> None:
    ctx = ToolContext(sandbox=Sandbox(tmp_path))
    result = dispatch(file_tools(), "grep_files", {"context_lines": 99}, ctx)
    assert result.denial_reason == "invalid_arguments"
    assert "pattern: Field required" in result.content["error"]
    assert "context_lines" in result.content["error"]


def test_an_orchestrator_tool_refuses_unknown_keys_instead_of_dropping_them():
    # a typo ("file_glob" for "file_pattern") used to be ignored silently: the search ran
    # over every file and the model never learned why
    result = dispatch(
        orchestrator_tools(), "search_codebase", {"query": "x", "file_glob": "*.py"}, ToolContext(sandbox=None)
    )
    assert result.denial_reason == "invalid_arguments" and "file_glob" in result.content["error"]


def test_a_tool_replaced_in_a_table_is_still_run_through_the_dispatcher(tmp_path: Path) -> None:
    def boom(args, ctx):
        raise RuntimeError("internal")

    tools = {**file_tools()}
    tools["read_file"] = dataclasses.replace(tools["read_file"], func=boom)
    result = dispatch(tools, "read_file", {"path": "a"}, ToolContext(sandbox=Sandbox(tmp_path)))
    assert result.status == "error" and result.content["error"] == "read_file failed: RuntimeError: internal"


# -- hostile input the reviewer found -----------------------------------------------------------


def _string_fields(model) -> dict[str, object]:
    """The model's arguments with a lone surrogate in every string (and list-of-string) field;
    other required fields get a harmless value."""
    schema = model.model_json_schema()
    args: dict[str, object] = {}
    for name, prop in schema.get("properties", {}).items():
        kinds = {prop.get("type")} | {p.get("type") for p in prop.get("anyOf", [])}
        items = {prop.get("items", {}).get("type")} | {p.get("items", {}).get("type") for p in prop.get("anyOf", [])}
        if "string" in kinds:
            args[name] = "\ud800"
        elif "array" in kinds and "string" in items:
            args[name] = ["\ud800", "ok\udfff.py"]
        elif name in schema.get("required", []):
            args[name] = 1 if "integer" in kinds else True
    return args


@pytest.mark.parametrize("declared", [*file_tools().values(), six], ids=lambda t: t.name)
def test_a_lone_surrogate_in_any_string_field_gives_both_paths_the_same_logged_result(declared, tmp_path: Path):
    # the engine measured the result with text.encode() and raised UnicodeEncodeError: the
    # call had no ToolCallFinished and the delegation's work was lost
    (tmp_path / "a.py").write_text("def f():\n    return 1\n")
    tools = {**file_tools(), "six": six}
    args = _string_fields(declared.args_model)
    if declared is six:
        args.update({k: 1 for k in "abcdef"})
    raw = json.dumps(args)  # "\ud800" escapes, as a model sends them
    ctx = ToolContext(sandbox=Sandbox(tmp_path))
    direct = dispatch(tools, declared.name, raw, ctx)
    result, text, events = engine_run(raw, name=declared.name, ctx=ctx, tools=tools)
    assert (result.status, result.denial_reason, result.content) == (direct.status, direct.denial_reason, direct.content)
    assert [type(e).__name__ for e in events] == ["ToolCallStarted", "ToolCallFinished"]
    text.encode("utf-8")  # valid Unicode all the way to the model and the log
    direct.to_model_text().encode("utf-8")
    events[-1].model_dump_json()


def test_the_engine_logs_a_finished_call_whatever_the_result_holds():
    @tool
    def odd(args: SixArgs, ctx: ToolContext) -> ToolResult:
        """Returns content no event field can hold."""
        return ToolResult("error", ["not", "a", "dict"])  # type: ignore[arg-type]

    result, _, events = engine_run(json.dumps(FULL), "odd", tools={"odd": odd})
    assert [type(e).__name__ for e in events] == ["ToolCallStarted", "ToolCallFinished"]
    assert events[-1].status == "error"


def test_an_unknown_key_of_any_size_is_quoted_only_in_part(tmp_path: Path):
    raw = json.dumps({"k" * 1_000_000: 1, "path": "a"})
    ctx = ToolContext(sandbox=Sandbox(tmp_path))
    direct = dispatch(file_tools(), "read_file", raw, ctx)
    result, text, events = engine_run(raw, name="read_file", ctx=ctx, tools=file_tools())
    for error in (direct.content["error"], result.content["error"], events[-1].error):
        assert "Extra inputs are not permitted" in error and len(error) < 1_000, len(error)
    deep = {"tasks": [{"x" * 50_000: [1]}]}  # a long key inside a nested model too
    nested = dispatch(orchestrator_tools(), "search_codebase", {"query": "q", **deep}, ToolContext(sandbox=None))
    assert nested.denial_reason == "invalid_arguments" and len(nested.content["error"]) < 1_000


def test_a_failure_message_of_any_size_is_cut():
    ctx = ToolContext(sandbox=None, extra={"raise": RuntimeError("x" * 1_000_000)})
    result = dispatch(TOOLS, "raiser", FULL, ctx)
    assert result.status == "error" and result.content["error"].startswith("raiser failed: RuntimeError: xxx")
    assert len(result.content["error"]) < 1_000


@pytest.mark.parametrize(
    ("arguments", "kind"), [("null", "null"), ("[1]", "array"), ('"x"', "string"), ("3", "number"), ("true", "boolean")]
)
def test_arguments_that_are_not_an_object_are_named_in_json_words(arguments, kind):
    for result in (dispatch(TOOLS, "six", arguments, ToolContext(sandbox=None)), engine_run(arguments)[0]):
        assert result.content["error"] == f"arguments must be a JSON object, got {kind}"
    direct = dispatch(TOOLS, "six", [1, 2], ToolContext(sandbox=None))  # handed a list, not text
    assert direct.content["error"] == "arguments must be a JSON object, got array"


class TripsAfter:
    """A cancel token that reads as cancelled from its `n`-th look on."""

    reason = "stopped by the test"

    def __init__(self, n: int) -> None:
        self.looks, self.n = 0, n

    @property
    def cancelled(self) -> bool:
        self.looks += 1
        return self.looks >= self.n


@pytest.mark.parametrize("name", ["write_file", "read_file", "list_files", "count_lines"])
def test_a_cancelled_operation_runs_no_tool(name, tmp_path: Path):
    (tmp_path / "a.txt").write_text("old\n")
    args = {
        "write_file": {"path": "new.txt", "content": "x"},
        "read_file": {"path": "a.txt"},
        "list_files": {},
        "count_lines": {"paths": ["a.txt"]},
    }[name]
    token = CancelToken()
    token.cancel("stopped by the user")
    ctx = ToolContext(sandbox=Sandbox(tmp_path), cancel=token)
    with pytest.raises(OperationCancelled, match="stopped by the user"):
        dispatch(file_tools(), name, args, ctx)
    with pytest.raises(OperationCancelled):
        _, _, events = engine_run(json.dumps(args), name=name, ctx=ctx, tools=file_tools())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_cancel_after_the_call_began_still_stops_the_write(tmp_path: Path):
    # dispatch looks once (not yet cancelled); write_file looks again right before writing
    ctx = ToolContext(sandbox=Sandbox(tmp_path), cancel=TripsAfter(2))
    with pytest.raises(OperationCancelled):
        dispatch(file_tools(), "write_file", {"path": "new.txt", "content": "x"}, ctx)
    assert not (tmp_path / "new.txt").exists()


def test_a_notice_survives_the_engines_cut_of_a_long_result(tmp_path: Path):
    # count_lines at its 200-path cap answered ~14k characters: the engine's 12k cut took
    # the notice that explains the cap
    (tmp_path / "a.txt").write_text("x\n")
    paths = [f"dir{i:03}/" + "long_name_" * 4 + f"{i}.txt" for i in range(250)]
    bus = EventBus()
    raw = json.dumps({"paths": paths})
    call = ToolCall(id="c", name="count_lines", arguments_json=raw, arguments=json.loads(raw))
    ctx = ToolContext(sandbox=Sandbox(tmp_path))
    result, text = ToolDispatcher("op", bus).run(call, file_tools(), ctx, role="executor", allowed=None)
    assert len(result.to_model_text()) > 12_000 and "[truncated by the engine" in text
    assert text.startswith('{"notice": "50 paths not counted (cap 200 per call')


def test_submit_plan_is_described_by_the_one_schema_builder():
    # it was a second path: a hand-built definition, titles kept, unknown keys allowed
    from mira_jupyter.engine.planner import PLANNING_TOOLS, SUBMIT_PLAN_TOOL

    assert tool_schemas(PLANNING_TOOLS)[0] == SUBMIT_PLAN_TOOL
    params = SUBMIT_PLAN_TOOL["function"]["parameters"]
    assert "title" not in json.dumps(params) and params["additionalProperties"] is False
    assert all(d["additionalProperties"] is False for d in params["$defs"].values())
    assert SUBMIT_PLAN_TOOL["function"]["description"] == "Submit the plan as an ordered list of tasks."
