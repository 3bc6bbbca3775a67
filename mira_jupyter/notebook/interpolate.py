"""Brace-safe interpolation of notebook variables into a request.

Only ``{name}`` where `name` is a plain identifier bound in the namespace is replaced, and
only in prose: text inside fenced code blocks and inline code spans is sent exactly as
written, so pasted code (f-strings, dicts, JSON, templates) never changes. Everything else
— ``{x.attr}``, ``{x[0]}``, unknown names — is left as is. ``{{name}}`` keeps a literal
``{name}`` when `name` is bound (and stays ``{{name}}`` otherwise, as templates expect).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_]\w*)\}\}|\{([A-Za-z_]\w*)\}")
# fenced blocks (``` or ~~~, to the matching fence or the end) and inline code spans
_CODE = re.compile(r"(^(`{3,}|~{3,})[^\n]*\n.*?(?:^\2[ \t]*$|\Z)|`+[^`\n]*`+)", re.DOTALL | re.MULTILINE)
MAX_VALUE_CHARS = 20_000


def _render(name: str, value: Any) -> str | None:
    try:
        text = str(value)
    except Exception:  # an object whose __str__ fails: leave the placeholder
        return None
    if len(text) > MAX_VALUE_CHARS:
        left = len(text) - MAX_VALUE_CHARS
        text = text[:MAX_VALUE_CHARS] + f"\n[... {left:,} characters of {name} left out]"
    return text


def _substitute_prose(text: str, namespace: Mapping[str, Any]) -> str:
    def substitute(match: re.Match[str]) -> str:
        escaped, name = match.group(1), match.group(2)
        key = escaped or name
        if key not in namespace or key.startswith("_"):
            return match.group(0)
        if escaped is not None:
            return "{" + escaped + "}"
        rendered = _render(name, namespace[name])
        return match.group(0) if rendered is None else rendered

    return _PLACEHOLDER.sub(substitute, text)


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace ``{name}`` with ``str(namespace[name])`` in prose where `name` is bound."""
    out: list[str] = []
    last = 0
    for match in _CODE.finditer(text):
        out.append(_substitute_prose(text[last : match.start()], namespace))
        out.append(match.group(0))
        last = match.end()
    out.append(_substitute_prose(text[last:], namespace))
    return "".join(out)
