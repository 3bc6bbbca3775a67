"""Putting code into a new notebook cell from a widget button, through ipylab.

``set_next_input`` (what ``%%mira --insert`` uses) travels in the reply to an execute
request, so a button, whose click arrives as a widget message, cannot use it. ipylab
(a prebuilt JupyterLab extension) runs JupyterLab commands from the kernel: insert a cell
below the active one (the cell whose button was clicked) and type the code into it. Nothing
is executed.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_app: Any = None


def frontend() -> Any:
    """The kernel's one ipylab JupyterFrontEnd (created early, so it is ready at the click)."""
    global _app
    with _lock:
        if _app is None:
            from ipylab import JupyterFrontEnd

            _app = JupyterFrontEnd()
        return _app


def insert_cell_below(code: str) -> None:
    """Insert a code cell holding `code` below the active cell of the current notebook."""
    app = frontend()
    app.commands.execute("notebook:insert-cell-below")
    app.commands.execute("notebook:replace-selection", {"text": code})


insert_cell_below.prepare = frontend  # type: ignore[attr-defined]  # the widget warms it up


def insert_unavailable(exc: BaseException) -> str:
    """The one line a card shows when its Insert as cell buttons cannot reach JupyterLab."""
    if isinstance(exc, ImportError):
        return "Insert as cell is not available: ipylab is not installed in this kernel (pip install ipylab)."
    return f"Insert as cell is not available: {exc}"
