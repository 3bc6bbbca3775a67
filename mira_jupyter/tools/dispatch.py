"""The one path every tool call takes: look the tool up, check the allow-list, parse and
validate the arguments, run it, and turn every failure into a ToolResult, once.

The engine's `ToolDispatcher` wraps it only to emit events and cap the result text; the
tool tests call it directly. It imports no tool implementation, so the engine loads it
without tree-sitter or re2 (`tools.registry` lists the file tools).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from ..core.arguments import json_kind, parse_arguments
from ..core.cancel import OperationCancelled
from ..core.errors import OperationEnding
from ..core.unicode import valid_unicode
from .policy import SandboxDenied
from .types import Tool, ToolContext, ToolResult

MAX_LISTED_ERRORS = 5  # validation errors spelled out; the rest are counted
MAX_NAME_SHOWN = 80  # characters of an unknown tool name quoted back
MAX_WHERE_SHOWN = 120  # characters of the path to a bad argument (a key can be any size)
MAX_MESSAGE_SHOWN = 300  # characters of one validation message, or of a tool's failure


def clipped(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def summarise_validation_error(error: ValidationError) -> str:
    """A short, model-readable account of what was wrong with the arguments; what the
    model sent (a key of a million characters, say) is quoted only in part."""
    parts = []
    for item in error.errors(include_url=False, include_input=False)[:MAX_LISTED_ERRORS]:
        where = ".".join(clipped(str(p), MAX_WHERE_SHOWN) for p in item["loc"]) or "arguments"
        parts.append(f"{clipped(where, MAX_WHERE_SHOWN)}: {clipped(item['msg'], MAX_MESSAGE_SHOWN)}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def tool_schemas(tools: Mapping[str, Tool], names: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Chat Completions tool definitions for `names` (all tools when None), sorted so that
    the request prefix, and with it the provider's prompt cache, stays stable."""
    chosen = sorted(tools if names is None else set(names) & tools.keys())
    return [
        {
            "type": "function",
            "function": {
                "name": name,
                "description": tools[name].description,
                "parameters": tools[name].json_schema(),
            },
        }
        for name in chosen
    ]


def _arguments(arguments: str | Mapping[str, Any] | None) -> dict[str, Any] | ToolResult:
    """The call's arguments as a dict, or the denial that tells the model what to send."""
    if arguments is None:
        return {}
    if isinstance(arguments, str):
        parsed, error = parse_arguments(arguments)
        if parsed is None:
            hint = "; send a JSON object" if error and "not valid JSON" in error else ""
            return ToolResult.denied("invalid_arguments", f"{error}{hint}")
        return parsed
    if not isinstance(arguments, Mapping):
        return ToolResult.denied(
            "invalid_arguments", f"arguments must be a JSON object, got {json_kind(arguments)}"
        )
    return dict(arguments)


def dispatch(
    tools: Mapping[str, Tool],
    name: str,
    arguments: str | Mapping[str, Any] | None,
    ctx: ToolContext,
    allowed: Iterable[str] | None = None,
    *,
    passes: Callable[[BaseException], bool] | None = None,
) -> ToolResult:
    """Validate and run one call (arguments as JSON text or a dict); never raises for a bad
    call or a failing tool. Only `OperationEnding` (cancelled, over budget, a cap) and the
    errors `passes` picks (the engine's: a model no call can reach) go through, because
    they end the whole operation rather than this one call; a cancelled operation's call
    is not run at all (OperationCancelled). Every string of the result is valid Unicode: a
    lone surrogate the model sent and a tool echoed is spelled as its escape."""
    stop_if_cancelled(ctx)  # a stopped operation runs no tool, not even a read
    result = _dispatch(tools, name, arguments, ctx, allowed, passes)
    return dataclasses.replace(result, content=valid_unicode(result.content))


def stop_if_cancelled(ctx: ToolContext) -> None:
    """Raise OperationCancelled when the call's operation was stopped (the engine ends
    the operation as cancelled): checked before any tool runs and right before a write."""
    token = getattr(ctx, "cancel", None)
    if token is not None and getattr(token, "cancelled", False):
        raise OperationCancelled(getattr(token, "reason", None) or "cancelled by user")


def _dispatch(
    tools: Mapping[str, Tool],
    name: str,
    arguments: str | Mapping[str, Any] | None,
    ctx: ToolContext,
    allowed: Iterable[str] | None,
    passes: Callable[[BaseException], bool] | None,
) -> ToolResult:
    permitted = None if allowed is None else set(allowed)
    tool = tools.get(name) if isinstance(name, str) else None
    if tool is None:
        known = ", ".join(sorted(tools.keys() if permitted is None else permitted & tools.keys()))
        shown = repr(name)[:MAX_NAME_SHOWN]  # a model can send any string as a name
        return ToolResult.denied("unknown_tool", f"there is no tool named {shown}; available: {known}")
    if permitted is not None and name not in permitted:
        return ToolResult.denied(
            "not_allowed",
            f"tool {name!r} is not allowed here; allowed: {', '.join(sorted(permitted))}",
        )
    parsed = _arguments(arguments)
    if isinstance(parsed, ToolResult):
        return parsed
    try:
        args = tool.args_model.model_validate(parsed)
    except ValidationError as exc:
        return ToolResult.denied("invalid_arguments", summarise_validation_error(exc))
    try:
        result = tool.func(args, ctx)
    except OperationEnding:
        raise
    except Exception as exc:  # a tool's failure must not end the operation
        if passes is not None and passes(exc):
            raise
        return failure_result(name, exc)
    if not isinstance(result, ToolResult):  # a tool bug, said as one rather than crashing the run
        return ToolResult.error(f"{name} failed: it returned {type(result).__name__}, not a ToolResult")
    return result


def failure_result(name: str, exc: Exception) -> ToolResult:
    """What the model is told when tool `name` raised `exc`: a denial for a refused path,
    the OS's message for a failed file operation, otherwise the tool's failure."""
    if isinstance(exc, SandboxDenied):
        return exc.to_result()
    if isinstance(exc, OSError):
        return ToolResult.error(clipped(f"{type(exc).__name__}: {exc.strerror or exc}", MAX_MESSAGE_SHOWN))
    return ToolResult.error(clipped(f"{name} failed: {type(exc).__name__}: {exc}", MAX_MESSAGE_SHOWN))
