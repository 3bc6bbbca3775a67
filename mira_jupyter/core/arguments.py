"""A tool call's arguments from the model's JSON text: one parser for the client, which
assembles the call, and the tool dispatcher, which may be handed the text itself."""

from __future__ import annotations

import json
from typing import Any


def parse_arguments(arguments_json: str) -> tuple[dict[str, Any] | None, str | None]:
    """(arguments, None) for a JSON object, else (None, why it could not be used)."""
    if not arguments_json.strip():
        return {}, None  # a tool without parameters
    try:
        value = json.loads(arguments_json)
    except json.JSONDecodeError as exc:
        return None, f"arguments are not valid JSON ({exc.msg} at char {exc.pos})"
    except RecursionError:  # a model can nest brackets deeper than the decoder goes
        return None, "arguments are not valid JSON (nested too deeply)"
    if not isinstance(value, dict):
        return None, f"arguments must be a JSON object, got {json_kind(value)}"
    return value, None


def json_kind(value: Any) -> str:
    """The JSON name of `value`'s type (null, array, string...): what the model sent."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__
