"""Run tool calls from a model: validate, enforce the allow-list, time, log as events."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..core.cancel import OperationCancelled
from ..core.events import Role, ToolCallFinished, ToolCallStarted
from ..core.ids import new_id
from ..llm.errors import fails_every_call
from ..llm.types import ModelError, ToolCall
from ..tools.types import Tool, ToolContext, ToolResult
from .bus import EventBus
from .calls import BudgetExceeded, CapReached

# raised inside delegations and skills; they end the operation, never become a tool error
STOPPING = (OperationCancelled, BudgetExceeded, CapReached)

TRUNCATION_NOTE = "[truncated by the engine: {left} of {total} characters left out]"


def tool_schemas(tools: dict[str, Tool], names: set[str] | None = None) -> list[dict[str, Any]]:
    """OpenAI tool definitions for `names` (all tools when None), sorted for cache stability."""
    chosen = sorted(tools if names is None else names & tools.keys())
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


def _summarise_validation(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


@dataclass
class ToolDispatcher:
    """Executes tool calls for one operation; never raises for a bad call."""

    operation_id: str
    bus: EventBus
    max_result_chars: int = 12_000

    def run(
        self,
        call: ToolCall,
        tools: dict[str, Tool],
        ctx: ToolContext,
        *,
        role: Role,
        allowed: set[str] | None,
        llm_call_id: str | None = None,
        task_id: str | None = None,
    ) -> tuple[ToolResult, str]:
        """Run one call; returns the result and the (capped) text to send back to the model."""
        # the model's call id only pairs the tool message with its call; providers (and the
        # scripted model) may reuse ids across responses, so events get their own
        tool_call_id = new_id("tc")
        arguments: dict[str, Any] | str = (
            call.arguments if call.arguments is not None else call.arguments_json
        )
        self.bus.emit(
            ToolCallStarted(
                operation_id=self.operation_id,
                tool_call_id=tool_call_id,
                llm_call_id=llm_call_id,
                task_id=task_id,
                role=role,
                tool=call.name,
                arguments=arguments,
            )
        )
        started = time.perf_counter()
        try:
            result = self._execute(call, tools, ctx, allowed)
        except (*STOPPING, ModelError) as exc:
            # a stop raised inside a delegation ends the operation, not just this tool; a
            # model error that says it once, as the operation's error
            reason = "the operation failed (see its error)" if isinstance(exc, ModelError) else exc
            result = ToolResult.error(f"stopped: {reason}")
            self._finished(call, tool_call_id, llm_call_id, task_id, role, result, "", False, started)
            raise
        text = result.to_model_text()
        truncated = result.truncated
        if len(text) > self.max_result_chars:
            left = len(text) - self.max_result_chars
            text = text[: self.max_result_chars] + "\n" + TRUNCATION_NOTE.format(
                left=left, total=len(text)
            )
            truncated = True
        self._finished(call, tool_call_id, llm_call_id, task_id, role, result, text, truncated, started)
        return result, text

    def _finished(
        self,
        call: ToolCall,
        tool_call_id: str,
        llm_call_id: str | None,
        task_id: str | None,
        role: Role,
        result: ToolResult,
        text: str,
        truncated: bool,
        started: float,
    ) -> None:
        self.bus.emit(
            ToolCallFinished(
                operation_id=self.operation_id,
                tool_call_id=tool_call_id,
                llm_call_id=llm_call_id,
                task_id=task_id,
                role=role,
                tool=call.name,
                status=result.status,
                denial_reason=result.denial_reason,
                error=result.content.get("error") if result.status != "ok" else None,
                duration_ms=(time.perf_counter() - started) * 1000,
                result_bytes=len(text.encode()),
                truncated=truncated,
                summary=_one_line(result),
            )
        )

    def _execute(
        self, call: ToolCall, tools: dict[str, Tool], ctx: ToolContext, allowed: set[str] | None
    ) -> ToolResult:
        tool = tools.get(call.name)
        if tool is None:
            known = ", ".join(sorted(allowed if allowed is not None else tools))
            return ToolResult.denied(
                "unknown_tool", f"there is no tool named {call.name!r}; available: {known}"
            )
        if allowed is not None and call.name not in allowed:
            return ToolResult.denied(
                "not_allowed",
                f"tool {call.name!r} is not allowed here; allowed: {', '.join(sorted(allowed))}",
            )
        if call.arguments is None:
            return ToolResult.denied(
                "invalid_arguments",
                f"arguments are not valid JSON ({call.parse_error or 'unparseable'}); "
                "send a JSON object",
            )
        try:
            args = tool.args_model.model_validate(call.arguments)
        except ValidationError as exc:
            return ToolResult.denied("invalid_arguments", _summarise_validation(exc))
        try:
            return tool.func(args, ctx)
        except STOPPING:
            raise
        except Exception as exc:  # a tool bug must not end the operation
            if fails_every_call(exc):
                raise  # a model no call can reach (no key, bad key...) ends it
            return ToolResult.error(f"{call.name} failed: {type(exc).__name__}: {exc}")


def _one_line(result: ToolResult) -> str:
    if result.status != "ok":
        return str(result.content.get("error", ""))[:200]
    summary = result.content.get("summary")
    if isinstance(summary, str):
        return summary.splitlines()[0][:200] if summary else ""
    keys = [key for key in result.content if key not in ("content", "matches", "files", "text")]
    return json.dumps({key: result.content[key] for key in keys[:4]}, default=str)[:200]
