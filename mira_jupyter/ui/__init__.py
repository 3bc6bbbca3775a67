"""Views of an operation: live widget, text lines, static rendering, all from one state.

Imports are lazy: loading the extension must not pay for ipywidgets.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "OperationState": ".state",
    "TextView": ".text",
    "render_text": ".text",
    "render_static": ".static",
    "render_markdown": ".markdown",
    "OperationWidget": ".widget",
    "choose_view": ".choose",
    "view_kind": ".choose",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value
