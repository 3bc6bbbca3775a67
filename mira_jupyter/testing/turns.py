"""One scripted reply (`Turn`) and the checks it makes on the request it answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

FAULTS = (
    "rate_limit",  # 429 with Retry-After
    "server_error",  # 500 (or `status`)
    "status",  # any HTTP error `status`
    "stall",  # sleep `stall_seconds` (before headers or after `after_chunks` chunks)
    "cut",  # drop the connection after `after_chunks` chunks: no [DONE], no usage
    "garbage",  # 200 with a body that is not JSON
    "no_choices",  # a well-formed stream with no choices and no usage (Responses: no
    # terminal event)
    "malformed_tool_json",  # tool-call arguments with their closing brace missing
    "response_failed",  # Responses: ends in response.failed (Chat Completions: HTTP 500)
    "response_incomplete",  # Responses: response.incomplete (Chat Completions: "length")
)

EXPECT_KEYS = (
    "model",
    "stream",
    "include_usage",
    "tools",
    "tools_include",
    "reasoning_effort",
    "last_role",
    "message_contains",
    "max_tokens",
    # Responses API requests
    "store",
    "include",
    "previous_response_id",  # a value, or True for "any", False for "absent"
    "carries_reasoning",  # True: previous_response_id or encrypted reasoning items sent
    "reasoning_summary",
)


@dataclass
class ScriptedToolCall:
    """A tool call the scripted model makes; `arguments` may be a dict or raw text."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None
    malformed: bool = False

    def arguments_text(self) -> str:
        """The arguments as sent on the wire."""
        text = self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)
        if self.malformed:
            text = text.rstrip()[:-1] if text.rstrip().endswith("}") else text + '{"'
        return text

    def call_id(self, index: int) -> str:
        """The call id (generated from the index when the script gives none)."""
        return self.id or f"call_scripted_{index}"

    @classmethod
    def from_value(cls, value: Any) -> ScriptedToolCall:
        """From a ScriptedToolCall or a dict ``{"name", "arguments", "id"}``."""
        if isinstance(value, ScriptedToolCall):
            return value
        if not isinstance(value, dict) or "name" not in value:
            raise ValueError(f"a scripted tool call needs a 'name': {value!r}")
        unknown = set(value) - {"name", "arguments", "id", "malformed"}
        if unknown:
            raise ValueError(f"unknown tool-call keys {sorted(unknown)}")
        return cls(**value)


@dataclass
class Turn:
    """One reply of the scripted model: text and/or tool calls, usage, checks and faults."""

    text: str = ""
    reasoning_text: str = ""  # streamed as DeepSeek-style `reasoning_content` before the text
    # Responses: the reasoning summary (paragraphs split on blank lines) served when the
    # request asks for one with reasoning={"summary": ...}
    reasoning_summary: str = ""
    tool_calls: list[ScriptedToolCall] = field(default_factory=list)
    # explicit usage: a provider-shaped object (has "prompt_tokens", sent verbatim) or the
    # shorthand {"input", "cached", "output", "reasoning"}; absent: counted with the tokenizer
    usage: dict[str, Any] | None = None
    usage_style: str | None = None  # "openai" | "deepseek" | "none" (default: by model name)
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    finish_reason: str | None = None
    expect: dict[str, Any] | None = None
    fault: str | None = None
    status: int | None = None
    retry_after: str | float | None = None
    error_message: str | None = None
    error_code: str | None = None  # response_failed: the error code in the response
    incomplete_reason: str = "max_output_tokens"  # response_incomplete
    stall_seconds: float = 0.0
    stall_before_headers: bool = False
    after_chunks: int = 2
    repeat: bool | int = False  # True: answer every later request with this turn
    chunk_chars: int = 8
    interleave_tool_calls: bool = False
    model: str | None = None  # model name to report (default: the requested one)

    def __post_init__(self) -> None:
        self.tool_calls = [ScriptedToolCall.from_value(c) for c in self.tool_calls]
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; known: {', '.join(FAULTS)}")
        if self.fault == "malformed_tool_json":
            for call in self.tool_calls:
                call.malformed = True
        if self.usage_style not in (None, "openai", "deepseek", "none"):
            raise ValueError(f"usage_style must be openai, deepseek or none: {self.usage_style!r}")
        for key in self.expect or {}:
            if key not in EXPECT_KEYS:
                raise ValueError(f"unknown expect key {key!r}; known: {', '.join(EXPECT_KEYS)}")

    @classmethod
    def from_value(cls, value: Any) -> Turn:
        """From a Turn, a dict of Turn fields, or a plain string (a text-only turn)."""
        if isinstance(value, Turn):
            return value
        if isinstance(value, str):
            return cls(text=value)
        if not isinstance(value, dict):
            raise ValueError(f"a scripted turn must be a dict or a string, got {value!r}")
        known = {f.name for f in fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown turn keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**value)


