"""The scripted model's ``/v1/responses`` endpoint: stored responses, input checks, replies.

It keeps what a real server keeps: responses created with ``store`` true, so that a
later request may name one in ``previous_response_id``. It refuses what a real server
refuses, so that a client bug shows up as a 4xx here rather than in production:

- a ``previous_response_id`` that was never stored;
- a function call left without its ``function_call_output`` (or an output for no call);
- a reasoning item passed back with neither stored state nor ``encrypted_content``, or
  with ``encrypted_content`` this server did not issue.

- an item of a response passed back (by its id) without the reasoning item it followed,
  or a reasoning item without the item that followed it.

Input tokens are the whole context the model sees (the chain behind
``previous_response_id`` included), counted with the tokenizer; reasoning items count
the reasoning tokens they were created with, except those before the latest user
message, which the model no longer sees.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from . import responses_wire as rw
from .reply import Reply
from .turns import Turn

_ITEM_OVERHEAD = 4


class InputRejected(Exception):
    """The request's input is one a real server refuses; carries status, message, param."""

    def __init__(self, status: int, message: str, param: str | None, code: str | None = None):
        super().__init__(message)
        self.status, self.param, self.code = status, param, code


@dataclass
class StoredResponse:
    """A response kept for ``previous_response_id``: its full context and its output."""

    context: list[dict[str, Any]]
    output: list[dict[str, Any]]
    instructions: str | None = None
    reasoning_tokens: dict[str, int] = field(default_factory=dict)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def count_input_tokens(
    instructions: str | None, context: list[dict[str, Any]], tools: list[Any] | None
) -> int:
    """Tokens of everything the model reads: instructions, context items, tool schemas."""
    from ..llm.tokens import count_tokens

    total = count_tokens(instructions) + _ITEM_OVERHEAD if instructions else 0
    # reasoning from before the latest user message is dropped by the server (reasoning is
    # kept only within a turn's tool loop), so it is not read, and not billed
    last_user = max((n for n, i in enumerate(context) if i.get("role") == "user"), default=-1)
    for n, item in enumerate(context):
        kind = item.get("type", "message")
        if kind == "reasoning" and n < last_user:
            continue
        total += _ITEM_OVERHEAD
        if kind == "message":
            total += count_tokens(str(item.get("role", ""))) + count_tokens(_text_of(item.get("content")))
        elif kind == "function_call":
            total += count_tokens(str(item.get("name", ""))) + count_tokens(str(item.get("arguments", "")))
        elif kind == "function_call_output":
            total += count_tokens(_text_of(item.get("output")))
        elif kind == "reasoning":
            secret = rw.decrypt_reasoning(item.get("encrypted_content"))
            total += int(item.get("_tokens", secret["t"] if secret else 0))
    if tools:
        total += count_tokens(json.dumps(tools, separators=(",", ":"), sort_keys=True))
    return total


