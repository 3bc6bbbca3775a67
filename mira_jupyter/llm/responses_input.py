"""Chat messages -> Responses API ``input`` items, carrying reasoning from earlier turns.

The engine keeps Chat Completions messages. An assistant message produced by the
Responses model carries the response's output items under ``provider_state``:

- ``store=False`` (default): those items are replayed verbatim, reasoning items with
  their ``encrypted_content``, so the model continues from its own reasoning while the
  provider keeps nothing;
- ``store=True``: the request names the newest such response in ``previous_response_id``
  and sends only what came after it, *if* everything before that message is exactly the
  context the response was made from (a fingerprint kept in the state says so);
  otherwise it falls back to replaying items.

Tool calls become ``function_call`` items and tool results ``function_call_output``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .types import PROVIDER_STATE_KEY, Message

API = "responses"


def fingerprint(messages: list[Message]) -> str:
    """A digest of a conversation prefix, to know a stored response was made from it."""
    data = json.dumps(messages, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def to_tools(tools: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Chat Completions tool schemas in the Responses API's flat ``function`` shape.

    ``strict`` is sent as False: the Responses API defaults it to True, which would
    reject schemas with optional parameters.
    """
    if not tools:
        return None
    out = []
    for tool in tools:
        function = tool.get("function") if tool.get("type") == "function" else None
        if not isinstance(function, dict):
            out.append(tool)  # already Responses-shaped
            continue
        out.append(
            {
                "type": "function",
                "name": function["name"],
                "description": function.get("description") or "",
                "parameters": function.get("parameters") or {"type": "object", "properties": {}},
                "strict": False,
            }
        )
    return out


def _content(content: Any, *, assistant: bool) -> str | list[dict[str, Any]]:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        kind = "output_text" if assistant else "input_text"
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append({"type": kind, "text": str(part.get("text", ""))})
            elif isinstance(part, str):
                parts.append({"type": kind, "text": part})
            else:
                raise ValueError(f"message part {part!r} cannot be sent to the Responses API")
        return parts
    return str(content)


def _state(message: Message) -> dict[str, Any] | None:
    state = message.get(PROVIDER_STATE_KEY)
    return state if isinstance(state, dict) and state.get("api") == API else None


def _replayable(item: dict[str, Any], store: bool) -> bool:
    if item.get("type") != "reasoning":
        return True
    # without store, a reasoning item is only usable with its encrypted content; with
    # store, an item kept by the provider can be referenced as it is
    return bool(item.get("encrypted_content")) or (store and item.get("stored", False))


def _assistant_items(message: Message, store: bool) -> list[dict[str, Any]]:
    state = _state(message)
    if state is not None:
        items = []
        orphaned = False  # a dropped reasoning item: what followed it must lose its id
        for item in state.get("items") or []:
            if item.get("type") == "reasoning":
                orphaned = not _replayable(item, store)
                if orphaned:
                    continue
            drop = {"stored", "id"} if orphaned else {"stored"}
            items.append({k: v for k, v in item.items() if k not in drop})
        return items
    items: list[dict[str, Any]] = []
    text = _content(message.get("content"), assistant=True)
    if text:
        items.append({"type": "message", "role": "assistant", "content": text})
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        items.append(
            {
                "type": "function_call",
                "call_id": call.get("id", ""),
                "name": function.get("name", ""),
                "arguments": function.get("arguments") or "",
            }
        )
    return items


def _items(messages: list[Message], store: bool) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "assistant":
            items.extend(_assistant_items(message, store))
        elif role == "tool":
            output = message.get("content")
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.get("tool_call_id", ""),
                    "output": output if isinstance(output, str) else json.dumps(output),
                }
            )
        elif role in ("system", "developer", "user"):
            items.append({"role": role, "content": _content(message.get("content"), assistant=False)})
        else:
            raise ValueError(f"message role {role!r} cannot be sent to the Responses API")
    return items


def build_input(messages: list[Message], *, store: bool) -> tuple[list[dict[str, Any]], str | None]:
    """(input items, previous_response_id or None) for a call given `messages`."""
    if store:
        for index in range(len(messages) - 1, -1, -1):
            state = _state(messages[index])
            if state is None or not state.get("stored") or not state.get("response_id"):
                continue
            if state.get("context") == fingerprint(messages[:index]):
                return _items(messages[index + 1 :], store), str(state["response_id"])
            break  # the conversation was rebuilt: replay instead of chaining
    return _items(messages, store), None


def _output_part(part: dict[str, Any]) -> dict[str, Any]:
    if part.get("type") == "refusal":
        return {"type": "refusal", "refusal": part.get("refusal", "")}
    return {"type": "output_text", "text": part.get("text", ""), "annotations": []}


def output_state(response_id: str | None, items: list[dict[str, Any]], *, stored: bool) -> dict[str, Any]:
    """The ``provider_state`` kept on the assistant message of a finished response.

    ``context`` (the fingerprint of the messages it was made from) is filled in by the
    model, which knows them.
    """
    kept = []
    for item in items:
        kind = item.get("type")
        if kind == "reasoning":
            entry = {"type": "reasoning", "id": item.get("id"), "summary": item.get("summary") or []}
            if item.get("encrypted_content"):
                entry["encrypted_content"] = item["encrypted_content"]
            if stored:
                entry["stored"] = True
        elif kind == "message":
            entry = {
                "type": "message",
                "id": item.get("id"),
                "role": "assistant",
                "status": "completed",
                "content": [_output_part(part) for part in item.get("content") or []
                            if part.get("type") in ("output_text", "refusal")],
            }
        elif kind == "function_call":
            entry = {
                "type": "function_call",
                "id": item.get("id"),
                "call_id": item.get("call_id"),
                "name": item.get("name"),
                "arguments": item.get("arguments") or "",
                "status": "completed",
            }
        else:
            continue  # built-in tool items are not used by mira
        kept.append({k: v for k, v in entry.items() if v is not None})
    return {
        "api": API,
        "response_id": response_id,
        "stored": stored,
        "context": None,
        "items": kept,
    }
