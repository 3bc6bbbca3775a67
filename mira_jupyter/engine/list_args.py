"""A tool argument that must be a list, as models really send it (r14d F4, F6).

Models often send a list argument as a string of JSON (``"tasks": "[{...}]"``): that string
is read as the list it holds. Anything else that is not a list gets one line saying exactly
what was sent instead, so the model can correct it, not pydantic's "Input should be a valid
list".

Brackets nested deeper than any real argument (``[[[[...]]]]``) are refused the same way, item by
item: Python's decoder and every walk over the value recurse once per level, and a
RecursionError must be a line for the model, not the end of the operation (r14e F3).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # levels of lists and objects in one argument item: a task is 2 or 3 deep


class TooDeep:
    """Stands in for an item nested more than MAX_DEPTH levels deep: it is refused, not walked."""

    def __repr__(self) -> str:
        return f"an item nested more than {MAX_DEPTH} levels deep"


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` has lists or objects nested more than `limit` levels; never recurses."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def shallow_items(items: list[Any]) -> list[Any]:
    """`items` with each one nested too deep replaced by a TooDeep marker, refused later."""
    return [TooDeep() if too_deep(item) else item for item in items]


def kind_of(value: Any) -> str:
    """What a JSON value is, in words a model understands ("a string 'done'", "a number 5")."""
    if isinstance(value, TooDeep):
        return repr(value)
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
        return shallow_items(value), None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        except RecursionError:  # deeper than the decoder goes: nothing in it is usable
            return None, (f"{name} must be a JSON list of {item}; the string sent nests brackets "
                          f"deeper than {MAX_DEPTH} levels")  # fmt: skip
        if isinstance(parsed, list):
            return shallow_items(parsed), None
        if value.strip().startswith("["):
            return None, f"{name} must be a JSON list of {item}; the string sent is not valid JSON"
    return None, f"{name} must be a list of {item}, got {kind_of(value)}"