def _as_items(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        return [{"type": "message", "role": "user", "content": raw}]
    if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
        raise InputRejected(400, "Invalid type for 'input': expected a string or an array of items.", "input")
    return [{"type": "message", **i} if "type" not in i else dict(i) for i in raw]


class ResponsesBackend:
    """State and request handling of ``/v1/responses`` for one Script."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stored: dict[str, StoredResponse] = {}
        # every response served, stored or not, by id: its output items (for tests)
        self.served: dict[str, list[dict[str, Any]]] = {}

    def context_for(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        """The full context of a request (the stored chain first), checked as a server would."""
        items = _as_items(body.get("input", []))
        instructions = body.get("instructions")
        previous_id = body.get("previous_response_id")
        with self._lock:
            if previous_id is not None:
                previous = self.stored.get(previous_id)
                if previous is None:
                    raise InputRejected(
                        400,
                        f"Previous response with id '{previous_id}' not found.",
                        "previous_response_id",
                        "previous_response_not_found",
                    )
                context = previous.context + [
                    {**o, "_tokens": previous.reasoning_tokens.get(o.get("id", ""), 0)}
                    if o.get("type") == "reasoning" else o
                    for o in previous.output
                ]
            else:
                context = []
            self._check_reasoning(items, bool(body.get("store", True)))
            self._check_groups(items)
        context = context + items
        self._check_calls(context)
        return context, instructions if isinstance(instructions, str) else None

    def _check_reasoning(self, items: list[dict[str, Any]], store: bool) -> None:
        for item in items:
            if item.get("type") != "reasoning":
                continue
            item_id = str(item.get("id", ""))
            blob = item.get("encrypted_content")
            if blob is not None:
                secret = rw.decrypt_reasoning(blob)
                if secret is None or secret["i"] != item_id:
                    raise InputRejected(
                        400,
                        f"The encrypted content for item {item_id} could not be verified.",
                        "input",
                        "invalid_encrypted_content",
                    )
                continue
            kept = any(item_id in {o.get("id") for o in s.output} for s in self.stored.values())
            if not kept:
                raise InputRejected(
                    404,
                    f"Item with id '{item_id}' not found. Items are not persisted when `store` "
                    "is set to false. Try again with `store` set to true, or remove this item "
                    "from your input.",
                    "input",
                )

    def _check_groups(self, items: list[dict[str, Any]]) -> None:
        """Items of a served response with a reasoning item come back with it, in order."""
        for n, item in enumerate(items):
            item_id = item.get("id")
            origin = next(
                (out for out in self.served.values() if any(o.get("id") == item_id for o in out)), None
            ) if item_id else None
            if origin is None:
                continue
            ids = [o.get("id") for o in origin]
            at = ids.index(item_id)
            if item.get("type") == "reasoning":
                following = ids[at + 1] if at + 1 < len(ids) else None
                if following is not None and (n + 1 >= len(items) or items[n + 1].get("id") != following):
                    raise InputRejected(
                        400, f"Item '{item_id}' of type 'reasoning' was provided without its required "
                        "following item.", "input",
                    )
                continue
            reasoning = next((o for o in origin[:at][::-1] if o.get("type") == "reasoning"), None)
            if reasoning is not None and not any(i.get("id") == reasoning["id"] for i in items[:n]):
                raise InputRejected(
                    400, f"Item '{item_id}' of type '{item.get('type')}' was provided without its "
                    f"required 'reasoning' item: '{reasoning['id']}'.", "input",
                )

    @staticmethod
    def _check_calls(context: list[dict[str, Any]]) -> None:
        calls = [i.get("call_id") for i in context if i.get("type") == "function_call"]
        outputs = {i.get("call_id") for i in context if i.get("type") == "function_call_output"}
        for call_id in outputs - set(calls):
            raise InputRejected(
                400, f"No tool call found for function call output with call_id {call_id}.", "input"
            )
        for call_id in calls:
            if call_id not in outputs:
                raise InputRejected(400, f"No tool output found for function call {call_id}.", "input")

    def reply(self, turn: Turn, body: dict[str, Any], response_id: str, model: str) -> Reply:
        """The JSON or SSE reply to one accepted request (faults already split off)."""
        context, instructions = self.context_for(body)
        input_tokens = count_input_tokens(instructions, context, body.get("tools"))
        explicit = dict(turn.usage or {})
        reasoning = int(explicit.get("reasoning", turn.reasoning_tokens))
        if not reasoning and (turn.reasoning_text or turn.reasoning_summary):
            from ..llm.tokens import count_tokens

            reasoning = count_tokens(turn.reasoning_text or turn.reasoning_summary)
        output = rw.build_output(turn, body, response_id, reasoning)
        usage = self._usage(turn, explicit, input_tokens, output)
        status, terminal, error, reason = "completed", "response.completed", None, None
        if turn.fault == "response_incomplete":
            status, terminal = "incomplete", "response.incomplete"
            reason = turn.incomplete_reason
            for item in output.items:
                if item["type"] == "message":
                    item["status"] = "incomplete"
        elif turn.fault == "response_failed":
            status, terminal = "failed", "response.failed"
            error = {"code": turn.error_code or "server_error",
                     "message": turn.error_message or "The model failed to generate a response."}
        final = rw.response_object(
            response_id, model, body, status=status, output=output.items, usage=usage,
            created_at=rw.now(), error=error, incomplete_reason=reason,
        )
        with self._lock:
            self.served[response_id] = output.items
        if body.get("store", True) and status == "completed":
            with self._lock:
                self.stored[response_id] = StoredResponse(
                    context=context,
                    output=output.items,
                    instructions=instructions,
                    reasoning_tokens={i["id"]: reasoning for i in output.items if i["type"] == "reasoning"},
                )
        if not body.get("stream"):
            return Reply(200, {"content-type": "application/json"}, [json.dumps(final).encode()])
        events = rw.stream_events(final, terminal, turn.chunk_chars)
        parts: list[bytes | tuple[str, float]] = [rw.sse(e) for e in events]
        if turn.fault == "cut":
            parts = parts[: max(turn.after_chunks, 0)] + [("cut", 0.0)]
        elif turn.fault == "no_choices":
            parts = parts[:-1]  # the body ends cleanly, but without its terminal event
        elif turn.fault == "stall" and not turn.stall_before_headers:
            parts.insert(max(min(turn.after_chunks, len(parts)), 0), ("stall", turn.stall_seconds))
        return Reply(200, {"content-type": "text/event-stream", "cache-control": "no-cache"}, parts)

    @staticmethod
    def _usage(
        turn: Turn, explicit: dict[str, Any], input_tokens: int, output: rw.Output
    ) -> dict[str, Any] | None:
        if turn.usage_style == "none":
            return None
        if "input_tokens" in explicit:
            return explicit  # already a ResponseUsage object: sent verbatim
        from ..llm.tokens import count_tokens

        prompt = int(explicit.get("input", input_tokens))
        if "output" in explicit:
            completion = int(explicit["output"])
        else:
            visible = 0
            for item in output.items:
                if item["type"] == "message":
                    visible += count_tokens(item["content"][0]["text"])
                elif item["type"] == "function_call":
                    visible += count_tokens(item["name"]) + count_tokens(item["arguments"])
            completion = visible + output.reasoning_tokens
        cached = int(explicit.get("cached", turn.cached_tokens))
        return rw.usage_object(prompt, cached, completion, output.reasoning_tokens)
