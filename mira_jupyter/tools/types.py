"""What a tool is and what it returns, shared by the file tools and the engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

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
        """JSON text for the ``tool`` message sent back to the model."""
        return json.dumps(self.content, ensure_ascii=False, default=str)


@dataclass
class FileWrite:
    """A write that happened, reported (with the bytes it replaced) so it can be undone."""

    path: str  # relative, POSIX
    previous: bytes | None  # None when the file did not exist
    new_sha256: str


@dataclass
class ToolContext:
    """What a tool may use besides its arguments."""

    sandbox: Any  # tools.sandbox.Sandbox
    # called with each write once it is on disk (raising takes it back), so undo can record it
    on_write: Callable[[FileWrite], None] | None = None
    cancel: Any = None  # engine.cancel.CancelToken
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tool:
    """A tool is data: a pydantic argument model plus a function."""

    name: str
    description: str
    args_model: type[BaseModel]
    func: Callable[[BaseModel, ToolContext], ToolResult]
    writes: bool = False

    def json_schema(self) -> dict[str, Any]:
        """The argument JSON schema, generated from the pydantic model."""
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        return schema
