"""What a tool is and what it returns, shared by the file tools and the engine.

A tool is declared once, with `@tool`, in the manner of openai-agents' ``function_tool``::

    @tool
    def read_file(args: ReadFileArgs, ctx: ToolContext) -> ToolResult:
        '''Read a text file in the project. ...'''  # the model's description

The typed signature names the pydantic argument model (its JSON schema is what the model
sees), the docstring's first paragraph is the description, and ``read_file`` becomes the
`Tool`. Every call goes through `tools.dispatch.dispatch`, which validates, runs and wraps
errors once.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from pydantic import BaseModel, ConfigDict

DenialReason = Literal[
    "outside_root",
    "symlink_escape",
    "protected_path",
    "too_large",
    "binary",
    "not_found",
    "invalid_path",
    "invalid_arguments",
    "unknown_tool",
    "not_allowed",  # a skill's or role's allow-list refused the tool
    "timeout",
    "rejected_by_user",  # the user rejected the change (Mira.approve asked)
    "approval_timeout",  # nobody answered the approval in time: rejected
    "approval_unavailable",  # the change had to ask, but no front end can answer
]


@dataclass
class ToolResult:
    """The result of one tool call, as given back to the model and logged.

    A denial is a normal result with ``status="denied"`` and a coded reason: the model
    sees it and can correct itself; the operation goes on.
    """

    status: Literal["ok", "error", "denied"]
    content: dict[str, Any]
    denial_reason: DenialReason | None = None
    truncated: bool = False

    @classmethod
    def ok(cls, truncated: bool = False, **content: Any) -> ToolResult:
        return cls("ok", content, truncated=truncated)

    @classmethod
    def denied(cls, reason: DenialReason, message: str, **extra: Any) -> ToolResult:
        return cls("denied", {"error": message, "reason": reason, **extra}, denial_reason=reason)

    @classmethod
    def error(cls, message: str, **extra: Any) -> ToolResult:
        return cls("error", {"error": message, **extra})

    def to_model_text(self) -> str:
        """JSON text for the ``tool`` message sent back to the model; a ``notice`` (what
        was left out and why) goes first, so it survives the engine's cut of a long result."""
        content = self.content
        if isinstance(content, dict) and "notice" in content:
            content = {"notice": content["notice"], **content}
        return json.dumps(content, ensure_ascii=False, default=str)


@dataclass
class FileWrite:
    """A write that happened, reported (with the bytes it replaced) so it can be undone."""

    path: str  # relative, POSIX
    previous: bytes | None  # None when the file did not exist
    new_sha256: str
    new: bytes | None = None  # the bytes written, when known (for the cell's diff)


@dataclass
class ChangeProposal:
    """A change a tool is about to make, put to the approval gate before it happens."""

    tool: str
    kind: Literal["write", "command", "code"]
    path: str | None = None  # a write: the file, relative to the root
    new: bytes | None = None  # a write: the bytes to be written
    argv: list[str] | None = None  # a command
    code: str | None = None  # run_code: the Python to run in the scratch kernel
    listed: bool = True  # a command: its program is in Mira.commands
    # a write: reads the file's bytes now (None: absent); called only when a diff is needed
    read_old: Callable[[], bytes | None] | None = None
    asked: bool = False  # set by the gate once the user was shown this change and agreed
    _old: list[bytes | None] = field(default_factory=list, repr=False)

    def old(self) -> bytes | None:
        """The file's bytes before the change, read once."""
        if not self._old:
            self._old.append(self.read_old() if self.read_old is not None else None)
        return self._old[0]


@dataclass
class ToolContext:
    """What a tool may use besides its arguments."""

    sandbox: Any  # tools.sandbox.Sandbox
    # called with each write once it is on disk (raising takes it back), so undo can record it
    on_write: Callable[[FileWrite], None] | None = None
    cancel: Any = None  # engine.cancel.CancelToken
    extra: dict[str, Any] = field(default_factory=dict)
    # asked before a write or a command: None to go ahead, else the result to return instead
    # (a rejection the model sees); may block while the user decides
    approve: Callable[[ChangeProposal], ToolResult | None] | None = None


