"""A model's tool calls, run through the one dispatcher (tools/dispatch.py), timed and
logged as events, their result text capped: the engine adds only that."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from ..core.errors import OperationEnding
from ..core.events import Role, ToolCallFinished, ToolCallStarted
from ..core.ids import new_id
from ..llm.errors import fails_every_call
from ..llm.types import ModelError, ToolCall
from ..tools.dispatch import dispatch
from ..tools.types import Tool, ToolContext, ToolResult
from .bus import EventBus

TRUNCATION_NOTE = "[truncated by the engine: {left} of {total} characters left out]"


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
        # the fields the call's start and end events share
        ids = dict(
            operation_id=self.operation_id,
            tool_call_id=tool_call_id,
            llm_call_id=llm_call_id,
            task_id=task_id,
            role=role,
            tool=call.name,
        )
        self.bus.emit(ToolCallStarted(**ids, arguments=arguments))
        ctx.extra["tool_call_id"] = tool_call_id  # an approval question names its call
        started = time.perf_counter()
        try:
            # a model that no call can reach (no key, a refused key...) ends the operation
            result = dispatch(tools, call.name, arguments, ctx, allowed, passes=fails_every_call)
        except BaseException as exc:
            # what dispatch lets through ends the operation, not just this tool (a stop raised
            # inside a delegation, a model no call can reach, an interrupt); the call is still
            # logged as finished, as CallRunner logs a failed model call, then it goes on up
            if isinstance(exc, ModelError):
                reason = "the operation failed (see its error)"  # said once, as the operation's
            else:
                reason = str(exc) if isinstance(exc, OperationEnding) else type(exc).__name__
            result = ToolResult.error(f"stopped: {reason}")
            self._finished(ids, result, "", False, started)
            raise
        text = result.to_model_text()
        truncated = result.truncated
        if len(text) > self.max_result_chars:
            left = len(text) - self.max_result_chars
            text = text[: self.max_result_chars] + "\n" + TRUNCATION_NOTE.format(
                left=left, total=len(text)
            )
            truncated = True
        self._finished(ids, result, text, truncated, started)
        return result, text

    def _finished(
        self, ids: dict[str, Any], result: ToolResult, text: str, truncated: bool, started: float
    ) -> None:
        """Log the call as finished; never raises, so no ToolCallStarted is left without
        its end (a result the event cannot hold is logged as an error that says so)."""
        base = dict(ids, duration_ms=(time.perf_counter() - started) * 1000)
        try:
            error = result.content.get("error") if result.status != "ok" else None
            event = ToolCallFinished(
                **base,
                status=result.status,
                denial_reason=result.denial_reason,
                error=None if error is None else str(error),
                result_bytes=len(text.encode("utf-8", "surrogatepass")),
                truncated=truncated,
                summary=_one_line(result),
            )
        except Exception as exc:  # a tool's result no event can carry: said, not raised
            event = ToolCallFinished(
                **base, status="error", error=f"the result could not be logged ({type(exc).__name__})"
            )
        self.bus.emit(event)


def _one_line(result: ToolResult) -> str:
    if result.status != "ok":
        return str(result.content.get("error", ""))[:200]
    summary = result.content.get("summary")
    if isinstance(summary, str):
        return summary.splitlines()[0][:200] if summary else ""
    keys = [key for key in result.content if key not in ("content", "matches", "files", "text")]
    return json.dumps({key: result.content[key] for key in keys[:4]}, default=str)[:200]
