"""A tool argument that must be a list, as models really send it (r14d F4, F6).

Models often send a list argument as a string of JSON (``"tasks": "[{...}]"``): that string
is read as the list it holds. Anything else that is not a list gets one line saying exactly
what was sent instead, so the model can correct it, not pydantic's "Input should be a valid
list".
"""

from __future__ import annotations

import json
from typing import Any


def kind_of(value: Any) -> str:
    """What a JSON value is, in words a model understands ("a string 'done'", "a number 5")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "\u2026"
        return f"a string ({shown!r})"
    if isinstance(value, dict):
        return "one object, not a list of them"
    return type(value).__name__


def as_list(value: Any, name: str, item: str) -> tuple[list[Any] | None, str | None]:
    """(the list `value` is or holds as JSON text, None) or (None, one line saying what was wrong).

    `name` is the argument ("tasks"), `item` what each entry is ("task objects").
    """
    if isinstance(value, list):
        return value, None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return parsed, None
        if value.strip().startswith("["):
            return None, f"{name} must be a JSON list of {item}; the string sent is not valid JSON"
    return None, f"{name} must be a list of {item}, got {kind_of(value)}"