def tool_names(body: dict[str, Any]) -> list[str]:
    """Names of the function tools offered (Chat Completions nests them, Responses does not)."""
    names = []
    for tool in body.get("tools") or []:
        if isinstance(tool, dict):
            names.append(str((tool.get("function") or {}).get("name") or tool.get("name") or ""))
    return names


def request_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The request's messages: Chat Completions ``messages`` or Responses ``input`` items."""
    if "messages" in body:
        return body.get("messages") or []
    raw = body.get("input")
    if isinstance(raw, str):
        return [{"role": "user", "content": raw}]
    items = [i for i in raw or [] if isinstance(i, dict)]
    out = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            out.append({"role": item.get("role"), "content": item.get("content")})
        elif kind == "function_call_output":
            out.append({"role": "tool", "content": item.get("output")})
        elif kind == "function_call":
            out.append({"role": "assistant", "content": None, "function_call": item})
    return out


def request_effort(body: dict[str, Any]) -> str | None:
    """``reasoning_effort`` (Chat Completions) or ``reasoning.effort`` (Responses)."""
    if "reasoning_effort" in body:
        return body.get("reasoning_effort")
    reasoning = body.get("reasoning")
    return reasoning.get("effort") if isinstance(reasoning, dict) else None


def carries_reasoning(body: dict[str, Any]) -> bool:
    """Whether a Responses request hands earlier reasoning back: by previous_response_id,
    or as reasoning items (encrypted, or by id when the provider stored them)."""
    if body.get("previous_response_id"):
        return True
    items = body.get("input") if isinstance(body.get("input"), list) else []
    return any(isinstance(i, dict) and i.get("type") == "reasoning" for i in items)


def check_expectations(expect: dict[str, Any], body: dict[str, Any]) -> list[str]:
    """What in the request body differs from `expect` (empty when all checks pass)."""
    problems = []
    offered = sorted(tool_names(body))
    messages = request_messages(body)
    for key, want in expect.items():
        if key == "tools":
            got: Any = offered
            ok = sorted(want or []) == offered
        elif key == "tools_include":
            got, ok = offered, set(want) <= set(offered)
        elif key == "reasoning_effort":
            got = request_effort(body)
            ok = got == want  # want None: the field must be absent
        elif key == "include_usage":
            got = bool((body.get("stream_options") or {}).get("include_usage"))
            ok = got == want
        elif key == "last_role":
            got = messages[-1].get("role") if messages else None
            ok = got == want
        elif key == "message_contains":
            got = "(messages)"
            ok = any(want in json.dumps(m.get("content"), ensure_ascii=False) for m in messages)
        elif key == "max_tokens":
            got = body.get(
                "max_output_tokens", body.get("max_completion_tokens", body.get("max_tokens"))
            )
            ok = got == want
        elif key == "previous_response_id" and isinstance(want, bool):
            got = body.get("previous_response_id")
            ok = bool(got) == want
        elif key == "carries_reasoning":
            got = carries_reasoning(body)
            ok = got == want
        elif key == "reasoning_summary":
            reasoning = body.get("reasoning")
            got = reasoning.get("summary") if isinstance(reasoning, dict) else None
            ok = got == want
        else:
            got = body.get(key)
            ok = got == want
        if not ok:
            problems.append(f"expected {key}={want!r}, got {got!r}")
    return problems
