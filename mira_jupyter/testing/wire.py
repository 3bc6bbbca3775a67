"""Chat Completions wire format: completion JSON, SSE chunks and usage objects."""

from __future__ import annotations

import json
import time
from typing import Any

from .turns import Turn

SYSTEM_FINGERPRINT = "fp_scripted"


def _sse(data: dict[str, Any] | str) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {payload}\n\n".encode()


def build_usage(turn: Turn, body: dict[str, Any], style: str) -> dict[str, Any] | None:
    """The usage object for `turn`, explicit or counted from the request with the tokenizer."""
    if style == "none":
        return None
    explicit = dict(turn.usage or {})
    if "prompt_tokens" in explicit:
        return explicit  # already a provider-shaped usage object: sent verbatim
    from ..llm.tokens import count_message_tokens, count_tokens

    reasoning = int(explicit.get("reasoning", turn.reasoning_tokens))
    if "input" in explicit:
        prompt = int(explicit["input"])
    else:
        prompt = count_message_tokens(body.get("messages") or [], body.get("tools"))
    if "output" in explicit:
        completion = int(explicit["output"])
    else:
        visible = count_tokens(turn.text) + sum(
            count_tokens(call.name) + count_tokens(call.arguments_text())
            for call in turn.tool_calls
        )
        if turn.reasoning_text and "reasoning" not in explicit:
            reasoning = max(reasoning, count_tokens(turn.reasoning_text))
        completion = visible + reasoning
    cached = min(int(explicit.get("cached", turn.cached_tokens)), prompt)
    reasoning = min(reasoning, completion)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if style == "deepseek":
        usage["prompt_cache_hit_tokens"] = cached
        usage["prompt_cache_miss_tokens"] = prompt - cached
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
        if reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    else:
        usage["prompt_tokens_details"] = {"cached_tokens": cached, "audio_tokens": 0}
        usage["completion_tokens_details"] = {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        }
    return usage


def _pieces(text: str, size: int) -> list[str]:
    size = max(size, 1)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _finish_reason(turn: Turn) -> str:
    if turn.finish_reason:
        return turn.finish_reason
    if turn.fault == "response_incomplete":
        return "length"
    return "tool_calls" if turn.tool_calls else "stop"


def completion_json(
    turn: Turn, model: str, completion_id: str, usage: dict[str, Any] | None
) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": turn.text or None, "refusal": None}
    if turn.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.call_id(n),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_text()},
            }
            for n, call in enumerate(turn.tool_calls)
        ]
    out: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _finish_reason(turn),
            }
        ],
    }
    if usage is not None:
        out["usage"] = usage
    return out


def stream_events(
    turn: Turn,
    model: str,
    completion_id: str,
    usage: dict[str, Any] | None,
    include_usage: bool,
) -> list[bytes]:
    """The SSE events of a streamed completion, ``data: [DONE]`` included."""
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        data: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            data["usage"] = None  # OpenAI sends null on every chunk but the last
        return _sse(data)

    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [
        chunk({"content": None, "reasoning_content": piece})
        for piece in _pieces(turn.reasoning_text, turn.chunk_chars)
    ]
    events += [chunk({"content": piece}) for piece in _pieces(turn.text, turn.chunk_chars)]

    per_call: list[list[dict[str, Any]]] = []
    for n, call in enumerate(turn.tool_calls):
        deltas = [
            {
                "index": n,
                "id": call.call_id(n),
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
        ]
        deltas += [
            {"index": n, "function": {"arguments": piece}}
            for piece in _pieces(call.arguments_text(), turn.chunk_chars)
        ]
        per_call.append(deltas)
    if turn.interleave_tool_calls:
        # parallel calls' argument fragments alternate, as some servers send them
        longest = max((len(d) for d in per_call), default=0)
        ordered = [d[i] for i in range(longest) for d in per_call if i < len(d)]
    else:
        ordered = [delta for deltas in per_call for delta in deltas]
    events += [chunk({"tool_calls": [delta]}) for delta in ordered]

    events.append(chunk({}, _finish_reason(turn)))
    if include_usage and usage is not None:
        final = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [],
            "usage": usage,
        }
        events.append(_sse(final))
    events.append(_sse("[DONE]"))
    return events


def error_json(status: int, message: str, code: str | None, error_type: str) -> bytes:
    """An OpenAI-style error body."""
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return json.dumps(body).encode()
