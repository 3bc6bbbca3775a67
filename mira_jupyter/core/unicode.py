"""Text that JSON and UTF-8 can carry: a model can send a lone surrogate (``"\\ud800"``)."""

from __future__ import annotations

from typing import Any


def valid_unicode(value: Any) -> Any:
    """`value` with every string (dict keys too) made valid Unicode: a lone surrogate is
    spelled as its escape (``\\ud800``); anything else is returned as it is."""
    if isinstance(value, str):
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {valid_unicode(k): valid_unicode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(valid_unicode(v) for v in value)
    return value
