"""Responses API wire format (``/v1/responses``): the response object, output items, SSE events.

Shapes follow the openai SDK's own types (``openai.types.responses``): ``Response``,
``ResponseReasoningItem``, ``ResponseOutputMessage``, ``ResponseFunctionToolCall``,
``ResponseUsage`` and the ``ResponseStreamEvent`` union; the tests validate every event
this module produces against them. Streams carry ``event:`` and ``data:`` lines and end
with the terminal event (``response.completed`` / ``.incomplete`` / ``.failed``): unlike
Chat Completions there is no ``data: [DONE]``.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

from .turns import Turn

ENCRYPTED_PREFIX = "gAAAAB"  # real encrypted reasoning is opaque base64; ours decodes back


def encrypt_reasoning(response_id: str, item_id: str, tokens: int) -> str:
    """An opaque-looking ``encrypted_content`` the scripted server can verify later."""
    payload = json.dumps({"r": response_id, "i": item_id, "t": tokens}, separators=(",", ":"))
    return ENCRYPTED_PREFIX + base64.urlsafe_b64encode(payload.encode()).decode()


def decrypt_reasoning(blob: Any) -> dict[str, Any] | None:
    """The payload of an ``encrypted_content`` this server issued; None if it is not ours."""
    if not isinstance(blob, str) or not blob.startswith(ENCRYPTED_PREFIX):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(blob[len(ENCRYPTED_PREFIX) :].encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) and {"r", "i", "t"} <= set(data) else None


@dataclass
class Output:
    """The output items of one scripted response, and what went into them."""

    items: list[dict[str, Any]] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    reasoning_tokens: int = 0


def build_output(turn: Turn, body: dict[str, Any], response_id: str, reasoning_tokens: int) -> Output:
    """Reasoning item (when the request reasons), then the message, then function calls."""
    out = Output(reasoning_tokens=reasoning_tokens)
    reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else None
    n = response_id.rsplit("_", 1)[-1]
    if reasoning is not None or turn.reasoning_summary or reasoning_tokens:
        item_id = f"rs_scripted_{n}"
        wants_summary = (reasoning or {}).get("summary") in ("auto", "concise", "detailed")
        if wants_summary and turn.reasoning_summary:
            out.summary = [p for p in turn.reasoning_summary.split("\n\n") if p]
        item: dict[str, Any] = {
            "id": item_id,
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": s} for s in out.summary],
        }
        if "reasoning.encrypted_content" in (body.get("include") or []):
            item["encrypted_content"] = encrypt_reasoning(response_id, item_id, reasoning_tokens)
        out.items.append(item)
    if turn.text or not turn.tool_calls:
        out.items.append(
            {
                "id": f"msg_scripted_{n}",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [
                    {"type": "output_text", "text": turn.text, "annotations": [], "logprobs": []}
                ],
            }
        )
    for k, call in enumerate(turn.tool_calls):
        out.items.append(
            {
                "id": f"fc_scripted_{n}_{k}",
                "type": "function_call",
                "call_id": call.call_id(k),
                "name": call.name,
                "arguments": call.arguments_text(),
                "status": "completed",
            }
        )
    return out


def usage_object(input_tokens: int, cached: int, output_tokens: int, reasoning: int) -> dict[str, Any]:
    """A ``ResponseUsage`` object (subsets clamped to their totals)."""
    cached = min(max(cached, 0), input_tokens)
    reasoning = min(max(reasoning, 0), output_tokens)
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


def response_object(
    response_id: str,
    model: str,
    body: dict[str, Any],
    *,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    created_at: int,
    error: dict[str, Any] | None = None,
    incomplete_reason: str | None = None,
) -> dict[str, Any]:
    """A ``Response`` object echoing the request's settings, as the API does."""
    reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else None
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": bool(body.get("parallel_tool_calls", True)),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")}
        if reasoning
        else {"effort": None, "summary": None},
        "service_tier": "default",
        "store": bool(body.get("store", True)),
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": body.get("tools") or [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def pieces(text: str, size: int) -> list[str]:
    """`text` in chunks of `size` characters."""
    size = max(size, 1)
    return [text[i : i + size] for i in range(0, len(text), size)]


class _Events:
    def __init__(self) -> None:
        self.out: list[dict[str, Any]] = []

    def add(self, kind: str, **fields: Any) -> None:
        self.out.append({"type": kind, "sequence_number": len(self.out), **fields})


def _in_progress(item: dict[str, Any]) -> dict[str, Any]:
    """How an item looks in ``response.output_item.added``: nothing generated yet."""
    if item["type"] == "reasoning":
        return {"id": item["id"], "type": "reasoning", "summary": []}
    if item["type"] == "message":
        return {**item, "status": "in_progress", "content": []}
    return {**item, "status": "in_progress", "arguments": ""}


def stream_events(
    final: dict[str, Any], terminal: str, chunk_chars: int
) -> list[dict[str, Any]]:
    """Every event of a streamed response whose last state is `final` (a Response object).

    `terminal` is ``response.completed``, ``response.incomplete`` or ``response.failed``.
    """
    ev = _Events()
    start = {**final, "status": "in_progress", "output": [], "usage": None, "error": None}
    start["incomplete_details"] = None
    ev.add("response.created", response=start)
    ev.add("response.in_progress", response=start)
    for index, item in enumerate(final["output"]):
        ev.add("response.output_item.added", output_index=index, item=_in_progress(item))
        item_id = item["id"]
        if item["type"] == "reasoning":
            for s, part in enumerate(item["summary"]):
                text = part["text"]
                at = {"item_id": item_id, "output_index": index, "summary_index": s}
                ev.add("response.reasoning_summary_part.added", **at,
                       part={"type": "summary_text", "text": ""})
                for piece in pieces(text, chunk_chars):
                    ev.add("response.reasoning_summary_text.delta", **at, delta=piece)
                ev.add("response.reasoning_summary_text.done", **at, text=text)
                ev.add("response.reasoning_summary_part.done", **at,
                       part={"type": "summary_text", "text": text})
        elif item["type"] == "message":
            text = item["content"][0]["text"] if item["content"] else ""
            at = {"item_id": item_id, "output_index": index, "content_index": 0}
            empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            ev.add("response.content_part.added", **at, part=empty)
            for piece in pieces(text, chunk_chars):
                ev.add("response.output_text.delta", **at, delta=piece, logprobs=[])
            ev.add("response.output_text.done", **at, text=text, logprobs=[])
            ev.add("response.content_part.done", **at, part={**empty, "text": text})
        elif item["type"] == "function_call":
            at = {"item_id": item_id, "output_index": index}
            for piece in pieces(item["arguments"], chunk_chars):
                ev.add("response.function_call_arguments.delta", **at, delta=piece)
            ev.add("response.function_call_arguments.done", **at,
                   name=item["name"], arguments=item["arguments"])
        ev.add("response.output_item.done", output_index=index, item=item)
    ev.add(terminal, response=final)
    return ev.out


def sse(event: dict[str, Any]) -> bytes:
    """One server-sent event with its ``event:`` line, as OpenAI sends them."""
    data = json.dumps(event, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n".encode()


def now() -> int:
    """``created_at`` for a new response."""
    return int(time.time())
