"""Brace-safe interpolation of notebook variables into a request.

Only ``{name}`` where `name` is a plain identifier bound in the namespace is replaced.
Everything else — dict literals, f-strings, JSON, ``{x.attr}``, ``{x[0]}``, unknown
names — is left exactly as written, so code with braces never breaks the cell.
``{{name}}`` keeps a literal ``{name}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_]\w*)\}\}|\{([A-Za-z_]\w*)\}")
MAX_VALUE_CHARS = 20_000


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace ``{name}`` with ``str(namespace[name])`` where `name` is bound."""

    def substitute(match: re.Match[str]) -> str:
        escaped, name = match.group(1), match.group(2)
        if escaped is not None:
            return "{" + escaped + "}"
        if name not in namespace or name.startswith("_"):
            return match.group(0)
        value = str(namespace[name])
        if len(value) > MAX_VALUE_CHARS:
            left = len(value) - MAX_VALUE_CHARS
            value = value[:MAX_VALUE_CHARS] + f"\n[... {left:,} characters of {name} left out]"
        return value

    return _PLACEHOLDER.sub(substitute, text)