def _lean_schema(schema: dict[str, Any]) -> None:
    # titles and the model docstring are sent with every request and tell the model nothing
    schema.pop("title", None)
    schema.pop("description", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)


class ToolArgs(BaseModel):
    """Base for tool arguments: unknown keys are an error the model sees and can fix."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_lean_schema)


ToolFunction = Callable[[Any, "ToolContext"], "ToolResult"]

# argument model -> its JSON schema (a model's schema never changes once the class exists)
_SCHEMAS: dict[type[BaseModel], dict[str, Any]] = {}

# what the Chat Completions and Responses APIs accept as a function name
_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Tool:
    """A tool is data: a pydantic argument model plus a function; declare one with `@tool`."""

    name: str
    description: str
    args_model: type[BaseModel]
    func: ToolFunction
    writes: bool = False

    def json_schema(self) -> dict[str, Any]:
        """The argument JSON schema, generated from the pydantic model (once per model:
        pydantic rebuilds it on every call, tens of ms per tool, for every request)."""
        cached = _SCHEMAS.get(self.args_model)
        if cached is None:
            cached = self.args_model.model_json_schema()
            cached.pop("title", None)
            _SCHEMAS[self.args_model] = cached
        return copy.deepcopy(cached)  # a caller may change its copy


def signature_model(func: Callable[..., Any]) -> type[BaseModel]:
    """The argument model a tool function's typed signature names: ``(args: Model, ctx)``.

    Raises TypeError, naming the function, for any other shape: two positional parameters,
    the first a pydantic model that forbids unknown keys, returning a ToolResult.
    """
    where = f"tool function {getattr(func, '__qualname__', func)!r}"
    params = list(inspect.signature(func).parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if len(params) != 2 or any(p.kind not in positional or p.default is not p.empty for p in params):
        raise TypeError(f"{where} must take exactly (args, ctx), got {inspect.signature(func)}")
    try:
        hints = typing.get_type_hints(func)
    except Exception as exc:  # an annotation that does not resolve
        raise TypeError(f"{where}: its annotations do not resolve ({exc})") from exc
    model = hints.get(params[0].name)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{where}: annotate its first parameter with the pydantic argument model")
    if model.model_config.get("extra") != "forbid":
        raise TypeError(f"{where}: {model.__name__} must forbid unknown keys (subclass ToolArgs)")
    if hints.get(params[1].name) is not ToolContext or hints.get("return") is not ToolResult:
        raise TypeError(f"{where} must be annotated (args, ctx: ToolContext) -> ToolResult")
    return model


def _describe(func: Callable[..., Any]) -> str:
    doc = inspect.getdoc(func) or ""
    description = " ".join(doc.split("\n\n", 1)[0].split())
    if not description:
        raise TypeError(f"tool function {func.__qualname__!r} needs a docstring: it is the model's description")
    return description


@overload
def tool(func: ToolFunction, /) -> Tool: ...
@overload
def tool(*, name: str | None = None, writes: bool = False) -> Callable[[ToolFunction], Tool]: ...
def tool(
    func: ToolFunction | None = None, /, *, name: str | None = None, writes: bool = False
) -> Tool | Callable[[ToolFunction], Tool]:
    """Declare a tool from a typed function: ``@tool`` or ``@tool(name=..., writes=True)``.

    The first parameter's annotation is the argument model, the docstring's first paragraph
    the description, the function's name the tool's name unless `name` is given. `writes`
    marks tools that change files.
    """

    def declare(func: ToolFunction) -> Tool:
        if not callable(func) or isinstance(func, Tool):
            raise TypeError(f"@tool declares a function, got {func!r} (a name goes in name=...)")
        chosen = func.__name__ if name is None else name
        if not _TOOL_NAME.fullmatch(chosen):
            raise TypeError(f"tool name {chosen!r} must be 1-64 letters, digits, '_' or '-'")
        return Tool(chosen, _describe(func), signature_model(func), func, writes=writes)

    return declare if func is None else declare(func)
