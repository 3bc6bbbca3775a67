"""Assemble streamed Chat Completions chunks into text, tool calls and usage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.arguments import parse_arguments
from ..core.unicode import valid_unicode
from .types import ToolCall


class MalformedChunk(ValueError):
    """A chunk that is not shaped like a Chat Completions chunk."""


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


def chunk_to_dict(chunk: Any) -> dict[str, Any]:
    """Plain dict of an SDK chunk object (or a dict), keeping provider-specific extras."""
    if isinstance(chunk, dict):
        return chunk
    dump = getattr(chunk, "model_dump", None)
    if dump is None:
        raise MalformedChunk(f"stream item is a {type(chunk).__name__}, not a chunk object")
    return dump(warnings=False, exclude_unset=True)


class StreamAccumulator:
    """Collects deltas; tool calls are keyed by their index so parallel calls stay apart."""

    def __init__(self) -> None:
        self.text_parts: list[str] = []
        self.chunks = 0
        self.output_started = False  # visible output: text or a tool call
        self.first_token_seen = False  # any generated token, hidden reasoning included
        self.reasoning_parts: list[str] = []
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.usage: dict[str, Any] | None = None
        self._calls: dict[Any, _PartialCall] = {}

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def add(self, chunk: Any) -> str:
        """Fold one chunk in; returns the text it added (possibly "")."""
        data = chunk_to_dict(chunk)
        self.chunks += 1
        if data.get("model"):
            self.model = str(data["model"])
        usage = data.get("usage")
        if isinstance(usage, dict) and usage:
            self.usage = usage
        choices = data.get("choices")
        if choices is None:
            if usage:
                return ""
            raise MalformedChunk("chunk has neither choices nor usage")
        if not isinstance(choices, list):
            raise MalformedChunk("chunk choices is not a list")
        added: list[str] = []
        for choice in choices:
            if not isinstance(choice, dict) or choice.get("index", 0) not in (0, None):
                continue  # only the first choice is used (n=1)
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
            delta = choice.get("delta") or {}
            if not isinstance(delta, dict):
                raise MalformedChunk("chunk delta is not an object")
            content = delta.get("content")
            if isinstance(content, str) and content:
                added.append(content)
                self.output_started = self.first_token_seen = True
            # DeepSeek-style reasoning text: not shown, but generated (and billed)
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                self.reasoning_parts.append(reasoning)
                self.first_token_seen = True
            for position, call_delta in enumerate(delta.get("tool_calls") or ()):
                self._add_call(call_delta, position)
        text = "".join(added)
        if text:
            self.text_parts.append(text)
        return text

    def _add_call(self, call_delta: Any, position: int) -> None:
        if not isinstance(call_delta, dict):
            raise MalformedChunk("tool_calls entry is not an object")
        index = call_delta.get("index")
        call_id = call_delta.get("id") or ""
        # servers that omit the index send whole calls: key them by id, else by position
        key = index if index is not None else (call_id or f"pos{position}")
        partial = self._calls.setdefault(key, _PartialCall())
        if call_id and not partial.id:
            partial.id = call_id
        function = call_delta.get("function") or {}
        name = function.get("name")
        if name:
            # OpenAI sends the name once; some servers repeat it in every delta
            if not partial.name:
                partial.name = name
            elif name != partial.name:
                partial.name += name
        arguments = function.get("arguments")
        if arguments:
            partial.arguments.append(arguments)
        self.output_started = self.first_token_seen = True

    def tool_calls(self) -> list[ToolCall]:
        """The assembled calls in index order, each parsed (or with parse_error set)."""
        calls = []
        keys = sorted(self._calls, key=lambda k: (not isinstance(k, int), str(k).zfill(8)))
        for n, key in enumerate(keys):
            partial = self._calls[key]
            arguments_json = "".join(partial.arguments)
            arguments, error = parse_arguments(arguments_json)
            if not partial.name:
                error = error or "the model sent a tool call without a name"
            calls.append(
                ToolCall(
                    # echoed into the next request: a lone surrogate there fails the SDK's encoding
                    id=valid_unicode(partial.id or f"call_{n}"),
                    name=valid_unicode(partial.name),
                    arguments_json=arguments_json,
                    arguments=arguments,
                    parse_error=error,
                )
            )
        return calls

    def other_output_texts(self) -> list[str]:
        """Generated text besides the answer: tool names, arguments, reasoning (for estimates)."""
        calls = ["".join(p.arguments) + p.name for p in self._calls.values()]
        return [*calls, "".join(self.reasoning_parts)]
