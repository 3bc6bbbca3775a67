"""Fold a streamed Responses API reply (``ResponseStreamEvent``s) into text, calls, usage.

It has the interface the client's attempt loop uses for Chat Completions chunks
(`StreamAccumulator`): ``add`` returns the answer text an event added, and ``chunks``,
``output_started``, ``first_token_seen``, ``usage`` and ``tool_calls()`` mean the same.
The terminal event's ``response`` object is the authority on the output items; the
deltas are what was shown while it streamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.arguments import parse_arguments
from ..core.unicode import valid_unicode
from .assemble import MalformedChunk, chunk_to_dict
from .types import ToolCall

TERMINAL = {"response.completed": "completed", "response.incomplete": "incomplete", "response.failed": "failed"}


@dataclass
class _Call:
    call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    final: str | None = None


class ResponsesAccumulator:
    """Collects one streamed response; function calls are keyed by their item id."""

    def __init__(self) -> None:
        self.chunks = 0
        self.output_started = False
        self.first_token_seen = False
        self.text_parts: list[str] = []
        self.model: str | None = None
        self.response_id: str | None = None
        self.status: str | None = None  # completed | incomplete | failed, once terminal
        self.usage: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None  # response.error or an "error" event
        self.incomplete_reason: str | None = None
        self._summary: dict[tuple[str, int], list[str]] = {}
        self._calls: dict[str, _Call] = {}
        self._done_items: dict[int, dict[str, Any]] = {}
        self._final_output: list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    @property
    def finish_reason(self) -> str | None:
        if self.status == "completed":
            return "tool_calls" if self._calls else "stop"
        if self.status == "incomplete":
            return "length" if self.incomplete_reason == "max_output_tokens" else self.incomplete_reason
        return None

    @property
    def summary(self) -> str:
        """The reasoning summary, its parts separated by blank lines."""
        final = [
            part.get("text", "")
            for item in self.items
            if item.get("type") == "reasoning"
            for part in item.get("summary") or []
        ]
        parts = final or ["".join(p) for p in self._summary.values()]
        return "\n\n".join(p.strip() for p in parts if p.strip())

    @property
    def items(self) -> list[dict[str, Any]]:
        """The output items: the terminal response's, else those finished so far."""
        if self._final_output is not None:
            return self._final_output
        return [self._done_items[i] for i in sorted(self._done_items)]

    def add(self, event: Any) -> str:
        """Fold one event in; returns the answer text it added (possibly "")."""
        data = chunk_to_dict(event)
        kind = data.get("type")
        if not isinstance(kind, str):
            raise MalformedChunk("event has no type")
        self.chunks += 1
        # a refusal is the model's answer too (its own part and event type): shown, not lost
        if kind in ("response.output_text.delta", "response.refusal.delta"):
            delta = data.get("delta")
            if isinstance(delta, str) and delta:
                self.text_parts.append(delta)
                self.output_started = self.first_token_seen = True
                return delta
        elif kind == "response.reasoning_summary_text.delta":
            key = (str(data.get("item_id")), int(data.get("summary_index") or 0))
            self._summary.setdefault(key, []).append(str(data.get("delta") or ""))
            self.first_token_seen = True
        elif kind == "response.output_item.added":
            self._item_added(data.get("item") or {})
        elif kind == "response.function_call_arguments.delta":
            call = self._calls.setdefault(str(data.get("item_id")), _Call())
            call.arguments.append(str(data.get("delta") or ""))
            self.output_started = self.first_token_seen = True
        elif kind == "response.function_call_arguments.done":
            call = self._calls.setdefault(str(data.get("item_id")), _Call())
            call.final = str(data.get("arguments") or "")
        elif kind == "response.output_item.done":
            item = data.get("item") or {}
            self._done_items[int(data.get("output_index") or 0)] = item
            if item.get("type") == "function_call":
                self._item_added(item)
                self._calls[str(item.get("id"))].final = str(item.get("arguments") or "")
        elif kind in ("response.created", "response.in_progress") or kind in TERMINAL:
            self._response(data.get("response") or {}, TERMINAL.get(kind))
        elif kind == "error":
            self.error = {"code": data.get("code"), "message": data.get("message")}
        return ""

    def _item_added(self, item: dict[str, Any]) -> None:
        if item.get("type") != "function_call":
            return
        call = self._calls.setdefault(str(item.get("id")), _Call())
        call.call_id = call.call_id or str(item.get("call_id") or "")
        call.name = call.name or str(item.get("name") or "")
        self.output_started = self.first_token_seen = True

    def _response(self, response: dict[str, Any], status: str | None) -> None:
        self.response_id = response.get("id") or self.response_id
        self.model = response.get("model") or self.model
        if status is None:
            return
        self.status = status
        if isinstance(response.get("usage"), dict):
            self.usage = response["usage"]
        if isinstance(response.get("output"), list):
            self._final_output = response["output"]
            for item in self._final_output:
                if item.get("type") == "function_call":
                    self._item_added(item)
                    self._calls[str(item.get("id"))].final = str(item.get("arguments") or "")
        self.error = response.get("error") or self.error
        details = response.get("incomplete_details") or {}
        self.incomplete_reason = details.get("reason") if isinstance(details, dict) else None

    def tool_calls(self) -> list[ToolCall]:
        """The function calls in output order, each parsed (or with parse_error set)."""
        calls = []
        for n, partial in enumerate(self._calls.values()):
            arguments_json = partial.final if partial.final is not None else "".join(partial.arguments)
            arguments, error = parse_arguments(arguments_json)
            if not partial.name:
                error = error or "the model sent a tool call without a name"
            calls.append(
                ToolCall(
                    # echoed into the next request: a lone surrogate there fails the SDK's encoding
                    id=valid_unicode(partial.call_id or f"call_{n}"),
                    name=valid_unicode(partial.name),
                    arguments_json=arguments_json,
                    arguments=arguments,
                    parse_error=error,
                )
            )
        return calls

    def other_output_texts(self) -> list[str]:
        """Generated text besides the answer: call names, arguments, summary (for estimates)."""
        calls = ["".join(c.arguments) + c.name for c in self._calls.values()]
        return [*calls, "".join("".join(p) for p in self._summary.values())]
